"""Errors a user can cause: each carries a message for the person, translated where it is shown."""

from __future__ import annotations

from core.i18n.messages import Message
from core.models.enums import Language


class UserError(Exception):
    """Bad input or a refused request; ``error.message`` is what the person is told:
    ``error.message.translate(language)``, or ``{{ error | translate }}`` in a template.

    A plain ``str`` message is the "日本語。 English." text of code not converted to core.i18n
    yet, and ``str(error)`` of a ``Message`` is that same bilingual text, for the places that still
    show ``str(error)``: both go when the last of those is converted.
    """

    def __init__(self, message: Message | str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        if isinstance(self.message, str):
            return self.message
        return f"{self.message.translate(Language.JA)} {self.message.translate(Language.EN)}"


class NotFound(UserError):
    pass
