"""Answers to a 安否確認 arriving through the portal while an alert is sent: ``python bench/answer_rate.py``.

Seeds the city of ``families`` (``--guardians``), asks all of them the safety question (fanned
out in-process, every delivery marked sent, so each guardian holds an answer link), drafts a
second, plain city-wide alert, then starts ``mimamori serve`` (portal, scheduler and delivery
worker in one process, as a town runs it) and an aiosmtpd sink in processes of their own.
``--clients`` concurrent clients, each having opened one answer page (for its form's token, as a
browser does), POST answers to ``/ack/<token>`` (one per guardian, ``--answers`` in all) as the
page's forms do: a family with one child taps a choice in that child's form (``pupil`` its id), a
family with two taps it in "same answer for all children" (``pupil=all``); 17 in 20 answer 無事です,
the others one of the three other choices (``families.choice_of``):

1. half of them on a quiet server: the baseline;
2. the other half right after the plain alert is confirmed, while ``serve`` fans it out and sends.

Prints answers accepted per second in each phase and their ratio, errors (any answer not answered
200, or not recorded as posted: each pupil's choice is read back), the alert's mails sent
meanwhile, ``serve``'s CPU per answer, and the machine's load. Last, in this process over ASGI,
the SQL statements one answer costs: the page opened, then the form posted (``tests/sql_counter.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import httpx  # noqa: E402
from broadcast_email import _sink, city_wide_alert  # noqa: E402
from families import choice_of, load, safety_check, seed_families  # noqa: E402
from ingest import _cpu_seconds  # noqa: E402

from core import broadcasts, sealing  # noqa: E402
from core.config import Settings, load_settings  # noqa: E402
from core.db import close_database, connection, open_database, upgrade_schema  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import (  # noqa: E402
    Broadcast,
    BroadcastAnswer,
    BroadcastAnswerChange,
    BroadcastStatus,
    Delivery,
    DeliveryStatus,
)
from portal.app import create_app  # noqa: E402
from tests.net import free_port, wait_for_http  # noqa: E402
from tests.sql_counter import counting_statements  # noqa: E402

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Family:
    """One guardian's answer link and children: what their answer page's form posts."""

    token: str
    pupil_ids: tuple[int, ...]
    choice: int

    def form(self, csrf: str) -> dict[str, str]:
        pupil = str(self.pupil_ids[0]) if len(self.pupil_ids) == 1 else "all"
        return {"csrf": csrf, "choice": str(self.choice), "pupil": pupil}


async def _prepared(settings: Settings, guardians: int) -> tuple[int, int, list[Family], int]:
    """The question asked and sent to everyone; the plain alert drafted. Returns their ids, each
    guardian's answer link, children and answer, and how many addresses the alert will go to."""
    addresses, _ = await seed_families(guardians)
    question = await safety_check()
    await broadcasts.confirm(question.id, by=None)
    while await Broadcast.filter(id=question.id, status=BroadcastStatus.CONFIRMED).exists():
        await broadcasts.continue_fanouts(settings)
    await Delivery.filter(broadcast_id=question.id).update(status=DeliveryStatus.SENT)
    links: dict[int, str] = {}
    for guardian_id, token in (
        await Delivery.filter(broadcast_id=question.id).order_by("id").values_list("guardian_id", "ack_token")
    ):
        links.setdefault(guardian_id, token)
    children: dict[int, list[int]] = {}
    for row in await connection().execute_query_dict("SELECT guardian_id, pupil_id FROM guardian_pupil"):
        children.setdefault(row["guardian_id"], []).append(row["pupil_id"])
    families = [
        Family(token, tuple(sorted(children[guardian_id])), choice_of(n))
        for n, (guardian_id, token) in enumerate(links.items())
    ]
    alert = await city_wide_alert()
    return question.id, alert.id, families, addresses


async def _flood(centre: str, families: list[Family], clients: int) -> tuple[float, list[str]]:
    """POST one answer per family from ``clients`` clients; answers per second, and the errors."""
    queue: asyncio.Queue[Family] = asyncio.Queue()
    for family in families:
        queue.put_nowait(family)
    errors: list[str] = []

    async def client_loop() -> None:
        async with httpx.AsyncClient(base_url=centre, timeout=60) as client:
            opened = await client.get(f"/ack/{families[0].token}")
            found = _CSRF.search(opened.text)
            csrf = found.group(1) if found else ""
            while not queue.empty():
                family = queue.get_nowait()
                try:
                    answered = await client.post(f"/ack/{family.token}", data=family.form(csrf))
                except httpx.HTTPError as error:
                    errors.append(type(error).__name__)
                    continue
                if answered.status_code != 200:
                    errors.append(f"HTTP {answered.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return len(families) / (time.perf_counter() - started), errors


def _verbs(statements: list[str]) -> str:
    verbs = Counter(s.split(None, 1)[0].upper().rstrip(";") for s in statements)  # asyncpg's "BEGIN;"
    return ", ".join(f"{n} {verb}" for verb, n in verbs.most_common())


async def _statements(settings: Settings, family: Family) -> tuple[str, str]:
    """The SQL statements ``serve`` sends to open ``family``'s answer page, and to record its answer."""
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await client.get(f"/ack/{family.token}")  # warm: templates compiled, as in service
        with counting_statements() as opening:
            opened = await client.get(f"/ack/{family.token}")
        found = _CSRF.search(opened.text)
        with counting_statements() as posting:
            posted = await client.post(f"/ack/{family.token}", data=family.form(found.group(1) if found else ""))
    if posted.status_code != 200:
        sys.exit(f"the counted answer was refused: HTTP {posted.status_code}")
    # asyncpg resets each released connection with a statement of its own: not the answer's work
    shown = (f"{len(c.queries)} ({_verbs(c.queries)})" for c in (opening, posting))
    return next(shown), next(shown)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guardians", type=int, default=100_000, help="the city, and the alert's reach")
    parser.add_argument("--answers", type=int, default=20_000, help="answers posted in all (half per phase)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    smtp_port, portal_port = free_port(), free_port()
    settings = load_settings(None, data_dir=work, database_url=url, keyring=str(work / "keyring.json"))
    sealing.install(sealing.Sealer(Keyring.open(settings.keyring, create=True)))
    await upgrade_schema(url)
    await open_database(url)
    try:
        seeded = time.perf_counter()
        question_id, alert_id, families, addresses = await _prepared(settings, args.guardians)
        print(f"seeded and asked in {time.perf_counter() - seeded:.0f} s; {load()}", file=sys.stderr, flush=True)
    finally:
        await close_database()
    answering = families[: args.answers]
    counted = {  # one family of each size among those not answered yet
        len(f.pupil_ids): f for f in reversed(families[args.answers :])
    }
    half = len(answering) // 2

    counter, ready = multiprocessing.Value("q", 0), multiprocessing.Event()
    sink = multiprocessing.Process(target=_sink, args=(smtp_port, counter, ready), daemon=True)
    sink.start()
    ready.wait(30)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIMAMORI_")}
    env.update(
        PYTHONPATH=str(REPO),
        MIMAMORI_DATA_DIR=str(work),
        MIMAMORI_DATABASE_URL=url,
        MIMAMORI_KEYRING=settings.keyring,
        MIMAMORI_PORTAL__PORT=str(portal_port),
        MIMAMORI_SMTP__PORT=str(smtp_port),
        MIMAMORI_SMTP__FROM_ADDRESS="mimamori@city.example.jp",
    )
    log = (work / "serve.log").open("w")  # a pipe nobody reads would stop serve once full
    serve = subprocess.Popen([sys.executable, "-m", "mimamori", "serve"], env=env, cwd=work, stdout=log, stderr=log)
    centre = f"http://127.0.0.1:{portal_port}"
    try:
        wait_for_http(f"{centre}/healthz", timeout=120)
        cpu = _cpu_seconds(serve.pid)
        quiet, quiet_errors = await _flood(centre, answering[:half], args.clients)
        quiet_cpu = (_cpu_seconds(serve.pid) - cpu) / max(half, 1)
        print(f"quiet: {quiet:,.0f} answers/s; {load()}", file=sys.stderr, flush=True)
        confirmed = subprocess.run(
            [sys.executable, "-m", "mimamori", "broadcast", "confirm", str(alert_id)],
            env=env,
            cwd=work,
            capture_output=True,
            text=True,
        )
        if confirmed.returncode != 0:
            sys.exit(confirmed.stderr)
        mails_before, cpu = counter.value, _cpu_seconds(serve.pid)
        busy, busy_errors = await _flood(centre, answering[half:], args.clients)
        busy_cpu = (_cpu_seconds(serve.pid) - cpu) / max(len(answering) - half, 1)
        mails_during = counter.value - mails_before
        busy_load = load()
    finally:
        serve.terminate()
        serve.wait(60)
        sink.terminate()

    await open_database(url)
    try:
        recorded = dict(await BroadcastAnswer.filter(broadcast_id=question_id).values_list("pupil_id", "choice"))
        answered_guardians = len(
            set(await BroadcastAnswerChange.filter(broadcast_id=question_id).values_list("guardian_id", flat=True))
        )
        statements = {size: await _statements(settings, family) for size, family in sorted(counted.items())}
    finally:
        await close_database()
    posted = {p: f.choice for f in answering for p in f.pupil_ids}
    wrong = sum(recorded.get(p) != c for p, c in posted.items()) + len(recorded.keys() - posted.keys())
    unrecorded = len(answering) - answered_guardians
    print(f"database               {url.split(':')[0]}")
    print(f"city                   {args.guardians} guardians; the alert to {addresses} addresses")
    print(f"answers posted         {len(answering)} from {args.clients} clients, one per guardian")
    print(f"quiet server           {quiet:,.0f} answers/s, serve CPU {quiet_cpu * 1000:.1f} ms per answer")
    print(
        f"while the alert sends  {busy:,.0f} answers/s, serve CPU {busy_cpu * 1000:.1f} ms per answer "
        f"(incl. the sending); {mails_during} of the alert's {addresses} mails sent meanwhile"
    )
    print(f"sending / quiet        {busy / quiet:.2f}x (goal: 1,000 answers/s without errors)")
    print(
        f"errors                 {len(quiet_errors) + len(busy_errors)} responses not 200 "
        f"{sorted(set(quiet_errors + busy_errors)) or ''}; {unrecorded} guardians' answers not recorded; "
        f"{len(recorded)} pupils answered for ({len(posted)} posted), {wrong} not as posted"
    )
    for size, (opening, posting) in statements.items():
        print(
            f"SQL, {size} child{'ren' if size > 1 else '   '}        {opening} statements to open the page, "
            f"{posting} to post the answer (and its page)"
        )
    print(f"machine                {busy_load} (during the second phase)")


if __name__ == "__main__":
    asyncio.run(main())
