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
from core.i18n import Message, _, _p
from core.i18n.languages import SOURCE
from core.i18n.messages import listing
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
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
# The headers a Japanese school office writes (the template CSV's), accepted as well as the English ones.
JAPANESE_HEADERS = {
    "school": "学校",
    "grade": "学年",
    "class": "組",
    "pupil_name": "児童氏名",
    "tag_id": "タグ番号",
    "guardian_name": "保護者氏名",
    "guardian_ref": "保護者番号",
    "services": "サービス",
    "email1": "メール1",
    "email2": "メール2",
    "pupil_ref": "児童番号",
}
_FROM_JAPANESE = {unicodedata.normalize("NFKC", ja).casefold(): en for en, ja in JAPANESE_HEADERS.items()}
# How the encodings decode_roster finds are named for people.
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 (BOM)", "cp932": "Shift_JIS (CP932)"}
# What each column holds, for the roster page.
COLUMN_HELP: dict[str, Message] = {
    "school": _("The school's name, as on the Sites page (a new name adds the school)."),
    "grade": _("The grade, 1 to 12."),
    "class": _("The class, as the school writes it."),
    "pupil_name": _("The pupil's full name, surname first."),
    "tag_id": _("The IC tag's number (4 to 32 letters or digits); empty without the IC-tag service."),
    "guardian_name": _("The guardian's full name, surname first."),
    "guardian_ref": _("The school's number for the guardian: the same in every row and every import."),
    "services": _("ictag+broadcast (the IC tag and broadcasts) or broadcast (broadcasts only)."),
    "email1": _("A mail address for notices (may be empty)."),
    "email2": _("A second mail address (may be empty)."),
    "pupil_ref": _(
        "The school's number for the pupil (may be empty): it keeps the pupil the same if the name changes."
    ),
}
# value -> has the IC-tag service; the Japanese words are the template's
SERVICES = {"ictag+broadcast": True, "broadcast": False, "icタグ+一斉連絡": True, "一斉連絡": False}
# How a column is named in a problem: the clerk's own header word (ja: the Japanese header).
COLUMN_NAMES: dict[str, Message] = {
    "school": _p("roster column", "school"),
    "grade": _p("roster column", "grade"),
    "class": _p("roster column", "class"),
    "pupil_name": _p("roster column", "pupil_name"),
    "tag_id": _p("roster column", "tag_id"),
    "guardian_name": _p("roster column", "guardian_name"),
    "guardian_ref": _p("roster column", "guardian_ref"),
    "services": _p("roster column", "services"),
    "email1": _p("roster column", "email1"),
    "email2": _p("roster column", "email2"),
    "pupil_ref": _p("roster column", "pupil_ref"),
}

_TAG = re.compile(r"[0-9A-Z]{4,32}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")  # carrier addresses break RFC 5322: be lenient
_MAX_TEXT = 100


class RosterFileError(UserError):
    """The file as a whole cannot be read (encoding, missing columns)."""


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: Message

    @property
    def message(self) -> Message:
        return _("line %(line)d: %(reason)s", line=self.line, reason=self.reason)

    def __str__(self) -> str:  # the command line's and the tests' English
        return self.message.translate(SOURCE)


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
        raise RosterFileError(_("The file is empty."))
    columns = [_column(name) for name in header]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise RosterFileError(
            _("The header lacks the column(s): %(columns)s", columns=listing(COLUMN_NAMES[c] for c in missing))
        )
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS)
    parsed = ParsedRoster(encoding, ignored_columns=[c for c in columns if c not in known])

    last_line = reader.line_num
    for cells in reader:
        line, last_line = last_line + 1, reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            parsed.problems.append(
                RowProblem(
                    line, _("expected %(expected)d columns, found %(found)d", expected=len(columns), found=len(cells))
                )
            )
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
            raise RosterFileError(_("The file starts as UTF-8 but is not: %(reason)s", reason=exc.reason)) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp932"), "cp932"
    except UnicodeDecodeError as exc:
        raise RosterFileError(
            _("The file is neither UTF-8 nor Shift_JIS (CP932): unreadable byte at offset %(offset)d", offset=exc.start)
        ) from None


def _read_row(line: int, cells: dict[str, str]) -> RosterRow | RowProblem:
    def text(name: str, *, required: bool = True, limit: int = _MAX_TEXT) -> str:
        try:
            value = " ".join(
                unicodedata.normalize("NFKC", clean_name(cells.get(name, ""), what=COLUMN_NAMES[name])).split()
            )
        except HiddenCharacters as hidden:
            raise _Bad(
                _(
                    "%(column)s contains invisible or direction-changing characters (%(codes)s)",
                    column=COLUMN_NAMES[name],
                    codes=hidden.codes,
                )
            ) from None
        if required and not value:
            raise _Bad(_("%(column)s is empty", column=COLUMN_NAMES[name]))
        if len(value) > limit:
            raise _Bad(_("%(column)s is longer than %(limit)d characters", column=COLUMN_NAMES[name], limit=limit))
        return value

    try:
        school = text("school")
        grade_text = text("grade")
        if not grade_text.isdigit() or not 1 <= int(grade_text) <= 12:
            raise _Bad(_("grade must be a number from 1 to 12, not '%(typed)s'", typed=grade_text))
        services = text("services").casefold().replace(" ", "")
        if services not in SERVICES:
            raise _Bad(_("services must be ictag+broadcast or broadcast, not '%(typed)s'", typed=services))
        ictag = SERVICES[services]
        tag = compact_code(cells.get("tag_id", ""))
        if ictag and not tag:
            raise _Bad(_("services include ictag but tag_id is empty"))
        if tag and not ictag:
            raise _Bad(_("tag_id is given but services do not include ictag"))
        if tag and not _TAG.fullmatch(tag):
            raise _Bad(_("tag_id must be 4 to 32 letters or digits, not '%(typed)s'", typed=tag))
        emails: list[str] = []
        for column in ("email1", "email2"):
            email = text(column, required=False, limit=254)
            if email and not _EMAIL.fullmatch(email):
                raise _Bad(_("%(column)s is not a mail address: '%(typed)s'", column=COLUMN_NAMES[column], typed=email))
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
        return RowProblem(line, bad.reason)


class _Bad(Exception):
    def __init__(self, reason: Message) -> None:
        super().__init__(reason.msgid)
        self.reason = reason


def _column(header: str) -> str:
    """A header cell as the column it names: the English name, or the Japanese header's."""
    name = unicodedata.normalize("NFKC", header).strip().casefold()
    return _FROM_JAPANESE.get(name, name)


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
        reason: Message | None = None
        first = guardian_first.get(row.guardian_identity, row)
        pupil = pupil_first.get(row.pupil_identity, row)
        owner = tag_owner.get(row.tag, row)
        emails = guardian_emails.get(row.guardian_identity, [])
        new = [e for e in row.emails if normalise(e) not in map(normalise, emails)]
        if normalise(first.guardian_name) != normalise(row.guardian_name):
            reason = _(
                "guardian_ref %(ref)s is %(first)s on line %(line)d but %(name)s here",
                ref=row.guardian_ref,
                first=first.guardian_name,
                line=first.line,
                name=row.guardian_name,
            )
        elif (pupil.grade, pupil.class_name, pupil.tag) != (row.grade, row.class_name, row.tag):
            reason = _(
                "%(pupil)s at %(school)s has grade, class or tag_id different from line %(line)d",
                pupil=row.pupil_name,
                school=row.school,
                line=pupil.line,
            )
        elif row.tag and owner.pupil_identity != row.pupil_identity:
            reason = _(
                "tag_id %(tag)s is already %(pupil)s's on line %(line)d",
                tag=row.tag,
                pupil=owner.pupil_name,
                line=owner.line,
            )
        elif len(emails) + len(new) > max_addresses:
            reason = _(
                "guardian_ref %(ref)s would have more than %(limit)d mail addresses",
                ref=row.guardian_ref,
                limit=max_addresses,
            )
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


def template_csv(encoding: str) -> bytes:
    """An empty roster with the Japanese headers, in ``encoding`` (utf-8-sig or cp932)."""
    return (",".join(JAPANESE_HEADERS[c] for c in COLUMNS) + "\r\n").encode(encoding)
