"""What a DKIM signature costs per mail: ``python bench/dkim_signing.py [--messages 5000]``.

Builds the mail of a city-wide alert (as the transport does, one per recipient) and signs it
with an RSA-2048 key: with mail.dkim_signing (dkimpy's canonicalisation, OpenSSL's RSA through
``cryptography``) and with dkimpy's own ``dkim.sign`` (its pure-Python RSA), in the same process.
Prints CPU per message of each against building the mail alone. The whole send's CPU is in
``bench/broadcast_email.py --dkim``.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dkim  # noqa: E402

from core.delivery.render import RenderedNotice  # noqa: E402
from core.keyring import Keyring  # noqa: E402
from mail.dkim_signing import SIGNED, DkimSigner  # noqa: E402
from mail.message import build_message  # noqa: E402

NOTICE = RenderedNotice(
    subject="【災害情報】大雨のため臨時休校",
    text="本日は大雨のため臨時休校とします。\n自宅で安全に過ごしてください。\n" * 3,
    html="<p>本日は大雨のため臨時休校とします。</p><p>自宅で安全に過ごしてください。</p>" * 3,
)


def _mail(n: int) -> bytes:
    return build_message(
        NOTICE,
        to=f"g{n}@example.jp",
        from_address="mimamori@city.example.jp",
        message_id=f"<mimamori-{n}-0123456789@city.example.jp>",
        date=datetime.now(UTC),
        list_unsubscribe=(
            f"mailto:bounce+unsubscribe-{n}-0123456789abcdef0123@bounce.city.example.jp",
            f"https://mimamori.city.example.jp/unsubscribe/{n}-0123456789abcdef0123",
        ),
    )


def _cpu_per_message(messages: int, sign: object) -> float:
    started = time.process_time()
    for n in range(messages):
        data = _mail(n)
        if callable(sign):
            sign(data)
    return (time.process_time() - started) / messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    args = parser.parse_args()
    keyring = Keyring.generate()
    keyring.add_dkim_key()
    assert keyring.dkim_key is not None
    key = keyring.dkim_key.encode("ascii")
    signer = DkimSigner(keyring.dkim_key, selector="mimamori", domain="city.example.jp")
    present = [name.lower() for name, _ in dkim.rfc822_parse(_mail(0))[0] if name.lower() in SIGNED]

    def dkimpy(data: bytes) -> bytes:
        signed: bytes = dkim.DKIM(data).sign(
            b"mimamori",
            b"city.example.jp",
            key,
            canonicalize=(b"relaxed", b"relaxed"),
            include_headers=present + present,
        )
        return signed

    built = _cpu_per_message(args.messages, None)
    ours = _cpu_per_message(args.messages, signer.signature)
    theirs = _cpu_per_message(max(args.messages // 20, 50), dkimpy)
    print(f"building the mail            {built * 1e6:7.0f} µs CPU per message")
    print(f"+ mail.dkim_signing          {(ours - built) * 1e6:7.0f} µs more (RSA-2048 by OpenSSL)")
    print(f"+ dkimpy's own dkim.sign     {(theirs - built) * 1e6:7.0f} µs more (RSA-2048 in pure Python)")
    print(f"dkimpy's own / ours          {(theirs - built) / (ours - built):7.1f}x")


if __name__ == "__main__":
    main()
