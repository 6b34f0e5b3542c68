"""The signed VAPID (RFC 8292) token a push to one push service carries, with the keyring's key
the browser subscribed with (its public key: ``Keyring.vapid_public_key``).

A token names the push service (``aud``) and expires (``exp``, at most 24 hours ahead): one made
for a push service serves every push to it for hours, so ECDSA signs once per service and key,
not once per message.
"""

from __future__ import annotations

import time

from py_vapid import Vapid02

from core import sealing
from core.keyring import Keyring

TOKEN_HOURS = 12  # a token's lifetime (push services refuse more than 24)
RENEW_BEFORE = 3600  # seconds: a token this close to its expiry is made again


def keyring() -> Keyring:
    return sealing.installed().keyring


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
            signer = self._signers[key_id] = Vapid02(ring.vapid_private_key(key_id))
        return signer
