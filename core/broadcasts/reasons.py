"""Why a guardian was not reached by a broadcast: the reasons as stored, and as staff read them."""

from __future__ import annotations

from core import unsubscribe
from core.i18n import Message, _
from core.models import DeliveryStatus

NO_ADDRESS = "no registered address"
STOPPED = _("unsubscribed from broadcasts")  # core.unsubscribe.STOPPED, as staff read it

ShownReason = Message | str
# The stored reasons in the reader's language; any other (a peer's refusal in our words, with its
# code) is shown as it is stored.
_SHOWN: dict[str, Message] = {
    NO_ADDRESS: _("no registered address"),
    unsubscribe.STOPPED: STOPPED,
    DeliveryStatus.FAILED.value: _("could not be delivered"),
    DeliveryStatus.EXPIRED.value: _("not sent in time (expired)"),
    "the address was removed": _("the address was removed"),
    "the address is failing": _("the address is failing"),
    "the address is inactive": _("the app was blocked or left"),
}


def shown(reason: str) -> ShownReason:
    return _SHOWN.get(reason, reason)
