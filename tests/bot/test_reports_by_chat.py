"""Absence reports made with the bots' buttons, through the fake Telegram and LINE APIs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from bot.telegram.transport import TelegramTransport
from core import buttons, zones
from core.models import AbsenceReport, Channel, Delivery, Language, NoticeKind, ReportKind, ReportReason, ReportVia
from core.school_calendar import school_day
from tests.bot.conftest import TELEGRAM_HEADERS as HEADERS
from tests.bot.conftest import add_chat, drain_outbox
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language


async def _day_after_tomorrow_on(site, *, school: bool) -> date:
    """A day past the buttons' today and tomorrow that is (or is not) a school day at ``site``."""
    day = zones.today(site) + timedelta(days=2)
    while (await school_day(site, day)).school is not school:
        day += timedelta(days=1)
    return day


class Telegram:
    def __init__(self, api, client, chat: int) -> None:
        self.api, self.client, self.chat = api, client, chat

    async def say(self, text: str) -> dict:
        await self.client.post("/hooks/telegram", json=self.api.text_update(self.chat, text), headers=HEADERS)
        return self.last()

    async def tap(self, data: str) -> dict:
        await self.client.post("/hooks/telegram", json=self.api.button_update(self.chat, data), headers=HEADERS)
        return self.last()

    def last(self) -> dict:
        return self.api.sent(chat=str(self.chat))[-1].params

    @staticmethod
    def keys(params: dict) -> list[tuple[str, str]]:
        markup = params.get("reply_markup") or {}
        return [(k["text"], k["callback_data"]) for row in markup.get("inline_keyboard", []) for k in row]


def _with_day(data: str, day: date) -> str:
    """The day button's payload with another day (the buttons offer only today and tomorrow)."""
    pressed = buttons.parse(data)
    assert isinstance(pressed, buttons.Report)
    return replace(pressed, day=day.strftime("%Y%m%d")).pack()


async def test_a_late_report_by_telegram_buttons_is_recorded_and_confirmed_to_the_family(
    database_url, telegram_api, telegram_client, bot_settings
) -> None:
    site = await make_site()
    hanako, taro = await make_pupil(site, "山田 花子"), await make_pupil(site, "山田 太郎")
    guardian = await make_guardian(pupils=[hanako, taro], emails=["keiko@example.jp"])
    await add_chat(guardian.id, Channel.TELEGRAM, "501")
    chat = Telegram(telegram_api, telegram_client, 501)
    day = await _day_after_tomorrow_on(site, school=True)

    asked = await chat.say("欠席連絡")
    assert asked["text"] == "学校に何を連絡しますか？"
    assert [label for label, _ in chat.keys(asked)] == ["欠席", "遅刻", "早退"]
    asked = await chat.tap(chat.keys(asked)[1][1])
    assert [label for label, _ in chat.keys(asked)] == ["花子", "太郎", "全員"]
    asked = await chat.tap(chat.keys(asked)[0][1])
    assert [label for label, _ in chat.keys(asked)] == ["今日", "明日"]
    assert "https://mimamori.city.example.jp/absences" in asked["text"]  # a range: the portal
    asked = await chat.tap(_with_day(chat.keys(asked)[0][1], day))
    assert [label for label, _ in chat.keys(asked)] == ["体調不良", "通院", "家庭の事情", "忌引", "その他"]
    asked = await chat.tap(chat.keys(asked)[1][1])
    assert [label for label, _ in chat.keys(asked)] == ["9:00", "9:30", "10:00", "10:30", "11:00"]
    asked = await chat.tap(chat.keys(asked)[3][1])
    assert asked["text"].startswith("学校に送信しますか？\n花子 / 遅刻 / ")
    assert "10:30 / 通院" in asked["text"]
    assert [label for label, _ in chat.keys(asked)] == ["送信", "取消"]
    assert await AbsenceReport.all().count() == 0  # nothing until 送信
    send = chat.keys(asked)[0][1]

    done = await chat.tap(send)
    await chat.tap(send)  # a double tap

    assert done["text"].startswith("学校に連絡しました：")
    assert_one_language(done["text"], Language.JA)
    [report] = await AbsenceReport.all()
    assert (report.pupil_id, report.kind, report.first_day, report.reason) == (
        hanako.id,
        ReportKind.LATE,
        day,
        ReportReason.HOSPITAL,
    )
    assert (report.at_time.strftime("%H:%M"), report.via, report.guardian_id) == (
        "10:30",
        ReportVia.TELEGRAM,
        guardian.id,
    )
    confirmations = await Delivery.filter(kind=NoticeKind.ABSENCE_REPORT).prefetch_related("address")
    assert sorted(d.address.channel.value for d in confirmations) == ["email", "telegram"]  # the whole family, once
    await drain_outbox(bot_settings, Channel.TELEGRAM, TelegramTransport(bot_settings.telegram))
    notice = chat.last()["text"]
    assert notice.startswith("【見守り】連絡受付：花子さん") and "遅刻" in notice and "通院" not in notice


async def test_a_day_that_is_not_a_school_day_is_refused_with_its_reason(
    database_url, telegram_api, telegram_client
) -> None:
    site = await make_site()
    guardian = await make_guardian(pupils=[await make_pupil(site)])
    await add_chat(guardian.id, Channel.TELEGRAM, "502")
    chat = Telegram(telegram_api, telegram_client, 502)
    holiday = await _day_after_tomorrow_on(site, school=False)

    asked = await chat.say("欠席")
    asked = await chat.tap(chat.keys(asked)[0][1])  # 欠席; one child: no child asked
    assert [label for label, _ in chat.keys(asked)] == ["今日", "明日"]
    asked = await chat.tap(_with_day(chat.keys(asked)[1][1], holiday))
    asked = await chat.tap(chat.keys(asked)[0][1])  # 体調不良
    refused = await chat.tap(chat.keys(asked)[0][1])  # 送信

    assert refused["text"].startswith("送信していません：")
    assert "登校日ではありません" in refused["text"]
    assert await AbsenceReport.all().count() == 0


async def test_cancel_sends_nothing(database_url, telegram_api, telegram_client) -> None:
    site = await make_site()
    guardian = await make_guardian(pupils=[await make_pupil(site)], language=Language.EN)
    await add_chat(guardian.id, Channel.TELEGRAM, "503")
    chat = Telegram(telegram_api, telegram_client, 503)

    asked = await chat.say("report")
    assert asked["text"] == "What would you like to tell the school?"
    asked = await chat.tap(chat.keys(asked)[0][1])
    asked = await chat.tap(chat.keys(asked)[1][1])
    asked = await chat.tap(chat.keys(asked)[0][1])
    cancelled = await chat.tap(chat.keys(asked)[1][1])

    assert cancelled["text"] == "Cancelled: nothing was sent to the school."
    assert await AbsenceReport.all().count() == 0


async def _line(line_client, line_api, event) -> dict:
    body = line_api.webhook_body(event)
    headers = {"X-Line-Signature": line_api.sign(body), "Content-Type": "application/json"}
    await line_client.post("/hooks/line", content=body, headers=headers)
    return line_api.replies()[-1].body["messages"][0]


def _line_choices(message: dict) -> list[tuple[str, str]]:
    if message["type"] == "template":
        return [(a["label"], a["data"]) for a in message["template"]["actions"]]
    return [(i["action"]["label"], i["action"]["data"]) for i in message["quickReply"]["items"]]


async def test_an_early_leave_by_line_buttons_in_vietnamese(database_url, line_api, line_client) -> None:
    site = await make_site()
    guardian = await make_guardian(pupils=[await make_pupil(site)], language=Language.VI)
    await add_chat(guardian.id, Channel.LINE, "Uvi")
    day = await _day_after_tomorrow_on(site, school=True)

    asked = await _line(line_client, line_api, line_api.text_event("Uvi", "report"))
    assert asked["template"]["text"] == "Bạn muốn báo gì cho nhà trường?"
    assert_one_language(asked["template"]["text"], Language.VI)
    early = _line_choices(asked)[2][1]
    asked = await _line(line_client, line_api, line_api.postback_event("Uvi", early))
    asked = await _line(
        line_client, line_api, line_api.postback_event("Uvi", _with_day(_line_choices(asked)[0][1], day))
    )
    assert len(_line_choices(asked)) == 5  # five reasons: quick replies (a template holds four)
    asked = await _line(line_client, line_api, line_api.postback_event("Uvi", _line_choices(asked)[2][1]))
    assert [label for label, _ in _line_choices(asked)] == ["11:00", "12:00", "13:00", "14:00", "15:00"]
    asked = await _line(line_client, line_api, line_api.postback_event("Uvi", _line_choices(asked)[2][1]))
    asked = await _line(line_client, line_api, line_api.postback_event("Uvi", _line_choices(asked)[1][1]))
    confirm = asked["template"]["text"]
    assert_one_language(confirm, Language.VI, names=["花子"])
    done = await _line(line_client, line_api, line_api.postback_event("Uvi", _line_choices(asked)[0][1]))

    assert_one_language(done["text"], Language.VI, names=["花子"])
    [report] = await AbsenceReport.all()
    assert (report.kind, report.via, report.at_time.strftime("%H:%M")) == (ReportKind.EARLY, ReportVia.LINE, "13:00")
    assert report.reason == ReportReason.FAMILY and report.collector == "祖父母"
