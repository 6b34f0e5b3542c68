"""The conversation every chat app speaks: registering, the guardian commands, staff alerts,
acknowledgements - told as what a person types and what the bot answers."""

from __future__ import annotations

import pytest

from bot.conversation import Conversation, Incoming, parse_alert, parse_command
from core import broadcasts
from core.addresses import counted_addresses
from core.config import Settings
from core.delivery.outbox import enqueue
from core.models import (
    AuditEntry,
    Broadcast,
    BroadcastAnswer,
    BroadcastCategory,
    BroadcastStatus,
    Channel,
    ContactAddress,
    Delivery,
    Guardian,
    Language,
    NoticeKind,
    StaffAccount,
    StaffRole,
)
from core.registration import issue_link_code
from core.staff_links import issue_staff_link_code
from tests.factories import make_guardian, make_passage, make_pupil, make_site
from tests.one_language import assert_one_language


def _full_width(code: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "\u3000" for c in code)


@pytest.fixture
def talk(settings: Settings):
    conversation = Conversation(settings)

    async def say(text: str = "", *, chat: str = "U1", channel: Channel = Channel.LINE, button: str | None = None):
        return await conversation.respond(Incoming(channel, chat, text=text, postback=button))

    return say


def test_command_words_in_japanese_english_and_telegram_form() -> None:
    assert parse_command("状況") == ("status", "")
    assert parse_command("/Status@MimamoriBot") == ("status", "")
    assert parse_command("／ｈｅｌｐ") == ("help", "")
    assert parse_command("警報　みどり小学校 本文") == ("alert", "みどり小学校 本文")
    assert parse_command("こんにちは") == (None, "")
    assert parse_command("警報\nall 地震\n待機") == ("alert", "all 地震\n待機")
    assert parse_command("写真オン") == parse_command("写真　オン") == ("photos_on", "")
    assert parse_command("Photos  off") == parse_command("/photos_off@MimamoriBot") == ("photos_off", "")
    assert parse_command("写真 見たい") == (None, "見たい")


def test_an_alert_may_name_its_category_and_ask_for_acknowledgement() -> None:
    assert parse_alert("みどり小学校 不審者 要確認 正門付近\n下校時注意") == (
        "みどり小学校",
        BroadcastCategory.SUSPICIOUS_PERSON,
        True,
        "正門付近\n下校時注意",
    )
    assert parse_alert("all 明日は休校です") == ("all", BroadcastCategory.GENERAL, False, "明日は休校です")
    assert parse_alert("all disaster ack") == ("all", BroadcastCategory.DISASTER, True, "")


async def test_a_guardian_registers_a_chat_by_typing_the_full_width_code(database_url, talk) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)

    reply = await talk(_full_width(code))

    assert "登録しました" in reply.text and "Registered" not in reply.text  # Japanese alone, by default
    assert_one_language(reply.text, Language.JA)
    [address] = await counted_addresses(guardian.id)
    assert (address.channel, address.value) == (Channel.LINE, "U1")
    again = await talk(code, chat="U2")
    assert "正しくないか、すでに使われています" in again.text


async def test_a_telegram_deep_link_start_registers(database_url, talk) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)
    reply = await talk(f"/start {code.replace(' ', '')}", channel=Channel.TELEGRAM, chat="4242")
    assert "登録しました" in reply.text
    [address] = await counted_addresses(guardian.id)
    assert (address.channel, address.value) == (Channel.TELEGRAM, "4242")


async def test_a_wrong_code_gets_the_same_polite_answer_and_guessing_is_slowed(database_url, talk) -> None:
    replies = [await talk("1234 5678 9012", chat="U9") for _ in range(6)]
    assert "正しくないか" in replies[0].text
    assert "分ほど待って" in replies[-1].text


async def test_at_the_limit_the_reply_names_the_registered_addresses(database_url, talk) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp", "keiko.m@docomo.ne.jp"])
    code = await issue_link_code(guardian.id)

    reply = await talk(code)

    assert "2件まで" in reply.text
    assert "メール ke***@example.jp" in reply.text and "ke***@docomo.ne.jp" in reply.text
    assert "解除" in reply.text


async def test_an_unregistered_chat_is_asked_for_its_code(database_url, talk) -> None:
    assert "登録コードを送ってください" in (await talk("こんにちは")).text
    assert "まだ登録されていません" in (await talk("状況")).text


async def test_while_the_database_is_away_a_message_gets_an_honest_not_now(database_url, talk, database_away) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    code = await issue_link_code(guardian.id)
    await database_away()
    reply = await talk(code)
    assert "一時的に利用できません" in reply.text
    assert_one_language(reply.text, Language.JA)


async def _registered(talk, **pupils) -> Guardian:
    guardian = await make_guardian(emails=["keiko@example.jp"], **pupils)
    await talk(await issue_link_code(guardian.id))
    return guardian


async def test_status_lists_todays_passages(database_url, talk) -> None:
    site = await make_site()
    pupil = await make_pupil(site, "山田 花子")
    await _registered(talk, pupils=[pupil])
    assert "まだありません" in (await talk("状況")).text
    await make_passage(pupil, site)

    reply = await talk("status")

    assert "山田 花子 みどり小学校 登校" in reply.text
    assert_one_language(reply.text, Language.JA, names=["山田 花子", "みどり小学校"])


async def test_addresses_stop_resume_and_unlink(database_url, talk) -> None:
    guardian = await _registered(talk)

    listed = await talk("登録")
    assert "（2/2）" in listed.text and "LINE" in listed.text and "このチャット" in listed.text
    assert_one_language(listed.text, Language.JA, names=["ke***@example.jp"])
    paused = await talk("停止")
    assert "停止しました" in paused.text and "「再開」で" in paused.text
    assert_one_language(paused.text, Language.JA)
    assert (await Guardian.get(id=guardian.id)).passages_paused
    assert "再開しました" in (await talk("/resume")).text
    assert not (await Guardian.get(id=guardian.id)).passages_paused
    changes = await AuditEntry.filter(action="preferences.passages_paused").order_by("id")
    assert [(e.actor, e.details) for e in changes] == [
        (f"guardian:{guardian.id}", {"passages_paused": True, "via": "line"}),
        (f"guardian:{guardian.id}", {"passages_paused": False, "via": "line"}),
    ]

    assert "解除しました" in (await talk("解除")).text
    assert [a.value for a in await counted_addresses(guardian.id)] == ["keiko@example.jp"]
    assert "まだ登録されていません" in (await talk("状況")).text


async def test_photos_on_and_off_set_the_opt_in_and_say_where_the_photo_goes(database_url, talk) -> None:
    guardian = await _registered(talk)

    on = await talk("写真　オン")

    assert "チャット（LINE・Telegram）にも送ります" in on.text and "「写真オフ」" in on.text
    assert "市のシステムの外" in on.text
    assert_one_language(on.text, Language.JA)
    assert on.menu and (await Guardian.get(id=guardian.id)).photos_in_chat
    off = await talk("photos off")
    assert "送りません" in off.text and "リンクだけです" in off.text
    assert_one_language(off.text, Language.JA)
    assert not (await Guardian.get(id=guardian.id)).photos_in_chat
    changes = await AuditEntry.filter(action="preferences.photos_in_chat").order_by("id")
    assert [(e.actor, e.details) for e in changes] == [
        (f"guardian:{guardian.id}", {"photos_in_chat": True, "via": "line"}),
        (f"guardian:{guardian.id}", {"photos_in_chat": False, "via": "line"}),
    ]


async def test_an_unregistered_chat_cannot_turn_photos_on(database_url, talk) -> None:
    guardian = await make_guardian()

    reply = await talk("写真オン", chat="U-stranger")

    assert "まだ登録されていません" in reply.text
    assert not (await Guardian.get(id=guardian.id)).photos_in_chat


async def test_help_lists_the_commands(database_url, talk) -> None:
    await _registered(talk)
    reply = await talk("ヘルプ")
    assert "状況 … 今日の登下校" in reply.text and "警報" not in reply.text
    assert "写真オン / 写真オフ" in reply.text and "photos on" not in reply.text
    assert_one_language(reply.text, Language.JA)
    assert reply.menu


async def test_the_registration_answer_is_in_the_guardians_language_with_words_they_can_type(
    database_url, talk
) -> None:
    guardian = await make_guardian(language=Language.VI)

    registered = await talk(await issue_link_code(guardian.id))

    assert registered.text.startswith("Đã đăng ký:") and "status … việc đến và rời trường hôm nay" in registered.text
    assert_one_language(registered.text, Language.VI)
    help_in_vietnamese = await talk("help")  # the chat is theirs now: every answer in their language
    assert "photos on / photos off …" in help_in_vietnamese.text
    assert_one_language(help_in_vietnamese.text, Language.VI)
    stranger = await talk("1234 5678 9012", chat="U-stranger")  # nobody's chat yet: Japanese
    assert stranger.text.startswith("登録コードが正しくないか")
    assert_one_language(stranger.text, Language.JA)


async def _linked_staff(talk, site, *, chat: str = "U-staff") -> StaffAccount:
    staff = await StaffAccount.create(login_id="kato", role=StaffRole.STAFF, password_hash="x")
    await staff.sites.add(site)
    code = await issue_staff_link_code(staff.id)
    reply = await talk(f"連携 {code.lower()}", chat=chat)
    assert "kato と連携しました" in reply.text
    return staff


async def test_staff_draft_an_alert_and_only_confirm_sends_it(database_url, talk) -> None:
    site = await make_site()
    pupil = await make_pupil(site)
    await make_guardian(pupils=[pupil], emails=["keiko@example.jp"])
    await _linked_staff(talk, site)

    preview = await talk(
        "警報 みどり小学校 不審者 要確認 正門付近で不審な人物\n下校時は複数で帰ってください。", chat="U-staff"
    )

    assert "みどり小学校" in preview.text and "1人" in preview.text
    assert "【不審者情報】正門付近で不審な人物" in preview.text
    assert [b.label for b in preview.buttons] == ["送信", "取消"]
    assert "【下書き】" in preview.text and "「送信」を押すまで送られません" in preview.text
    assert_one_language(preview.text, Language.JA, names=["LINE"])
    [draft] = await Broadcast.all()
    assert draft.status is BroadcastStatus.DRAFT and draft.ack_requested
    assert draft.category is BroadcastCategory.SUSPICIOUS_PERSON
    assert "送信を開始しました" in (await talk(chat="U-staff", button=preview.buttons[0].postback)).text
    await draft.refresh_from_db()
    assert draft.status is BroadcastStatus.CONFIRMED
    again = await talk(chat="U-staff", button=preview.buttons[1].postback)
    assert "できませんでした" in again.text  # confirmed: no longer a draft


async def test_staff_cancel_a_draft_and_refusals_are_one_clear_line(database_url, talk) -> None:
    site = await make_site()
    await _linked_staff(talk, site)
    await make_site("さくら小学校")
    not_yours = await talk("/alert さくら小学校 test", chat="U-staff")
    assert "できませんでした: さくら小学校はあなたの担当の拠点ではありません。" in not_yours.text
    assert_one_language(not_yours.text, Language.JA)
    assert "「どこか小学校」という施設はありません" in (await talk("/alert どこか小学校 test", chat="U-staff")).text
    usage = await talk("/alert", chat="U-staff")
    assert "使い方: 警報 <範囲> [不審者|休校|災害] [要確認]" in usage.text
    assert_one_language(usage.text, Language.JA, names=["all"])
    assert "児童がいません" in (await talk("/alert みどり小学校 明日は休校です", chat="U-staff")).text  # nobody to tell

    await make_guardian(pupils=[await make_pupil(site)])
    preview = await talk("/alert みどり小学校 明日は休校です", chat="U-staff")
    assert "取り消しました" in (await talk(chat="U-staff", button=preview.buttons[1].postback)).text
    [draft] = await Broadcast.all()
    assert draft.status is BroadcastStatus.CANCELLED


async def test_a_guardian_cannot_alert_or_press_staff_buttons(database_url, talk) -> None:
    await _registered(talk)
    assert "スタッフ専用" in (await talk("警報 all 地震")).text
    assert "スタッフ専用" in (await talk(button="bc-confirm:1")).text
    assert "正しくないか、期限" in (await talk("連携 ABCD-EFGH-JKMN")).text


async def test_acknowledgement_buttons_record_the_acknowledgement(database_url, talk) -> None:
    site = await make_site()
    guardian = await make_guardian(pupils=[await make_pupil(site)])
    await talk(await issue_link_code(guardian.id), chat="U1")
    await talk(await issue_link_code(guardian.id), channel=Channel.TELEGRAM, chat="77")
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震",
        body="学校で待機します。",
        ack_requested=True,
    )
    await broadcasts.confirm(draft.id, by=None)
    telegram = await ContactAddress.get(channel=Channel.TELEGRAM, guardian_id=guardian.id)
    delivery = await enqueue(
        kind=NoticeKind.BROADCAST, fact=f"broadcast:{draft.id}", address=telegram, broadcast_id=draft.id
    )

    assert (
        "確認を受け付けました"
        in (await talk(channel=Channel.TELEGRAM, chat="77", button=f"ack:{delivery.ack_token}")).text
    )
    assert (await BroadcastAnswer.get(broadcast_id=draft.id)).channel == "telegram"
    assert "使えません" in (await talk(channel=Channel.TELEGRAM, chat="77", button="ack:nonsense")).text


async def test_a_line_postback_acknowledges_by_the_chat_it_came_from(database_url, talk) -> None:
    guardian = await _registered(talk, pupils=[await make_pupil(await make_site())])
    draft = await broadcasts.create_draft(
        author=None,
        scope=broadcasts.Scope(),
        category=BroadcastCategory.DISASTER,
        title="地震",
        body="学校で待機します。",
        ack_requested=True,
    )
    await broadcasts.confirm(draft.id, by=None)
    line = await ContactAddress.get(channel=Channel.LINE, guardian_id=guardian.id)
    await enqueue(kind=NoticeKind.BROADCAST, fact=f"broadcast:{draft.id}", address=line, broadcast_id=draft.id)

    assert "確認を受け付けました" in (await talk(button=f"ack-broadcast:{draft.id}")).text
    assert await BroadcastAnswer.filter(broadcast_id=draft.id, guardian_id=guardian.id).exists()
    assert "使えません" in (await talk(chat="U-other", button=f"ack-broadcast:{draft.id}")).text
    assert await Delivery.filter(broadcast_id=draft.id).count() == 1


async def test_every_guardian_reply_is_in_the_guardians_language_alone(database_url, talk) -> None:
    site = await make_site()
    pupil = await make_pupil(site, "Nguyen An")
    for language, chat in ((Language.EN, "U-en"), (Language.PT_BR, "U-pt"), (Language.JA_EASY, "U-easy")):
        guardian = await make_guardian(language=language, pupils=[pupil], emails=[f"{chat}@example.jp"])
        await talk(await issue_link_code(guardian.id), chat=chat)
        words = ("help", "status", "addresses", "stop", "resume", "photos on", "photos off", "unlink")
        for typed in words:
            reply = await talk(typed, chat=chat)
            assert_one_language(reply.text, language, names=["Nguyen An", "みどり小学校", *words, "U-***@example.jp"])
    guardian = await make_guardian(language=Language.PT_BR)
    await talk(await issue_link_code(guardian.id), chat="U-pt")
    assert (await talk("status", chat="U-pt")).text == "Nada registrado hoje ainda."
    staff_only = await talk("alert all test", chat="U-pt")
    assert staff_only.text.startswith("Este comando é para funcionários.")
    assert_one_language(staff_only.text, Language.PT_BR, names=["link"])


async def test_staff_replies_are_in_the_staff_members_language(database_url, talk) -> None:
    site = await make_site()
    await make_guardian(pupils=[await make_pupil(site)], emails=["keiko@example.jp"])
    staff = await StaffAccount.create(login_id="kato", role=StaffRole.STAFF, password_hash="x", language=Language.EN)
    await staff.sites.add(site)

    linked = await talk(f"link {await issue_staff_link_code(staff.id)}", chat="U-staff")
    preview = await talk("alert みどり小学校 suspicious The gate is closed today", chat="U-staff")
    refused = await talk("alert どこか小学校 test", chat="U-staff")

    assert linked.text.startswith("Linked to staff account kato.") and "Usage: alert <scope>" in linked.text
    assert_one_language(linked.text, Language.EN, names=["kato"])
    assert preview.text.startswith("[Draft]\nScope: みどり小学校\nGuardians: 1")
    assert_one_language(preview.text, Language.EN, names=["みどり小学校"])
    assert [b.label for b in preview.buttons] == ["Confirm", "Cancel"] and preview.prompt == "Please choose"
    assert refused.text == "Not done: There is no site named どこか小学校."
    confirmed = await talk(chat="U-staff", button=preview.buttons[0].postback)
    assert confirmed.text.startswith("Sending has started (No.")
