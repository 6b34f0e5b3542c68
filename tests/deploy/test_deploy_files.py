"""The example alert rules and dashboard in deploy/ speak of metrics Mimamori really exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from core import metrics
from tests.conftest import REPO

DEPLOY = REPO / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "mimamori.json"
_NAME = re.compile(r"\bmimamori_[a-z0-9_]+")


def _referenced(path: Path) -> set[str]:
    return set(_NAME.findall(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("path", [RULES, DASHBOARD], ids=["alerts", "dashboard"])
def test_every_metric_named_in_deploy_exists(path: Path) -> None:
    referenced = _referenced(path)
    assert referenced, f"{path} names no metric"
    assert referenced - metrics.names() == set()


def test_the_alerts_the_operators_asked_for_are_there() -> None:
    text = RULES.read_text(encoding="utf-8")
    for alert in (
        "MimamoriDeliveryStalled",
        "MimamoriPassageNoticeLate",
        "MimamoriGateSilentInSchoolHours",
        "MimamoriSmtpFailuresRising",
    ):
        assert f"alert: {alert}" in text
    assert 'mimamori_outbox_oldest_age_seconds{kind="passage"}) > 120' in text  # two minutes


def test_the_dashboard_is_grafana_json_with_a_query_per_panel() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    assert dashboard["panels"] and all(panel["targets"] for panel in dashboard["panels"])


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian's prometheus) not installed")
def test_promtool_accepts_the_rules() -> None:
    done = subprocess.run(["promtool", "check", "rules", str(RULES)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
