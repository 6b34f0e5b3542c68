"""A city-wide broadcast to chat users, end to end: ``python bench/chat_broadcast.py``.

Seeds 10,000 LINE and 3,000 Telegram guardians (``--line``, ``--telegram``), serves the fake LINE
and Telegram APIs from the tests in a thread of their own, confirms a broadcast, and runs one
delivery worker with both chat transports until everything is sent. From the fakes' own clocks
it reports the busiest second overall and per chat against the configured limits (a ratio of
at most 1.00 means the limit held), and LINE calls made against the baseline of one push per
user.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.line.transport import LineTransport  # noqa: E402
from bot.telegram.transport import TelegramTransport  # noqa: E402
from core import broadcasts, sealing  # noqa: E402
from core.channels import spec  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import close_database, open_database, upgrade_schema  # noqa: E402
from core.delivery.worker import DeliveryWorker  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import AddressStatus, Channel, ContactAddress, Delivery, Guardian  # noqa: E402
from core.scheduler import drain  # noqa: E402
from tests.fakes.line_api import FakeLineApi  # noqa: E402
from tests.fakes.telegram_api import FakeTelegramApi  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from broadcast_email import city_wide_alert  # noqa: E402


class FakesThread:
    """The fakes on their own event loop, so the worker's loop measures only our side."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.telegram = self._run(FakeTelegramApi().start())
        self.line = self._run(FakeLineApi().start())

    def _run(self, coroutine):  # noqa: ANN001, ANN202
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def stop(self) -> None:
        self._run(self.telegram.stop())
        self._run(self.line.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


async def _seed(line_users: int, telegram_users: int) -> None:
    sealer = sealing.installed()
    total = line_users + telegram_users
    for start in range(0, total, 5000):
        await Guardian.bulk_create(
            [
                Guardian(login_id=f"C{n:08d}", name=f"保護者 {n}", name_index=f"{n:064x}", password_hash="x")
                for n in range(start, min(start + 5000, total))
            ]
        )
    ids = await Guardian.all().order_by("id").values_list("id", flat=True)
    now = datetime.now(UTC)
    addresses = []
    for n, guardian_id in enumerate(ids):
        channel, value = (Channel.LINE, f"U{n:032x}") if n < line_users else (Channel.TELEGRAM, str(10_000_000 + n))
        addresses.append(
            ContactAddress(
                guardian_id=guardian_id,
                channel=channel,
                value=value,
                value_index=sealer.blind_index(f"address:{channel.value}", value),
                lane=spec(channel).lane(value),
                slot=1,
                status=AddressStatus.ACTIVE,
                verified_at=now,
            )
        )
    await ContactAddress.bulk_create(addresses, batch_size=5000)


def _busiest_second(times: list[float]) -> int:
    """The most calls in any one-second window."""
    times, best, first = sorted(times), 0, 0
    for last, at in enumerate(times):
        while at - times[first] >= 1.0:
            first += 1
        best = max(best, last - first + 1)
    return best


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--line", type=int, default=10_000, help="LINE users")
    parser.add_argument("--telegram", type=int, default=3_000, help="Telegram users")
    parser.add_argument("--telegram-rate", type=float, default=30, help="telegram.rate_per_second")
    parser.add_argument("--line-rate", type=float, default=100, help="line.rate_per_second (API calls)")
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    args = parser.parse_args()

    fakes = FakesThread()
    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    settings = load_settings(
        None,
        data_dir=work,
        database_url=url,
        keyring=str(work / "keyring.json"),
        telegram={"token": fakes.telegram.token, "api_base": fakes.telegram.url, "rate_per_second": args.telegram_rate},
        line={
            "access_token": fakes.line.access_token,
            "channel_secret": fakes.line.channel_secret,
            "api_base": fakes.line.url,
            "rate_per_second": args.line_rate,
        },
    )
    sealing.install(sealing.Sealer(Keyring.open(settings.keyring, create=True)))
    await upgrade_schema(url)
    await open_database(url)
    transports = {Channel.TELEGRAM: TelegramTransport(settings.telegram), Channel.LINE: LineTransport(settings.line)}
    try:
        await _seed(args.line, args.telegram)
        draft = await city_wide_alert()
        started = time.perf_counter()
        await broadcasts.confirm(draft.id, by=None)
        await drain(settings, DeliveryWorker(settings, transports), timeout=3600)
        elapsed = time.perf_counter() - started
        sent = dict(Counter(await Delivery.filter(status="sent").values_list("channel", flat=True)))
    finally:
        for transport in transports.values():
            await transport.close()
        await close_database()
        fakes.stop()

    telegram_calls = [c.at for c in fakes.telegram.sent()]
    per_chat = Counter(c.chat for c in fakes.telegram.sent())
    multicasts = fakes.line.to("multicast")
    line_reached = sum(len(c.body["to"]) for c in multicasts) + len(fakes.line.to("push"))
    line_calls = len(multicasts) + len(fakes.line.to("push"))
    telegram_peak = _busiest_second(telegram_calls)
    line_peak = _busiest_second([c.at for c in fakes.line.calls])
    print(f"database                 {url.split(':')[0]}")
    print(f"sent                     LINE {sent.get('line', 0)}, Telegram {sent.get('telegram', 0)} in {elapsed:.1f} s")
    print(f"Telegram                 {len(telegram_calls)} messages, {len(telegram_calls) / elapsed:,.1f}/s overall")
    print(
        f"  busiest second         {telegram_peak} (limit {args.telegram_rate:g}): ratio {telegram_peak / args.telegram_rate:.2f}"
    )
    print(f"  most to one chat       {max(per_chat.values(), default=0)} message(s) (limit 1/s)")
    print(f"LINE                     {line_reached} users in {line_calls} call(s) (multicast of up to 500)")
    print(f"  calls vs one push each {line_calls} / {args.line}: {args.line / max(line_calls, 1):.0f}x fewer")
    print(
        f"  busiest second         {line_peak} call(s) (limit {args.line_rate:g}): ratio {line_peak / args.line_rate:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
