"""Several processes on one machine share a multiprocess directory: one scrape shows their sum, and
what a dead process left of its live gauges is cleared when the next one starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import REPO

_RECORD = """
import sys
from pathlib import Path
from core import metrics
metrics.use_multiprocess_dir(Path(sys.argv[1]))
metrics.use_multiprocess_dir(Path(sys.argv[1]))  # as serve_metrics does after the CLI: once is what counts
metrics.outcomes_recorded({("email", "docomo", "sent"): int(sys.argv[2]), ("line", "all", "failed"): 1})
metrics.imap_connected(True)
"""

_SCRAPE = """
import sys
from pathlib import Path
from prometheus_client import generate_latest
from core import metrics
from core.config import Settings
metrics.use_multiprocess_dir(Path(sys.argv[1]))
print(generate_latest(metrics.scrape_registry(metrics.DatabaseCollector(Settings()))).decode())
"""


def _python(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_two_workers_counts_add_up_and_a_dead_readers_gauge_is_gone(tmp_path: Path) -> None:
    directory = tmp_path / "metrics"  # created by the first process
    _python(_RECORD, str(directory), "5")
    _python(_RECORD, str(directory), "7")

    samples = _samples(_python(_SCRAPE, str(directory)))

    assert (
        samples[
            (
                "mimamori_delivery_outcomes_total",
                frozenset({"channel": "email", "lane": "docomo", "result": "sent"}.items()),
            )
        ]
        == 12
    )
    assert (
        samples[
            (
                "mimamori_delivery_outcomes_total",
                frozenset({"channel": "line", "lane": "all", "result": "failed"}.items()),
            )
        ]
        == 2
    )
    # both recorders have exited: their "connected" went with them (live gauge files removed)
    assert not any(name == "mimamori_imap_connected" and value for (name, _), value in samples.items())
    assert len(list(directory.glob("gauge_live*"))) == 1  # the scraping process's own
    assert len(list(directory.glob("counter_*.db"))) == 2  # the dead processes' counts are kept
    # no database here: the scrape still answers, saying so
    assert samples[("mimamori_metrics_database_up", frozenset())] == 0


async def test_a_worker_logs_json_lines_and_counts_into_the_shared_directory(
    database_url, cli_env, mail_sink, tmp_path: Path
) -> None:
    import asyncio
    import json
    import signal

    from tests.delivery.test_metrics import queue_passage_notice

    await queue_passage_notice("keiko@example.jp")
    directory = tmp_path / "metrics"
    log = tmp_path / "worker.log"
    env = {
        **cli_env,
        "MIMAMORI_SMTP__PORT": str(mail_sink.port),
        "MIMAMORI_DELIVERY__POLL_SECONDS": "0.05",
        "MIMAMORI_LOGGING__FORMAT": "json",
        "MIMAMORI_METRICS__MULTIPROCESS_DIR": str(directory),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "worker"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        await asyncio.to_thread(mail_sink.wait_for, 1)
        await asyncio.sleep(0.5)  # the outcome is recorded a moment after the send
    finally:
        worker.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait, 30) == 0, log.read_text()

    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(e["logger"] == "mimamori.delivery" and e["level"] == "INFO" for e in events)
    samples = _samples(_python(_SCRAPE, str(directory)))
    assert (
        samples[
            (
                "mimamori_delivery_outcomes_total",
                frozenset({"channel": "email", "lane": "other", "result": "sent"}.items()),
            )
        ]
        == 1
    )
    assert samples[("mimamori_claimed_deliveries_total", frozenset({"channel": "email"}.items()))] == 1
