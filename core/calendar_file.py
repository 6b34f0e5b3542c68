"""Reading a school calendar file: a CSV of ranges of days off and extra school days, as a clerk
writes it in a spreadsheet (Japanese or English headers, UTF-8 or CP932, dates as 2026/8/1 or
2026-08-01). Nothing here touches the database."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from core.calendar_entries import NewEntry, checked
from core.errors import UserError
from core.i18n import Message, _
from core.models import CalendarDayKind
from core.roster.parse import decode_roster

# each column's names, English first: the template file is written with the Japanese ones
COLUMNS = {
    "first_day": ("first_day", "開始日"),
    "last_day": ("last_day", "終了日"),
    "kind": ("kind", "種別"),
    "name": ("name", "名称"),
}
KINDS = {
    "off": CalendarDayKind.OFF,
    "休み": CalendarDayKind.OFF,
    "休業日": CalendarDayKind.OFF,
    "school": CalendarDayKind.SCHOOL,
    "授業": CalendarDayKind.SCHOOL,
    "授業日": CalendarDayKind.SCHOOL,
}
_DATE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")


@dataclass(frozen=True)
class LineProblem:
    line: int
    reason: Message | str


@dataclass
class CalendarFile:
    entries: list[NewEntry] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)


def parse_calendar(data: bytes) -> CalendarFile:
    text, _encoding = decode_roster(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    columns = _columns(next(reader, None))
    parsed = CalendarFile()
    last_line = reader.line_num
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        try:
            parsed.entries.append(_entry(cells, columns))
        except UserError as error:
            parsed.problems.append(LineProblem(line, error.message))
    return parsed


def _columns(header: list[str] | None) -> dict[str, int]:
    if header is None:
        raise UserError(_("The file is empty."))
    names = [unicodedata.normalize("NFKC", name).strip().casefold() for name in header]
    found = {}
    for column, spellings in COLUMNS.items():
        index = next((i for i, name in enumerate(names) if name in spellings), None)
        if index is None and column != "last_day":
            raise UserError(_("The first line lacks the column %(column)s.", column=" / ".join(reversed(spellings))))
        if index is not None:
            found[column] = index
    return found


def _entry(cells: list[str], columns: dict[str, int]) -> NewEntry:
    def cell(column: str) -> str:
        index = columns.get(column)
        return unicodedata.normalize("NFKC", cells[index]).strip() if index is not None and index < len(cells) else ""

    kind = KINDS.get(cell("kind").casefold())
    if kind is None:
        raise UserError(_("The kind must be 休み (off) or 授業 (school), not %(value)s.", value=cell("kind") or "-"))
    last = cell("last_day")
    return checked(read_date(cell("first_day")), read_date(last) if last else None, kind, cell("name"))


def read_date(text: str) -> date:
    """A day as a clerk types it: 2026/8/1, 2026-08-01 (or 2026.8.1); a UserError saying so otherwise."""
    match = _DATE.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        return date(*(int(part) for part in match.groups()))
    except ValueError:
        raise UserError(_("%(value)s is not a date like 2026/8/1.", value=text or "-")) from None
