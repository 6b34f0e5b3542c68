"""Every route, walked by every role: who may do what.

Outcomes: ``ok`` (the role got past the checks: a page, a redirect onwards, a form error),
``login`` (sent to log in), ``403`` (logged in, wrong role), ``404`` (someone else's thing).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from core import broadcasts, unsubscribe, zones
from core.addresses import add_verified_address
from core.channels.line_photos import chat_photo_token
from core.models import (
    AbsenceReport,
    BroadcastCategory,
    CalendarDayKind,
    CalendarEntry,
    Channel,
    Delivery,
    Gate,
    NoticeKind,
    QuestionTemplate,
    ReportKind,
    ReportVia,
    StaffRole,
)
from core.passwords import Passwords
from portal.security import CSRF_EXEMPT
from tests.factories import make_pupil, make_site
from tests.portal.conftest import (
    Browser,
    guardian_with_password,
    log_in_guardian,
    log_in_staff,
    passage_with_photo,
    staff_account,
)
from tests.portal.test_answers import answer_link

SAFETY = broadcasts.BUILTIN_TEMPLATES[0].question

ROLES = ("anonymous", "guardian_b", "staff_other_site", "support", "staff_own_site", "admin", "guardian_a")
EVERYONE = dict.fromkeys(ROLES, "ok")
GUARDIANS = {
    "anonymous": "login",
    "guardian_a": "ok",
    "guardian_b": "ok",
    "staff_other_site": "403",
    "staff_own_site": "403",
    "support": "403",
    "admin": "403",
}
GUARDIAN_A_ONLY = {**GUARDIANS, "guardian_b": "404"}
LOGGED_IN = {**EVERYONE, "anonymous": "login"}
ANY_STAFF = {**LOGGED_IN, "guardian_a": "403", "guardian_b": "403"}
BROADCASTERS = {**ANY_STAFF, "support": "403"}
SITE_A_BROADCASTERS = {**BROADCASTERS, "staff_other_site": "404"}
SUPPORT = {**ANY_STAFF, "staff_other_site": "403", "staff_own_site": "403"}
ADMIN = {**SUPPORT, "support": "403"}
NOT_THAT_GUARDIANS = {**SUPPORT, "support": "404", "admin": "404"}
PHOTO = {
    "anonymous": "login",
    "guardian_a": "ok",
    "guardian_b": "404",
    "staff_other_site": "404",
    "staff_own_site": "ok",
    "support": "404",
    "admin": "404",
}
STAFF_TOTP = {**EVERYONE, "anonymous": "login", "guardian_a": "login", "guardian_b": "login"}

MATRIX: list[tuple[str, str, dict[str, str]]] = [
    ("GET", "/", EVERYONE),
    ("GET", "/healthz", EVERYONE),
    ("GET", "/readyz", EVERYONE),
    ("GET", "/language", EVERYONE),
    ("POST", "/language", EVERYONE),
    ("GET", "/login", EVERYONE),
    ("POST", "/login", EVERYONE),
    ("GET", "/staff/login", EVERYONE),
    ("POST", "/staff/login", EVERYONE),
    ("GET", "/password", LOGGED_IN),
    ("POST", "/password", LOGGED_IN),
    ("GET", "/staff/totp", STAFF_TOTP),
    ("POST", "/staff/totp", STAFF_TOTP),
    ("GET", "/home", GUARDIANS),
    ("GET", "/ack/{token}", EVERYONE),
    ("POST", "/ack/{token}", EVERYONE),
    ("POST", "/broadcasts/{broadcast_id}/ack", GUARDIAN_A_ONLY),
    ("GET", "/broadcasts/{broadcast_id}/answer", GUARDIAN_A_ONLY),
    ("POST", "/broadcasts/{broadcast_id}/answer", GUARDIAN_A_ONLY),
    ("GET", "/photos/{token}", PHOTO),
    ("GET", "/photos/{token}/image", PHOTO),
    ("GET", "/chat-photos/{token}", EVERYONE),  # the link LINE fetches is the credential
    ("GET", "/chat-photos/{token}/preview", EVERYONE),
    ("GET", "/unsubscribe/{token}", EVERYONE),  # a broadcast's unsubscribe link is the credential
    ("POST", "/unsubscribe/{token}", EVERYONE),
    ("GET", "/addresses", GUARDIANS),
    ("POST", "/addresses", GUARDIANS),
    ("POST", "/addresses/chat-code", GUARDIANS),
    ("POST", "/addresses/webpush", GUARDIANS),
    ("GET", "/manifest.webmanifest", EVERYONE),  # the installable app's, and its worker
    ("GET", "/sw.js", EVERYONE),
    ("POST", "/addresses/{address_id}/resume-broadcasts", GUARDIAN_A_ONLY),
    ("GET", "/addresses/{address_id}/remove", GUARDIAN_A_ONLY),  # asks before removing
    # the matrix's address is registered, not waiting for confirmation: nothing to cancel, for anyone
    ("POST", "/addresses/{address_id}/cancel", {**GUARDIANS, "guardian_a": "404", "guardian_b": "404"}),
    ("POST", "/addresses/{address_id}/remove", GUARDIAN_A_ONLY),
    ("GET", "/verify/{code}", EVERYONE),  # the verification link is the credential (a second parent)
    ("GET", "/register/{code}", GUARDIANS),  # the printed notice's QR code
    ("POST", "/verify", EVERYONE),
    ("GET", "/calendar", GUARDIANS),
    ("GET", "/preferences", GUARDIANS),
    ("POST", "/preferences", GUARDIANS),
    ("GET", "/absences", GUARDIANS),
    ("POST", "/absences", GUARDIANS),
    ("GET", "/absences/{report_id}/change", GUARDIAN_A_ONLY),
    ("POST", "/absences/{report_id}/change", GUARDIAN_A_ONLY),
    ("POST", "/absences/{report_id}/withdraw", GUARDIAN_A_ONLY),
    ("GET", "/attendance/answer/{token}", EVERYONE),  # a "not seen" notice's answer link is the credential
    ("POST", "/attendance/answer/{token}", EVERYONE),
    ("GET", "/staff", ANY_STAFF),
    ("GET", "/staff/broadcasts", BROADCASTERS),
    ("POST", "/staff/broadcasts", BROADCASTERS),
    ("GET", "/staff/broadcasts/{broadcast_id}/preview", SITE_A_BROADCASTERS),
    ("GET", "/staff/broadcasts/{broadcast_id}/preview/email", SITE_A_BROADCASTERS),
    ("POST", "/staff/broadcasts/{broadcast_id}/confirm", SITE_A_BROADCASTERS),
    ("POST", "/staff/broadcasts/{broadcast_id}/cancel", SITE_A_BROADCASTERS),
    ("GET", "/staff/broadcasts/{broadcast_id}", SITE_A_BROADCASTERS),
    ("POST", "/staff/broadcasts/{broadcast_id}/resend", SITE_A_BROADCASTERS),
    ("GET", "/staff/broadcasts/{broadcast_id}/pupils", SITE_A_BROADCASTERS),
    ("GET", "/staff/broadcasts/{broadcast_id}/answers.csv", SITE_A_BROADCASTERS),
    ("GET", "/staff/broadcasts/{broadcast_id}/print", SITE_A_BROADCASTERS),
    ("POST", "/staff/broadcasts/{broadcast_id}/resend-unanswered", SITE_A_BROADCASTERS),
    ("POST", "/staff/broadcasts/{broadcast_id}/close", SITE_A_BROADCASTERS),
    ("GET", "/staff/question-templates", BROADCASTERS),
    ("POST", "/staff/question-templates", BROADCASTERS),
    ("POST", "/staff/question-templates/{template_id}", BROADCASTERS),
    ("POST", "/staff/question-templates/{template_id}/delete", BROADCASTERS),
    ("GET", "/staff/broadcasts/{broadcast_id}/drill-report", SITE_A_BROADCASTERS),
    ("GET", "/staff/passages", BROADCASTERS),
    ("GET", "/staff/gates", BROADCASTERS),
    ("GET", "/staff/chat-link", BROADCASTERS),
    ("POST", "/staff/webpush", BROADCASTERS),
    ("GET", "/staff/board", BROADCASTERS),  # each sees the list of their own schools
    ("POST", "/staff/board/mark", SITE_A_BROADCASTERS),
    ("GET", "/staff/calendar", BROADCASTERS),  # each sees their own schools
    ("POST", "/staff/chat-link", BROADCASTERS),
    ("GET", "/staff/phone-report", BROADCASTERS),
    ("POST", "/staff/phone-report", BROADCASTERS),
    ("GET", "/support", SUPPORT),
    ("GET", "/support/guardians/{guardian_id}", SUPPORT),
    ("POST", "/support/guardians/{guardian_id}/reset-password", SUPPORT),
    ("GET", "/support/guardians/{guardian_id}/new-password", SUPPORT),
    # the world's address is another guardian's: the desk reaches an address only through its own guardian
    ("GET", "/support/guardians/{guardian_id}/addresses/{address_id}/remove", NOT_THAT_GUARDIANS),
    ("POST", "/support/guardians/{guardian_id}/addresses/{address_id}/remove", NOT_THAT_GUARDIANS),
    ("POST", "/support/guardians/{guardian_id}/unlock", SUPPORT),
    ("POST", "/support/guardians/{guardian_id}/pupils/{pupil_id}/replace-tag", SUPPORT),
    ("GET", "/admin/sites", ADMIN),
    ("POST", "/admin/sites", ADMIN),
    ("POST", "/admin/sites/{site_id}/cutoff", ADMIN),
    ("POST", "/admin/sites/{site_id}/check-time", ADMIN),
    ("GET", "/admin/gates", ADMIN),
    ("POST", "/admin/gates", ADMIN),
    ("GET", "/admin/gates/{gate_id}/revoke", ADMIN),
    ("POST", "/admin/gates/{gate_id}/revoke", ADMIN),
    ("GET", "/admin/staff", ADMIN),
    ("POST", "/admin/staff", ADMIN),
    ("GET", "/admin/staff/{staff_id}/reset", ADMIN),
    ("POST", "/admin/staff/{staff_id}/reset", ADMIN),
    ("GET", "/admin/staff/{staff_id}/disable", ADMIN),
    ("POST", "/admin/staff/{staff_id}/disable", ADMIN),
    ("GET", "/admin/roster", ADMIN),
    ("GET", "/admin/roster/template.csv", ADMIN),
    ("POST", "/admin/roster", ADMIN),
    ("GET", "/admin/audit", ADMIN),
    ("GET", "/admin/calendar", ADMIN),
    ("POST", "/admin/calendar/{site_id}", ADMIN),
    ("POST", "/admin/calendar/{site_id}/import", ADMIN),
    ("GET", "/admin/calendar/{site_id}/remove/{entry_id}", ADMIN),
    ("POST", "/admin/calendar/{site_id}/remove/{entry_id}", ADMIN),
    ("POST", "/logout", dict.fromkeys(ROLES, "login")),  # last: it ends the session
]

FORMS = {
    "/language": {"to": "ja", "next": "/"},
    "/login": {"login_id": "NOBODY00", "password": "wrong"},
    "/staff/login": {"login_id": "nobody", "password": "wrong"},
    "/password": {"current": "wrong", "new": "x", "confirm": "y"},
    "/staff/totp": {"code": "000000"},
    "/addresses": {"email": "matrix@example.jp"},
    "/unsubscribe/{token}": {"List-Unsubscribe": "One-Click"},
    "/verify": {"code": "000000000000"},
    "/preferences": {"language": "ja"},
    "/staff/broadcasts": {"scope": "みどり小学校", "category": "general", "title": "t", "body": "b"},
    "/admin/sites": {"name": "", "kind": "school", "cutoff": "12:00"},
    "/admin/sites/{site_id}/cutoff": {"cutoff": "12:00"},
    "/admin/sites/{site_id}/check-time": {"check_time": "08:40"},
    "/admin/gates": {"site": "みどり小学校", "name": ""},
    "/admin/staff": {"login_id": "x", "role": "staff"},
    "/support/guardians/{guardian_id}/reset-password": {"reason": "matrix"},
    "/support/guardians/{guardian_id}/unlock": {"reason": "matrix"},
    "/support/guardians/{guardian_id}/addresses/{address_id}/remove": {"reason": ""},  # refused: the address stays
    "/support/guardians/{guardian_id}/pupils/{pupil_id}/replace-tag": {"number": "MATRIX1", "reason": "matrix"},
    "/admin/calendar/{site_id}": {"first_day": "", "name": ""},  # refused: nothing added
    "/staff/board/mark": {"pupil": "{pupil_id}", "site": "{site_id}", "day": "2026-01-05"},
}


def _routes_of(app) -> set[tuple[str, str]]:
    def walk(routes, prefix=""):
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)
            elif getattr(route, "methods", None):
                for method in route.methods - {"HEAD"}:
                    yield method, prefix + route.path

    return {(m, p) for m, p in walk(app.router.routes) if not p.startswith(("/api/", "/hooks/"))}


def test_the_matrix_names_every_route(app) -> None:
    assert _routes_of(app) == {(method, path) for method, path, _ in MATRIX}


@dataclass
class World:
    params: dict[str, str]
    ack_token: str
    photo_token: str
    chat_photo_token: str
    unsubscribe_token: str
    answer_token: str = ""

    def url(self, template: str) -> str:
        tokens = {"/ack": self.ack_token, "/chat-photos": self.chat_photo_token, "/unsubscribe": self.unsubscribe_token}
        tokens["/attendance/answer"] = self.answer_token
        token = next((t for prefix, t in tokens.items() if template.startswith(prefix)), self.photo_token)
        return template.format(**{**self.params, "token": token})


def _outcome(response) -> str:
    if response.status_code in (403, 404):
        return str(response.status_code)
    location = response.headers.get("location", "")
    if response.status_code in (302, 303) and location.startswith(("/login", "/staff/login")):
        return "login"
    if response.status_code == 503 and response.url.path == "/readyz":
        return "ok"  # honest: no delivery loop runs beside this test's portal
    assert response.status_code < 500, response.text
    return "ok"


@pytest.fixture
async def world(settings, passwords: Passwords, family) -> World:
    other_site = await make_site("ひかり小学校")
    pupil_b = await make_pupil(other_site, "佐藤 一郎")
    family.guardian_b = await guardian_with_password(passwords, pupils=[pupil_b], name="佐藤 美咲")
    victim_pupil = await make_pupil(family.site, "鈴木 三郎")
    victim = await guardian_with_password(passwords, pupils=[victim_pupil], name="鈴木 花")
    passage, photo = await passage_with_photo(family)
    family.guardian.photos_in_chat = True
    await family.guardian.save()
    sent_to_line = await Delivery.create(
        idempotency_key=f"matrix:{uuid.uuid4()}",
        kind=NoticeKind.PASSAGE,
        channel=Channel.LINE,
        guardian=family.guardian,
        passage=passage,
        next_attempt_at=passage.seen_at,
    )
    address = await add_verified_address(family.guardian.id, Channel.EMAIL, "a@example.jp", limit=2)
    draft = await broadcasts.create_draft(
        author=None,
        scope=await broadcasts.parse_scope(family.site.name),
        category=BroadcastCategory.GENERAL,
        title="matrix",
        body="matrix",
        ack_requested=True,
        actor="test",
    )
    delivery = await Delivery.create(
        idempotency_key=f"matrix:{uuid.uuid4()}",
        kind=NoticeKind.BROADCAST,
        channel=Channel.EMAIL,
        address=address,
        guardian=family.guardian,
        broadcast=draft,
        next_attempt_at=draft.created_at,
        ack_token=f"ack-{uuid.uuid4().hex}",
    )
    spare = await staff_account(passwords, "spare", StaffRole.STAFF, [family.site.name])
    gate = await Gate.get(site=family.site)
    return World(
        params={
            "broadcast_id": str(draft.id),
            "address_id": str(address.id),
            "code": "123412341234",
            "guardian_id": str(victim.id),
            "pupil_id": str(victim_pupil.id),
            "site_id": str(family.site.id),
            "gate_id": str(gate.id),
            "staff_id": str(spare.id),
            "report_id": str(await _future_report(family)),
            "entry_id": str(await _calendar_entry(family)),
            "template_id": str((await QuestionTemplate.create(name="matrix", question=SAFETY.to_json())).id),
        },
        answer_token=await answer_link(family),
        ack_token=delivery.ack_token,
        photo_token=photo.token,
        unsubscribe_token=unsubscribe.token(address.id),
        chat_photo_token=chat_photo_token(sent_to_line.id, datetime.now(UTC) + timedelta(hours=1)),
    )


async def _calendar_entry(family) -> int:
    day = zones.today(family.site) + timedelta(days=14)
    entry = await CalendarEntry.create(
        site_id=family.site.id, first_day=day, last_day=day, kind=CalendarDayKind.OFF, name="開校記念日"
    )
    return entry.id


async def _future_report(family) -> int:
    """An absence a week ahead, so that guardian A may still change and withdraw it."""
    day = zones.today(family.site) + timedelta(days=7)
    report = await AbsenceReport.create(
        pupil_id=family.pupil.id, kind=ReportKind.ABSENT, first_day=day, last_day=day, reason="illness",
        guardian_id=family.guardian.id, via=ReportVia.PORTAL,
    )  # fmt: skip
    return report.id


async def test_every_role_on_every_route(new_browser, passwords: Passwords, family, world: World) -> None:
    browsers: dict[str, Browser] = {
        role: new_browser(client_host=f"198.51.100.{n + 1}") for n, role in enumerate(ROLES)
    }
    await log_in_guardian(browsers["guardian_a"], family.guardian)
    await log_in_guardian(browsers["guardian_b"], family.guardian_b)
    other_site = "ひかり小学校"
    for role, staff_role, sites in (
        ("staff_other_site", StaffRole.STAFF, [other_site]),
        ("staff_own_site", StaffRole.STAFF, [family.site.name]),
        ("support", StaffRole.SUPPORT, []),
        ("admin", StaffRole.ADMIN, []),
    ):
        await log_in_staff(browsers[role], await staff_account(passwords, role.replace("_", "-"), staff_role, sites))

    wrong = []
    for method, template, expected in MATRIX:
        for role in ROLES:
            browser, url = browsers[role], world.url(template)
            if method == "GET":
                response = await browser.get(url)
            elif template == "/admin/roster":
                response = await browser.client.post(
                    url, data={"csrf": await browser.csrf()}, files={"roster": ("r.csv", b"school\n", "text/csv")}
                )
                browser.last_csrf = None
            else:
                form = {name: value.format(**world.params) for name, value in FORMS.get(template, {}).items()}
                response = await browser.post(url, form)
            got = _outcome(response)
            if got != expected[role]:
                wrong.append(
                    f"{method} {template} as {role}: expected {expected[role]}, got {got}"
                    f" ({response.status_code} {response.headers.get('location', '')})"
                )
    assert wrong == [], "\n".join(wrong)


async def test_every_form_post_needs_the_csrf_token(new_browser, passwords: Passwords, family, world: World) -> None:
    admin = new_browser()
    await log_in_staff(admin, await staff_account(passwords, "kanri", StaffRole.ADMIN))
    guardian = new_browser()
    await log_in_guardian(guardian, family.guardian)
    for method, template, _ in MATRIX:
        if method != "POST" or template.startswith(CSRF_EXEMPT):
            continue
        for browser in (new_browser(), guardian, admin):
            response = await browser.client.post(world.url(template), data=FORMS.get(template, {}))
            assert response.status_code == 403, template
    assert (await admin.get("/staff")).status_code == 200  # nothing happened: still logged in
    assert (await guardian.get("/home")).status_code == 200
