"""Reading delivery status notifications as different mail servers write them."""

from __future__ import annotations

from mail.bounces import Report, is_bounce, read_report
from mail.inbound import parse_mail


def _report(status_part: str, original_part: str) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.example.jp\r\nTo: mimamori@city.example.jp\r\nSubject: failure\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type="delivery-status"; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=iso-2022-jp\r\n\r\nundeliverable\r\n"
        f"--b\r\n{status_part}\r\n--b\r\n{original_part}\r\n--b--\r\n"
    ).encode()


STATUS = (
    "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.jp\r\n"
    "Arrival-Date: Wed, 25 Nov 2026 10:00:00 +0900\r\n\r\n"
    "Original-Recipient: rfc822;kept@example.jp\r\nFinal-Recipient: rfc822;kept@example.jp\r\n"
    "Action: delivered\r\nStatus: 2.0.0\r\n\r\n"
    "Final-Recipient: rfc822;gone@example.jp\r\nAction: failed\r\nStatus: 5.2.1\r\n"
    "Diagnostic-Code: smtp; 550 5.2.1 mailbox disabled\r\n"
)


def test_a_report_with_the_whole_original_message() -> None:
    mail = parse_mail(
        _report(
            STATUS,
            "Content-Type: message/rfc822\r\n\r\nMessage-ID: <mimamori-7-abc@city.example.jp>\r\n"
            "Subject: notice\r\n\r\nthe original text\r\n",
        )
    )
    report = read_report(mail)
    assert is_bounce(mail) and report is not None
    assert report.permanent and report.original_message_id == "<mimamori-7-abc@city.example.jp>"
    assert report.reason == "mailbox disabled (550 5.2.1)"
    assert "the original text" not in mail.text  # the returned mail is not the sender's text


def test_a_delay_warning_is_not_permanent_and_a_read_receipt_is_no_delivery_report() -> None:
    delayed = parse_mail(
        _report(
            "Content-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
            "Final-Recipient: rfc822;slow@example.jp\r\nAction: delayed\r\nStatus: 4.4.1\r\n",
            "Content-Type: text/rfc822-headers\r\n\r\nMessage-ID: <mimamori-8-abc@city.example.jp>\r\n",
        )
    )
    assert read_report(delayed) == Report(False, "delivery failed", "<mimamori-8-abc@city.example.jp>")
    receipt = parse_mail(
        b"From: parent@example.jp\r\nTo: mimamori@city.example.jp\r\nSubject: read\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n\r\n--b--\r\n'
    )
    assert is_bounce(receipt) and read_report(receipt) is None  # handled as machine mail: never answered
