"""The keyring: sealing keys by id (one of them current), the blind-index key, the DKIM
signing key when one was made (``mimamori keys dkim``), and the web push VAPID key pairs by id (one
of them current; ``mimamori keys webpush``, and a new one at each ``keys rotate``).

The file is JSON, written atomically with mode 0600. It may also be given inline (the JSON
itself, e.g. from a secret store through ``MIMAMORI_KEYRING``); an inline keyring cannot rotate.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from core.errors import ExplainedError
from core.errors import message_of as _

KEY_BYTES = 32
DKIM_KEY_BITS = 2048  # what large receivers ask for; 1024 is accepted but discouraged


class KeyringError(ExplainedError):
    """The keyring is missing, unreadable or malformed; the message says which."""


@dataclass
class Keyring:
    keys: dict[str, bytes]
    current_id: str
    index_key: bytes
    created: dict[str, str] = field(default_factory=dict)
    path: Path | None = None
    dkim_key: str | None = None  # PEM (PKCS#8) of the RSA key our mail is signed with
    # VAPID (RFC 8292) private keys, P-256 scalars, by id "v1", "v2"…: a browser's subscription is
    # bound to the public key it was made with, so an old key stays as long as subscriptions name it
    vapid_keys: dict[str, bytes] = field(default_factory=dict)
    vapid_current: str | None = None
    vapid_created: dict[str, str] = field(default_factory=dict)

    def vapid_private_key(self, kid: str) -> ec.EllipticCurvePrivateKey:
        return ec.derive_private_key(int.from_bytes(self.vapid_keys[kid]), ec.SECP256R1())

    def vapid_public_key(self, kid: str) -> str:
        """The public key of ``kid`` as a page gives it to PushManager.subscribe() (applicationServerKey):
        base64url of the uncompressed point."""
        point = (
            self.vapid_private_key(kid)
            .public_key()
            .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
        )
        return base64.urlsafe_b64encode(point).rstrip(b"=").decode("ascii")

    def add_vapid_key(self) -> str:
        """A new VAPID key pair, made current for new subscriptions; returns its id."""
        number = max((int(kid[1:]) for kid in self.vapid_keys if kid[1:].isdigit()), default=0) + 1
        kid = f"v{number}"
        self.vapid_keys[kid] = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32)
        self.vapid_created[kid] = _now()
        self.vapid_current = kid
        return kid

    def add_dkim_key(self) -> bool:
        """Make the DKIM signing key (RSA-2048) unless there is one; True when it was made."""
        if self.dkim_key is not None:
            return False
        key = rsa.generate_private_key(public_exponent=65537, key_size=DKIM_KEY_BITS)
        self.dkim_key = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        return True

    @classmethod
    def generate(cls, path: Path | None = None) -> Keyring:
        keyring = cls(
            keys={"k1": secrets.token_bytes(KEY_BYTES)},
            current_id="k1",
            index_key=secrets.token_bytes(KEY_BYTES),
            created={"k1": _now()},
            path=path,
        )
        keyring.add_vapid_key()
        return keyring

    @classmethod
    def open(cls, source: str, *, create: bool = False) -> Keyring:
        """Load from inline JSON or a file path; create the file when asked and absent."""
        if source.lstrip().startswith("{"):
            return cls._from_json(source, origin="(inline)")
        path = Path(source)
        if not path.exists():
            if not create:
                raise KeyringError(_("The keyring %(file)s does not exist.", file=str(path)))
            keyring = cls.generate(path)
            keyring.save()
            return keyring
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyringError(
                _("The keyring %(file)s cannot be read: %(reason)s", file=str(path), reason=exc.strerror)
            ) from None
        keyring = cls._from_json(text, origin=str(path))
        keyring.path = path
        return keyring

    @classmethod
    def _from_json(cls, text: str, *, origin: str) -> Keyring:
        try:
            data = json.loads(text)
            keys = {kid: _decode_key(entry["secret"]) for kid, entry in data["keys"].items()}
            created = {kid: entry.get("created", "") for kid, entry in data["keys"].items()}
            keyring = cls(
                keys=keys,
                current_id=data["current"],
                index_key=_decode_key(data["index_key"]),
                created=created,
                dkim_key=_text_or_none(data.get("dkim_key")),
            )
            vapid = data.get("vapid") or {"keys": {}, "current": None}
            for kid, entry in vapid["keys"].items():
                keyring.vapid_keys[kid] = _decode_key(entry["secret"])
                keyring.vapid_created[kid] = entry.get("created", "")
            keyring.vapid_current = vapid["current"]
            if keyring.vapid_current is not None and keyring.vapid_current not in keyring.vapid_keys:
                raise KeyError(keyring.vapid_current)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyringError(
                _(
                    "The keyring %(file)s is malformed (%(reason)s).",
                    file=origin,
                    reason=f"{exc.__class__.__name__}: {exc}",
                )
            ) from None
        if keyring.current_id not in keyring.keys:
            raise KeyringError(
                _(
                    "The keyring %(file)s names %(key)s as its current key but does not hold it.",
                    file=origin,
                    key=keyring.current_id,
                )
            )
        return keyring

    def to_json(self) -> str:
        data: dict[str, object] = {
            "version": 1,
            "current": self.current_id,
            "keys": {
                kid: {"secret": _encode_key(key), "created": self.created.get(kid, "")}
                for kid, key in self.keys.items()
            },
            "index_key": _encode_key(self.index_key),
        }
        if self.dkim_key is not None:
            data["dkim_key"] = self.dkim_key
        if self.vapid_keys:
            data["vapid"] = {
                "current": self.vapid_current,
                "keys": {
                    kid: {"secret": _encode_key(key), "created": self.vapid_created.get(kid, "")}
                    for kid, key in self.vapid_keys.items()
                },
            }
        return json.dumps(data, indent=2)

    def save(self) -> None:
        if self.path is None:
            raise KeyringError(_("An inline keyring cannot be changed; edit where it is written instead."))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".keyring-")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(self.to_json())
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def add_key(self) -> str:
        """Add a new sealing key and make it current; returns its id."""
        number = max(int(kid[1:]) for kid in self.keys if kid[1:].isdigit()) + 1
        kid = f"k{number}"
        self.keys[kid] = secrets.token_bytes(KEY_BYTES)
        self.created[kid] = _now()
        self.current_id = kid
        return kid

    def replaced_at(self, kid: str) -> datetime:
        """When ``kid`` stopped being current: the creation of the next key (now, if the keyring
        does not say; values sealed with ``kid`` until then may be anywhere it is used)."""
        mine = self.created.get(kid, "")
        later = [c for k, c in self.created.items() if k != kid and c and mine and c > mine]
        return datetime.fromisoformat(min(later)) if later else datetime.now(UTC)

    def retire(self, kid: str) -> None:
        if kid == self.current_id:
            raise KeyringError(_("The key %(key)s is current and cannot be retired.", key=kid))
        if kid not in self.keys:
            raise KeyringError(_("There is no key %(key)s.", key=kid))
        del self.keys[kid]
        self.created.pop(kid, None)


def _encode_key(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _decode_key(text: str) -> bytes:
    key = base64.b64decode(text, validate=True)
    if len(key) != KEY_BYTES:
        raise ValueError(f"a key must be {KEY_BYTES} bytes, not {len(key)}")
    return key


def _text_or_none(value: object) -> str | None:
    if value is not None and not isinstance(value, str):
        raise TypeError(f"dkim_key must be PEM text, not {type(value).__name__}")
    return value


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
