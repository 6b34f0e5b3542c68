"""The web push channel's facts; its code is the webpush/ package, its pages portal/routes/webpush.py.

An address is a browser's push subscription (the endpoint and its two keys) with the id of the
keyring's VAPID key the browser subscribed with (its ``applicationServerKey``): a push service
accepts a push to that endpoint only when signed with that key, so the id stays with the address
across key rotations. Stored as compact JSON with sorted keys, sealed like every address.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from core.channels.spec import ChannelSpec, Still
from core.i18n import _
from core.models.enums import Channel

_KEY_ID = re.compile(r"v\d{1,6}")
_LONGEST_ENDPOINT = 1024
_LOOPBACK = ("127.0.0.1", "localhost", "::1")  # a push service on this machine (tests, the demo) may be plain HTTP


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: bytes  # the browser's ECDH public key (P-256, uncompressed: 65 bytes)
    auth: bytes  # the browser's authentication secret (16 bytes)
    vapid_key: str  # the keyring's VAPID key id it was made with

    @classmethod
    def parse(cls, value: str) -> Subscription:
        """Raises ValueError when ``value`` is not a subscription."""
        try:
            data = json.loads(value)
            keys = data["keys"]
            sub = cls(data["endpoint"], _unb64(keys["p256dh"]), _unb64(keys["auth"]), data["vapid"])
        except (TypeError, KeyError, ValueError, binascii.Error) as exc:
            raise ValueError(f"not a push subscription ({type(exc).__name__})") from None
        url = urlsplit(sub.endpoint) if isinstance(sub.endpoint, str) else None
        if (
            url is None
            or len(sub.endpoint) > _LONGEST_ENDPOINT
            or not url.hostname
            or (url.scheme != "https" and not (url.scheme == "http" and url.hostname in _LOOPBACK))
            or len(sub.p256dh) != 65
            or sub.p256dh[0] != 4
            or len(sub.auth) != 16
            or not isinstance(sub.vapid_key, str)
            or not _KEY_ID.fullmatch(sub.vapid_key)
        ):
            raise ValueError("not a push subscription")
        return sub

    @classmethod
    def from_browser(cls, given: str, vapid_key: str) -> Subscription:
        """What the addresses page posts: ``PushSubscription.toJSON()`` and the key id the page
        offered. Raises ValueError when it is not one."""
        try:
            data = json.loads(given)
            stored = {"endpoint": data["endpoint"], "keys": data["keys"], "vapid": vapid_key}
        except (TypeError, KeyError, json.JSONDecodeError):
            raise ValueError("not a push subscription") from None
        return cls.parse(json.dumps(stored))

    def value(self) -> str:
        """The address as stored."""
        keys = {"auth": _b64(self.auth), "p256dh": _b64(self.p256dh)}
        return json.dumps({"endpoint": self.endpoint, "keys": keys, "vapid": self.vapid_key}, sort_keys=True)

    @property
    def origin(self) -> str:
        url = urlsplit(self.endpoint)
        return f"{url.scheme}://{url.netloc}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def valid(value: str) -> bool:
    try:
        Subscription.parse(value)
    except ValueError:
        return False
    return True


def normalise(value: str) -> str:
    """The subscription as stored (sorted keys, no padding); a value that is none stays as given."""
    try:
        return Subscription.parse(value.strip()).value()
    except ValueError:
        return value.strip()


# The push services the browsers use, by the end of the endpoint's host name; each is paced apart
# (``[webpush.lanes]``): their limits differ and none publishes them.
PUSH_SERVICES = {
    "fcm": ("fcm.googleapis.com", "android.googleapis.com"),  # Chrome, Edge on Android, Opera, Samsung
    "mozilla": ("push.services.mozilla.com",),  # Firefox
    "apple": ("push.apple.com",),  # Safari (iOS 16.4+ from the home screen, macOS)
    "windows": ("notify.windows.com",),  # Edge on Windows (WNS)
}
OTHER = "other"


def lane(value: str) -> str:
    try:
        host = urlsplit(Subscription.parse(value).endpoint).hostname or ""
    except ValueError:
        return OTHER
    for name, hosts in PUSH_SERVICES.items():
        if any(host == h or host.endswith("." + h) for h in hosts):
            return name
    return OTHER


def mask(value: str) -> str:
    """The push service's host (which browser): the endpoint's path is the subscription's secret."""
    try:
        return urlsplit(Subscription.parse(value).endpoint).hostname or ""
    except ValueError:
        return ""


_EXAMPLE = Subscription(
    endpoint="https://fcm.googleapis.com/fcm/send/dKx3Q2Zg0bE:APA91bHq-example",
    p256dh=bytes([4]) + bytes(range(1, 65)),
    auth=bytes(range(16)),
    vapid_key="v1",
)

SPEC = ChannelSpec(
    channel=Channel.WEBPUSH,
    name=_("push notifications"),
    still=Still.NONE,  # a push carries about 4 KB and no one else's data: the photo page asks for a login
    settings_section="webpush",
    enabled_by="subject",
    transport="webpush.transport:WebPushTransport",
    valid=valid,
    normalise=normalise,
    mask=mask,
    readable=False,
    lane=lane,
    lanes=(*PUSH_SERVICES, OTHER),
    lane_labels={
        "fcm": "FCM",
        "mozilla": "Mozilla",
        "apple": "Apple",
        "windows": "WNS",
        OTHER: _("other push services"),
    },
    example=_EXAMPLE.value(),
)
