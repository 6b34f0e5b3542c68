"""``mimamori demo``: a small city on the embedded defaults, from a fresh data directory, with the
real service, a mail server that keeps every mail, and simulated gates that pupils pass."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import unicodedata
from datetime import UTC, datetime, time
from pathlib import Path
from urllib.parse import quote

import click

from core import accounts, totp, zones
from core.config import Settings, load_settings
from core.db import upgrade_schema
from core.models import SiteKind, StaffAccount, StaffRole
from core.roster import import_roster
from gates.simulator import Simulation, simulate
from mimamori.cli import CommandError, run
from mimamori.commands.serve import serve
from mimamori.demo_city import DemoCity, DemoGate, demo_roster, plan_walks
from mimamori.demo_mailbox import DemoMailbox, demo_router, mail_server
from mimamori.runtime import opened

SCHOOLS = ["みどり小学校", "さくら小学校"]
HALL = "ひかり児童館"
PUPILS = 60
ACTOR = "demo"
# Late enough that a pupil's first pass of the day is an arrival (登校) whenever the demo runs.
DEMO_CUTOFF = time(23, 59)


@click.command("demo")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help="Wiped and filled afresh on every run.",
)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--every", type=float, default=4.0, show_default=True, help="Seconds between pupils at a gate.")
@click.pass_context
def command(ctx: click.Context, data_dir: Path, port: int, every: float) -> None:
    """Seed a small city and run Mimamori on it: portal, mail, gates (Ctrl-C stops it)."""
    config_path = ctx.find_root().params.get("config_path")
    _check_port_free(port)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    mailbox, smtp_port = DemoMailbox(), _free_port()
    with mail_server(mailbox, smtp_port):
        settings = load_settings(
            config_path,
            data_dir=data_dir,
            database_url=f"sqlite://{data_dir / 'mimamori.db'}",
            keyring=str(data_dir / "keyring.json"),
            portal={
                "host": "127.0.0.1",
                "port": port,
                "public_url": f"http://127.0.0.1:{port}",
                "tls_cert": None,
                "tls_key": None,
                "behind_proxy": False,
            },
            smtp={
                "host": "127.0.0.1",
                "port": smtp_port,
                "security": "none",
                "username": None,
                "password": None,
                "dkim": False,  # the demo's keyring is new: it holds no DKIM key
            },
            passages={"repeat_minutes": 1},  # so a pupil may leave a minute or two after arriving
        )
        city = run(_seed(settings, every))
        run(_run(settings, city, mailbox))


async def _seed(settings: Settings, every: float) -> DemoCity:
    await upgrade_schema(settings.database_url)
    async with opened(settings) as runtime:
        gate_keys: dict[str, str] = {}
        for school in SCHOOLS:
            await accounts.add_site(
                school, SiteKind.SCHOOL, cutoff=DEMO_CUTOFF, timezone=settings.timezone, actor=ACTOR
            )
            gate_keys[school] = (await accounts.add_gate(school, "正門", actor=ACTOR))[1]
        await accounts.add_site(HALL, SiteKind.HALL, timezone=settings.timezone, actor=ACTOR)
        gate_keys[HALL] = (await accounts.add_gate(HALL, "入口", actor=ACTOR))[1]
        roster = demo_roster(SCHOOLS, PUPILS)
        result = await import_roster(
            roster,
            passwords=runtime.passwords,
            max_addresses=settings.accounts.max_addresses,
            actor=ACTOR,
            timezone=settings.timezone,
        )
        city = plan_walks(roster, SCHOOLS, HALL, gate_keys, every=every)
        guardian = next(g for g in result.new_guardians if g.guardian_ref == city.guardian_ref)
        city.logins.append(("保護者 guardian", guardian.login_id, guardian.initial_password))
        for login, role, sites in (
            ("staff", StaffRole.STAFF, [SCHOOLS[0]]),
            ("support", StaffRole.SUPPORT, []),
            ("admin", StaffRole.ADMIN, []),
        ):
            issued = await accounts.add_staff(login, role, sites, runtime.passwords, actor=ACTOR)
            city.second_factors[login] = await _enrolled(issued.account_id)
            city.logins.append((role.value, login, issued.secret))
        return city


async def _enrolled(staff_id: int) -> str:
    """The demo's staff come with a second factor enrolled, its codes shown on /demo/codes."""
    staff = await StaffAccount.get(id=staff_id)
    secret = totp.new_secret()
    staff.totp_secret = secret
    staff.totp_enrolled_at = datetime.now(UTC)
    await staff.save(update_fields=["totp_secret", "totp_enrolled_at"])
    return secret


async def _run(settings: Settings, city: DemoCity, mailbox: DemoMailbox) -> None:
    stop = asyncio.Event()
    serving = asyncio.create_task(
        serve(
            settings,
            extra_routers=[demo_router(mailbox, city.second_factors)],
            stop=stop,
            log_level="warning",
        )
    )
    if not await _listening(settings.portal.port, serving):
        await serving  # it failed to start: its error ends the demo
        return
    _print_welcome(settings, city)
    scratch = settings.data_dir / "gates"
    walks = [
        asyncio.create_task(_walk(gate, city, settings, scratch / str(n), stop)) for n, gate in enumerate(city.gates)
    ]
    reminder = asyncio.create_task(_remind_when_walked(settings, city, stop))
    try:
        await serving
    finally:
        stop.set()
        await asyncio.gather(reminder, *walks, return_exceptions=True)
    click.echo("\n  The demo has stopped.")


async def _listening(port: int, serving: asyncio.Task[None]) -> bool:
    while not serving.done():
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return True
    return False


async def _walk(gate: DemoGate, city: DemoCity, settings: Settings, directory: Path, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=gate.start_after)
    if stop.is_set():
        return
    simulation = Simulation(
        settings.portal.public_url,
        gate.key,
        gate.tags,
        every=gate.every,
        count=len(gate.tags),
        camera=gate.camera,
        keep_running=True,
    )
    zone = zones.zone(settings.timezone)

    def passed(tag: str, at: datetime) -> None:
        click.echo(f"  {at.astimezone(zone):%H:%M:%S}  {gate.site} {gate.name}  {city.pupils[tag]}")

    await simulate(simulation, directory, stop, on_pass=passed)


async def _remind_when_walked(settings: Settings, city: DemoCity, stop: asyncio.Event) -> None:
    """The pass lines have pushed the welcome table up: say again where to look."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=city.walk_seconds + 2)
    if not stop.is_set():
        url = settings.portal.public_url
        click.echo(
            f"\n  Every pupil has passed; the gates stay up. Portal {url}/ , mailbox {url}/demo/mailbox ;"
            " Ctrl-C stops the demo.\n"
        )


def _print_welcome(settings: Settings, city: DemoCity) -> None:
    url = settings.portal.public_url
    click.echo()
    click.echo(
        f"  見守り Mimamori demo — {len(SCHOOLS)} schools and 1 children's hall, {PUPILS} pupils, "
        f"{len(city.gates)} gates"
    )
    click.echo()
    click.echo(f"  portal    {url}/")
    click.echo(f"  mailbox   {url}/demo/mailbox   every mail the demo sends (demo only)")
    click.echo()
    click.echo(f"  {_pad('who', 18)}{_pad('login', 11)}password (one-time: choose your own at first login)")
    for who, login, password in city.logins:
        click.echo(f"  {_pad(who, 18)}{_pad(login, 11)}{password}")
    click.echo()
    click.echo(f"  The guardian's notices go to {city.guardian_email}: open one at")
    click.echo(f"  {url}/demo/mailbox?to={quote(city.guardian_email, safe='@')} and follow its link.")
    click.echo(f"  Staff, support and admin log in at {url}/staff/login; their second factor is enrolled, and")
    click.echo(f"  the current code is shown at {url}/demo/codes (demo only; in real use, an authenticator app).")
    click.echo(
        f"  Gates: {', '.join(g.site for g in city.gates if g.camera)} with a camera (a generated video), "
        f"{', '.join(g.site for g in city.gates if not g.camera)} without; pupils arrive over the next "
        f"minutes, some leave."
    )
    click.echo(f"  {_bots_line(settings)}")
    click.echo("  Ctrl-C stops the demo; running it again starts afresh.")
    click.echo()


def _bots_line(settings: Settings) -> str:
    on = []
    if settings.telegram.token is not None:
        on.append(f"Telegram ({settings.telegram.mode})")
    if settings.line.access_token is not None:
        on.append(f"LINE (webhook at {settings.portal.public_url}/hooks/line)")
    if on:
        return "Chat bots on: " + ", ".join(on) + "."
    return "Chat bots are off: give telegram.token or line.access_token (a config file or MIMAMORI_*) to try them."


def _pad(text: str, width: int) -> str:
    """Left-justify for a terminal, where Japanese characters take two columns."""
    columns = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
    return text + " " * max(width - columns, 1)


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise CommandError(f"mimamori demo: port {port} is in use; choose another with --port") from None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
