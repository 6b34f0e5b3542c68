"""A school's calendar at the terminal: its own days off, an import, what each day is."""

from core.models import AuditEntry, CalendarEntry, Language
from tests.cli.test_admin_commands import ENGLISH, JAPANESE
from tests.one_language import assert_one_language


async def test_an_administrator_sets_the_summer_holidays_and_sees_the_days(cli, database_url, tmp_path) -> None:
    cli("admin", "add-site", "みどり小学校")
    added = cli("calendar", "add", "みどり小学校", "2027-07-21", "2027-08-31", "--name", "夏休み", env=JAPANESE)
    assert added.returncode == 0, added.stderr
    assert added.lines == ["カレンダーに追加しました。"]
    shown = cli("calendar", "show", "みどり小学校", "--from", "2027-07-16", "--days", "7", env=JAPANESE)
    assert shown.lines == [
        "2027-07-16  授業日",
        "2027-07-17  休み  週末",
        "2027-07-18  休み  週末",
        "2027-07-19  休み  海の日",
        "2027-07-20  授業日",
        "2027-07-21  休み  夏休み",
        "2027-07-22  休み  夏休み",
    ]
    entry = await CalendarEntry.get(name="夏休み")
    listed = cli("calendar", "list", "みどり小学校", env=ENGLISH)
    assert listed.lines == [f"{entry.id}  2027-07-21 – 2027-08-31  days off  夏休み"]
    assert_one_language("\n".join(listed.lines), Language.EN, names=["夏休み"])
    removed = cli("calendar", "remove", "みどり小学校", str(entry.id), env=ENGLISH)
    assert removed.lines == ["Removed 夏休み from the calendar."]
    assert await AuditEntry.filter(action__startswith="calendar.").count() == 2


async def test_an_import_with_a_wrong_line_adds_nothing_and_says_which(cli, database_url, tmp_path) -> None:
    cli("admin", "add-site", "みどり小学校")
    file = tmp_path / "calendar.csv"
    file.write_bytes(
        "開始日,終了日,種別,名称\r\n2026/7/21,2026/8/31,休み,夏休み\r\n2026/2/30,,休み,x\r\n".encode("cp932")
    )
    refused = cli("calendar", "import", "みどり小学校", str(file), env=JAPANESE)
    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        "3行目: 2026/2/30 は 2026/8/1 のような日付ではありません。",
        "mimamori: 取り込みませんでした。誤りのある行が 1 行あります。",
    ]
    assert await CalendarEntry.all().count() == 0
    file.write_bytes("開始日,終了日,種別,名称\r\n2026/7/21,2026/8/31,休み,夏休み\r\n".encode("cp932"))
    imported = cli("calendar", "import", "みどり小学校", str(file), env=JAPANESE)
    assert imported.lines == ["1 件を追加しました。"]
