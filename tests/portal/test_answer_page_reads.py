"""The answer link's page reads by index, however many answers were given before (see
tests/delivery/test_answer_reads.py)."""

from __future__ import annotations

import re

import pytest

from tests.delivery.test_answer_reads import asked_family, plans, scans
from tests.sql_counter import counting_statements


async def test_answering_by_the_mails_link_reads_only_by_index(new_browser, settings, is_postgres) -> None:
    if is_postgres:
        pytest.skip("the query plans read here are SQLite's")
    token = await asked_family(settings)
    browser = new_browser()
    page = await browser.get(f"/ack/{token}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None

    with counting_statements() as counted:
        answered = await browser.client.post(f"/ack/{token}", data={"csrf": csrf.group(1)})

    assert answered.status_code == 200
    assert scans(await plans(counted.statements)) == {}
