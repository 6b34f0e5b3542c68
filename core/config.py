"""Settings: a TOML file, overridden by ``MIMAMORI_*`` environment variables.

``load_settings()`` is the only way in; a bad or missing setting raises ``SettingsError`` whose
message is one line naming the setting, so the CLI can print it instead of a traceback.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Callable, Sequence
from datetime import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from core.errors import ExplainedError
from core.errors import message_of as _

if TYPE_CHECKING:
    from core.i18n import Message

from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_ENV = "MIMAMORI_CONFIG"


class SettingsError(ExplainedError):
    """A setting is bad or missing; the message is one line naming it."""


class Invalid(ValueError):
    """A validator's refusal, in the operator's language where the CLI shows it."""

    def __init__(self, message: Message) -> None:
        from core.models.enums import Language

        super().__init__(message.translate(Language.EN))
        self.message = message


def _known_lanes(
    lanes: dict[str, LanePace], known: Sequence[str], refusal: Callable[[str, str], Message]
) -> dict[str, LanePace]:
    """``lanes`` when each names one of a channel's pacing groups ``known``; else ``refusal(given, known)``."""
    unknown = sorted(set(lanes) - set(known))
    if unknown:
        raise Invalid(refusal(", ".join(unknown), ", ".join(known)))
    return lanes


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountSettings(_Section):
    max_addresses: int = Field(2, ge=1, le=10)
    argon2_time_cost: int = Field(2, ge=2)
    argon2_memory_kib: int = Field(19456, ge=19456)
    argon2_parallelism: int = Field(1, ge=1)


class DeliverySettings(_Section):
    batch_size: int = Field(200, ge=1, le=5000)
    poll_seconds: float = Field(0.2, gt=0)
    lease_seconds: int = Field(120, ge=5)
    passage_expiry_minutes: int = Field(60, ge=1)
    broadcast_expiry_hours: int = Field(24, ge=1)
    ack_escalation_minutes: int = Field(15, ge=1)
    # Broadcasts of these categories that ask for acknowledgement go to each guardian's first
    # address, and to the other only after ack_escalation_minutes without one; every other
    # broadcast goes to every address at once (a suspicious person near the school cannot wait).
    escalate_categories: list[str] = Field(default_factory=lambda: ["closure", "general"])
    failing_after: int = Field(3, ge=1, description="permanent failures before an address is failing")
    retry_base_seconds: float = Field(5, gt=0)
    retry_max_seconds: float = Field(600, gt=0)
    fanout_batch: int = Field(1000, ge=1)

    @field_validator("escalate_categories")
    @classmethod
    def _known_categories(cls, given: list[str]) -> list[str]:
        from core.models.enums import BroadcastCategory  # here: the models are not loaded for settings alone

        known = [c.value for c in BroadcastCategory]
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise Invalid(
                _(
                    "no broadcast category %(given)s (the categories: %(known)s)",
                    given=", ".join(unknown),
                    known=", ".join(known),
                )
            )
        return list(dict.fromkeys(given))


class PhotoSettings(_Section):
    retention_days: int = Field(30, ge=1)
    max_bytes: int = Field(2 * 1024 * 1024, ge=1024)


class PassageSettings(_Section):
    repeat_minutes: int = Field(10, ge=0, description="a pass this soon after the last one notifies nobody")


class GateHealthSettings(_Section):
    silent_minutes: int = Field(10, ge=1, description="a gate silent this long is reported to staff")
    school_hours_start: time = time(7, 0)
    school_hours_end: time = time(18, 0)
    school_days: list[int] = Field([1, 2, 3, 4, 5], description="ISO weekdays (1 = Monday)")


class AttendanceSettings(_Section):
    """The "not seen" checks (core.not_seen); each school's check time is a site setting."""

    checks: bool = Field(True, description="run the 'not seen' checks (off: a city not using them yet, the tests)")

    late_recheck_minutes: int = Field(30, ge=1, description="after a late report's expected time, check again")
    hall_grace_minutes: int = Field(30, ge=1, description="after leaving school, the time to reach the hall")
    notice_hours: int = Field(4, ge=1, description="a 'not seen' notice older than this is not sent any more")


class ReadinessSettings(_Section):
    delivery_round_seconds: float = Field(
        30, gt=0, description="ready only if a delivery loop completed a round this recently"
    )
    oldest_passage_seconds: float = Field(
        120, gt=0, description="ready only if no passage notice has waited longer than this"
    )


class PortalSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str = "http://127.0.0.1:8000"
    tls_cert: Path | None = None
    tls_key: Path | None = None
    behind_proxy: bool = False


_DNS_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*")


class LanePace(_Section):
    """How fast one pacing group (lane) of a channel may be sent to; see core.delivery.lanes."""

    concurrency: int = Field(0, ge=0, le=64, description="messages in flight at once; 0 means the channel's")
    rate_per_second: float = Field(0, ge=0, description="0 means only the channel's own rate")


# Japan's carriers publish no numbers: they ask bulk senders for "a proper number of SMTP sessions"
# and to send "slowly, over time" (docomo's and au's notes for bulk senders), and take a burst for
# spam. Two connections and 30 mails a second each (108,000 an hour) is well under what a city's
# relay is seen to be accepted at; Gmail takes more. Any other domain: only the relay's own limits.
DEFAULT_MAIL_LANES = {
    "docomo": LanePace(concurrency=2, rate_per_second=30),
    "au": LanePace(concurrency=2, rate_per_second=30),
    "softbank": LanePace(concurrency=2, rate_per_second=30),
    "gmail": LanePace(concurrency=4, rate_per_second=100),
}


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    security: Literal["none", "starttls", "tls"] = "none"
    from_address: str = "mimamori@localhost"
    connections: int = Field(4, ge=1, le=64)
    rate_per_second: float = Field(0, ge=0, description="0 means unlimited")
    timeout_seconds: float = Field(30, gt=0)
    bounce_domain: str | None = None
    # Receivers refuse or score down a client greeting as "localhost" (what getfqdn() says on most
    # containers), so the greeting names the portal's host unless told otherwise.
    helo_name: str | None = Field(None, description="the name in EHLO/HELO; unset: the host of portal.public_url")
    # DKIM is set here rather than in a [dkim] section: the mail transport is built from this section
    # alone (core.channels), and the signature belongs to the mail it sends. The key is in the keyring.
    dkim: bool = Field(False, description="sign every mail with the keyring's DKIM key (mimamori keys dkim)")
    dkim_selector: str = "mimamori"
    dkim_domain: str | None = Field(None, description="unset: the domain of from_address")

    @field_validator("helo_name")
    @classmethod
    def _not_localhost(cls, name: str | None) -> str | None:
        if name is not None and (not name or not name.isprintable() or " " in name):
            raise Invalid(_("a host name, without spaces"))
        if name is not None and name.lower().rstrip(".") == "localhost":
            raise Invalid(_("give this machine's public name (receivers refuse a greeting as localhost)"))
        return name

    @field_validator("dkim_selector", "dkim_domain")
    @classmethod
    def _dns_name(cls, name: str | None) -> str | None:
        if name is not None and (len(name) > 253 or not _DNS_NAME.fullmatch(name)):
            raise Invalid(_("a DNS name: letters, digits, hyphens and underscores, parts joined by dots"))
        return name

    # by recipient domain group (core.channels.email); a table given here changes only the groups,
    # and the fields, it names
    lanes: dict[str, LanePace] = Field(default_factory=lambda: dict(DEFAULT_MAIL_LANES))
    bulk_share: float = Field(
        0.75, gt=0, le=1, description="of each group's rate and connections, what broadcasts may use"
    )

    @field_validator("lanes", mode="before")
    @classmethod
    def _over_the_defaults(cls, given: Any) -> Any:
        if not isinstance(given, dict):
            return given
        lanes: dict[str, Any] = {name: pace.model_dump() for name, pace in DEFAULT_MAIL_LANES.items()}
        for name, pace in given.items():
            fields = pace.model_dump(exclude_unset=True) if isinstance(pace, LanePace) else pace
            lanes[name] = {**lanes.get(name, {}), **fields} if isinstance(fields, dict) else fields
        return lanes

    @field_validator("lanes")
    @classmethod
    def _known_groups(cls, lanes: dict[str, LanePace]) -> dict[str, LanePace]:
        from core.channels.email import SPEC  # here: the channels import the models, settings must not

        return _known_lanes(
            lanes,
            SPEC.lanes,
            lambda given, known: _("no mail group %(given)s (the groups: %(known)s)", given=given, known=known),
        )


class TelegramSettings(_Section):
    token: SecretStr | None = None  # from @BotFather; unset: no Telegram
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: SecretStr | None = None  # checked against X-Telegram-Bot-Api-Secret-Token
    api_base: str = "https://api.telegram.org"  # or a local Bot API server
    rate_per_second: float = Field(30, ge=0, description="messages a second, all chats together")
    per_chat_per_second: float = Field(1, gt=0)
    concurrency: int = Field(8, ge=1, le=256)
    timeout_seconds: float = Field(30, gt=0)

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> TelegramSettings:
        if self.token is not None and self.mode == "webhook" and self.webhook_secret is None:
            raise Invalid(_("setting %(setting)s: needed in webhook mode", setting="telegram.webhook_secret"))
        return self


class LineSettings(_Section):
    channel_secret: SecretStr | None = None  # checks X-Line-Signature
    access_token: SecretStr | None = None  # long-lived channel access token; unset: no LINE
    api_base: str = "https://api.line.me"
    rate_per_second: float = Field(100, ge=0, description="API calls a second; 0 means unlimited")
    concurrency: int = Field(8, ge=1, le=256)
    multicast_size: int = Field(500, ge=1, le=500)
    timeout_seconds: float = Field(30, gt=0)
    # LINE's apps fetch an image lazily, when the chat is next opened: a link of minutes would
    # show a broken image to a parent who reads the notice in the evening.
    photo_link_minutes: int = Field(
        24 * 60, ge=5, le=30 * 24 * 60, description="how long the link to a still sent to a LINE chat works"
    )


class WebPushSettings(_Section):
    """Web Push (RFC 8030, payloads per RFC 8291, VAPID per RFC 8292): the webpush/ package. The key
    pair is the keyring's (``mimamori keys webpush``)."""

    subject: str | None = Field(
        None, description="the VAPID contact (mailto: or https:) push services may write to; unset: no web push"
    )
    rate_per_second: float = Field(0, ge=0, description="pushes a second, all push services together; 0: unlimited")
    concurrency: int = Field(32, ge=1, le=256)
    timeout_seconds: float = Field(20, gt=0)
    broadcast_ttl_hours: int = Field(24, ge=1, le=28 * 24, description="how long a push service keeps an alert")
    # by push service (core.channels.webpush): their limits differ and are not published, so none by default
    lanes: dict[str, LanePace] = Field(default_factory=dict)
    bulk_share: float = Field(1, gt=0, le=1, description="of each push service's rate, what broadcasts may use")

    @field_validator("subject")
    @classmethod
    def _contact(cls, subject: str | None) -> str | None:
        if subject is not None and not subject.startswith(("mailto:", "https://")):
            raise Invalid(_("a mailto: or https: address push services can reach us at"))
        return subject

    @field_validator("lanes")
    @classmethod
    def _known_services(cls, lanes: dict[str, LanePace]) -> dict[str, LanePace]:
        from core.channels.webpush import SPEC  # here: the channels import the models, settings must not

        return _known_lanes(
            lanes,
            SPEC.lanes,
            lambda given, known: _("no push service %(given)s (the services: %(known)s)", given=given, known=known),
        )


class ImapSettings(_Section):
    host: str | None = Field(None, description="unset: no mailbox is read")
    port: int = Field(143, ge=1, le=65535)
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    password: SecretStr | None = None
    mailbox: str = "INBOX"
    done_folder: str = "Mimamori-done"
    alerts_address: str | None = Field(None, description="staff alerts are mailed to this address")
    idle: bool = Field(True, description="use IDLE when the server offers it, else poll")
    poll_seconds: float = Field(60, gt=0)
    idle_renew_seconds: float = Field(25 * 60, gt=0, le=29 * 60)
    liveness_seconds: float = Field(60, gt=0, description="a silent IDLE is checked after this")
    timeout_seconds: float = Field(30, gt=0)
    backoff_max_seconds: float = Field(60, gt=0)
    max_message_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="larger: only the headers are read")
    replies_per_hour: int = Field(5, ge=1, description="answers to one sender")


class MetricsSettings(_Section):
    """The Prometheus endpoint: off unless enabled, and then on loopback unless a token guards it."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = Field(9464, ge=1, le=65535)
    token: SecretStr | None = Field(None, description="when set, scrapes need Authorization: Bearer <token>")
    multiprocess_dir: Path | None = Field(
        None, description="shared by every serve and worker of this machine, so their counts add up"
    )

    @model_validator(mode="after")
    def _not_public_without_token(self) -> MetricsSettings:
        if self.host not in _LOOPBACK and self.token is None:
            raise Invalid(
                _(
                    "setting %(setting)s: needed when %(host)s is not a loopback address",
                    setting="metrics.token",
                    host="metrics.host",
                )
            )
        return self


_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class LoggingSettings(_Section):
    format: Literal["text", "json"] = "text"
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class Settings(BaseSettings):
    """Every setting of the central service, with the embedded defaults."""

    model_config = SettingsConfigDict(
        env_prefix="MIMAMORI_",
        env_nested_delimiter="__",
        extra="forbid",
        toml_file=None,
    )

    data_dir: Path = Path("./var")
    database_url: str = ""
    keyring: str = Field(
        "",
        description="path of the keyring file, or the keyring's JSON itself",
    )
    timezone: str = Field("Asia/Tokyo", description="the zone of new sites and of times that belong to no site")
    accounts: AccountSettings = AccountSettings()
    delivery: DeliverySettings = DeliverySettings()
    photos: PhotoSettings = PhotoSettings()
    passages: PassageSettings = PassageSettings()
    gate_health: GateHealthSettings = GateHealthSettings()
    attendance: AttendanceSettings = AttendanceSettings()
    readiness: ReadinessSettings = ReadinessSettings()
    portal: PortalSettings = PortalSettings()
    smtp: SmtpSettings = SmtpSettings()
    telegram: TelegramSettings = TelegramSettings()
    line: LineSettings = LineSettings()
    webpush: WebPushSettings = WebPushSettings()
    imap: ImapSettings = ImapSettings()
    metrics: MetricsSettings = MetricsSettings()
    logging: LoggingSettings = LoggingSettings()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(_("unknown time zone %(zone)s", zone=repr(name))) from None
        return name

    @model_validator(mode="after")
    def _embedded_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite://{self.data_dir / 'mimamori.db'}"
        if not self.keyring:
            self.keyring = str(self.data_dir / "keyring.json")
        scheme = urlsplit(self.database_url).scheme
        if scheme not in {"sqlite", "postgres", "postgresql", "asyncpg"}:
            raise Invalid(
                _(
                    "setting %(setting)s: scheme %(scheme)s is not supported (use sqlite:// or postgres://)",
                    setting="database_url",
                    scheme=repr(scheme),
                )
            )
        if self.smtp.helo_name is None:
            self.smtp.helo_name = greeting_name(self.portal.public_url)
        if self.smtp.dkim_domain is None:
            self.smtp.dkim_domain = self.smtp.from_address.rpartition("@")[2] or None
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def masked(self) -> dict[str, Any]:
        """The effective settings as plain data, with secrets and URL passwords masked."""
        data = self.model_dump(mode="json")
        data["database_url"] = _mask_url_password(self.database_url)
        if self.keyring.lstrip().startswith("{"):
            data["keyring"] = "********"
        _mask_secrets(self, data)
        return data


def greeting_name(public_url: str) -> str:
    """The name our SMTP client greets with, from the portal's address: its host, or an address
    literal (RFC 5321 4.1.3) for an IP address or localhost."""
    host = (urlsplit(public_url).hostname or "").rstrip(".")
    if host.lower() in ("", "localhost"):
        return "[127.0.0.1]"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    return f"[IPv6:{address}]" if address.version == 6 else f"[{address}]"


def load_settings(config_path: str | Path | None = None, **overrides: Any) -> Settings:
    """Read settings from ``config_path`` (or ``$MIMAMORI_CONFIG``) and the environment."""
    path = config_path or os.environ.get(CONFIG_ENV) or None
    if path is not None:
        path = Path(path)
        if not path.is_file():
            raise SettingsError(_("The settings file %(file)s does not exist.", file=str(path)))
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(
                _("The settings file %(file)s is not valid TOML: %(reason)s", file=str(path), reason=str(exc))
            ) from None

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        return _FromFile(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc)) from None


def describe_validation_error(exc: ValidationError) -> Message:
    """One line naming the first bad setting and why."""
    name, reason = first_problem(exc)
    more = len(exc.errors()) - 1
    if more:
        reason = _("%(reason)s (and %(num)d more)", reason=reason, num=more)
    if not name:  # a check of several settings (Invalid) names them itself
        return _("setting: %(reason)s", reason=reason) if isinstance(reason, str) else reason
    return _("setting %(name)s: %(reason)s", name=name, reason=reason)


def first_problem(exc: ValidationError) -> tuple[str, Message | str]:
    """The first bad setting's dotted name, and why, in the operator's language where we can."""
    error = exc.errors()[0]
    reason: Message | str = _reason(error)
    if "input" in error and not isinstance(error["input"], dict) and error["type"] != "extra_forbidden":
        reason = _("%(reason)s (got %(value)s)", reason=reason, value=repr(error["input"]))
    return ".".join(str(part) for part in error["loc"]), reason


def _reason(error: Any) -> Message | str:
    cause = error.get("ctx", {}).get("error")
    if isinstance(cause, Invalid):
        return cause.message
    known = {
        "extra_forbidden": _("unknown setting"),
        "missing": _("needed"),
        "int_parsing": _("a whole number is needed"),
        "float_parsing": _("a number is needed"),
        "bool_parsing": _("true or false is needed"),
    }
    said = known.get(error["type"])
    return said if said is not None else str(error["msg"]).removeprefix("Value error, ")


def _mask_url_password(url: str) -> str:
    parts = urlsplit(url)
    if not parts.password:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":********@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _mask_secrets(model: BaseModel, data: dict[str, Any]) -> None:
    for name, value in model:
        if isinstance(value, SecretStr):
            data[name] = "********"
        elif isinstance(value, BaseModel):
            _mask_secrets(value, data[name])
