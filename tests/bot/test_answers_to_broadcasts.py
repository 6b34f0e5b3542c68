"""A broadcast's question answered in the chats: a button per choice under the notice; with two
children the tap asks for whom (each, or all), the reply says what is recorded and offers the next
child's choices; a double tap records nothing; after closing, nothing; a drill is marked."""

from __future__ import annotations

from bot.line.transport import LineTransport
from bot.telegram.transport import TelegramTransport
from core import broadcasts
from core.broadcasts import BUILTIN_TEMPLATES
from core.config import Settings
from core.delivery.worker import DeliveryWorker
from core.models import BroadcastAnswer, BroadcastAnswerChange, BroadcastCategory, Channel, Language
from core.questions import written_question
from core.scheduler import drain
from tests.bot.conftest import TELEGRAM_HEADERS as HEADERS
from tests.bot.conftest import add_chat
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language

SAFETY = BUILTIN_TEMPLATES[0].question  # 無事です / けがをしています / 迎えが必要です / 連絡がとれません


async def _family(channel: Channel, chat: str, *, language: Language = Language.JA, children: int = 2):
    site = await make_site()
    pupils = [await make_pupil(site, name) for name in ("山田 花子", "山田 一郎")[:children]]
    guardian = await make_guardian(pupils=pupils, language=language)
    await add_chat(guardian.id, channel, chat)
    return pupils, guardian


async def _asked(question=SAFETY, *, drill: bool = False) -> int:
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震発生",
        body="お子さんの安否を教えてください。",
        question=question,
        drill=drill,
    )
    await broadcasts.confirm(draft.id, by=None)
    return draft.id


async def _deliver(settings: Settings, channel: Channel) -> None:
    transport = TelegramTransport(settings.telegram) if channel is Channel.TELEGRAM else LineTransport(settings.line)
    try:
        await drain(settings, DeliveryWorker(settings, {channel: transport}), timeout=30)
    finally:
        await transport.close()


async def _tap(api, client, chat: int, data: str) -> tuple[str, list[dict]]:
    await client.post("/hooks/telegram", json=api.button_update(chat, data), headers=HEADERS)
    said = api.sent(chat=str(chat))[-1].params
    keys = [k for row in (said.get("reply_markup") or {}).get("inline_keyboard", []) for k in row]
    return said["text"], keys


async def _answers(broadcast_id: int) -> dict[int, tuple[int, str]]:
    return {a.pupil_id: (a.choice, a.channel) for a in await BroadcastAnswer.filter(broadcast_id=broadcast_id)}


async def test_two_children_are_answered_one_by_one_with_telegram_buttons(
    database_url, telegram_api, telegram_client, bot_settings
) -> None:
    (hanako, ichiro), _ = await _family(Channel.TELEGRAM, "701")
    broadcast_id = await _asked()
    await _deliver(bot_settings, Channel.TELEGRAM)

    [notice] = [m.params for m in telegram_api.sent(chat="701")]
    assert "・無事です\n・けがをしています\n・迎えが必要です\n・連絡がとれません" in notice["text"]
    assert "お子さんごとに回答してください" in notice["text"]
    keys = [k for row in notice["reply_markup"]["inline_keyboard"] for k in row]
    assert [k["text"] for k in keys] == [
        "無事です",
        "けがをしています",
        "迎えが必要です",
        "連絡がとれません",
        "回答する",
    ]
    assert all(len(k["callback_data"].encode()) <= 64 for k in keys[:4]) and "/ack/" in keys[4]["url"]
    assert await BroadcastAnswer.filter(broadcast_id=broadcast_id).count() == 0

    said, which = await _tap(telegram_api, telegram_client, 701, keys[0]["callback_data"])
    assert said == "「無事です」はどのお子さんの回答ですか？"
    assert [k["text"] for k in which] == ["花子", "一郎", "全員"]
    assert await BroadcastAnswer.filter(broadcast_id=broadcast_id).count() == 0  # not until it is said for whom

    said, next_choices = await _tap(telegram_api, telegram_client, 701, which[0]["callback_data"])
    assert said.startswith("回答を受け付けました。") and "花子：無事です" in said
    assert "一郎さんについても回答してください" in said
    assert_one_language(said, Language.JA, names=["花子", "一郎"])
    assert [k["text"] for k in next_choices] == ["無事です", "けがをしています", "迎えが必要です", "連絡がとれません"]

    said, none = await _tap(telegram_api, telegram_client, 701, next_choices[2]["callback_data"])
    assert "一郎：迎えが必要です" in said and "学校が回答を締め切るまで" in said and none == []
    assert await _answers(broadcast_id) == {hanako.id: (0, "telegram"), ichiro.id: (2, "telegram")}

    said, _ = await _tap(telegram_api, telegram_client, 701, next_choices[2]["callback_data"])  # a double tap
    assert said.startswith("この回答は受付済みです")
    assert await BroadcastAnswerChange.filter(broadcast_id=broadcast_id).count() == 2

    said, _ = await _tap(telegram_api, telegram_client, 701, which[2]["callback_data"])  # all: 無事です
    assert "花子：無事です" in said and "一郎：無事です" in said
    assert await _answers(broadcast_id) == {hanako.id: (0, "telegram"), ichiro.id: (0, "telegram")}
    history = await BroadcastAnswerChange.filter(pupil_id=ichiro.id).order_by("id").values_list("choice", flat=True)
    assert history == [2, 0]


async def test_one_child_is_answered_in_one_tap_and_a_drill_says_so_first(
    database_url, telegram_api, telegram_client, bot_settings
) -> None:
    [hanako], _ = await _family(Channel.TELEGRAM, "702", children=1)
    broadcast_id = await _asked(drill=True)
    await _deliver(bot_settings, Channel.TELEGRAM)

    [notice] = [m.params for m in telegram_api.sent(chat="702")]
    assert notice["text"].startswith("【訓練】【災害情報】地震発生")
    keys = [k for row in notice["reply_markup"]["inline_keyboard"] for k in row]

    said, more = await _tap(telegram_api, telegram_client, 702, keys[1]["callback_data"])
    assert "花子：けがをしています" in said and more == []
    assert await _answers(broadcast_id) == {hanako.id: (1, "telegram")}


async def test_bad_taps_record_nothing_and_say_why(database_url, telegram_api, telegram_client, bot_settings) -> None:
    await _family(Channel.TELEGRAM, "703")
    broadcast_id = await _asked()
    await _deliver(bot_settings, Channel.TELEGRAM)
    [notice] = [m.params for m in telegram_api.sent(chat="703")]
    token = notice["reply_markup"]["inline_keyboard"][0][0]["callback_data"].split(":")[1]

    assert (await _tap(telegram_api, telegram_client, 703, f"an:{token}:7"))[0].startswith(
        "記録されませんでした：その回答は選択肢にありません"
    )
    assert (await _tap(telegram_api, telegram_client, 703, f"an-for:{token}:0:999999"))[0].startswith(
        "記録されませんでした：回答できるのは"
    )
    assert (await _tap(telegram_api, telegram_client, 703, "an:forged-token:0"))[0] == "このボタンはもう使えません。"
    assert (await _tap(telegram_api, telegram_client, 703, f"an:{token}:x"))[0] == "このボタンはもう使えません。"
    await broadcasts.close_question(broadcast_id, by=None)
    said, keys = await _tap(telegram_api, telegram_client, 703, f"an-for:{token}:0:all")
    assert said.startswith("記録されませんでした：このお知らせへの回答は締め切られました") and keys == []
    assert await BroadcastAnswer.filter(broadcast_id=broadcast_id).count() == 0


async def test_line_gets_every_choice_as_a_postback_and_the_chat_answers_for_all_in_english(
    database_url, line_api, line_client, bot_settings
) -> None:
    (hanako, ichiro), _ = await _family(Channel.LINE, "Uask", language=Language.EN)
    five = written_question(["無事", "けが", "迎えが必要", "連絡不可", "その他"], [False, True, True, True, False])
    broadcast_id = await _asked(five, drill=True)
    await _deliver(bot_settings, Channel.LINE)

    [sent] = line_api.to("multicast") + line_api.pushed_to("Uask")  # one recipient: a push
    text, first, second = sent.body["messages"]
    assert text["text"].startswith("[DRILL] [Disaster]") and "• 無事\n" in text["text"]
    assert "Please press your answer below." in text["text"]
    actions = first["template"]["actions"] + second["template"]["actions"]  # a template holds four
    assert [a["data"] for a in actions] == [f"an-b:{broadcast_id}:{i}" for i in range(5)]

    said = await _line_postback(line_api, line_client, "Uask", actions[3]["data"])
    assert said["text"] == "For which child is your answer “連絡不可”?"
    labels = [a["label"] for a in said["template"]["actions"]]
    assert labels == ["花子", "一郎", "All children"]

    said = await _line_postback(line_api, line_client, "Uask", said["template"]["actions"][2]["data"])
    assert said["text"].startswith("Thank you: your answer is recorded.")
    assert_one_language(said["text"], Language.EN, names=["花子", "一郎", "連絡不可"])
    assert await _answers(broadcast_id) == {hanako.id: (3, "line"), ichiro.id: (3, "line")}

    stranger = await _line_postback(line_api, line_client, "Ustranger", actions[0]["data"])
    assert stranger["text"] == "このボタンはもう使えません。"  # a chat of nobody's: Japanese
    assert await BroadcastAnswerChange.filter(broadcast_id=broadcast_id).count() == 2


async def _line_postback(line_api, line_client, user: str, data: str) -> dict:
    body = line_api.webhook_body(line_api.postback_event(user, data))
    headers = {"X-Line-Signature": line_api.sign(body), "Content-Type": "application/json"}
    await line_client.post("/hooks/line", content=body, headers=headers)
    messages = line_api.replies()[-1].body["messages"]
    if messages[-1]["type"] == "template":
        return {"text": messages[-1]["template"]["text"], "template": messages[-1]["template"]}
    return messages[0]
