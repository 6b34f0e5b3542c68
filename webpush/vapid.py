"""The VAPID (RFC 8292) keys, from the keyring: the public key a browser subscribes with, and the
signed token a push to one push service carries.

A token names the push service (``aud``) and expires (``exp``, at most 24 hours ahead): one made
for a push service serves every push to it for hours, so ECDSA signs once per service and key,
not once per message.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from core import sealing
from core.keyring import Keyring

TOKEN_HOURS = 12  # a token's lifetime (push services refuse more than 24)
RENEW_BEFORE = 3600  # seconds: a token this close to its expiry is made again


@dataclass(frozen=True)
class ServerKey:
    key_id: str
    public_key: str  # base64url, uncompressed point: a subscription's applicationServerKey


def _private(raw: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(raw), ec.SECP256R1())


def _public_text(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")


def keyring() -> Keyring:
    return sealing.installed().keyring


def current_key(ring: Keyring | None = None) -> ServerKey | None:
    """The key new subscriptions are made with; None when the keyring holds none."""
    ring = ring or keyring()
    if ring.vapid_current is None:
        return None
    return ServerKey(ring.vapid_current, _public_text(_private(ring.vapid_keys[ring.vapid_current])))


def holds(key_id: str, ring: Keyring | None = None) -> bool:
    return key_id in (ring or keyring()).vapid_keys


class Tokens:
    """Signed VAPID tokens by (push service origin, key id), made when first needed or near expiry."""

    def __init__(self, subject: str, ring: Keyring | None = None) -> None:
        self._subject = subject
        self._ring = ring
        self._made: dict[tuple[str, str], tuple[float, str]] = {}
        self._signers: dict[str, Vapid02] = {}

    def authorization(self, origin: str, key_id: str) -> str:
        """The ``Authorization`` header for a push to ``origin`` signed with ``key_id``."""
        now = time.time()
        made = self._made.get((origin, key_id))
        if made is not None and made[0] - now > RENEW_BEFORE:
            return made[1]
        expires = int(now) + TOKEN_HOURS * 3600
        claims = {"aud": origin, "exp": expires, "sub": self._subject}
        header: str = self._signer(key_id).sign(claims)["Authorization"]
        self._made[origin, key_id] = (expires, header)
        return header

    def _signer(self, key_id: str) -> Vapid02:
        signer = self._signers.get(key_id)
        if signer is None:
            ring = self._ring or keyring()
            if key_id not in ring.vapid_keys and ring.path is not None:
                ring = Keyring.open(str(ring.path))  # made by ``keys rotate`` since this process read it
            if key_id not in ring.vapid_keys:
                raise LookupError(key_id)
            signer = self._signers[key_id] = Vapid02(_private(ring.vapid_keys[key_id]))
        return signer
