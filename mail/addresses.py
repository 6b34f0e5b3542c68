"""Addresses our own mail carries: per-delivery return paths (VERP) and Message-IDs.

Both name the delivery with a keyed tag, so a bounce can be matched to the delivery it is about
and a forged one (guessing delivery ids) is ignored.
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.blind_indexes import Purpose, index

_TAG_LENGTH = 10


@lru_cache(maxsize=256)  # a delivery's return path and Message-ID are built together
def _tag(delivery_id: int) -> str:
    return index(Purpose.MAIL_DELIVERY, str(delivery_id))[:_TAG_LENGTH]


def return_path(delivery_id: int, bounce_domain: str) -> str:
    """``bounce-<id>-<tag>@<bounce_domain>``: the envelope sender of one delivery."""
    return f"bounce-{delivery_id}-{_tag(delivery_id)}@{bounce_domain}"


def message_id(delivery_id: int, domain: str) -> str:
    return f"<mimamori-{delivery_id}-{_tag(delivery_id)}@{domain}>"


_RETURN_PATH = re.compile(r"bounce-(\d+)-([0-9a-f]+)@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<?mimamori-(\d+)-([0-9a-f]+)@", re.IGNORECASE)


def delivery_of_return_path(address: str) -> int | None:
    return _verified(_RETURN_PATH.search(address))


def delivery_of_message_id(value: str) -> int | None:
    return _verified(_MESSAGE_ID.search(value))


def _verified(match: re.Match[str] | None) -> int | None:
    if match is None:
        return None
    delivery_id = int(match.group(1))
    return delivery_id if match.group(2).lower() == _tag(delivery_id) else None


# The mailto of a broadcast's List-Unsubscribe: delivered, with the "+" delimiter, to the mailbox
# bounces go to (mail.inbox reads it before bounces). The token is core.unsubscribe's.
_UNSUBSCRIBE = re.compile(r"bounce\+unsubscribe-([0-9a-z-]+)@", re.IGNORECASE)


def unsubscribe_address(token: str, bounce_domain: str) -> str:
    """``bounce+unsubscribe-<address id>-<tag>@<bounce_domain>``: mail to it stops broadcasts to that address."""
    return f"bounce+unsubscribe-{token}@{bounce_domain}"


def unsubscribe_token_in(address: str) -> str | None:
    """The token an unsubscribe address carries, not yet checked (core.unsubscribe does)."""
    match = _UNSUBSCRIBE.search(address)
    return match.group(1) if match else None
