"""What a push carries: only what its notification shows, and the page a tap opens.

The notice as rendered for the chat channels (the given name notices use, the school, the time); no
photo, no full name, no address. The page is the notice's first link — the photo page or the
answer page, which ask for a login, or an acknowledgement link as mail carries — else the portal.
"""

from __future__ import annotations

import hashlib
import json

from core.delivery.transport import Outgoing

# RFC 8291: one record of at most 4096 bytes, less its header (86: salt, size, the 65-byte key),
# the AES-GCM tag (16) and the padding delimiter (1). A push service answers 413 above it.
MAX_PLAINTEXT = 4096 - 86 - 16 - 1
_BODY_SHORTEST = 40


def topic(idempotency_key: str) -> str:
    """RFC 8030's Topic (at most 32 URL-safe characters): the same notice sent again (a retry after
    a lost answer) replaces the copy a push service still holds, and the notification's tag
    replaces the one on the screen, so at-least-once delivery shows once."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]


def payload(message: Outgoing) -> bytes:
    """The notification as JSON, its text trimmed to fit one record."""
    notice = message.notice
    links = [a.url for a in notice.actions if a.url]
    body = "\n".join(line for line in notice.text.splitlines() if line.strip() not in links).strip()
    shown = {
        "title": notice.subject or notice.sender,
        "body": body,
        "url": links[0] if links else "/",
        "tag": topic(message.idempotency_key),
    }
    data = _encoded(shown)
    keep = len(body)
    while len(data) > MAX_PLAINTEXT and keep > _BODY_SHORTEST:
        keep = max(_BODY_SHORTEST, keep - max(1, (len(data) - MAX_PLAINTEXT) // 3))  # a character: 1 to 3 bytes
        shown["body"] = body[:keep].rstrip() + "…"
        data = _encoded(shown)
    return data


def _encoded(shown: dict[str, str]) -> bytes:
    return json.dumps(shown, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
