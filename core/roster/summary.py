"""What a roster import did, as sentences for a person (the CLI and the roster page), not counters."""

from __future__ import annotations

from collections.abc import Mapping

from core.i18n import Message, _n, _p
from core.roster.apply import NewGuardian

# The import's counters (``ImportResult.counts``), in the order a reader takes them in.
_COUNTS: dict[str, tuple[str, str]] = {
    "sites_created": ("%(num)d school or hall added.", "%(num)d schools or halls added."),
    "pupils_created": ("%(num)d pupil added.", "%(num)d pupils added."),
    "pupils_updated": ("%(num)d pupil updated.", "%(num)d pupils updated."),
    "tags_created": ("%(num)d new tag registered.", "%(num)d new tags registered."),
    "tags_assigned": ("%(num)d unused tag given to a pupil.", "%(num)d unused tags given to pupils."),
    "tags_retired": ("%(num)d tag retired.", "%(num)d tags retired."),
    "guardians_created": ("%(num)d guardian added.", "%(num)d guardians added."),
    "guardians_updated": ("%(num)d guardian updated.", "%(num)d guardians updated."),
    "links_added": (
        "%(num)d link between a pupil and a guardian added.",
        "%(num)d links between pupils and guardians added.",
    ),
    "addresses_added": ("%(num)d mail address added.", "%(num)d mail addresses added."),
}

# The heads of the new guardians' credentials (a file, a table), in the order of ``credentials()``.
CREDENTIAL_HEADS: tuple[Message, ...] = (
    _p("roster column", "Guardian ref"),
    _p("roster column", "Login ID"),
    _p("roster column", "Initial password"),
    _p("roster column", "Registration code"),
)

# The phases ``import_roster`` reports progress for.
PHASE_LABELS: dict[str, Message] = {
    "pupils": _p("roster import", "Pupils"),
    "guardians": _p("roster import", "Guardians"),
}


def credentials(guardian: NewGuardian) -> tuple[str, str, str, str]:
    return (guardian.guardian_ref, guardian.login_id, guardian.initial_password, guardian.registration_code)


def import_summary(counts: Mapping[str, int]) -> list[Message]:
    """One sentence per thing the import changed; none when it changed nothing."""
    return [_n(*_COUNTS[name], counts[name]) for name in _COUNTS if counts.get(name)]
