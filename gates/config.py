"""A gate's settings: ``gate.toml``, with ``[serial]``, ``[camera]``, ``[server]`` and ``[spool]``.

``load_gate_config()`` raises ``GateConfigError`` with one line naming a bad setting.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from core.config import Invalid, first_problem
from core.errors import ExplainedError
from core.errors import message_of as _
from gates.protocols import available


class GateConfigError(ExplainedError):
    """A gate setting is bad or missing; the message is one line naming it."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SerialConfig(_Section):
    port: str = Field(description="a device path, or any pyserial URL such as socket://host:port")
    baudrate: int = Field(9600, gt=0)
    protocol: str = "em4100-ascii"
    prefix: str = Field("", description="the line protocol's fixed prefix")
    quiet_seconds: float = Field(30, ge=0, description="a tag is one passage until silent this long")
    silent_reconnect_seconds: float = Field(0, ge=0, description="reopen a port silent this long; 0: never")

    @field_validator("protocol")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in available():
            raise Invalid(_("unknown protocol (known: %(known)s)", known=", ".join(sorted(available()))))
        return value


class CameraConfig(_Section):
    source: str = Field("none", description="a device index, a video file, an RTSP/HTTP URL, or none")
    jpeg_quality: int = Field(85, ge=10, le=100)
    buffer_seconds: float = Field(2, gt=0.5, le=10)

    @property
    def enabled(self) -> bool:
        return self.source.strip().lower() != "none"


class ServerConfig(_Section):
    url: str
    gate_key: SecretStr
    ca_file: Path | None = None
    timeout: float = Field(10, gt=0)
    heartbeat_seconds: float = Field(60, gt=0)
    retry_max_seconds: float = Field(60, gt=0)


class SpoolConfig(_Section):
    path: Path = Path("gate-spool.db")


class GateConfig(_Section):
    reader_name: str | None = Field(None, max_length=100, description="sent with each passage")
    serial: SerialConfig
    camera: CameraConfig = CameraConfig()
    server: ServerConfig
    spool: SpoolConfig = SpoolConfig()


def load_gate_config(path: str | Path, **overrides: Any) -> GateConfig:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GateConfigError(_("The gate's settings file %(file)s does not exist.", file=str(path))) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise GateConfigError(
            _("The gate's settings file %(file)s is not valid TOML: %(reason)s", file=str(path), reason=str(exc))
        ) from None
    data.update(overrides)
    try:
        config = GateConfig.model_validate(data)
    except ValidationError as exc:
        name, reason = first_problem(exc)
        raise GateConfigError(_("gate setting %(name)s: %(reason)s", name=name, reason=reason)) from None
    if not config.spool.path.is_absolute():
        config.spool.path = path.parent / config.spool.path
    return config
