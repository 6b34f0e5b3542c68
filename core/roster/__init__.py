"""Roster import: a school office's CSV of pupils, tags and guardians, applied idempotently."""

from core.roster.apply import ImportResult, NewGuardian, guardian_key, import_roster
from core.roster.parse import ParsedRoster, RosterFileError, RosterRow, RowProblem, parse_roster

__all__ = [
    "ImportResult",
    "NewGuardian",
    "ParsedRoster",
    "RosterFileError",
    "RosterRow",
    "RowProblem",
    "guardian_key",
    "import_roster",
    "parse_roster",
]
