"""Text a person typed, made safe to show to another: no invisible or direction-changing characters.

A name (of a guardian, a pupil, a site, a gate) that holds such a character is refused: U+202E
shows what follows it backwards and a zero-width space makes two names look the same, so a
printed notice or a list could show a name that is not the one stored. Free text (a broadcast,
a reason) keeps its line breaks and loses the rest: its author meant the words, not the codes.
"""

from __future__ import annotations

import unicodedata

from core.errors import UserError
from core.i18n import Message, _

# Control (Cc), format (Cf: bidi overrides and isolates, zero-width characters, the BOM),
# surrogate (Cs), private-use (Co) and unassigned (Cn) code points. White space among them (a
# line break typed in a spreadsheet cell, a tab) is not hidden: it is shown as a space.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_KEPT_IN_FREE_TEXT = frozenset("\n")


class HiddenCharacters(UserError):
    """A name holds characters that are invisible or change the direction of the text."""

    def __init__(self, what: Message, found: list[str]) -> None:
        self.codes = ", ".join(f"U+{ord(c):04X}" for c in found)
        super().__init__(
            _("%(what)s contains invisible or direction-changing characters (%(codes)s).", what=what, codes=self.codes)
        )
        self.found = found


def hidden_characters(text: str) -> list[str]:
    """The distinct hidden characters in ``text``, in order of appearance."""
    found: list[str] = []
    for char in text:
        if unicodedata.category(char) in _HIDDEN_CATEGORIES and not char.isspace() and char not in found:
            found.append(char)
    return found


def clean_name(text: str, *, what: Message) -> str:
    """``text`` in NFC with each run of white space made one space; refused if it hides characters."""
    found = hidden_characters(text)
    if found:
        raise HiddenCharacters(what, found)
    return " ".join(unicodedata.normalize("NFC", text).split())


def clean_free_text(text: str) -> str:
    """``text`` in NFC, line breaks as ``\\n``, every other hidden character removed (a tab is a space)."""
    for line_break in ("\r\n", "\r", "\u2028", "\u2029"):
        text = text.replace(line_break, "\n")
    text = unicodedata.normalize("NFC", text.replace("\t", " "))
    return "".join(c for c in text if c in _KEPT_IN_FREE_TEXT or unicodedata.category(c) not in _HIDDEN_CATEGORIES)
