"""Importing the school office's roster: what a clerk sees and what guardians get."""

from __future__ import annotations

import codecs

import pytest

from core import sealing
from core.addresses import add_verified_address, counted_addresses
from core.db import connection
from core.errors import UserError
from core.models import Channel, ContactAddress, Guardian, Language, Pupil, Site, Tag, TagStatus
from core.passwords import Passwords
from core.registration_notice import (
    registration_qr,
    registration_url,
    render_registration_notice,
    write_registration_notices,
)
from core.roster import RosterFileError, guardian_key, import_roster, template_csv

HEADER = "school,grade,class,pupil_name,tag_id,guardian_name,guardian_ref,services,email1,email2"
ROSTER = f"""{HEADER}
みどり小学校,3,2,山田 花子,1A2B3C4D5E,山田 恵子,G001,ictag+broadcast,keiko@example.jp,keiko.m@docomo.ne.jp
みどり小学校,1,1,山田 太郎,1A2B3C4D5F,山田 恵子,G001,ictag+broadcast,,
さくら小学校,5,1,佐藤 陽翔,,佐藤 直樹,G002,broadcast,naoki..sato.@ezweb.ne.jp,
"""


async def _import(data: str | bytes, passwords: Passwords, **options):
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return await import_roster(raw, passwords=passwords, max_addresses=2, actor="test", **options)


def _index(purpose: str, value: str) -> str:
    return sealing.installed().blind_index(purpose, value)


async def test_a_roster_creates_schools_pupils_tags_and_guardians(database_url, passwords) -> None:
    result = await _import(ROSTER, passwords)

    assert result.written and result.problems == []
    assert sorted(s.name for s in await Site.all()) == ["さくら小学校", "みどり小学校"]
    keiko = await Guardian.get(roster_ref_index=guardian_key("G001"))
    assert keiko.name == "山田 恵子" and keiko.wants_passages and keiko.must_change_password
    assert sorted(p.name for p in await keiko.pupils.all()) == ["山田 太郎", "山田 花子"]
    hanako = await Pupil.get(name_index=_index("name", "山田 花子"))
    assert (hanako.grade, hanako.class_name) == (3, "2")
    tag = await Tag.get(number_index=_index("tag", "1A2B3C4D5E"))
    assert tag.pupil_id == hanako.id and tag.status is TagStatus.ACTIVE and tag.number == "1A2B3C4D5E"
    assert not (await Guardian.get(roster_ref_index=guardian_key("G002"))).wants_passages
    assert await Tag.all().count() == 2


async def test_after_an_import_postgresql_plans_for_the_tables_as_they_now_are(
    database_url, passwords, is_postgres
) -> None:
    if not is_postgres:
        pytest.skip("SQLite plans these queries without statistics")
    await _import(ROSTER, passwords)

    rows = await connection().execute_query_dict(
        "SELECT relname, reltuples FROM pg_class WHERE relname IN ('guardian', 'contact_address', 'guardian_pupil')"
    )
    known = {row["relname"]: row["reltuples"] for row in rows}  # -1: never analysed, the planner guesses
    assert known == {
        "guardian": await Guardian.all().count(),
        "contact_address": await ContactAddress.all().count(),
        "guardian_pupil": sum([await g.pupils.all().count() for g in await Guardian.all()]),
    }


async def test_new_guardians_get_credentials_that_work(database_url, passwords) -> None:
    result = await _import(ROSTER, passwords)

    assert [g.guardian_ref for g in result.new_guardians] == ["G001", "G002"]
    issued = result.new_guardians[0]
    keiko = await Guardian.get(login_id=issued.login_id)
    assert passwords.verify(keiko.password_hash, issued.initial_password)
    assert keiko.registration_code_index == _index("registration-code", issued.registration_code.replace(" ", ""))
    assert issued.pupils == ("みどり小学校 3年2組 山田 花子", "みどり小学校 1年1組 山田 太郎")


async def test_imported_addresses_count_as_verified(database_url, passwords) -> None:
    await _import(ROSTER, passwords)
    keiko = await Guardian.get(roster_ref_index=guardian_key("G001"))
    addresses = await counted_addresses(keiko.id)
    assert [(a.value, a.slot, a.verified_at is not None) for a in addresses] == [
        ("keiko@example.jp", 1, True),
        ("keiko.m@docomo.ne.jp", 2, True),
    ]
    sato = await Guardian.get(roster_ref_index=guardian_key("G002"))
    assert [a.value for a in await counted_addresses(sato.id)] == ["naoki..sato.@ezweb.ne.jp"]


async def test_importing_the_same_file_twice_changes_nothing(database_url, passwords) -> None:
    await _import(ROSTER, passwords)
    before = {g.login_id: g.password_hash for g in await Guardian.all()}

    again = await _import(ROSTER, passwords)

    assert again.written and again.new_guardians == [] and sum(again.counts.values()) == 0
    assert {g.login_id: g.password_hash for g in await Guardian.all()} == before
    assert await Pupil.all().count() == 3 and await ContactAddress.all().count() == 3


async def test_a_changed_row_updates_in_place(database_url, passwords) -> None:
    await _import(ROSTER, passwords)
    hanako_id = (await Pupil.get(name_index=_index("name", "山田 花子"))).id
    changed = ROSTER.replace(
        "みどり小学校,3,2,山田 花子,1A2B3C4D5E,山田 恵子", "みどり小学校,4,1,山田 花子,99AA0001,山田 恵子"
    )

    result = await _import(changed, passwords)

    assert result.counts["pupils_updated"] == 1 and result.counts["tags_retired"] == 1
    hanako = await Pupil.get(id=hanako_id)
    assert (hanako.grade, hanako.class_name) == (4, "1")
    old = await Tag.get(number_index=_index("tag", "1A2B3C4D5E"))
    new = await Tag.get(number_index=_index("tag", "99AA0001"))
    assert old.status is TagStatus.RETIRED and new.status is TagStatus.ACTIVE and new.pupil_id == hanako_id
    assert result.new_guardians == []


async def test_bad_rows_are_reported_with_line_numbers_and_nothing_is_written(database_url, passwords) -> None:
    roster = f"""{HEADER}
みどり小学校,3,2,山田 花子,1A2B3C4D5E,山田 恵子,G001,ictag+broadcast,,
みどり小学校,七,2,鈴木 蓮,1A2B3C4D60,鈴木 裕子,G003,ictag+broadcast,,
さくら小学校,2,1,佐藤 陽翔,,佐藤 直樹,G002,ictag+broadcast,,
さくら小学校,2,1,"佐藤
 芽依",1A2B3C4D5E,佐藤 直樹,G002,ictag+broadcast,,
さくら小学校,2,1,高橋 凛,1A2B3C4D61,高橋 美穂,G004,broadcast+ictag,bad-address,
さくら小学校,2,1,伊藤 湊,1A2B3C4D62,伊藤 誠,G005,ictag+broadcast
みどり小学校,3,2,山田 詩,1A2B3C4D63,山田 恵,G001,ictag+broadcast,,
"""
    result = await _import(roster, passwords)

    assert not result.written
    assert [str(p) for p in result.problems] == [
        "line 3: grade must be a number from 1 to 12, not '七'",
        "line 4: services include ictag but tag_id is empty",
        "line 5: tag_id 1A2B3C4D5E is already 山田 花子's on line 2",
        "line 7: services must be ictag+broadcast or broadcast, not 'broadcast+ictag'",
        "line 8: expected 10 columns, found 8",
        "line 9: guardian_ref G001 is 山田 恵子 on line 2 but 山田 恵 here",
    ]
    assert await Pupil.all().count() == 0 and await Guardian.all().count() == 0
    assert await Site.all().count() == 0
    # the clerk reads them in their own language, the columns by their Japanese headers
    assert [p.message.translate(Language.JA) for p in result.problems][:2] == [
        "3行目：学年は1から12の数字にしてください（「七」となっています）",
        "4行目：サービスにICタグが含まれていますが、タグ番号が空です",
    ]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
async def test_the_template_with_japanese_headers_is_accepted_as_a_school_fills_it(
    database_url, passwords, encoding: str
) -> None:
    template = template_csv(encoding)
    assert template.decode(encoding).startswith("学校,学年,組,児童氏名,タグ番号,保護者氏名,保護者番号,サービス")
    if encoding == "utf-8-sig":
        assert template.startswith(codecs.BOM_UTF8)
    rows = "みどり小学校,3,2,山田 花子,1A2B3C4D5E,山田 恵子,G001,ICタグ+一斉連絡,keiko@example.jp,,H-17\r\n"
    rows += "さくら小学校,5,1,佐藤 陽翔,,佐藤 直樹,G002,一斉連絡,,,\r\n"
    result = await _import(template + rows.encode("cp932" if encoding == "cp932" else "utf-8"), passwords)
    assert result.written and result.problems == [] and result.encoding == encoding
    hanako = await Pupil.get(name_index=_index("name", "山田 花子"))
    assert hanako.grade == 3 and await Tag.get(pupil=hanako)
    assert (await Guardian.get(roster_ref_index=guardian_key("G002"))).name == "佐藤 直樹"


async def test_partial_imports_the_good_rows(database_url, passwords) -> None:
    roster = f"""{HEADER}
みどり小学校,3,2,山田 花子,1A2B3C4D5E,山田 恵子,G001,ictag+broadcast,,
みどり小学校,0,2,鈴木 蓮,1A2B3C4D60,鈴木 裕子,G003,ictag+broadcast,,
"""
    result = await _import(roster, passwords, partial=True)

    assert result.written
    assert [p.line for p in result.problems] == [3]
    assert [g.roster_ref for g in await Guardian.all()] == ["G001"]


async def test_more_than_two_addresses_for_one_guardian_is_a_bad_row(database_url, passwords) -> None:
    roster = f"""{HEADER}
みどり小学校,3,2,山田 花子,,山田 恵子,G001,broadcast,a@example.jp,b@example.jp
みどり小学校,1,1,山田 太郎,,山田 恵子,G001,broadcast,b@example.jp,a@example.jp
みどり小学校,1,1,山田 詩,,山田 恵子,G001,broadcast,c@example.jp,
"""
    result = await _import(roster, passwords)
    assert [str(p) for p in result.problems] == ["line 4: guardian_ref G001 would have more than 2 mail addresses"]


async def test_addresses_registered_since_the_last_import_count_too(database_url, passwords) -> None:
    await _import(ROSTER, passwords)
    sato = await Guardian.get(roster_ref_index=guardian_key("G002"))
    await add_verified_address(sato.id, Channel.LINE, "U-line-user", limit=2)
    again = ROSTER.replace("naoki..sato.@ezweb.ne.jp,", "naoki..sato.@ezweb.ne.jp,naoki@example.jp")

    result = await _import(again, passwords)

    assert [str(p) for p in result.problems] == [
        "line 4: guardian_ref G002 already has 2 registered address(es); the limit is 2"
    ]


async def test_a_tag_reported_lost_cannot_be_given_out_again(database_url, passwords) -> None:
    await _import(ROSTER, passwords)
    await Tag.filter(number_index=_index("tag", "1A2B3C4D5F")).update(status=TagStatus.LOST, pupil_id=None)

    result = await _import(ROSTER, passwords)

    assert [str(p) for p in result.problems] == [
        "line 3: tag_id 1A2B3C4D5F is marked lost and cannot be given out again"
    ]


async def test_a_tag_of_another_pupil_in_the_database_is_refused(database_url, passwords) -> None:
    await _import(ROSTER, passwords)
    other = f"{HEADER}\nさくら小学校,2,1,伊藤 湊,1a2b3c4d5e,伊藤 誠,G005,ictag+broadcast,,\n"

    result = await _import(other, passwords)

    assert [str(p) for p in result.problems] == ["line 2: tag_id 1A2B3C4D5E already belongs to another pupil"]


@pytest.mark.parametrize(("encoding", "reported"), [("cp932", "cp932"), ("utf-8-sig", "utf-8-sig")])
async def test_excel_files_in_shift_jis_or_with_a_bom_are_read(
    database_url, passwords, encoding: str, reported: str
) -> None:
    data = ROSTER.replace("\n", "\r\n").encode(encoding)
    result = await _import(data, passwords)
    assert result.encoding == reported and result.written and result.problems == []
    assert (await Guardian.get(roster_ref_index=guardian_key("G001"))).name == "山田 恵子"


async def test_full_width_input_is_folded(database_url, passwords) -> None:
    roster = f"{HEADER}\nみどり小学校,３,２,山田 花子,１Ａ２Ｂ３Ｃ４Ｄ５Ｅ,山田　恵子,Ｇ００１,ＩＣＴＡＧ＋ＢＲＯＡＤＣＡＳＴ,,\n"
    result = await _import(roster, passwords)
    assert result.problems == []
    assert await Tag.get(number_index=_index("tag", "1A2B3C4D5E"))
    assert (await Guardian.get(roster_ref_index=guardian_key("G001"))).name == "山田 恵子"


async def test_a_file_without_the_needed_columns_is_refused(database_url, passwords) -> None:
    with pytest.raises(RosterFileError, match="lacks the column.*tag_id, guardian_name"):
        await _import("school,grade,class,pupil_name\nみどり小学校,1,1,山田\n", passwords)


async def test_a_file_in_an_unknown_encoding_is_refused(database_url, passwords) -> None:
    with pytest.raises(RosterFileError, match="neither UTF-8 nor Shift_JIS"):
        await _import(b"school\n\x82\xff\xff", passwords)


async def test_registration_notices_carry_credentials_and_a_qr_code(database_url, passwords, tmp_path) -> None:
    result = await _import(ROSTER, passwords)
    issued = result.new_guardians[0]

    html = render_registration_notice(issued, portal_url="https://mimamori.example.city")
    assert "山田 恵子 様" in html and issued.login_id in html and issued.initial_password in html
    assert issued.registration_code in html and "みどり小学校 3年2組 山田 花子" in html
    assert 'src="data:image/svg+xml' in html and "size: A4" in html
    url = registration_url("https://mimamori.example.city", issued.registration_code)
    assert url.endswith("/register/" + issued.registration_code.replace(" ", ""))
    assert _scan(registration_qr(url), tmp_path) == url
    files = write_registration_notices(result.new_guardians, tmp_path / "notices", portal_url="https://x")
    keiko, naoki = result.new_guardians
    assert [f.name for f in files] == [f"0001-G001-{keiko.login_id}.html", f"0002-G002-{naoki.login_id}.html"]


async def test_printing_the_notices_again_into_the_same_folder_overwrites_no_letter(
    database_url, passwords, tmp_path
) -> None:
    result = await _import(ROSTER, passwords)
    folder = tmp_path / "notices"
    [first, second] = write_registration_notices(result.new_guardians, folder, portal_url="https://x")
    first.write_text("the letter as it was handed out", "utf-8")

    with pytest.raises(UserError, match=f"{first} already exists: it was not overwritten"):
        write_registration_notices(result.new_guardians, folder, portal_url="https://x")
    assert first.read_text("utf-8") == "the letter as it was handed out"
    assert result.new_guardians[1].initial_password in second.read_text("utf-8")


async def test_names_that_hide_or_turn_characters_are_refused_with_their_line(database_url, passwords) -> None:
    spoofed = f"""{HEADER}
みどり小学校,3,2,山田 花子,1A2B3C4D5E,山田 恵子,G001,ictag+broadcast,,
みどり小学校,3,1,鈴木 蓮,1A2B3C4D60,\u202e子裕 木鈴,G003,ictag+broadcast,,
みどり小学校,3,1,鈴木\u200b 詩,1A2B3C4D61,鈴木 美穂,G004,ictag+broadcast,,
みどり小学校\u2066,3,1,高橋 凛,1A2B3C4D62,高橋 誠,G005,ictag+broadcast,,
みどり小学校,3,1,伊藤 湊,1A2B3C4D63,伊藤 聡,G\x00006,ictag+broadcast,,
"""
    refused = await _import(spoofed, passwords)
    assert not refused.written
    assert [str(p) for p in refused.problems] == [
        "line 3: guardian_name contains invisible or direction-changing characters (U+202E)",
        "line 4: pupil_name contains invisible or direction-changing characters (U+200B)",
        "line 5: school contains invisible or direction-changing characters (U+2066)",
        "line 6: guardian_ref contains invisible or direction-changing characters (U+0000)",
    ]
    assert [p.message.translate(Language.JA) for p in refused.problems][:2] == [
        "3行目：保護者氏名に見えない文字または表示の向きを変える文字（U+202E）が含まれています",
        "4行目：児童氏名に見えない文字または表示の向きを変える文字（U+200B）が含まれています",
    ]

    imported = await _import(spoofed, passwords, partial=True)
    assert [g.name for g in imported.new_guardians] == ["山田 恵子"]
    assert [s.name for s in await Site.all()] == ["みどり小学校"]
    assert sorted(p.name for p in await Pupil.all()) == ["山田 花子"]


def _scan(qr, tmp_path) -> str:
    """Read the code back as a phone camera would (OpenCV's QR detector)."""
    import cv2

    png = tmp_path / "qr.png"
    qr.save(png, scale=8, border=4)
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(cv2.imread(str(png)))
    return text


async def test_a_pupil_the_next_roster_leaves_out_leaves_the_board_and_keeps_their_history(
    database_url, passwords
) -> None:
    from core import attendance, zones
    from core.models import AbsenceReport, ReportKind, ReportVia

    await _import(ROSTER, passwords)
    taro = await Pupil.get(name_index=_index("name", "山田 太郎"))
    await AbsenceReport.create(
        pupil_id=taro.id,
        kind=ReportKind.ABSENT,
        first_day=zones.today(await taro.school),
        last_day=zones.today(await taro.school),
        reason="illness",
        via=ReportVia.PORTAL,
    )
    without_taro = "\n".join(line for line in ROSTER.splitlines() if "山田 太郎" not in line) + "\n"
    result = await _import(without_taro, passwords)
    assert result.counts["pupils_left"] == 1 and result.counts["tags_retired"] == 0
    assert (await Tag.get(number_index=_index("tag", "1A2B3C4D5F"))).status is TagStatus.RETIRED
    assert (await Tag.get(number_index=_index("tag", "1A2B3C4D5E"))).status is TagStatus.ACTIVE  # Hanako stays
    midori = await Site.get(name="みどり小学校")
    board = await attendance.board(midori, zones.today(midori))
    assert [row.name for c in board.classes for row in c.rows] == ["山田 花子"]
    assert await AbsenceReport.filter(pupil_id=taro.id).count() == 1  # history kept
    assert await Pupil.filter(id=taro.id).exists()
    again = await _import(without_taro, passwords)
    assert not again.counts.get("pupils_left")  # nothing more to retire

    refused_row = without_taro + "みどり小学校,13,1,山田 次郎,,山田 恵子,G001,broadcast,,\n"
    partial = await _import(refused_row, passwords, partial=True)
    assert partial.problems and not partial.counts.get("pupils_left")  # a partial import retires nothing
