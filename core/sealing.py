"""Sealing at rest (AES-256-GCM, ciphertext tagged with its key id) and blind indexes.

A sealed value is ``0x01 | len(key id) | key id | 12-byte nonce | ciphertext+tag``. The
associated data names what the value is (``"guardian.name"``), so a sealed value copied into
another column does not open. Blind indexes are keyed HMAC-SHA256 over the normalised value,
with a purpose prefix so equal values in different roles do not correlate.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
import unicodedata

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.keyring import Keyring

FORMAT_VERSION = 1
NONCE_BYTES = 12
KEYRING_CHECK_SECONDS = 5.0


class SealingError(Exception):
    """A sealed value cannot be opened (unknown key, tampered, or not sealed)."""


class NotInstalledError(RuntimeError):
    """Sealed data was touched before a keyring was installed."""


def normalise(value: str) -> str:
    """The form a value is compared in: NFKC, case-folded, trimmed, inner spaces collapsed.

    Japanese users type full-width letters, digits and spaces; NFKC folds them to ASCII.
    """
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


class Sealer:
    def __init__(self, keyring: Keyring) -> None:
        self._reload_lock = threading.Lock()
        self._use(keyring)

    def _use(self, keyring: Keyring) -> None:
        self._keyring = keyring
        self._ciphers = {kid: AESGCM(key) for kid, key in keyring.keys.items()}
        self._checked_at = time.monotonic()
        self._mtime = _mtime(keyring)

    @property
    def keyring(self) -> Keyring:
        return self._keyring

    @property
    def current_key_id(self) -> str:
        return self._keyring.current_id

    def seal(self, plaintext: bytes, context: str) -> bytes:
        self._follow_rotation()
        kid = self._keyring.current_id
        nonce = os.urandom(NONCE_BYTES)
        body = self._ciphers[kid].encrypt(nonce, plaintext, context.encode())
        kid_bytes = kid.encode("ascii")
        return bytes((FORMAT_VERSION, len(kid_bytes))) + kid_bytes + nonce + body

    def unseal(self, sealed: bytes, context: str) -> bytes:
        kid, nonce, body = _split(sealed)
        cipher = self._ciphers.get(kid) or self._reload_for(kid)
        try:
            return cipher.decrypt(nonce, body, context.encode())
        except InvalidTag:
            raise SealingError(f"a sealed {context} failed its integrity check") from None

    def seal_text(self, text: str, context: str) -> bytes:
        return self.seal(text.encode("utf-8"), context)

    def unseal_text(self, sealed: bytes, context: str) -> str:
        return self.unseal(sealed, context).decode("utf-8")

    def blind_index(self, purpose: str, value: str) -> str:
        """Keyed HMAC of the normalised value, as 64 hex digits."""
        message = purpose.encode() + b"\x00" + normalise(value).encode("utf-8")
        return hmac.new(self._keyring.index_key, message, hashlib.sha256).hexdigest()

    def _follow_rotation(self) -> None:
        # ``mimamori keys rotate`` in another process makes a new key current: seal with it too.
        if time.monotonic() - self._checked_at < KEYRING_CHECK_SECONDS:
            return
        self._checked_at = time.monotonic()
        if self._keyring.path is not None and _mtime(self._keyring) != self._mtime:
            with self._reload_lock:
                self._use(Keyring.open(str(self._keyring.path)))

    def _reload_for(self, kid: str) -> AESGCM:
        # Another process may have sealed with a key added since we loaded the keyring.
        with self._reload_lock:
            if kid not in self._ciphers and self._keyring.path is not None:
                self._use(Keyring.open(str(self._keyring.path)))
        try:
            return self._ciphers[kid]
        except KeyError:
            raise SealingError(f"sealed with key {kid!r}, which the keyring does not hold") from None


def _mtime(keyring: Keyring) -> float | None:
    try:
        return keyring.path.stat().st_mtime if keyring.path else None
    except OSError:
        return None


def key_id_of(sealed: bytes) -> str:
    return _split(sealed)[0]


def _split(sealed: bytes) -> tuple[str, bytes, bytes]:
    sealed = bytes(sealed)
    if len(sealed) < 2 or sealed[0] != FORMAT_VERSION:
        raise SealingError("value is not sealed in a known format")
    end = 2 + sealed[1]
    try:
        kid = sealed[2:end].decode("ascii")
    except UnicodeDecodeError:
        raise SealingError("value is not sealed in a known format") from None
    return kid, sealed[end : end + NONCE_BYTES], sealed[end + NONCE_BYTES :]


_installed: Sealer | None = None


def install(sealer: Sealer | None) -> None:
    """Make ``sealer`` the one the sealed model fields use (set once at start-up)."""
    global _installed
    _installed = sealer


def installed() -> Sealer:
    if _installed is None:
        raise NotInstalledError("no keyring installed: call core.sealing.install() at start-up")
    return _installed
