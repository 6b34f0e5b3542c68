"""What a roster import did, as sentences for a person (the CLI and the roster page), not counters."""

from __future__ import annotations

from collections.abc import Mapping

from core.i18n import Message, _p
from core.roster.apply import NewGuardian
from core.staff_labels import ROSTER_COUNTS, counted

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
    """One line per thing the import changed (as the roster page names them); none when it changed nothing."""
    return [counted(label, counts[name]) for name, label in ROSTER_COUNTS.items() if counts.get(name)]
