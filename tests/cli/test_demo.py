"""``mimamori demo``: a newcomer's first command."""

import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.conftest import REPO
from tests.net import free_port, wait_for_http


def _run_demo(tmp_path: Path, port: int) -> tuple[int, str, str, str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)}
    process = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "demo", "--port", str(port), "--data-dir", "demo"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", timeout=60)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/") as response:
            page = response.read().decode()
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=30)
    return process.returncode, stdout, stderr, page


def test_the_demo_runs_prints_logins_and_stops_cleanly(tmp_path: Path) -> None:
    returncode, stdout, stderr, page = _run_demo(tmp_path, free_port())

    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "見守りポータル" in page
    logins = {line.split()[-3]: line.split()[-1] for line in stdout.splitlines()
              if line.strip().split(" ")[0] in {"保護者", "staff", "support", "admin"}}
    assert set(logins) >= {"staff", "support", "admin"} and len(logins) == 4
    assert all(len(password) == 14 for password in logins.values())

    second_returncode, second_stdout, _, _ = _run_demo(tmp_path, free_port())
    assert second_returncode == 0
    assert "admin" in second_stdout and logins["admin"] not in second_stdout  # a fresh start
