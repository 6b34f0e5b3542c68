"""What an administrator sees at the terminal."""

import csv
import hashlib
import io
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core import sealing
from core.models import Channel, Delivery, DeliveryStatus, Gate, Guardian, Language, NoticeKind, StaffAccount
from tests.core.test_roster_import import HEADER, ROSTER
from tests.one_language import assert_one_language

# The terminal's locale: none chosen (Japanese, the default), or English.
JAPANESE = {"LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"}
ENGLISH = {**JAPANESE, "LANG": "en_US.UTF-8"}


def test_a_bad_setting_stops_with_one_line_and_no_traceback(cli) -> None:
    result = cli("config", "show", env={**JAPANESE, "MIMAMORI_SMTP__PORT": "abc"})
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "mimamori: 設定 smtp.port: 整数を指定してください（指定された値: 'abc'）"
    ]
    in_english = cli("config", "show", env={**ENGLISH, "MIMAMORI_SMTP__PORT": "abc"})
    assert in_english.stderr.strip() == "mimamori: setting smtp.port: a whole number is needed (got 'abc')"
    missing = cli("--config", "nope.toml", "config", "show", env=JAPANESE)
    assert missing.stderr.strip() == "mimamori: 設定ファイル nope.toml がありません。"


def test_config_show_prints_toml_with_secrets_masked(cli) -> None:
    result = cli("config", "show", env={"MIMAMORI_SMTP__PASSWORD": "hunter2"})
    assert result.returncode == 0, result.stderr
    assert "[smtp]" in result.lines and 'password = "********"' in result.lines
    assert "hunter2" not in result.stdout


def test_an_unreachable_database_is_one_clear_line(cli) -> None:
    unreachable = {"MIMAMORI_DATABASE_URL": "postgres://postgres@127.0.0.1:9/none"}
    result = cli("admin", "add-site", "x", env={**JAPANESE, **unreachable})
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.startswith("mimamori: データベースを使えません:")
    in_english = cli("admin", "add-site", "x", env={**ENGLISH, **unreachable})
    assert in_english.stderr.startswith("mimamori: The database cannot be used:")


def test_db_upgrade_prepares_an_empty_database(cli, tmp_path) -> None:
    fresh = {"MIMAMORI_DATABASE_URL": f"sqlite://{tmp_path / 'fresh.db'}"}
    refused = cli("admin", "add-site", "みどり小学校", env={**JAPANESE, **fresh})
    assert refused.stderr.startswith("mimamori: データベースの構造が最新ではありません（未適用の移行が ")
    assert refused.stderr.strip().endswith("`mimamori db upgrade` を実行してください。")
    upgraded = cli("db", "upgrade", env={**JAPANESE, **fresh})
    assert upgraded.returncode == 0 and upgraded.lines[-1].startswith("データベースの構造は最新です（")
    assert_one_language(upgraded.stdout, Language.JA, names=_migration_names(upgraded.lines))
    added = cli("admin", "add-site", "みどり小学校", env={**JAPANESE, **fresh})
    assert added.lines == ["施設 みどり小学校 を追加しました（学校、ID 1）。"]
    again = cli("admin", "add-site", "みどり小学校", env=JAPANESE | fresh)
    assert again.stderr.strip() == "mimamori: 「みどり小学校」という施設は既にあります。"
    hall = cli("admin", "add-site", "ひかり児童館", "--kind", "hall", env={**ENGLISH, **fresh})
    assert hall.lines == ["Site ひかり児童館 added (children's hall, id 2)."]
    again = cli("admin", "add-site", "ひかり児童館", env={**ENGLISH, **fresh})
    assert again.stderr.strip() == "mimamori: There is already a site named ひかり児童館."


def _migration_names(lines: list[str]) -> list[str]:
    return [word for line in lines for word in line.split() if word[:4].isdigit()]


async def test_add_gate_prints_the_key_once_and_keeps_only_its_hash(cli, database_url) -> None:
    assert cli("admin", "add-site", "ひかり児童館", "--kind", "hall").returncode == 0
    result = cli("admin", "add-gate", "ひかり児童館", "入口", env=JAPANESE)
    assert result.returncode == 0, result.stderr
    key = result.lines[-1]
    assert result.lines[0].startswith("ひかり児童館 にゲート 入口 を追加しました（ID ")
    assert_one_language(result.lines[1], Language.JA, names=["gate.toml", "server.gate_key"])
    twice = cli("admin", "add-gate", "ひかり児童館", "入口", env=ENGLISH)
    assert twice.stderr.strip() == "mimamori: ひかり児童館 already has a gate named 入口."
    hidden = cli("admin", "add-site", "みどり\u200b小学校", env=JAPANESE)
    assert (
        hidden.stderr.strip()
        == "mimamori: 施設名に見えない文字または表示の向きを変える文字（U+200B）が含まれています。"
    )
    hidden = cli("admin", "add-gate", "ひかり児童館", "\u202e入口", env=ENGLISH)
    assert hidden.stderr.strip() == (
        "mimamori: The gate name contains invisible or direction-changing characters (U+202E)."
    )
    assert len(key) >= 43 and " " not in key
    gate = await Gate.get(name="入口").prefetch_related("site")
    assert gate.site.name == "ひかり児童館" and not gate.site.has_camera
    assert gate.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert key not in str(await Gate.all().values())


async def test_add_staff_prints_a_one_time_password_that_works(cli, database_url, passwords) -> None:
    cli("admin", "add-site", "みどり小学校")
    result = cli("admin", "add-staff", "kato", "--role", "staff", "--site", "みどり小学校", env=JAPANESE)
    assert result.returncode == 0, result.stderr
    staff = await StaffAccount.get(login_id="kato").prefetch_related("sites")
    assert passwords.verify(staff.password_hash, result.lines[-1])
    assert staff.must_change_password and [s.name for s in staff.sites] == ["みどり小学校"]
    assert result.lines[0] == f"職員アカウント kato を追加しました（学校・教育委員会の職員、ID {staff.id}）。"
    assert_one_language("\n".join(result.lines[:-1]), Language.JA, names=["kato"])
    duplicate = cli("admin", "add-staff", "kato", "--role", "admin", env=JAPANESE)
    assert duplicate.stderr.strip() == "mimamori: 職員アカウント kato は既にあります。"


def test_add_staff_speaks_english_where_the_terminals_locale_is_english(cli, database_url) -> None:
    cli("admin", "add-site", "みどり小学校")
    added = cli("admin", "add-staff", "mori", "--role", "support", env=ENGLISH)
    assert added.lines[0].startswith("Staff account mori added (support desk, id ")
    assert added.lines[1] == "Its one-time password, shown only now (to be changed at the first login):"
    assert_one_language("\n".join(added.lines[:-1]), Language.EN, names=["mori"])
    refused = cli("admin", "add-staff", "kato", "--role", "staff", env=ENGLISH)
    assert refused.stderr.strip() == "mimamori: A staff account needs at least one site (--site)."
    unknown = cli("admin", "add-staff", "kato", "--role", "staff", "--site", "ひかり児童館", env=JAPANESE)
    assert unknown.stderr.strip() == "mimamori: 「ひかり児童館」という施設はありません。"


async def test_import_roster_writes_credentials_for_new_guardians_only(cli, database_url, passwords, tmp_path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER.replace("\n", "\r\n"), encoding="cp932")

    first = cli(
        "admin", "import-roster", str(roster), "--credentials-out", "creds.csv", "--notices-out", "notices", env=ENGLISH
    )
    assert first.returncode == 0, first.stderr
    assert first.lines == [
        "Imported 3 of 3 rows (read as cp932).",
        "2 sites created",
        "3 pupils added",
        "2 tags added",
        "2 guardians added",
        "3 pupils linked to guardians",
        "3 mail addresses added",
        "2 new guardians written to creds.csv.",
    ]
    assert "_" not in first.stdout  # no counter's name
    creds_file = tmp_path / "creds.csv"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    rows = list(csv.DictReader(creds_file.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["Guardian ref"] for r in rows] == ["G001", "G002"]
    assert list(rows[0]) == ["Guardian ref", "Login ID", "Initial password", "Registration code"]
    keiko = await Guardian.get(login_id=rows[0]["Login ID"])
    assert keiko.roster_ref == "G001" and passwords.verify(keiko.password_hash, rows[0]["Initial password"])
    assert sorted(p.name for p in (tmp_path / "notices").iterdir()) == [
        f"0001-G001-{rows[0]['Login ID']}.html",
        f"0002-G002-{rows[1]['Login ID']}.html",
    ]

    second = cli("admin", "import-roster", str(roster), "--credentials-out", "creds2.csv", env=JAPANESE)
    assert second.returncode == 0
    assert second.lines == [
        "3 行のうち 3 行を取り込みました（文字コード cp932）。",
        "変更はありませんでした。",
        "新しい保護者 0 人を creds2.csv に書き出しました。",
    ]
    assert_one_language(second.stdout, Language.JA, names=["cp932", "creds2.csv"])
    assert (tmp_path / "creds2.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "保護者番号,ログインID,初期パスワード,登録コード"
    ]
    without_taro = tmp_path / "without-taro.csv"
    without_taro.write_text(
        "".join(line for line in ROSTER.splitlines(True) if "山田 太郎" not in line), encoding="utf-8"
    )
    third = cli("admin", "import-roster", str(without_taro), "--credentials-out", "creds3.csv", env=JAPANESE)
    assert third.lines[1] == "名簿から外れた児童 1 人（タグ使用停止）"
    assert_one_language(third.stdout, Language.JA, names=["utf-8", "creds3.csv"])
    again = cli("admin", "import-roster", str(roster), "--credentials-out", "creds.csv", env=JAPANESE)
    assert again.stderr.startswith("mimamori: creds.csv は既にあります。別の名前を指定してください")


FORMULAS = ('=HYPERLINK("https://evil.example/","更新")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3")


def _roster_of(refs: list[str], first_tag: int = 0x1A000000) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER.split(","))
    for n, ref in enumerate(refs):
        writer.writerow(
            ("みどり小学校", 3, 2, f"児童 {n}", f"{first_tag + n:08X}", f"保護者 {n}", ref, "ictag+broadcast", "", "")
        )
    return out.getvalue()


async def test_refs_that_read_alike_get_one_letter_each_and_no_cell_opens_as_a_formula(
    cli, database_url, passwords, tmp_path
) -> None:
    refs = ["a/b", "a?b", *FORMULAS]
    (tmp_path / "roster.csv").write_text(_roster_of(refs), encoding="utf-8")

    done = cli("admin", "import-roster", "roster.csv", "--credentials-out", "creds.csv", "--notices-out", "notices")
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "creds.csv", encoding="utf-8-sig", newline="") as opened:
        rows = list(csv.reader(opened))[1:]
    assert [r[0] for r in rows] == ["a/b", "a?b", *("'" + formula for formula in FORMULAS)]
    letters = sorted((tmp_path / "notices").iterdir())
    assert [p.name for p in letters[:2]] == [f"0001-a_b-{rows[0][1]}.html", f"0002-a_b-{rows[1][1]}.html"]
    for n, (letter, (_, login_id, password, _)) in enumerate(zip(letters, rows, strict=True)):
        text = letter.read_text("utf-8")
        assert f"保護者 {n} 様" in text and login_id in text and password in text
        assert all(other[1] not in text for other in rows if other[1] != login_id)
        assert passwords.verify((await Guardian.get(login_id=login_id)).password_hash, password)

    (tmp_path / "more.csv").write_text(_roster_of(["a/b", "a|b"], first_tag=0x2B000000), encoding="utf-8")
    before = {p: p.read_bytes() for p in letters}
    more = cli("admin", "import-roster", "more.csv", "--credentials-out", "more-creds.csv", "--notices-out", "notices")
    assert more.returncode == 0, more.stderr
    assert {p: p.read_bytes() for p in letters} == before  # the letters printed earlier stay as they were
    assert len(list((tmp_path / "notices").iterdir())) == len(letters) + 1


async def test_a_notices_folder_that_cannot_be_made_stops_the_import_before_it_starts(
    cli, database_url, tmp_path
) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    (tmp_path / "letters").write_text("not a folder", "utf-8")
    command = (
        "admin",
        "import-roster",
        "roster.csv",
        "--credentials-out",
        "creds.csv",
        "--notices-out",
        "letters/2026",
    )
    result = cli(*command, env=JAPANESE)
    assert result.returncode != 0
    assert result.stderr.strip() == "mimamori: フォルダ letters/2026 を作れません: 同じ名前のファイルがあります"
    in_english = cli(*command, env=ENGLISH)
    assert (
        in_english.stderr.strip()
        == "mimamori: The folder letters/2026 cannot be made: a file of that name is in the way"
    )
    assert not (tmp_path / "creds.csv").exists() and await Guardian.all().count() == 0


async def test_a_roster_with_bad_rows_writes_nothing(cli, database_url, tmp_path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(f"{HEADER}\nみどり小学校,13,1,山田 花子,,山田 恵子,G1,broadcast,,\n", encoding="utf-8")
    result = cli("admin", "import-roster", str(roster), "--credentials-out", "creds.csv", env=ENGLISH)
    assert result.returncode != 0
    assert result.lines == ["Line 2: grade must be a number from 1 to 12, not '13'"]
    assert result.stderr.strip() == (
        "mimamori: 1 row is wrong, so nothing was written (correct it, or use --partial to import the other rows)."
    )
    in_japanese = cli("admin", "import-roster", str(roster), "--credentials-out", "creds.csv", env=JAPANESE)
    assert in_japanese.lines[0].startswith("2行目: ")
    assert in_japanese.stderr.strip() == (
        "mimamori: 1 行に誤りがあるため、何も書き込みませんでした（誤りを直すか、--partial で他の行だけを取り込んでください）。"
    )
    assert not (tmp_path / "creds.csv").exists()
    assert await Guardian.all().count() == 0


async def test_audit_verify_finds_an_edited_entry(cli, database_url) -> None:
    cli("admin", "add-site", "みどり小学校")
    cli("admin", "add-site", "さくら小学校")
    assert cli("audit", "verify", env=JAPANESE).lines == ["監査ログ: 記録 2 件、つながりは改ざんされていません。"]
    assert cli("audit", "verify", env=ENGLISH).lines == ["The audit log: 2 entries, their chain intact."]
    from core.models import AuditEntry
    from tests.core.test_audit import _drop_the_guard

    await _drop_the_guard()
    first = await AuditEntry.all().order_by("id").first()
    await AuditEntry.filter(id=first.id).update(actor="cli:mallory")
    result = cli("audit", "verify", env=ENGLISH)
    assert result.returncode != 0
    assert result.lines == [f"Entry {first.id}: was changed after it was written"]
    assert result.stderr.strip() == "mimamori: The audit log has 1 problem in 2 entries."
    in_japanese = cli("audit", "verify", env=JAPANESE)
    assert in_japanese.lines == [f"記録 {first.id}: 書き込まれた後に変更されています"]
    assert in_japanese.stderr.strip() == "mimamori: 監査ログの記録 2 件に 1 件の問題があります。"


async def test_keys_rotate_then_retire_the_old_key(cli, database_url, tmp_path) -> None:
    own_keyring = tmp_path / "keyring.json"
    own_keyring.write_bytes(Path(sealing.installed().keyring.path).read_bytes())
    env = {"MIMAMORI_KEYRING": str(own_keyring)}
    cli("admin", "add-site", "みどり小学校", env=env)
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    cli("admin", "import-roster", str(roster), "--credentials-out", "c.csv", env=env)

    refused = cli("keys", "retire", "k1", env=env | JAPANESE)
    assert refused.stderr.strip() == "mimamori: 鍵 k1 は現在の鍵なので退役させられません。"

    rotated = cli("keys", "rotate", env=env | ENGLISH)
    assert rotated.returncode == 0, rotated.stderr
    assert rotated.lines[0] == "Key k2 added and made current."
    assert rotated.lines[-1] == "12 sealed values, 12 re-sealed with key k2."  # the two family refs too
    listed = cli("keys", "list", "--count", env=env | ENGLISH)
    assert [line.split()[:2] for line in listed.lines] == [["k1", "created"], ["*", "k2"]]
    assert listed.lines[0].endswith("0 values") and listed.lines[1].endswith("12 values")
    in_japanese = cli("keys", "list", "--count", env=env | JAPANESE)
    assert in_japanese.lines[1].startswith("* k2  作成 ") and in_japanese.lines[1].endswith("、値 12 件")

    assert cli("keys", "retire", "k1", env=env | JAPANESE).lines == ["鍵 k1 を退役させました。"]
    imported_again = cli("admin", "import-roster", str(roster), "--credentials-out", "c2.csv", env=env | ENGLISH)
    assert "Nothing changed." in imported_again.lines  # every sealed value still opens


async def test_a_key_is_not_retired_while_photo_links_sent_to_line_still_open_with_it(
    cli, database_url, tmp_path
) -> None:
    own_keyring = tmp_path / "keyring.json"
    own_keyring.write_bytes(Path(sealing.installed().keyring.path).read_bytes())
    env = {"MIMAMORI_KEYRING": str(own_keyring)}
    now = datetime.now(UTC)
    notice = await Delivery.create(  # a passage notice to LINE with a photo link, sealed with k1
        idempotency_key="passage:1:a1",
        kind=NoticeKind.PASSAGE,
        channel=Channel.LINE,
        status=DeliveryStatus.SENT,
        next_attempt_at=now,
        first_tried_at=now - timedelta(minutes=2),
        sent_at=now - timedelta(minutes=1),
    )
    assert cli("keys", "rotate", env=env).returncode == 0

    refused = cli("keys", "retire", "k1", env=env | JAPANESE)
    assert refused.returncode != 0
    assert (
        refused.stderr.startswith("mimamori: LINE に送った写真のリンクが ")
        and "まで鍵 k1 で開かれます" in refused.stderr
    )
    assert_one_language(refused.stderr, Language.JA, names=["mimamori", "Asia/Tokyo"])
    in_english = cli("keys", "retire", "k1", env=env | ENGLISH)
    assert "Photo links sent to LINE open with k1 until" in in_english.stderr

    notice.sent_at = notice.first_tried_at = now - timedelta(hours=25)  # its link (24 hours) has ended
    await notice.save()
    assert cli("keys", "retire", "k1", env=env | ENGLISH).lines == ["Key k1 retired."]


async def test_keys_dkim_makes_the_key_once_prints_its_record_and_rotation_keeps_it(
    cli, database_url, tmp_path
) -> None:
    own_keyring = tmp_path / "keyring.json"
    own_keyring.write_bytes(Path(sealing.installed().keyring.path).read_bytes())
    env = {"MIMAMORI_KEYRING": str(own_keyring), "MIMAMORI_SMTP__FROM_ADDRESS": "mimamori@city.example.jp"}
    refused = cli("worker", env={**env, **ENGLISH, "MIMAMORI_SMTP__DKIM": "true"})
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "mimamori: smtp.dkim is on but the keyring holds no DKIM key:"
        " run `mimamori keys dkim` and publish the DNS record it prints."
    ]

    made = cli("keys", "dkim", env=env | JAPANESE)
    assert made.returncode == 0, made.stderr
    [record] = made.lines
    assert record.startswith('mimamori._domainkey.city.example.jp. IN TXT ( "v=DKIM1; k=rsa; p=MIIBIjAN')
    assert all(len(part) <= 255 for part in record.split('"')[1::2])  # DNS strings
    assert made.stderr.splitlines()[0] == "DKIM 鍵（RSA-2048）を鍵束に追加しました。"
    assert cli("keys", "dkim", env=env).lines == [record]  # kept, not made again
    assert cli("keys", "rotate", env=env).returncode == 0
    assert cli("keys", "dkim", env=env).lines == [record]  # rotating the sealing keys keeps it
    assert '"dkim_key": "-----BEGIN PRIVATE KEY-----' in own_keyring.read_text()
    assert oct(own_keyring.stat().st_mode & 0o777) == "0o600"


async def test_status_tells_readiness_and_the_queue_in_the_terminals_language(cli, database_url) -> None:
    now = datetime.now(UTC)
    await Delivery.create(
        idempotency_key="passage:1:a1",
        kind=NoticeKind.PASSAGE,
        channel=Channel.EMAIL,
        status=DeliveryStatus.FAILED,
        next_attempt_at=now,
        queued_at=now - timedelta(minutes=5),
        last_error="550 5.1.1 mailbox unavailable",
    )
    in_japanese = cli("status", env=JAPANESE)
    assert in_japanese.returncode == 0, in_japanese.stderr
    assert in_japanese.lines[0] == "稼働準備: できていません（配信）"
    assert in_japanese.lines[1].split() == ["データベース", "正常", "応答しています"]
    assert in_japanese.lines[2].split() == ["配信", "異常", "動いていません"]
    assert ["経路", "送信待ち", "送信中", "送信済み", "失敗", "期限切れ"] in [
        line.split() for line in in_japanese.lines
    ]
    assert ["メール", "0", "0", "0", "1", "0"] in [line.split() for line in in_japanese.lines]
    problem = in_japanese.lines[-1]
    assert problem.startswith("  #") and problem.endswith(" 通過のお知らせ メール 失敗: 550 5.1.1 mailbox unavailable")
    assert_one_language("\n".join(in_japanese.lines[:-1]), Language.JA)

    in_english = cli("status", env=ENGLISH)
    assert in_english.lines[0] == "Ready: no (Delivery)"
    assert ["Channel", "queued", "sending", "sent", "failed", "expired"] in [line.split() for line in in_english.lines]
    assert "Failed or expired in the last 24 hours:" in in_english.lines
    assert in_english.lines[-1].endswith(" Passage notice mail failed: 550 5.1.1 mailbox unavailable")
    assert_one_language(in_english.stdout, Language.EN)


async def test_a_staff_link_code_is_explained_in_the_terminals_language(cli, database_url) -> None:
    cli("admin", "add-site", "みどり小学校")
    cli("admin", "add-staff", "kato", "--role", "staff", "--site", "みどり小学校")
    in_japanese = cli("admin", "staff-link-code", "kato", env=JAPANESE)
    code = in_japanese.lines[-1]
    assert in_japanese.lines[0] == f"15 分以内に、次のとおりボットに送ってください: 連携 {code}"
    in_english = cli("admin", "staff-link-code", "kato", env=ENGLISH)
    code = in_english.lines[-1]
    assert in_english.lines[0] == f"Send this to the bot within 15 minutes: link {code}"
    unknown = cli("admin", "staff-link-code", "mori", env=JAPANESE)
    assert unknown.stderr.strip() == "mimamori: 有効な職員アカウント mori はありません。"


def _descriptions(help_text: str) -> str:
    """What ``--help`` says in words: the descriptions, without the usage line's and options' syntax."""
    return "\n".join(re.split(r"\s{2,}", line.strip())[-1] for line in help_text.splitlines()[1:] if line.strip())


def test_help_and_usage_errors_are_in_the_terminals_language(cli) -> None:
    in_japanese = cli("--help", env=JAPANESE)
    assert in_japanese.lines[0] == "使い方: mimamori [OPTIONS] COMMAND [ARGS]..."
    assert "  見守り: 市内の学校の児童見守り通知。" in in_japanese.lines
    assert "オプション:" in in_japanese.lines and "コマンド:" in in_japanese.lines
    syntax = ["Ctrl-C", "SIGTERM", "/readyz", "$MIMAMORI_CONFIG", "TOML", "CSV"]
    assert_one_language(_descriptions(in_japanese.stdout), Language.JA, names=syntax)
    add_staff = cli("admin", "add-staff", "--help", env=JAPANESE)
    assert "  職員・サポート・管理者のアカウントを追加し、一回限りのパスワードを表示します。" in add_staff.lines
    assert_one_language(_descriptions(add_staff.stdout), Language.JA, names=["[admin|staff|support]"])

    in_english = cli("admin", "add-staff", "--help", env=ENGLISH)
    assert in_english.lines[0] == "Usage: mimamori admin add-staff [OPTIONS] LOGIN"
    assert "  Add a staff, support or admin account; prints its one-time password." in in_english.lines

    missing = cli("admin", "add-staff", "kato", env=JAPANESE)
    assert missing.returncode == 2
    assert "エラー: 次のオプションがありません: '--role'." in missing.stderr
    assert "'mimamori admin add-staff --help' でヘルプを表示できます。" in missing.stderr
    unknown = cli("admni", env=ENGLISH)
    assert "Error: No such command 'admni'." in unknown.stderr
