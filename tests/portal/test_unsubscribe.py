"""One-click unsubscribe (RFC 8058): a guardian's mail provider stops broadcasts to one address,
never passage notices; the other address is told, staff and support see it, the guardian resumes."""

from __future__ import annotations

from urllib.parse import urlsplit

from core.addresses import add_verified_address
from core.models import AuditEntry, BroadcastCategory, Channel, ContactAddress, Delivery, NoticeKind, StaffRole
from core.passwords import Passwords
from tests.delivery.conftest import deliver, mail_settings  # noqa: F401 (fixtures)
from tests.factories import confirmed_broadcast, make_guardian, queue_passage_notice
from tests.mailsink import MailSink, ReceivedMail
from tests.portal.conftest import Family, log_in_guardian, log_in_staff, staff_account

ONE_CLICK = {"content": b"List-Unsubscribe=One-Click", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}


async def _broadcast(title: str) -> int:
    return await confirmed_broadcast(
        "みどり小学校", title=title, body="明日の行事についてのお知らせです。", category=BroadcastCategory.GENERAL
    )


async def _passage_notice(guardian_id: int) -> None:
    for address in await ContactAddress.filter(guardian_id=guardian_id):
        await queue_passage_notice(address, fact="passage:7")


def _one_click_path(mail: ReceivedMail) -> str:
    """The https URL of the mail's List-Unsubscribe, as the path to ask the app for."""
    [url] = [u.strip().strip("<>") for u in str(mail.message["List-Unsubscribe"]).split(",") if "https://" in u]
    return urlsplit(url).path


def _titles(mail_sink: MailSink, to: str) -> list[str]:
    return [m.message["Subject"] for m in mail_sink.to(to)]


async def test_one_click_stops_broadcasts_to_that_address_and_never_passage_notices(
    new_browser, passwords: Passwords, family: Family, deliver, mail_sink: MailSink
) -> None:
    guardian = family.guardian
    await make_guardian("鈴木 裕子", pupils=[family.pupil], emails=["yuko@example.jp"])  # someone else in scope
    for value in ("keiko@example.jp", "keiko.m@docomo.ne.jp"):
        await add_verified_address(guardian.id, Channel.EMAIL, value, limit=2)
    await _broadcast("運動会のお知らせ")
    await deliver()
    [first] = mail_sink.to("keiko@example.jp")
    path = _one_click_path(first)
    entries = await AuditEntry.all().count()

    provider = new_browser()  # the mail provider: no session, no cookie, no CSRF token of ours
    scanner = await provider.client.get(path)  # mail scanners fetch every link: that stops nothing
    assert scanner.status_code == 200 and 'name="List-Unsubscribe" value="One-Click"' in scanner.text
    assert "ke***@example.jp" in scanner.text and "keiko@example.jp" not in scanner.text
    assert await AuditEntry.all().count() == entries
    assert await ContactAddress.filter(broadcasts_stopped_at__isnull=False).count() == 0

    clicked = await provider.client.post(path, **ONE_CLICK)
    assert clicked.status_code == 200
    assert (
        "一斉連絡（緊急連絡を含む）は停止しています" in clicked.text
        and "登下校のお知らせは引き続き届きます" in clicked.text
    )
    again = await provider.client.post(path, **ONE_CLICK)  # a provider may retry: one stop, told once
    assert again.status_code == 200

    await _broadcast("遠足の持ち物")
    await _passage_notice(guardian.id)
    await deliver()
    assert _titles(mail_sink, "keiko@example.jp") == ["【お知らせ】運動会のお知らせ", "【見守り】花子さん 登校 7:58"]
    other = _titles(mail_sink, "keiko.m@docomo.ne.jp")
    assert other.count("【見守り】メール（ke***@example.jp）への一斉連絡を停止しました") == 1
    assert "【お知らせ】遠足の持ち物" in other and any("登校" in t for t in other)
    assert "【お知らせ】遠足の持ち物" in _titles(mail_sink, "yuko@example.jp")
    told = next(m for m in mail_sink.to("keiko.m@docomo.ne.jp") if "停止しました" in m.message["Subject"])
    assert "https://mimamori.city.example.jp/addresses" in told.text and "List-Unsubscribe" not in told.message

    stops = await AuditEntry.filter(action="address.stop_broadcasts")
    assert [(e.actor, e.details) for e in stops] == [
        (f"guardian:{guardian.id}", {"channel": "email", "via": "one-click"})
    ]


async def test_a_forged_or_altered_token_is_a_404_and_records_nothing(
    new_browser, family: Family, deliver, mail_sink: MailSink
) -> None:
    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    await _broadcast("運動会のお知らせ")
    await deliver()
    path = _one_click_path(mail_sink.received[0])
    entries = await AuditEntry.all().count()
    provider = new_browser()
    for forged in (
        f"/unsubscribe/{address.id}-{'0' * 20}",  # the right id, a made-up tag
        path[:-1] + ("0" if path[-1] != "0" else "1"),  # one character changed
        path.replace(f"/{address.id}-", f"/{address.id + 1}-"),  # another address's id with this tag
        f"/unsubscribe/{2**40}-{'0' * 20}",
        "/unsubscribe/nothing",
    ):
        assert (await provider.client.post(forged, **ONE_CLICK)).status_code == 404, forged
        assert (await provider.client.get(forged)).status_code == 404, forged
    refused = await provider.client.post(path, content=b"", headers=ONE_CLICK["headers"])  # not RFC 8058's body
    assert refused.status_code == 400
    assert await AuditEntry.all().count() == entries
    await address.refresh_from_db()
    assert address.broadcasts_stopped_at is None


async def test_the_guardian_staff_and_support_see_it_and_the_guardian_resumes(
    new_browser, passwords: Passwords, family: Family, deliver, mail_sink: MailSink
) -> None:
    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "keiko@example.jp", limit=2)
    await _broadcast("運動会のお知らせ")
    await deliver()
    provider = new_browser()
    assert (await provider.client.post(_one_click_path(mail_sink.received[0]), **ONE_CLICK)).status_code == 200

    stopped_broadcast = await _broadcast("遠足の持ち物")
    await deliver()
    assert len(mail_sink.to("keiko@example.jp")) == 1  # the second broadcast did not go there
    teacher = new_browser()
    await log_in_staff(teacher, await staff_account(passwords, "sensei", StaffRole.STAFF, [family.site.name]))
    status = await teacher.get(f"/staff/broadcasts/{stopped_broadcast}")
    assert family.guardian.login_id in status.text and "一斉連絡の受信を停止" in status.text
    desk = new_browser()
    await log_in_staff(desk, await staff_account(passwords, "desk", StaffRole.SUPPORT))
    account = await desk.get(f"/support/guardians/{family.guardian.id}")
    assert "一斉連絡を停止中（配信停止リンクから）" in account.text

    parent = new_browser()
    await log_in_guardian(parent, family.guardian)
    page = await parent.get("/addresses")
    assert "一斉連絡（緊急連絡を含む）は停止中です" in page.text and "登下校のお知らせは届きます" in page.text
    resumed = await parent.post(f"/addresses/{address.id}/resume-broadcasts")
    assert resumed.status_code == 303
    page = await parent.get("/addresses")
    assert "停止中です" not in page.text and "一斉連絡を再開" not in page.text
    [entry] = await AuditEntry.filter(action="address.resume_broadcasts")
    assert entry.actor == f"guardian:{family.guardian.id}" and entry.details == {"channel": "email", "via": "portal"}

    await _broadcast("授業参観")
    await deliver()
    assert [t for t in _titles(mail_sink, "keiko@example.jp")] == [
        "【お知らせ】運動会のお知らせ",
        "【お知らせ】授業参観",
    ]
    assert not await Delivery.filter(kind=NoticeKind.BROADCASTS_STOPPED).exists()  # no other address to tell
