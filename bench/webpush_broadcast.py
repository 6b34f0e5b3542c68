"""Web push, end to end: ``python bench/webpush_broadcast.py``.

1. A city-wide alert to 10,000 subscribed browsers (``--subscriptions``) through one delivery
   worker and the web push transport, against a bare loop of the same library calls (http_ece's
   encrypt, py_vapid's sign, httpx's post) over the same kind of connection pool and concurrency,
   in the same run: the ratio of messages a second.
2. Passage notices queued at 50 a second (``--rate``) for 20 seconds (``--seconds``) with the
   worker running: queued → accepted by the push service, p50 and p99. Each notice is queued as
   core.passages queues one (the ingest before it is bench/ingest.py's).
3. The CPU of one message's encryption (ECDH, HKDF, AES-GCM), and of a VAPID signature, which the
   transport makes once per push service and key rather than per message.

The fake push service of the tests runs in a thread of its own (its own event loop, the same
process, so its parsing shares the interpreter with ours, in both runs alike). For the broadcast it
only reads each body (the baseline gets the same); the passage run decrypts and checks every push.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import http_ece  # noqa: E402
import httpx  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from py_vapid import Vapid02  # noqa: E402

from core import broadcasts, sealing  # noqa: E402
from core.channels import spec  # noqa: E402
from core.channels.webpush import Subscription  # noqa: E402
from core.config import load_settings  # noqa: E402
from core.db import close_database, open_database, upgrade_schema  # noqa: E402
from core.delivery.outbox import Priority, enqueue  # noqa: E402
from core.delivery.worker import DeliveryWorker  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from core.models import AddressStatus, Channel, ContactAddress, Delivery, Guardian, NoticeKind  # noqa: E402
from core.scheduler import drain  # noqa: E402
from tests.fakes.push_service import Browser, FakePushService, unb64  # noqa: E402
from webpush.payload import topic  # noqa: E402
from webpush.transport import WebPushTransport, encrypt  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from broadcast_email import city_wide_alert  # noqa: E402

SUBJECT = "mailto:board@city.example.jp"


class ServiceThread:
    """The fake push service on its own event loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.service: FakePushService = self.run(FakePushService().start())

    def run(self, coroutine):  # noqa: ANN001, ANN202
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(60)

    def stop(self) -> None:
        self.run(self.service.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)


def _subscription(browser: Browser, key_id: str) -> Subscription:
    keys = browser.subscription()["keys"]
    return Subscription(browser.endpoint, unb64(keys["p256dh"]), unb64(keys["auth"]), key_id)


async def _seed(subscriptions: list[Subscription]) -> None:
    sealer = sealing.installed()
    await Guardian.bulk_create(
        [
            Guardian(login_id=f"W{n:08d}", name=f"保護者 {n}", name_index=f"{n:064x}", password_hash="x")
            for n in range(len(subscriptions))
        ],
        batch_size=5000,
    )
    ids = await Guardian.filter(login_id__startswith="W").order_by("id").values_list("id", flat=True)
    now = datetime.now(UTC)
    await ContactAddress.bulk_create(
        [
            ContactAddress(
                guardian_id=guardian_id,
                channel=Channel.WEBPUSH,
                value=(value := sub.value()),
                value_index=sealer.blind_index("address:webpush", value),
                lane=spec(Channel.WEBPUSH).lane(value),
                slot=1,
                status=AddressStatus.ACTIVE,
                verified_at=now,
            )
            for guardian_id, sub in zip(ids, subscriptions, strict=True)
        ],
        batch_size=5000,
    )


async def _baseline(subscriptions: list[Subscription], key: ec.EllipticCurvePrivateKey, concurrency: int) -> float:
    """What a loop of the libraries' own calls does, per message: encrypt, sign, post."""
    body = ("【見守り】大雨のため臨時休校\n本日は大雨のため臨時休校とします。").encode()
    vapid = Vapid02(key)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    gate = asyncio.Semaphore(concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def one(sub: Subscription) -> None:
            async with gate:
                headers = vapid.sign({"aud": sub.origin, "sub": SUBJECT})
                headers |= {"Content-Encoding": "aes128gcm", "TTL": "86400", "Urgency": "high"}
                sent = http_ece.encrypt(
                    body, private_key=ec.generate_private_key(ec.SECP256R1()), dh=sub.p256dh, auth_secret=sub.auth
                )
                response = await client.post(sub.endpoint, content=sent, headers=headers)
                assert response.status_code == 201

        started = time.perf_counter()
        await asyncio.gather(*(one(sub) for sub in subscriptions))
        return time.perf_counter() - started


async def _broadcast(settings, count: int) -> float:  # noqa: ANN001
    draft = await city_wide_alert()
    transport = WebPushTransport(settings.webpush)
    started = time.perf_counter()
    await broadcasts.confirm(draft.id, by=None)
    try:
        await drain(settings, DeliveryWorker(settings, {Channel.WEBPUSH: transport}), timeout=3600)
    finally:
        await transport.close()
    elapsed = time.perf_counter() - started
    sent = await Delivery.filter(kind=NoticeKind.BROADCAST, status="sent").count()
    assert sent == count, f"{sent} of {count} sent"
    return elapsed


async def _passages(settings, fake: ServiceThread, addresses: list[ContactAddress], rate: float, seconds: float):  # noqa: ANN001, ANN202
    """Queue passage notices at ``rate`` a second while a worker runs; queued → accepted, seconds."""
    transport = WebPushTransport(settings.webpush)
    stop = asyncio.Event()
    worker = asyncio.create_task(DeliveryWorker(settings, {Channel.WEBPUSH: transport}).run(stop))
    queued: dict[str, float] = {}
    started = time.monotonic()
    total = int(rate * seconds)
    for n in range(total):
        await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
        delivery = await enqueue(
            kind=NoticeKind.PASSAGE,
            fact=f"passage:{n}",
            address=addresses[n % len(addresses)],
            priority=Priority.TRANSACTIONAL,
            payload={
                "pupil": "花子",
                "site": "みどり小学校",
                "direction": "arrival",
                "seen_at": datetime.now(UTC).isoformat(),
                "zone": "Asia/Tokyo",
            },
            expires_at=datetime.now(UTC) + timedelta(hours=1),
        )
        assert delivery is not None
        queued[topic(delivery.idempotency_key)] = time.monotonic()
    while len(fake.service.pushes) < total and time.monotonic() - started < seconds + 120:
        await asyncio.sleep(0.1)
    stop.set()
    await worker
    await transport.close()
    accepted = {p.notification["tag"]: p.at for p in fake.service.pushes}
    return sorted(accepted[tag] - at for tag, at in queued.items() if tag in accepted), total


async def _checked_device(n: int, sub: Subscription) -> ContactAddress:
    """A guardian's device whose pushes the fake decrypts and checks."""
    guardian = await Guardian.create(login_id=f"P{n:08d}", name="保護者", name_index=f"p{n:063x}", password_hash="x")
    value = sub.value()
    return await ContactAddress.create(
        guardian_id=guardian.id,
        channel=Channel.WEBPUSH,
        value=value,
        value_index=sealing.installed().blind_index("address:webpush", value),
        lane=spec(Channel.WEBPUSH).lane(value),
        slot=1,
        status=AddressStatus.ACTIVE,
        verified_at=datetime.now(UTC),
    )


def _cpu_per_message(sub: Subscription, key: ec.EllipticCurvePrivateKey, n: int = 2000) -> tuple[float, float]:
    body = os.urandom(300)
    started = time.process_time()
    for _ in range(n):
        encrypt(body, sub)
    encrypting = (time.process_time() - started) / n
    vapid, started = Vapid02(key), time.process_time()
    for _ in range(n // 4):
        vapid.sign({"aud": sub.origin, "sub": SUBJECT})
    return encrypting, (time.process_time() - started) / (n // 4)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=50, help="passages a second")
    parser.add_argument("--seconds", type=float, default=20, help="how long passages arrive")
    parser.add_argument("--concurrency", type=int, default=32, help="webpush.concurrency (and the baseline's)")
    parser.add_argument("--database-url", help="postgres://... (a fresh, empty database); default SQLite")
    args = parser.parse_args()

    fake = ServiceThread()
    work = Path(tempfile.mkdtemp(prefix="mimamori-bench-"))
    url = args.database_url or f"sqlite://{work / 'bench.db'}"
    settings = load_settings(
        None,
        data_dir=work,
        database_url=url,
        keyring=str(work / "keyring.json"),
        attendance={"checks": False},
        webpush={"subject": SUBJECT, "concurrency": args.concurrency},
    )
    ring = Keyring.open(settings.keyring, create=True)
    sealing.install(sealing.Sealer(ring))
    assert ring.vapid_current is not None
    public, key_id = ring.vapid_public_key(ring.vapid_current), ring.vapid_current
    browsers = [fake.service.subscribe(public) for _ in range(args.subscriptions)]
    bare = [
        _subscription(Browser(b.endpoint.replace("/push/", "/bare/"), public, b.key, b.auth), key_id) for b in browsers
    ]
    await upgrade_schema(url)
    await open_database(url)
    try:
        await _seed(bare)
        ours = await _broadcast(settings, args.subscriptions)
        baseline = await _baseline(bare, ring.vapid_private_key(key_id), args.concurrency)
        checked = [await _checked_device(n, _subscription(browsers[n], key_id)) for n in range(min(200, len(browsers)))]
        latencies, total = await _passages(settings, fake, list(checked), args.rate, args.seconds)
    finally:
        await close_database()
        fake.stop()
    encrypting, signing = _cpu_per_message(bare[0], ring.vapid_private_key(key_id))

    n = args.subscriptions
    print(f"database                 {url.split(':')[0]}")
    print(f"broadcast                {n} pushes in {ours:.1f} s: {n / ours:,.0f}/s (outbox, worker, transport)")
    print(f"bare library loop        {n} pushes in {baseline:.1f} s: {n / baseline:,.0f}/s (encrypt, sign, post)")
    print(f"  ratio                  {baseline / ours:.2f} of the bare loop's rate")
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    print(
        f"passages at {args.rate:g}/s         {len(latencies)} of {total} accepted: p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    print(f"encryption CPU           {encrypting * 1e6:.0f} µs a message: {1 / encrypting:,.0f} messages a core-second")
    print(
        f"VAPID signature CPU      {signing * 1e6:.0f} µs (per message in the bare loop; per push service and 11 h here)"
    )


if __name__ == "__main__":
    asyncio.run(main())
