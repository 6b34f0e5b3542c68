"""Model fields whose values are sealed at rest; the rest of the code sees plain values."""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, overload

from tortoise import fields

from core import sealing

if TYPE_CHECKING:
    from tortoise.models import Model


class SealedField(fields.BinaryField[Any]):
    """Stored as a sealed BLOB/BYTEA; the associated data is ``table.column``."""

    def context(self) -> str:
        return f"{self.model._meta.db_table}.{self.source_field or self.model_field_name}"

    def _seal(self, plaintext: bytes) -> bytes:
        return sealing.installed().seal(plaintext, self.context())

    def _unseal(self, stored: Any) -> bytes:
        return sealing.installed().unseal(bytes(stored), self.context())


_Text = TypeVar("_Text", str, str | None)


class SealedText(SealedField, Generic[_Text]):
    field_type = str

    if TYPE_CHECKING:  # its value is text (None only with null=True), though stored as bytes

        @overload
        def __init__(self: SealedText[str], *, null: Literal[False] = False, **kwargs: Any) -> None: ...
        @overload
        def __init__(self: SealedText[str | None], *, null: Literal[True], **kwargs: Any) -> None: ...
        def __init__(self, *, null: bool = False, **kwargs: Any) -> None: ...
        @overload
        def __get__(self, instance: None, owner: type[Model]) -> SealedText[_Text]: ...
        @overload
        def __get__(self, instance: Model, owner: type[Model]) -> _Text: ...
        def __get__(self, instance: Model | None, owner: type[Model]) -> SealedText[_Text] | _Text: ...
        def __set__(self, instance: Model, value: _Text) -> None: ...

    def to_db_value(self, value: Any, instance: Any) -> bytes | None:
        if value is None:
            return None
        return self._seal(str(value).encode("utf-8"))

    def to_python_value(self, value: Any) -> str | None:
        if value is None or isinstance(value, str):
            return value
        return self._unseal(value).decode("utf-8")


class SealedBytes(SealedField):
    """Binary values (photos) that never start with the sealed format's first byte.

    Tortoise converts constructor arguments and database rows alike, so a value is told apart
    by its first byte: a JPEG starts with 0xFF, a sealed value with ``FORMAT_VERSION``.
    """

    def to_db_value(self, value: Any, instance: Any) -> bytes | None:
        if value is None:
            return None
        plaintext = bytes(value)
        if plaintext[:1] == bytes((sealing.FORMAT_VERSION,)):
            raise ValueError(f"{self.context()} cannot hold a value starting with byte 0x01")
        return self._seal(plaintext)

    def to_python_value(self, value: Any) -> bytes | None:
        if value is None:
            return None
        stored = bytes(value)
        if stored[:1] != bytes((sealing.FORMAT_VERSION,)):
            return stored  # plaintext given to the constructor
        return self._unseal(stored)


class LocalTimeField(fields.CharField[Any]):
    """A time of day in the site's own zone, stored as ``"HH:MM"`` (portable across backends)."""

    field_type = time  # type: ignore[assignment]  # CharField declares type[str]; the Python value here is a time

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)
        super().__init__(max_length=5, **kwargs)

    def to_db_value(self, value: Any, instance: Any) -> str | None:
        if value is None:
            return None
        moment: time = time.fromisoformat(value) if isinstance(value, str) else value
        return moment.strftime("%H:%M")

    def to_python_value(self, value: Any) -> time | None:
        if value is None:
            return None
        if isinstance(value, time):
            return value
        return time.fromisoformat(value)
