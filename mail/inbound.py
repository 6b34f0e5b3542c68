"""Reading one incoming mail: who sent it, to whom, what it says, and whether it is automatic.

Mail from old Japanese phones arrives in ISO-2022-JP or Shift_JIS (often with carrier or NEC
extensions the strict codecs refuse), sometimes with a charset nobody knows; headers may be
broken. Parsing never raises on content: what cannot be decoded is replaced, and a mail we cannot
read at all comes back with empty text (the caller logs it and moves on).
"""

from __future__ import annotations

import email
import logging
import re
from dataclasses import dataclass
from email.header import decode_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from html import unescape

log = logging.getLogger(__name__)

# Japanese phones label text with the strict charset and use its vendor extensions: read each
# with the superset that holds them.
_CHARSET_SUPERSETS = {
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "windows-31j": "cp932",
    "ms932": "cp932",
    "cp932": "cp932",
    "iso-2022-jp": "iso-2022-jp",
    "iso2022-jp": "iso-2022-jp",
    "csiso2022jp": "iso-2022-jp",
    "euc-jp": "euc_jis_2004",
    "x-euc-jp": "euc_jis_2004",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "unknown-8bit": "utf-8",
    "x-unknown": "utf-8",
}
_FALLBACKS = ("utf-8", "iso2022_jp_2004", "iso2022_jp_ext", "cp932", "euc_jis_2004")

_AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
_REPLY_HEADER = re.compile(
    r"^\s*(-{2,}\s*(original message|元のメッセージ|転送されたメッセージ|forwarded message)\s*-{2,}"
    r"|on .{1,200} wrote:\s*$"
    r"|.{1,200}(さんは|が)書きました\s*[:：]?\s*$"
    r"|.{1,200}wrote:\s*$)",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^\s*[>＞|｜]")
_TAG = re.compile(r"<[^>]*>")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class InboundMail:
    sender: str  # the From address, lower-cased; "" when there is none we can read
    return_path: str | None  # None: no Return-Path header; "": the null path <> (a bounce)
    recipients: tuple[str, ...]  # To, Cc and the envelope recipient headers, lower-cased
    subject: str
    text: str  # the readable body: the first text/plain part, else the HTML as text
    message_id: str | None
    in_reply_to: tuple[str, ...]  # In-Reply-To and References
    automatic: bool  # Auto-Submitted, Precedence, List-Id: never answered
    is_report: bool  # multipart/report: a DSN or another machine's report
    raw: Message

    @property
    def fresh_text(self) -> str:
        """The body without the quoted mail it replies to."""
        return fresh_text(self.text)


def parse_mail(data: bytes) -> InboundMail:
    message = email.message_from_bytes(data)
    return InboundMail(
        sender=_address(header_text(message, "From")),
        return_path=_return_path(message),
        recipients=_recipients(message),
        subject=" ".join(header_text(message, "Subject").split()),
        text=body_text(message),
        message_id=_first_id(header_text(message, "Message-ID")),
        in_reply_to=tuple(
            _MESSAGE_ID.findall(header_text(message, "In-Reply-To") + " " + header_text(message, "References"))
        ),
        automatic=_automatic(message),
        is_report=message.get_content_type() == "multipart/report",
        raw=message,
    )


def header_text(message: Message, name: str) -> str:
    """A header decoded from RFC 2047 encoded words (and raw 8-bit), '' when absent."""
    value = message.get(name)
    if value is None:
        return ""
    try:
        parts = decode_header(str(value))
    except Exception:  # noqa: BLE001 - a broken header reads as its raw text
        return str(value)
    out = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return "".join(out).strip()


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset, tolerating the charsets phones declare wrongly."""
    declared = (charset or "").strip().strip('"').lower()
    if _CHARSET_SUPERSETS.get(declared) == "iso-2022-jp" or (b"\x1b$B" in data and not declared):
        return _iso2022_jp(data)
    tried = []
    for name in (_CHARSET_SUPERSETS.get(declared, declared), *_FALLBACKS):
        if not name or name in tried:
            continue
        tried.append(name)
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", "replace")


def _iso2022_jp(data: bytes) -> str:
    """ISO-2022-JP as phones write it: JIS X 0208 plus the NEC rows (①, ㈱) that Python's strict
    codecs refuse, read by shifting each two-byte character to CP932, which holds them all."""
    out, mode, i = bytearray(), "ascii", 0
    while i < len(data):
        if data[i] == 0x1B:
            escape = data[i + 1 : i + 3]
            mode = {b"$B": "jis", b"$@": "jis", b"(I": "kana"}.get(escape, "ascii")
            i += 3
            continue
        if mode == "jis" and i + 1 < len(data) and data[i] not in (0x0A, 0x0D):
            j1, j2 = data[i], data[i + 1]
            s1 = ((j1 + 1) >> 1) + (0x70 if j1 <= 0x5E else 0xB0)
            s2 = j2 + (0x1F + (j2 >= 0x60) if j1 % 2 else 0x7E)
            out += bytes((s1 & 0xFF, s2 & 0xFF))
            i += 2
            continue
        out.append(data[i] + 0x80 if mode == "kana" and 0x21 <= data[i] <= 0x5F else data[i])
        i += 1
    return out.decode("cp932", "replace")


def body_text(message: Message) -> str:
    """The first text/plain part that is not an attachment; else the first HTML part as text."""
    html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_maintype() == "message":
            if part.get_content_type() == "message/rfc822" and part is not message:
                break  # a forwarded or bounced mail: its body is not the sender's text
            continue
        if part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain":
            return _part_text(part)
        if kind == "text/html" and html is None:
            html = _part_text(part)
    return _html_as_text(html) if html else ""


def fresh_text(text: str) -> str:
    """``text`` up to the quoted original of a reply, without ``>``-quoted lines."""
    kept = []
    for line in text.splitlines():
        if _REPLY_HEADER.match(line):
            break
        if not _QUOTED.match(line):
            kept.append(line)
    return "\n".join(kept).strip()


def _part_text(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - broken transfer encoding
        log.info("unreadable %s part: %s", part.get_content_type(), part.get("Content-Transfer-Encoding"))
        return ""
    if not isinstance(payload, bytes):  # None: nothing decodable (decode=True gives bytes or None)
        return ""
    return decode_bytes(payload, part.get_content_charset()).replace("\r\n", "\n")


def _html_as_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style).*?</\1>", "", html)
    html = re.sub(r"(?i)<br\s*/?>|</p>|</div>", "\n", html)
    return unescape(_TAG.sub("", html)).strip()


def _address(value: str) -> str:
    _, address = parseaddr(value)
    return address.strip().lower() if "@" in address else ""


def _return_path(message: Message) -> str | None:
    value = message.get("Return-Path")
    if value is None:
        return None
    value = str(value).strip()
    return "" if value in {"<>", ""} else _address(value)


def _recipients(message: Message) -> tuple[str, ...]:
    values = [header_text(message, name) for name in ("To", "Cc", "X-Original-To", "Envelope-To")]
    values += [str(v) for v in message.get_all("Delivered-To", [])]
    found = [address.strip().lower() for _, address in getaddresses(values) if "@" in address]
    return tuple(dict.fromkeys(found))


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else None


def _automatic(message: Message) -> bool:
    auto_submitted = header_text(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted.split(";")[0].strip() != "no":
        return True
    if header_text(message, "Precedence").lower() in _AUTO_PRECEDENCE:
        return True
    return any(
        message.get(name) is not None for name in ("List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond")
    )
