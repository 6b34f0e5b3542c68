"""Errors a user can cause: each carries a message for the person, translated where it is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: core.keyring, imported by core.models, raises these
    from core.i18n.messages import Message


class UserError(Exception):
    """Bad input or a refused request; ``error.message`` is what the person is told:
    ``error.message.translate(language)``, or ``{{ error | translate }}`` in a template.
    ``str(error)`` is the English text, for a traceback; a person is never shown it.
    """

    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        from core.models.enums import Language

        return self.message.translate(Language.EN)


class NotFound(UserError):
    pass


def message_of(msgid: str, /, **params: object) -> Message:
    """core.i18n's ``_`` for the modules core.models imports (core.keyring) or that must not load the
    models (core.config): core.i18n is imported when a message is made, not before.
    Use it as ``from core.errors import message_of as _``, so that the catalogs find the text."""
    from core.i18n import _

    return _(msgid, **params)


class ExplainedError(Exception):
    """A failure an operator must act on (a bad setting, an unreadable keyring): ``error.message``
    is told in their language; ``str(error)`` is its English, for a log line or a traceback."""

    def __init__(self, message: Message) -> None:
        from core.models.enums import Language

        super().__init__(message.translate(Language.EN))
        self.message = message
