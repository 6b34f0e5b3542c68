"""DKIM signatures (RFC 6376) on the mail we send: rsa-sha256, relaxed/relaxed, with the
keyring's key, the selector and domain of ``[smtp]``.

dkimpy does what a DKIM library should: parsing the header, relaxed canonicalisation of header
and body, choosing the header instances to sign, the tag list and its folding, the b= tag left
empty while hashing. Only the RSA signature itself is ``cryptography``'s (OpenSSL): dkimpy's own
is pure Python, 6 ms of CPU per mail with a 2048-bit key, twenty times what building and sending
a mail costs, while OpenSSL takes a quarter of a millisecond. dkimpy has no hook for its signing
step, so ``signature`` walks the few steps of ``dkim.DKIM.sign`` with dkimpy's own functions; a
test holds the result byte for byte to what ``dkim.DKIM.sign`` writes for the same mail, and
verifies it with ``dkim.verify``.
"""

from __future__ import annotations

import base64
import hashlib
import time

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from dkim.canonicalization import CanonicalizationPolicy

from core import sealing
from core.config import SmtpSettings
from core.i18n import _
from core.keyring import Keyring, KeyringError

# The header fields that say who sent what to whom and how to read it, signed when present.
SIGNED = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
    b"in-reply-to",
    b"references",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"auto-submitted",
)
_POLICY = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_HEADER = b"DKIM-Signature"
_BODY_HASHES_KEPT = 64  # a broadcast's body is the same for every recipient without an ack link


class DkimSigner:
    def __init__(self, key_pem: str, *, selector: str, domain: str) -> None:
        key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyringError(_("The keyring's dkim_key is not an RSA key."))
        self._key = key
        self._selector = selector.encode("ascii")
        self._domain = domain.encode("ascii")
        self._body_hashes: dict[bytes, bytes] = {}

    def signature(self, message: bytes) -> bytes:
        """The ``DKIM-Signature`` field (CRLF-terminated) to put in front of ``message``, a mail
        with CRLF line ends as ``mail.message.build_message`` writes it."""
        head, _, body = message.partition(b"\r\n\r\n")
        headers = [h for h in dkim.rfc822_parse(head + b"\r\n\r\n")[0] if h[0].lower() in SIGNED]
        present = [name.lower() for name, _ in headers]
        # each named twice: the second names an instance that is not there, so one added on the
        # way (a second From or Subject) breaks the signature (RFC 6376 8.15)
        include = tuple(present + present)
        fields = [
            (b"v", b"1"),
            (b"a", b"rsa-sha256"),
            (b"c", _POLICY.to_c_value()),
            (b"d", self._domain),
            (b"i", b"@" + self._domain),
            (b"q", b"dns/txt"),
            (b"s", self._selector),
            (b"t", str(int(time.time())).encode("ascii")),
            (b"h", b" : ".join(include)),
            (b"bh", self._body_hash(body)),
            (b"b", b"0" * 60),  # as dkimpy: b= folds onto a line of its own
        ]
        unsigned = dkim.fold(b"; ".join(b"=".join(f) for f in fields), namelen=len(_HEADER))
        unsigned = dkim.RE_BTAG.sub(b"\\1", unsigned)
        hasher = hashlib.sha256()
        canonical = _POLICY.canonicalize_headers(headers)
        dkim.hash_headers(hasher, _POLICY, canonical, include, (_HEADER, b" " + unsigned), dict(fields))
        signed = self._key.sign(hasher.digest(), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
        fields[-1] = (b"b", base64.b64encode(signed))
        value: bytes = dkim.fold(b"; ".join(b"=".join(f) for f in fields) + b"\r\n", namelen=len(_HEADER))
        return _HEADER + b": " + value

    def _body_hash(self, body: bytes) -> bytes:
        found = self._body_hashes.get(body)
        if found is None:
            if len(self._body_hashes) >= _BODY_HASHES_KEPT:
                self._body_hashes.clear()
            digest = hashlib.sha256(_POLICY.canonicalize_body(body)).digest()
            found = self._body_hashes[body] = base64.b64encode(digest)
        return found


def signer_for(settings: SmtpSettings, keyring: Keyring | None = None) -> DkimSigner | None:
    """The signer ``[smtp]`` asks for (None with ``dkim`` off); refuses DKIM on without a key."""
    if not settings.dkim:
        return None
    keyring = keyring or sealing.installed().keyring
    if keyring.dkim_key is None:
        raise KeyringError(
            _(
                "%(setting)s is on but the keyring holds no DKIM key:"
                " run %(command)s and publish the DNS record it prints.",
                setting="smtp.dkim",
                command="`mimamori keys dkim`",
            )
        )
    domain = settings.dkim_domain or settings.from_address.rpartition("@")[2]
    return DkimSigner(keyring.dkim_key, selector=settings.dkim_selector, domain=domain)


def txt_value(key_pem: str) -> str:
    """What receivers find in the TXT record at ``<selector>._domainkey.<domain>``: the public key."""
    key = serialization.load_pem_private_key(key_pem.encode("ascii"), password=None)
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "v=DKIM1; k=rsa; p=" + base64.b64encode(public).decode("ascii")


def dns_record(key_pem: str, *, selector: str, domain: str) -> str:
    """The TXT record to publish, as a zone file line: the value split into strings of at most
    255 characters, as DNS wants (receivers join them)."""
    value = txt_value(key_pem)
    strings = " ".join(f'"{value[i : i + 255]}"' for i in range(0, len(value), 255))
    return f"{selector}._domainkey.{domain}. IN TXT ( {strings} )"
