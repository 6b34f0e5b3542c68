"""Addresses our own mail carries: per-delivery return paths (VERP) and Message-IDs.

Both name the delivery with a keyed tag, so a bounce can be matched to the delivery it is about
and a forged one (guessing delivery ids) is ignored. Return paths are addresses of one mailbox,
``bounce@<smtp.bounce_domain>``, told apart by the extension after ``+`` (Postfix's and Dovecot's
usual ``recipient_delimiter``), so the MTA needs one alias for all of them.
"""

from __future__ import annotations

import re
from functools import lru_cache

from core.blind_indexes import Purpose, index

_TAG_LENGTH = 10


@lru_cache(maxsize=256)  # a delivery's return path and Message-ID are built together
def _tag(delivery_id: int) -> str:
    return index(Purpose.MAIL_DELIVERY, str(delivery_id))[:_TAG_LENGTH]


BOUNCE_MAILBOX = "bounce"  # the local part at smtp.bounce_domain; after its "+", what came back


def bounce_address(extension: str, bounce_domain: str) -> str:
    """``bounce+<extension>@<bounce_domain>``: the one bounce mailbox (an MTA with
    ``recipient_delimiter = +`` delivers every extension to it), the extension saying what for."""
    return f"{BOUNCE_MAILBOX}+{extension}@{bounce_domain}"


def bounce_extension(address: str) -> str | None:
    """What follows ``bounce+`` in an address of the bounce mailbox (lower-cased); None for another."""
    local, at, _ = address.strip().rpartition("@")
    mailbox, plus, extension = local.partition("+")
    return extension.lower() if at and plus and mailbox.lower() == BOUNCE_MAILBOX else None


def return_path(delivery_id: int, bounce_domain: str) -> str:
    """``bounce+<id>-<tag>@<bounce_domain>``: the envelope sender of one delivery (VERP)."""
    return bounce_address(f"{delivery_id}-{_tag(delivery_id)}", bounce_domain)


def message_id(delivery_id: int, domain: str) -> str:
    return f"<mimamori-{delivery_id}-{_tag(delivery_id)}@{domain}>"


_DELIVERY = re.compile(r"(\d+)-([0-9a-f]+)")
# the return path written before the "+" form, still accepted for mail in flight then
_DASHED_RETURN_PATH = re.compile(r"bounce-(\d+)-([0-9a-f]+)@", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<?mimamori-(\d+)-([0-9a-f]+)@", re.IGNORECASE)


def delivery_of_return_path(address: str) -> int | None:
    """The delivery a bounce's recipient is the return path of; None for any other address (one
    of ours for another purpose, such as ``bounce+unsubscribe-…``, or one whose tag is wrong)."""
    extension = bounce_extension(address)
    if extension is not None:
        return _verified(_DELIVERY.fullmatch(extension))
    return _verified(_DASHED_RETURN_PATH.match(address.strip()))


def delivery_of_message_id(value: str) -> int | None:
    return _verified(_MESSAGE_ID.search(value))


def _verified(match: re.Match[str] | None) -> int | None:
    if match is None:
        return None
    delivery_id = int(match.group(1))
    return delivery_id if match.group(2).lower() == _tag(delivery_id) else None


# The mailto of a broadcast's List-Unsubscribe: an extension of the bounce mailbox (mail.inbox
# reads it before bounces). The token is core.unsubscribe's.
_UNSUBSCRIBE = "unsubscribe-"


def unsubscribe_address(token: str, bounce_domain: str) -> str:
    """``bounce+unsubscribe-<address id>-<tag>@<bounce_domain>``: mail to it stops broadcasts to that address."""
    return bounce_address(_UNSUBSCRIBE + token, bounce_domain)


def unsubscribe_token_in(address: str) -> str | None:
    """The token an unsubscribe address carries, not yet checked (core.unsubscribe does)."""
    extension = bounce_extension(address)
    if extension is None or not extension.startswith(_UNSUBSCRIBE):
        return None
    return extension.removeprefix(_UNSUBSCRIBE) or None
