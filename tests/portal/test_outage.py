"""The portal while its database is away: people get a "一時的に利用できません" page in their language,
gates a 503 with Retry-After (they spool and retry), and what was accepted before is kept."""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest

from core import db
from core.models import Language, Passage
from core.wire import PASSAGES_PATH
from portal.app import create_app
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.one_language import assert_one_language
from tests.portal.test_ingest import jpeg


def _passage(key: str) -> dict:
    event = {"event_id": str(uuid.uuid4()), "tag": "0A1B2C3D4E", "seen_at": datetime.now(UTC).isoformat()}
    return {
        "headers": {"Authorization": f"Bearer {key}"},
        "files": {"event": (None, json.dumps(event), "application/json")},
    }


@pytest.fixture
async def gate_key(database_url) -> str:
    site = await make_site()
    await make_guardian(pupils=[await make_pupil(site, "山田 花子", tag="0A1B2C3D4E")], emails=["keiko@example.jp"])
    return (await make_gate(site))[1]


@pytest.fixture
async def portal(settings):
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as client:
        yield client


def _unavailable_page(
    response: httpx.Response, says: str = "一時的に利用できません", language: Language = Language.JA
) -> None:
    assert response.status_code == 503
    assert response.headers["retry-after"].isdigit()
    assert response.headers["x-frame-options"] == "DENY"  # the same headers as any page
    assert says in response.text
    assert_one_language(response.text, language)
    assert "Traceback" not in response.text


async def test_while_the_database_is_away_pages_and_the_ingest_answer_503_and_nothing_accepted_is_lost(
    database_url,
    gate_key,
    portal,
    database_away,
) -> None:
    accepted = await portal.post(PASSAGES_PATH, **_passage(gate_key))
    assert accepted.status_code == 201
    await database_away()

    assert (await portal.get("/login")).status_code == 200  # the form itself needs no database
    portal.cookies.set("mimamori_session", "x" * 40)  # a logged-in parent opening a link
    _unavailable_page(await portal.get("/home"))
    _unavailable_page(await portal.get("/ack/some-token"))
    portal.cookies.set("mimamori_lang", "en")
    _unavailable_page(await portal.get("/home"), says="temporarily unavailable", language=Language.EN)
    portal.cookies.set("mimamori_lang", "pt-BR")
    _unavailable_page(await portal.get("/home"), says="temporariamente indisponível", language=Language.PT_BR)
    refused = await portal.post(PASSAGES_PATH, **_passage(gate_key))
    assert refused.status_code == 503 and refused.headers["retry-after"].isdigit()
    assert refused.headers["content-type"] == "application/problem+json"
    assert (await portal.get("/healthz")).status_code == 200  # alive, only not ready:
    ready = await portal.get("/readyz")
    assert ready.status_code == 503 and ready.json()["failing"] == ["database"]

    await db.close_database()
    await db.open_database(database_url)
    assert await Passage.filter(id=accepted.json()["passage_id"]).exists()
    assert (await portal.post(PASSAGES_PATH, **_passage(gate_key))).status_code in (200, 201)


async def test_a_locked_sqlite_database_answers_503_not_500(database_url, gate_key, settings, is_postgres) -> None:
    if is_postgres:
        pytest.skip("SQLite's write lock")
    path = urlsplit(database_url).path
    await db.close_database()
    await db.open_database(f"{database_url}?busy_timeout=200")  # not the service's 30 s, for the test
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        transport = httpx.ASGITransport(app=create_app(settings))
        async with httpx.AsyncClient(transport=transport, base_url="http://portal") as portal:
            refused = await portal.post(PASSAGES_PATH, **_passage(gate_key))
            assert refused.status_code == 503, refused.text
            holder.execute("ROLLBACK")
            assert (await portal.post(PASSAGES_PATH, **_passage(gate_key))).status_code == 201
    finally:
        holder.close()


async def test_a_full_sqlite_disk_answers_503_and_keeps_what_was_accepted(
    database_url, gate_key, settings, is_postgres
) -> None:
    if is_postgres:
        pytest.skip("SQLite's own file")
    transport = httpx.ASGITransport(app=create_app(settings))
    async with httpx.AsyncClient(transport=transport, base_url="http://portal") as portal:
        accepted = await portal.post(PASSAGES_PATH, **_passage(gate_key))
        assert accepted.status_code == 201
        client = db.connection()
        pages = (await client.execute_query_dict("PRAGMA page_count"))[0]["page_count"]
        await client.execute_script(f"PRAGMA max_page_count = {pages}")  # the disk is full now
        try:
            with_still = _passage(gate_key)
            with_still["files"]["photo"] = ("still.jpg", jpeg(400), "image/jpeg")  # pages the file cannot grow by
            refused = await portal.post(PASSAGES_PATH, **with_still)
            assert refused.status_code == 503, refused.text
            assert refused.headers["retry-after"].isdigit()
        finally:
            await client.execute_script("PRAGMA max_page_count = 1073741823")
        assert await Passage.filter(id=accepted.json()["passage_id"]).exists()
        assert (await portal.post(PASSAGES_PATH, **_passage(gate_key))).status_code == 201
