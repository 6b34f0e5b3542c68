"""Roster import: a school office's CSV of pupils, tags and guardians, applied idempotently."""

from core.roster.apply import ImportResult, NewGuardian, guardian_key, import_roster
from core.roster.parse import (
    COLUMN_HELP,
    COLUMNS,
    ENCODING_NAMES,
    JAPANESE_HEADERS,
    ParsedRoster,
    RosterFileError,
    RosterRow,
    RowProblem,
    parse_roster,
    template_csv,
)

__all__ = [
    "COLUMN_HELP",
    "COLUMNS",
    "ENCODING_NAMES",
    "JAPANESE_HEADERS",
    "ImportResult",
    "NewGuardian",
    "ParsedRoster",
    "RosterFileError",
    "RosterRow",
    "RowProblem",
    "guardian_key",
    "import_roster",
    "parse_roster",
    "template_csv",
]
