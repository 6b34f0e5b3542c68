"""Telegram: the conversation through the webhook and long polling, against a fake Bot API."""

from __future__ import annotations

import asyncio

from bot.conversation import Conversation
from bot.telegram.adapter import run_polling, telegram_bot, telegram_dispatcher
from core.addresses import counted_addresses
from core.models import Broadcast, BroadcastStatus, Channel, Language, StaffAccount, StaffRole
from core.registration import issue_link_code
from core.staff_links import issue_staff_link_code
from tests.bot.conftest import TELEGRAM_HEADERS as HEADERS
from tests.bot.conftest import drain_outbox
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language


async def test_a_deep_link_start_through_the_webhook_registers_and_answers(
    database_url, telegram_api, telegram_client
) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)

    response = await telegram_client.post(
        "/hooks/telegram", json=telegram_api.text_update(4242, f"/start {code.replace(' ', '')}"), headers=HEADERS
    )

    assert response.status_code == 200
    [answer] = telegram_api.sent(chat="4242")
    assert "登録しました" in answer.params["text"]
    [address] = await counted_addresses(guardian.id)
    assert (address.channel, address.value) == (Channel.TELEGRAM, "4242")


async def test_the_webhook_refuses_a_wrong_secret_and_garbage(database_url, telegram_api, telegram_client) -> None:
    update = telegram_api.text_update(1, "ヘルプ")
    assert (await telegram_client.post("/hooks/telegram", json=update)).status_code == 403
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
    assert (await telegram_client.post("/hooks/telegram", json=update, headers=wrong)).status_code == 403
    for body in (b"not json", b"[1,2]", b'{"update_id": "x"}', b"\xff\xfe"):
        response = await telegram_client.post("/hooks/telegram", content=body, headers=HEADERS)
        assert response.status_code == 400
    assert telegram_api.sent() == []


async def test_an_update_sent_again_is_answered_once(database_url, telegram_api, telegram_client) -> None:
    update = telegram_api.text_update(7, "help")
    for _ in range(2):
        assert (await telegram_client.post("/hooks/telegram", json=update, headers=HEADERS)).status_code == 200
    assert len(telegram_api.sent(chat="7")) == 1


async def test_a_registered_chat_gets_the_command_menu_in_its_guardians_language(
    database_url, telegram_api, telegram_client
) -> None:
    guardian = await make_guardian(language=Language.VI)
    code = await issue_link_code(guardian.id)

    update = telegram_api.text_update(4243, f"/start {code.replace(' ', '')}")
    assert (await telegram_client.post("/hooks/telegram", json=update, headers=HEADERS)).status_code == 200

    [answer] = telegram_api.sent(chat="4243")
    assert answer.params["text"].startswith("Đã đăng ký:")
    [chat_menu] = telegram_api.sent("setMyCommands")
    assert chat_menu.params["scope"] == {"type": "chat", "chat_id": 4243}
    commands = chat_menu.params["commands"]
    assert [c["command"] for c in commands][:3] == ["status", "report", "addresses"] and "alert" not in str(commands)
    assert_one_language(" / ".join(c["description"] for c in commands), Language.VI)


async def test_staff_alert_preview_has_confirm_and_cancel_buttons_and_confirm_sends(
    database_url, telegram_api, telegram_client
) -> None:
    site = await make_site()
    await make_guardian(pupils=[await make_pupil(site)], emails=["keiko@example.jp"])
    staff = await StaffAccount.create(login_id="kato", role=StaffRole.STAFF, password_hash="x")
    await staff.sites.add(site)

    async def send(update) -> None:
        assert (await telegram_client.post("/hooks/telegram", json=update, headers=HEADERS)).status_code == 200

    await send(telegram_api.text_update(55, f"/link {await issue_staff_link_code(staff.id)}"))
    [staff_menu] = telegram_api.sent("setMyCommands")
    assert staff_menu.params["scope"] == {"type": "chat", "chat_id": 55}
    assert "alert" in [c["command"] for c in staff_menu.params["commands"]]
    await send(telegram_api.text_update(55, "/alert みどり小学校 不審者情報 正門付近"))

    preview = telegram_api.sent(chat="55")[-1]
    assert preview.params["text"].startswith("【下書き】")
    [[confirm, cancel]] = preview.params["reply_markup"]["inline_keyboard"]
    assert (confirm["text"], cancel["text"]) == ("送信", "取消")
    await send(telegram_api.button_update(55, confirm["callback_data"]))

    assert (await Broadcast.get()).status is BroadcastStatus.CONFIRMED
    assert "送信を開始しました" in telegram_api.sent(chat="55")[-1].params["text"]
    assert telegram_api.sent("answerCallbackQuery")


async def _poll_until_answered(telegram_api, bot_settings, chat: str) -> None:
    bot = telegram_bot(bot_settings.telegram)
    stop = asyncio.Event()
    dispatcher = telegram_dispatcher(Conversation(bot_settings))
    polling = asyncio.create_task(run_polling(bot, dispatcher, stop, polling_timeout=1, restart_delay=0.1))
    for _ in range(3000):
        if telegram_api.sent(chat=chat):
            break
        await asyncio.sleep(0.01)
    stop.set()
    await asyncio.wait_for(polling, 10)
    await bot.session.close()


async def test_long_polling_answers_and_stops_cleanly(database_url, telegram_api, bot_settings) -> None:
    telegram_api.queue_update(telegram_api.text_update(99, "状況"))

    await _poll_until_answered(telegram_api, bot_settings, "99")

    [answer] = telegram_api.sent(chat="99")
    assert "まだ登録されていません" in answer.params["text"]
    default, *by_language = telegram_api.sent("setMyCommands")
    assert [c["command"] for c in default.params["commands"]] == [
        "status",
        "report",
        "addresses",
        "stop",
        "resume",
        "photos_on",
        "photos_off",
        "unlink",
        "help",
    ]
    assert "language_code" not in default.params and default.params["commands"][0]["description"] == "今日の登下校"
    menus = {m.params["language_code"]: m.params["commands"] for m in by_language}
    assert sorted(menus) == ["en", "pt", "vi", "zh"]
    assert menus["vi"][0] == {"command": "status", "description": "việc đến và rời trường hôm nay"}
    for code, language in (("en", Language.EN), ("zh", Language.ZH_HANS), ("pt", Language.PT_BR)):
        assert_one_language(" / ".join(c["description"] for c in menus[code]), language)


async def test_polling_survives_a_failing_api(database_url, telegram_api, bot_settings) -> None:
    telegram_api.fail("deleteWebhook", 502, "Bad Gateway")  # at start: the supervisor restarts
    telegram_api.fail("getUpdates", 500, "Internal Server Error", times=2)  # aiogram backs off
    telegram_api.queue_update(telegram_api.text_update(98, "ヘルプ"))

    await _poll_until_answered(telegram_api, bot_settings, "98")

    assert len(telegram_api.sent("deleteWebhook")) >= 2
    [answer] = telegram_api.sent(chat="98")
    assert "登録コード" in answer.params["text"]


async def test_with_the_bot_api_away_telegram_gets_200_and_the_answer_arrives_once_it_is_back(
    database_url, telegram_api, telegram_client, bot_settings
) -> None:
    from bot.telegram.transport import TelegramTransport

    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)
    update = telegram_api.text_update(4242, f"/start {code.replace(' ', '')}")
    await telegram_api.stop()  # the Bot API is away; its webhook calls still arrive

    response = await telegram_client.post("/hooks/telegram", json=update, headers=HEADERS)

    assert response.status_code == 200
    [address] = await counted_addresses(guardian.id)
    assert address.value == "4242"
    await telegram_api.start()
    await drain_outbox(bot_settings, Channel.TELEGRAM, TelegramTransport(bot_settings.telegram))
    [answer] = telegram_api.sent(chat="4242")
    assert "登録しました" in answer.params["text"]


async def test_a_button_pressed_while_the_bot_api_is_away_is_answered_later(
    database_url, telegram_api, telegram_client, bot_settings
) -> None:
    from bot.telegram.transport import TelegramTransport

    update = telegram_api.button_update(77, "help")
    await telegram_api.stop()
    assert (await telegram_client.post("/hooks/telegram", json=update, headers=HEADERS)).status_code == 200
    await telegram_api.start()
    await drain_outbox(bot_settings, Channel.TELEGRAM, TelegramTransport(bot_settings.telegram))
    assert len(telegram_api.sent(chat="77")) == 1
