"""The ingest API's wire schema, shared by the gate worker (client) and the portal (server).

Importing this module pulls in pydantic only: a gate has no database.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

API_PREFIX = "/api/v1"
PASSAGES_PATH = f"{API_PREFIX}/passages"
HEARTBEAT_PATH = f"{API_PREFIX}/heartbeat"
EVENT_PART = "event"  # multipart part holding a PassageEvent as JSON
PHOTO_PART = "photo"  # optional multipart part: image/jpeg


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _FromGate(_Wire):
    """What a gate sends: stored as text, so no string may carry a NUL."""

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")  # PostgreSQL text cannot hold one
        return value


class PassageEvent(_FromGate):
    """One pass of a tag through a gate, as the gate saw it."""

    event_id: UUID  # made by the gate; repeated uploads of one event are one passage
    tag: str = Field(min_length=1, max_length=64)
    seen_at: AwareDatetime
    reader: str | None = Field(None, max_length=100)
    photo_missing: str | None = Field(None, max_length=300)  # why a gate with a camera sent no still


class PassageAccepted(_Wire):
    passage_id: int
    duplicate: bool = False  # true when the event_id had been received before


class Heartbeat(_FromGate):
    gate_version: str = Field(max_length=40)
    sent_at: AwareDatetime
    reader_alive: bool
    reader_last_byte_at: AwareDatetime | None = None
    reader_error: str | None = Field(None, max_length=300)
    bad_frames: int = Field(0, ge=0)
    camera_alive: bool | None = None  # None: the gate has no camera
    camera_error: str | None = Field(None, max_length=300)
    spool_depth: int = Field(ge=0)
    spool_rejected: int = Field(0, ge=0)  # entries the centre refused for good, kept on the gate


class Problem(_Wire):
    """The body of every 4xx answer: a reason a person can act on."""

    detail: str
