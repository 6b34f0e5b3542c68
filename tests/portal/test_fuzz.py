"""Fuzzing the portal from its own OpenAPI description: every route, with hostile path, query and
form values (over-long text, huge and negative integers, the calendar's ends, ``²``), asked by no
one, a guardian, a teacher, the support desk and an administrator. No answer may be a 5xx."""

from __future__ import annotations

import json
import os
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.models import StaffRole
from core.passwords import Passwords
from core.wire import HEARTBEAT_PATH, PASSAGES_PATH
from portal.app import create_app
from tests.browser import Browser
from tests.factories import make_gate
from tests.portal.conftest import log_in_guardian, log_in_staff, staff_account
from tests.portal.test_ingest import jpeg as _jpeg

SKIPPED = {("post", "/logout")}  # it would end the session the rest of the run is asked from
EXAMPLES = int(os.environ.get("MIMAMORI_FUZZ_EXAMPLES", "400"))  # CI's bound; raise it to search longer
HONEST_503 = {"/readyz"}  # not ready while the workers do not run here: that is the truth, not a crash
WHO = ["nobody", "guardian", "teacher", "desk", "admin"]

_edges = st.sampled_from(
    [
        "",
        "0",
        "-1",
        "²",
        "١٢",
        "2147483648",
        str(2**63),
        str(10**30),
        "1e9",
        "NaN",
        "0001-01-01",
        "9999-12-31",
        "2026-02-30",
        "00:00",
        "25:61",
        "\x00",
        "../..",
        "%00",
    ]
)
_integers = st.one_of(st.integers(1, 5), st.integers(-(2**70), 2**70)).map(str)
_text = st.one_of(
    st.text(max_size=24),
    st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=12, max_size=300),
    st.text(alphabet="山田恵子みどり小学校", min_size=60, max_size=2100),
)
hostile = st.one_of(_edges, _integers, st.dates().map(str), _text)


def operations(app) -> list[tuple[str, str, dict]]:
    """(method, path, operation) of every route in the app's OpenAPI document, forms resolved."""
    document = app.openapi()
    schemas = document.get("components", {}).get("schemas", {})
    found = []
    for path, ops in document["paths"].items():
        for method, op in ops.items():
            for kind, content in op.get("requestBody", {}).get("content", {}).items():
                op = {**op, "form": (kind, list(schemas[content["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]))}
            found.append((method, path, op))
    return [entry for entry in found if entry[:2] not in SKIPPED]


@pytest.fixture
async def people(new_browser, passwords: Passwords, family) -> dict[str, Browser]:
    browsers = {who: new_browser() for who in WHO}
    await browsers["nobody"].get("/login")
    await log_in_guardian(browsers["guardian"], family.guardian)
    await browsers["guardian"].refresh_csrf("/home")
    for who, role, sites in (
        ("teacher", StaffRole.STAFF, [family.site.name]),
        ("desk", StaffRole.SUPPORT, []),
        ("admin", StaffRole.ADMIN, []),
    ):
        await log_in_staff(browsers[who], await staff_account(passwords, who, role, sites))
    return browsers


@pytest.fixture
async def gate_header(family) -> dict[str, str]:
    _, key = await make_gate(family.site)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def portal(settings):
    return create_app(settings)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_no_request_anyone_can_send_is_answered_with_a_5xx(portal, people, gate_header, data) -> None:
    method, path, op = data.draw(st.sampled_from(operations(portal)), label="operation")  # labelled by path
    browser = people[data.draw(st.sampled_from(WHO), label="who")]
    url = path
    query: dict[str, Any] = {}
    for parameter in op.get("parameters", []):
        value = data.draw(hostile, label=parameter["name"])
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", quote(value, safe="") or "x")
        elif data.draw(st.booleans(), label=f"send {parameter['name']}"):
            query[parameter["name"]] = value
    request: dict[str, Any] = {"params": query}
    headers = gate_header if path.startswith("/api/") else {}
    form = op.get("form")
    if method == "post" and not path.startswith("/api/"):
        fields = {
            name: data.draw(hostile, label=name)
            for name in (form[1] if form else [])
            if name != "roster" and data.draw(st.booleans(), label=f"send {name}")
        }
        fields["csrf"] = await browser.csrf()
        if form and form[0] == "multipart/form-data":
            request["files"] = {"roster": ("roster.csv", data.draw(st.binary(max_size=300), label="file"), "text/csv")}
        request["data"] = fields
    elif path.startswith("/api/"):
        request["content"] = data.draw(st.binary(max_size=200), label="body")
    response: httpx.Response = await browser.client.request(method.upper(), url, headers=headers, **request)
    honest = response.status_code == 503 and path in HONEST_503
    assert response.status_code < 500 or honest, (method, url, response.status_code, response.text[:500])


_offsets = st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
_NOW = datetime.now()
_recent = st.datetimes(min_value=_NOW - timedelta(days=400), max_value=_NOW + timedelta(days=2), timezones=_offsets)
_calendar_ends = st.builds(
    lambda end, zone: end.replace(tzinfo=zone), st.sampled_from([datetime.min, datetime.max]), _offsets
)
_moment = st.one_of(_recent, _calendar_ends, st.datetimes(timezones=_offsets)).map(datetime.isoformat)
_json_value = st.one_of(hostile, st.integers(-(2**70), 2**70), st.booleans(), st.none())


def mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """``valid`` half the time, a hostile value the other half (so a field's refusal does not hide
    what the others would have done)."""
    return st.booleans().flatmap(lambda fair: valid if fair else hostile)  # one_of would weigh by branches


_passage = st.fixed_dictionaries(
    {
        "event_id": mostly(st.uuids().map(str)),
        "seen_at": mostly(_moment),
        "tag": mostly(st.just("T-0001") | st.text("0123456789ABCDEF", min_size=1, max_size=64)),
    },
    optional={"reader": hostile, "photo_missing": hostile},
)
_heartbeat = st.fixed_dictionaries(
    {"gate_version": hostile, "sent_at": mostly(_moment), "reader_alive": _json_value, "spool_depth": _json_value},
    optional={
        "reader_last_byte_at": mostly(_moment),
        "reader_error": hostile,
        "bad_frames": _json_value,
        "camera_alive": _json_value,
        "camera_error": hostile,
    },
)


@settings(
    max_examples=max(EXAMPLES // 2, 50),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(passage=_passage, photo=st.one_of(st.none(), st.binary(max_size=300), st.just(_jpeg())), heartbeat=_heartbeat)
async def test_no_passage_or_heartbeat_a_gate_can_send_is_answered_with_a_5xx(
    portal, gate_header, passage, photo, heartbeat
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=portal), base_url="http://portal") as gate:
        files = {"event": (None, json.dumps(passage), "application/json")}
        if photo is not None:
            files["photo"] = ("still.jpg", photo, "image/jpeg")
        sent = await gate.post(PASSAGES_PATH, headers=gate_header, files=files)
        beat = await gate.post(HEARTBEAT_PATH, headers=gate_header, json=heartbeat)
    assert sent.status_code < 500, (passage, sent.text[:300])
    assert beat.status_code < 500, (heartbeat, beat.text[:300])


def _bounded(schema: dict) -> bool:
    """A value the schema caps: text by length, numbers by a maximum, a day by its format."""
    if "anyOf" in schema:
        return all(_bounded(option) for option in schema["anyOf"])
    kind = schema.get("type")
    if kind == "string":
        # An uploaded file (the roster) is capped by portal.body_limit, as is a list's length.
        return (
            "maxLength" in schema or "enum" in schema or schema.get("format") == "date" or "contentMediaType" in schema
        )
    if kind == "array":
        return _bounded(schema["items"])
    return kind == "null" or (kind == "integer" and "maximum" in schema)


def test_every_value_a_route_takes_is_bounded_at_the_edge(app) -> None:
    """A new route with a bare ``str`` or ``int`` parameter fails here: give it a type from portal.params."""
    schemas = app.openapi().get("components", {}).get("schemas", {})
    unbounded = []
    for method, path, operation in operations(app):
        values = {p["name"]: p["schema"] for p in operation.get("parameters", [])}
        for content in operation.get("requestBody", {}).get("content", {}).values():
            values |= schemas[content["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]
        unbounded += [f"{method} {path} {name}" for name, schema in values.items() if not _bounded(schema)]
    assert unbounded == []
