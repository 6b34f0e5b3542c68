"""LINE: the conversation through the signed webhook, against a fake Messaging API."""

from __future__ import annotations

from core.addresses import counted_addresses
from core.delivery.outbox import enqueue
from core.models import (
    AddressStatus,
    Broadcast,
    BroadcastAnswer,
    BroadcastStatus,
    Channel,
    Delivery,
    Language,
    NoticeKind,
    StaffAccount,
    StaffRole,
)
from core.registration import issue_link_code
from core.staff_links import issue_staff_link_code
from tests.bot.conftest import add_chat, drain_outbox
from tests.factories import make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language


async def _post(line_client, line_api, *events, signature: str | None = None, body: bytes | None = None):
    body = body if body is not None else line_api.webhook_body(*events)
    headers = {
        "X-Line-Signature": signature if signature is not None else line_api.sign(body),
        "Content-Type": "application/json",
    }
    return await line_client.post("/hooks/line", content=body, headers=headers)


def _reply_text(call) -> str:
    return call.body["messages"][0]["text"]


async def test_a_typed_code_registers_the_line_user_and_the_reply_offers_the_commands(
    database_url, line_api, line_client
) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)

    response = await _post(line_client, line_api, line_api.text_event("U4af4980629", f"登録コード {code}"))

    assert response.status_code == 200
    [reply] = line_api.replies()
    assert "登録しました" in _reply_text(reply)
    items = reply.body["messages"][0]["quickReply"]["items"]
    assert [i["action"]["text"] for i in items] == [
        "状況",
        "欠席連絡",
        "登録",
        "停止",
        "再開",
        "写真オン",
        "写真オフ",
        "解除",
        "ヘルプ",
    ]
    [address] = await counted_addresses(guardian.id)
    assert (address.channel, address.value) == (Channel.LINE, "U4af4980629")


async def test_the_quick_replies_are_labelled_in_the_guardians_language_and_send_command_words(
    database_url, line_api, line_client
) -> None:
    guardian = await make_guardian(language=Language.ZH_HANS)
    code = await issue_link_code(guardian.id)

    await _post(line_client, line_api, line_api.text_event("U-zh", code))

    [reply] = line_api.replies()
    assert_one_language(_reply_text(reply), Language.ZH_HANS)
    items = [i["action"] for i in reply.body["messages"][0]["quickReply"]["items"]]
    assert [(a["label"], a["text"]) for a in items][:4] == [
        ("今天", "status"),
        ("缺席/迟到", "report"),
        ("通知地址", "addresses"),
        ("暂停", "stop"),
    ]
    assert_one_language(" ".join(a["label"] for a in items), Language.ZH_HANS)
    assert all(len(a["label"]) <= 20 for a in items)


async def test_a_bad_or_missing_signature_is_refused_before_anything_is_read(
    database_url, line_api, line_client
) -> None:
    body = line_api.webhook_body(line_api.text_event("U1", "ヘルプ"))
    assert (await _post(line_client, line_api, body=body, signature="")).status_code == 401
    assert (await _post(line_client, line_api, body=body, signature=line_api.sign(b"other"))).status_code == 401
    assert line_api.calls == []


async def test_garbage_with_a_good_signature_is_a_400_never_a_500(database_url, line_api, line_client) -> None:
    for body in (b"not json", b"[]", b'{"events": 5}', b'{"events": [{"type": "message"}]}', b"\xff\xfe"):
        response = await _post(line_client, line_api, body=body)
        assert response.status_code == 400, body
    verify = b'{"destination": "Ubot", "events": []}'  # the console's "Verify" button
    assert (await _post(line_client, line_api, body=verify)).status_code == 200


async def test_a_redelivered_event_is_processed_once(database_url, line_api, line_client) -> None:
    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)
    event = line_api.text_event("U1", code, event_id="01HZZZREDELIVERED000000001")
    again = {**event, "deliveryContext": {"isRedelivery": True}}

    assert (await _post(line_client, line_api, event)).status_code == 200
    assert (await _post(line_client, line_api, again)).status_code == 200

    [reply] = line_api.replies()
    assert "登録しました" in _reply_text(reply)  # not a second "already used" answer


async def test_staff_alert_shows_the_line_quota_and_confirms_by_postback(database_url, line_api, line_client) -> None:
    site = await make_site()
    for n in range(3):
        guardian = await make_guardian(f"保護者 {n}", pupils=[await make_pupil(site, f"児童 {n}")])
        await add_chat(guardian.id, Channel.LINE, f"U{n:04d}")
    staff = await StaffAccount.create(login_id="kato", role=StaffRole.STAFF, password_hash="x")
    await staff.sites.add(site)
    line_api.monthly_limit, line_api.used = 1000, 990

    await _post(line_client, line_api, line_api.text_event("Ustaff", f"連携 {await issue_staff_link_code(staff.id)}"))
    await _post(line_client, line_api, line_api.text_event("Ustaff", "警報 みどり小学校:3 不審者情報 通学路に注意"))

    preview = line_api.replies()[-1]
    text, buttons = preview.body["messages"]
    assert "LINEメッセージ使用 3通、送信後の今月の残り 7通" in text["text"]
    actions = buttons["template"]["actions"]
    assert [(a["type"], a["label"]) for a in actions] == [("postback", "送信"), ("postback", "取消")]
    assert buttons["template"]["text"] == "選択してください"
    await _post(line_client, line_api, line_api.postback_event("Ustaff", actions[0]["data"]))

    assert (await Broadcast.get()).status is BroadcastStatus.CONFIRMED
    assert "送信を開始しました" in _reply_text(line_api.replies()[-1])


async def test_blocking_the_account_makes_the_address_inactive_and_following_again_restores_it(
    database_url, line_api, line_client
) -> None:
    guardian = await make_guardian(emails=["keiko@example.jp"])
    chat = await add_chat(guardian.id, Channel.LINE, "U1")

    await _post(line_client, line_api, line_api.follow_event("U1", unfollow=True))

    await chat.refresh_from_db()
    assert chat.status is AddressStatus.INACTIVE
    [told] = await Delivery.filter(kind=NoticeKind.ADDRESS_INACTIVE)
    assert told.channel is Channel.EMAIL
    await _post(line_client, line_api, line_api.follow_event("U1"))
    await chat.refresh_from_db()
    assert chat.status is AddressStatus.ACTIVE
    assert "使えるコマンド" in _reply_text(line_api.replies()[-1])


async def test_a_postback_acknowledges_a_broadcast(database_url, line_api, line_client) -> None:
    guardian = await make_guardian(pupils=[await make_pupil(await make_site())])  # answers are per child
    chat = await add_chat(guardian.id, Channel.LINE, "U1")
    broadcast = await Broadcast.create(
        scope={"all": True},
        category="disaster",
        title="地震",
        body="待機",
        ack_requested=True,
        status=BroadcastStatus.FANNED_OUT,
    )
    await enqueue(kind=NoticeKind.BROADCAST, fact=f"broadcast:{broadcast.id}", address=chat, broadcast_id=broadcast.id)

    await _post(line_client, line_api, line_api.postback_event("U1", f"ack-broadcast:{broadcast.id}"))

    assert "確認を受け付けました" in _reply_text(line_api.replies()[-1])
    assert await BroadcastAnswer.filter(broadcast_id=broadcast.id, guardian_id=guardian.id).count() == 1


async def test_with_the_messaging_api_away_line_gets_200_and_the_reply_arrives_once_it_is_back(
    database_url, line_api, line_client, bot_settings
) -> None:
    from bot.line.transport import LineTransport

    guardian = await make_guardian()
    code = await issue_link_code(guardian.id)
    await line_api.stop()  # LINE's API is away; its webhook calls still arrive

    response = await _post(line_client, line_api, line_api.text_event("U4af4980629", f"登録コード {code}"))

    assert response.status_code == 200  # no 500: LINE would only redeliver what is already done
    [address] = await counted_addresses(guardian.id)
    assert address.value == "U4af4980629"
    stored = await Delivery._meta.db.execute_query_dict("SELECT * FROM delivery WHERE kind = 'reply'")
    assert len(stored) == 1 and "U4af4980629" not in str(stored)  # the chat is sealed in the payload
    await line_api.start()
    await drain_outbox(bot_settings, Channel.LINE, LineTransport(bot_settings.line))
    [push] = line_api.pushed_to("U4af4980629")
    assert "登録しました" in push.body["messages"][0]["text"]
    assert line_api.replies() == []


async def test_a_reply_line_answers_with_a_5xx_is_pushed_later(
    database_url, line_api, line_client, bot_settings
) -> None:
    from bot.line.transport import LineTransport

    line_api.fail("reply", 500, "internal error")
    assert (await _post(line_client, line_api, line_api.text_event("U77", "ヘルプ"))).status_code == 200
    await drain_outbox(bot_settings, Channel.LINE, LineTransport(bot_settings.line))
    assert len(line_api.pushed_to("U77")) == 1
