"""Reading a roster file: encoding detection, one row at a time, then the rows against each other.

Nothing here touches the database. Every problem carries the line number a clerk sees when the
file is opened in a text editor (the header is line 1).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from core.errors import UserError
from core.identifiers import compact_code
from core.sealing import normalise
from core.text import HiddenCharacters, clean_name

REQUIRED_COLUMNS = (
    "school",
    "grade",
    "class",
    "pupil_name",
    "tag_id",
    "guardian_name",
    "guardian_ref",
    "services",
)
OPTIONAL_COLUMNS = ("email1", "email2", "pupil_ref")
SERVICES = {"ictag+broadcast": True, "broadcast": False}  # value -> has the IC-tag service

_TAG = re.compile(r"[0-9A-Z]{4,32}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")  # carrier addresses break RFC 5322: be lenient
_MAX_TEXT = 100


class RosterFileError(UserError):
    """The file as a whole cannot be read (encoding, missing columns)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class RosterRow:
    line: int
    school: str
    grade: int
    class_name: str
    pupil_name: str
    pupil_ref: str
    tag: str  # canonical tag number, or "" without the IC-tag service
    guardian_name: str
    guardian_ref: str
    ictag: bool
    emails: tuple[str, ...]

    @property
    def pupil_identity(self) -> tuple[str, str]:
        """Who the pupil is across imports: the school with the pupil_ref, else the name."""
        return normalise(self.school), normalise(self.pupil_ref or self.pupil_name)

    @property
    def guardian_identity(self) -> str:
        """Who the guardian is across rows and imports: the guardian_ref, compared normalised
        (as its blind index is, core.roster.apply.guardian_key)."""
        return normalise(self.guardian_ref)


@dataclass
class ParsedRoster:
    encoding: str
    rows: list[RosterRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def parse_roster(data: bytes, *, max_addresses: int) -> ParsedRoster:
    text, encoding = decode_roster(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise RosterFileError("the file is empty")
    columns = [unicodedata.normalize("NFKC", name).strip().casefold() for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RosterFileError(f"the header lacks the column(s): {', '.join(missing)}")
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    parsed = ParsedRoster(encoding, ignored_columns=[c for c in columns if c not in known])

    last_line = reader.line_num
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            parsed.problems.append(RowProblem(line, f"expected {len(columns)} columns, found {len(cells)}"))
            continue
        row_or_problem = _read_row(line, dict(zip(columns, cells, strict=True)))
        if isinstance(row_or_problem, RowProblem):
            parsed.problems.append(row_or_problem)
        else:
            parsed.rows.append(row_or_problem)

    _check_rows_agree(parsed, max_addresses=max_addresses)
    parsed.problems.sort(key=lambda problem: problem.line)
    return parsed


def decode_roster(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was found in: UTF-8 (with or without BOM) or CP932."""
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as exc:
            raise RosterFileError(f"the file starts as UTF-8 but is not: {exc.reason}") from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise RosterFileError(
            f"the file is neither UTF-8 nor Shift_JIS (CP932): unreadable byte at offset {exc.start}"
        ) from None


def _read_row(line: int, cells: dict[str, str]) -> RosterRow | RowProblem:
    def text(name: str, *, required: bool = True, limit: int = _MAX_TEXT) -> str:
        try:
            value = " ".join(unicodedata.normalize("NFKC", clean_name(cells.get(name, ""), what=name)).split())
        except HiddenCharacters as hidden:
            raise _Bad(str(hidden)) from None
        if required and not value:
            raise _Bad(f"{name} is empty")
        if len(value) > limit:
            raise _Bad(f"{name} is longer than {limit} characters")
        return value

    try:
        school = text("school")
        grade_text = text("grade")
        if not grade_text.isdigit() or not 1 <= int(grade_text) <= 12:
            raise _Bad(f"grade must be a number from 1 to 12, not {grade_text!r}")
        services = text("services").casefold().replace(" ", "")
        if services not in SERVICES:
            raise _Bad(f"services must be ictag+broadcast or broadcast, not {services!r}")
        ictag = SERVICES[services]
        tag = compact_code(cells.get("tag_id", ""))
        if ictag and not tag:
            raise _Bad("services include ictag but tag_id is empty")
        if tag and not ictag:
            raise _Bad("tag_id is given but services do not include ictag")
        if tag and not _TAG.fullmatch(tag):
            raise _Bad(f"tag_id must be 4 to 32 letters or digits, not {tag!r}")
        emails: list[str] = []
        for column in ("email1", "email2"):
            email = text(column, required=False, limit=254)
            if email and not _EMAIL.fullmatch(email):
                raise _Bad(f"{column} is not a mail address: {email!r}")
            if email and email.casefold() not in (e.casefold() for e in emails):
                emails.append(email)
        return RosterRow(
            line=line,
            school=school,
            grade=int(grade_text),
            class_name=text("class", limit=20),
            pupil_name=text("pupil_name"),
            pupil_ref=text("pupil_ref", required=False, limit=64),
            tag=tag,
            guardian_name=text("guardian_name"),
            guardian_ref=text("guardian_ref", limit=64),
            ictag=ictag,
            emails=tuple(emails),
        )
    except _Bad as bad:
        return RowProblem(line, str(bad))


class _Bad(Exception):
    pass


def _check_rows_agree(parsed: ParsedRoster, *, max_addresses: int) -> None:
    """Rows about the same guardian, pupil or tag must not contradict each other.

    The later row of a contradicting pair is the one reported (and dropped under --partial).
    """
    guardian_first: dict[str, RosterRow] = {}
    pupil_first: dict[tuple[str, str], RosterRow] = {}
    tag_owner: dict[str, RosterRow] = {}
    guardian_emails: dict[str, list[str]] = {}
    kept: list[RosterRow] = []

    for row in parsed.rows:
        reason = None
        first = guardian_first.get(row.guardian_identity, row)
        pupil = pupil_first.get(row.pupil_identity, row)
        owner = tag_owner.get(row.tag, row)
        emails = guardian_emails.get(row.guardian_identity, [])
        new = [e for e in row.emails if normalise(e) not in map(normalise, emails)]
        if normalise(first.guardian_name) != normalise(row.guardian_name):
            reason = (
                f"guardian_ref {row.guardian_ref} is {first.guardian_name} on line {first.line}"
                f" but {row.guardian_name} here"
            )
        elif (pupil.grade, pupil.class_name, pupil.tag) != (row.grade, row.class_name, row.tag):
            reason = f"{row.pupil_name} at {row.school} has grade, class or tag_id different from line {pupil.line}"
        elif row.tag and owner.pupil_identity != row.pupil_identity:
            reason = f"tag_id {row.tag} is already {owner.pupil_name}'s on line {owner.line}"
        elif len(emails) + len(new) > max_addresses:
            reason = f"guardian_ref {row.guardian_ref} would have more than {max_addresses} mail addresses"
        if reason is not None:
            parsed.problems.append(RowProblem(row.line, reason))
            continue
        guardian_first.setdefault(row.guardian_identity, row)
        pupil_first.setdefault(row.pupil_identity, row)
        if row.tag:
            tag_owner.setdefault(row.tag, row)
        guardian_emails[row.guardian_identity] = emails + new
        kept.append(row)
    parsed.rows = kept
