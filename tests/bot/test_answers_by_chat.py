"""A "not seen" notice's one-tap answers in the chats: three postback buttons with the notice, a tap
recorded as the answer page records it, said in the chat, and a second tap recording nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.line.transport import LineTransport
from bot.telegram.transport import TelegramTransport
from core import buttons, calendar_entries, not_seen, school_calendar, zones
from core.models import (
    AbsenceReport,
    AttendanceMark,
    CalendarDayKind,
    Channel,
    Delivery,
    Language,
    NoticeKind,
    ReportKind,
    ReportReason,
    ReportVia,
    Site,
)
from tests.bot.conftest import TELEGRAM_HEADERS as HEADERS
from tests.bot.conftest import add_chat, drain_outbox
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language


async def _not_seen_now(settings, language: Language, channel: Channel, chat: str):
    """A pupil not seen at a school whose check time has just passed, told to a guardian's chat."""
    site = await make_site()
    now = datetime.now(UTC)
    local = zones.local(now, site)
    today = local.date()
    if not (await school_calendar.school_day(site, today)).school:
        entry = calendar_entries.checked(today, None, CalendarDayKind.SCHOOL, "授業日")
        await calendar_entries.add_entries(site, [entry], actor="test")
    check_time = max(local - timedelta(minutes=1), local.replace(hour=0, minute=0)).time().replace(microsecond=0)
    await Site.filter(id=site.id).update(check_time=check_time)
    pupil = await make_pupil(site, "山田 花子", tag="T-1")
    guardian = await make_guardian(pupils=[pupil], emails=["keiko@example.jp"], language=language)
    await add_chat(guardian.id, channel, chat)
    not_seen.forget()
    assert await not_seen.run_checks(settings, now) == 1
    return pupil, guardian


async def _telegram_tap(api, client, chat: int, data: str) -> str:
    await client.post("/hooks/telegram", json=api.button_update(chat, data), headers=HEADERS)
    return api.sent(chat=str(chat))[-1].params["text"]


async def test_a_tap_on_absent_in_telegram_is_recorded_once_and_the_family_told(
    database_url, telegram_api, telegram_client, bot_settings
) -> None:
    pupil, guardian = await _not_seen_now(bot_settings, Language.JA, Channel.TELEGRAM, "601")
    await drain_outbox(bot_settings, Channel.TELEGRAM, TelegramTransport(bot_settings.telegram))

    [notice] = [m.params for m in telegram_api.sent(chat="601")]
    assert "まだ登校が確認できていません" in notice["text"]
    keys = [k for row in notice["reply_markup"]["inline_keyboard"] for k in row]
    assert [k["text"] for k in keys] == ["欠席です", "遅刻します", "登校しています（タグ忘れ）", "回答する"]
    assert all(len(k["callback_data"].encode()) <= 64 for k in keys[:3])
    assert "/attendance/answer/" in keys[3]["url"]
    assert await AbsenceReport.all().count() == 0  # the notice itself records nothing

    said = await _telegram_tap(telegram_api, telegram_client, 601, keys[0]["callback_data"])
    assert said == "回答済み：今日は欠席。学校に伝わりました。"
    assert_one_language(said, Language.JA)
    [report] = await AbsenceReport.all()  # what the board shows as 欠席
    assert (report.pupil_id, report.kind, report.reason, report.via, report.guardian_id) == (
        pupil.id,
        ReportKind.ABSENT,
        ReportReason.OTHER,
        ReportVia.ANSWER,
        guardian.id,
    )
    confirmations = await Delivery.filter(kind=NoticeKind.ABSENCE_REPORT).prefetch_related("address")
    assert sorted(d.address.channel.value for d in confirmations) == ["email", "telegram"]

    again = await _telegram_tap(telegram_api, telegram_client, 601, keys[2]["callback_data"])
    assert again.startswith("この質問には回答済みです") and "回答済み：今日は欠席" in again
    assert await AbsenceReport.all().count() == 1 and not await AttendanceMark.exists()
    assert await Delivery.filter(kind=NoticeKind.ABSENCE_REPORT).count() == 2


async def test_coming_late_in_telegram_asks_for_the_time_on_the_page_and_records_nothing(
    database_url, telegram_api, telegram_client, bot_settings
) -> None:
    await _not_seen_now(bot_settings, Language.EN, Channel.TELEGRAM, "602")
    delivery = await Delivery.filter(kind=NoticeKind.NOT_SEEN, address_id__isnull=False).first()
    [late] = [p for p in _postbacks(delivery) if p.choice == "late"]

    said = await _telegram_tap(telegram_api, telegram_client, 602, late.pack())
    assert said.startswith("Please give the time your child will arrive on this page: https://")
    assert f"/attendance/answer/{late.token}" in said
    assert_one_language(said, Language.EN)
    assert await AbsenceReport.all().count() == 0


async def test_at_school_by_a_line_postback_marks_the_pupil_seen_in_english(
    database_url, line_api, line_client, bot_settings
) -> None:
    pupil, guardian = await _not_seen_now(bot_settings, Language.EN, Channel.LINE, "Uanswer")
    await drain_outbox(bot_settings, Channel.LINE, LineTransport(bot_settings.line))

    [push] = line_api.pushed_to("Uanswer")
    template = push.body["messages"][-1]["template"]
    labels = [(a["type"], a["label"]) for a in template["actions"]]
    assert labels == [
        ("postback", "Absent today"),
        ("postback", "Coming late"),
        ("postback", "At school (no tag)"),  # LINE shows 20 characters of a label
        ("uri", "Answer"),
    ]
    at_school = template["actions"][2]["data"]

    said = await _line_postback(line_api, line_client, "Uanswer", at_school)
    assert said == "Answered: at school (tag forgotten). The school has been told."
    assert_one_language(said, Language.EN)
    assert await AttendanceMark.filter(pupil_id=pupil.id, guardian_id=guardian.id).exists()  # counts as seen
    again = await _line_postback(line_api, line_client, "Uanswer", at_school)
    assert again.startswith("This question was answered before; nothing new is recorded.")
    assert await AttendanceMark.all().count() == 1 and await AbsenceReport.all().count() == 0


async def test_a_tap_on_an_unknown_answer_is_no_longer_valid(database_url, telegram_api, telegram_client) -> None:
    said = await _telegram_tap(telegram_api, telegram_client, 603, buttons.CheckAnswer("nope", "absent").pack())
    assert said == "このボタンはもう使えません。"
    assert await AbsenceReport.all().count() == 0


def _postbacks(delivery: Delivery) -> list[buttons.CheckAnswer]:
    pressed = [buttons.parse(data) for _label, data in json.loads(delivery.payload)["postbacks"]]
    return [p for p in pressed if isinstance(p, buttons.CheckAnswer)]


async def _line_postback(line_api, line_client, user: str, data: str) -> str:
    body = line_api.webhook_body(line_api.postback_event(user, data))
    headers = {"X-Line-Signature": line_api.sign(body), "Content-Type": "application/json"}
    await line_client.post("/hooks/line", content=body, headers=headers)
    return line_api.replies()[-1].body["messages"][0]["text"]
