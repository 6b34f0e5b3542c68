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
        answered = await browser.client.post(f"/ack/{token}", data={"csrf": csrf.group(1), "choice": "0"})

    assert answered.status_code == 200
    assert scans(await plans(counted.statements)) == {}


async def test_answering_by_the_mails_link_reads_what_it_is_asked_once(new_browser, settings) -> None:
    """The page the answer is given on, the answer and the page after it share one reading of what the
    guardian is asked (before: three, 25 statements an answer; now 18 on SQLite, 19 on PostgreSQL, transaction control included; the rate of answers a portal
    process takes is bench/answer_rate.py's)."""
    token = await asked_family(settings)
    browser = new_browser()
    page = await browser.get(f"/ack/{token}")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf is not None

    with counting_statements() as counted:
        answered = await browser.client.post(f"/ack/{token}", data={"csrf": csrf.group(1), "choice": "0"})

    assert answered.status_code == 200
    reads_of_the_delivery = [s for s in counted.queries if "ack_token" in s]
    assert len(reads_of_the_delivery) == 1, reads_of_the_delivery
    assert len(counted.queries) <= 19, "\n".join(counted.queries)
