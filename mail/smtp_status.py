"""What an SMTP reply or a bounce means, in our words: its codes kept, the server's text dropped.

A server's text often echoes the recipient (``550 5.1.1 <hanako@example.jp>: user unknown``),
sometimes a name; the reason we store and show is ours, built from the reply code and the
enhanced status code (RFC 3463), which is what the support desk needs to help a family.
"""

from __future__ import annotations

import re

_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")

# RFC 3463 (and 7505, 7372) by subject.detail; the class (2, 4, 5) says how final it is
_DETAILS = {
    "1.1": "mailbox does not exist",
    "1.2": "the domain does not exist",
    "1.3": "the address is not valid",
    "1.6": "the mailbox has moved",
    "1.10": "the domain accepts no mail",
    "2.1": "mailbox disabled",
    "2.2": "mailbox full",
    "2.3": "message too long for the mailbox",
    "3.1": "the receiving mail system is full",
    "3.2": "the receiving mail system accepts no mail now",
    "3.4": "message too big for the receiving system",
    "4.1": "no answer from the receiving host",
    "4.2": "the connection was dropped",
    "4.4": "no route to the receiving host",
    "4.7": "delivery time expired",
    "5.3": "too many recipients",
    "6.0": "the content was refused",
    "7.1": "refused by the receiver's policy",
    "7.23": "refused: our SPF check failed",
    "7.26": "refused: our sender authentication failed",
}
_SUBJECTS = {
    "0": "refused",
    "1": "an address problem",
    "2": "a mailbox problem",
    "3": "a mail system problem",
    "4": "a network or routing problem",
    "5": "a mail protocol problem",
    "6": "the content was refused",
    "7": "refused by the receiver's policy",
}
_REPLY_CODES = {
    421: "the mail server is not available",
    450: "mailbox unavailable",
    451: "the mail server had a local error",
    452: "the mail server is out of storage",
    550: "mailbox unavailable",
    551: "the user is not local",
    552: "mailbox full",
    553: "the mailbox name is not allowed",
    554: "the transaction failed",
}


def meaning(code: int | None, text: str = "", status: str = "") -> str:
    """``"mailbox does not exist (550 5.1.1)"``: our words for the enhanced status (``status``,
    else the first one in ``text``) or the reply code, then the codes; nothing else of ``text``."""
    found = _ENHANCED.search(status) or _ENHANCED.search(text)
    enhanced = ".".join(found.groups()) if found else ""
    if found:
        words = _DETAILS.get(f"{found[2]}.{found[3]}") or _SUBJECTS.get(found[2], "refused")
    else:
        words = _REPLY_CODES.get(code or 0, "refused")
    codes = " ".join(c for c in (str(code) if code else "", enhanced) if c)
    return f"{words} ({codes})" if codes else words


_NOT_ABOUT_PACE = re.compile(r"gr[ae]y", re.IGNORECASE)  # greylisting: this one mail, later


def throttling(code: int, text: str = "") -> bool:
    """Whether a temporary refusal asks us to send more slowly: 421 (the server is closing the
    session: busy, too many connections) or a 4.7.x policy deferral such as Gmail's 421/450 4.7.28
    "unusual rate" or 451 4.7.1 rate limiting; a greylisting reply (also 4.7.1 at some servers)
    asks for this mail again later, not for less mail."""
    if not 400 <= code < 500 or _NOT_ABOUT_PACE.search(text):
        return False
    found = _ENHANCED.search(text)
    return code == 421 or (found is not None and found[2] == "7")


def reply_code(text: str) -> int | None:
    """The reply code a bounce's ``Diagnostic-Code: smtp; 550 ...`` quotes, if any."""
    found = re.search(r"(?<!\d)([245]\d\d)(?!\d)", text.partition(";")[2] or text)
    return int(found[1]) if found else None
