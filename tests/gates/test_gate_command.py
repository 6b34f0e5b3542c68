"""``mimamori gate`` and ``mimamori gate simulate`` as separate processes, against the real centre."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys

from core.models import Passage, Photo
from gates.protocols.em4100_ascii import frame
from tests.cli.test_admin_commands import ENGLISH, JAPANESE
from tests.conftest import REPO
from tests.factories import make_gate, make_guardian, make_pupil, make_site
from tests.gates.conftest import eventually


async def _gate_key() -> str:
    site = await make_site()
    for tag, name in (("0A1B2C3D4E", "山田 花子"), ("1F2E3D4C5B", "山田 太郎")):
        await make_guardian(pupils=[await make_pupil(site, name, tag=tag)], emails=[f"{tag}@example.jp"])
    return (await make_gate(site))[1]


async def test_the_gate_command_runs_a_worker_until_told_to_stop(centre, gate_config, reader_port, tmp_path) -> None:
    key = await _gate_key()
    await centre.start()
    config_path = tmp_path / "gate.toml"
    gate_config(key)  # writes gate.toml
    process = subprocess.Popen(
        [sys.executable, "-m", "mimamori", "gate", "--config", str(config_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The child lingers in range, so the tag is read until the worker (starting up) has the
        # port open; the reads make one passage.
        async def passed() -> bool:
            reader_port.write(frame("0A1B2C3D4E"))
            return await Photo.all().exists()

        await eventually(passed, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.to_thread(process.communicate, timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "spooled" in stderr
    assert await Passage.all().count() == 1


async def test_a_bad_gate_config_is_one_line(cli, tmp_path) -> None:
    (tmp_path / "gate.toml").write_text(
        '[serial]\nport = "/dev/ttyUSB0"\nprotocol = "wiegand"\n[server]\nurl = "http://x"\ngate_key = "k"\n'
    )
    result = await asyncio.to_thread(cli, "gate", "--config", str(tmp_path / "gate.toml"), env=ENGLISH)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "mimamori gate: gate setting serial.protocol: unknown protocol (known: em4100-ascii, line) (got 'wiegand')"
    )
    in_japanese = await asyncio.to_thread(cli, "gate", "--config", str(tmp_path / "gate.toml"), env=JAPANESE)
    assert in_japanese.stderr.strip() == (
        "mimamori gate: ゲートの設定 serial.protocol: 知らない通信方式です（使えるもの: em4100-ascii, line）"
        "（指定された値: 'wiegand'）"
    )


async def test_the_simulator_passes_tags_through_a_real_gate_worker(centre, cli, tmp_path) -> None:
    key = await _gate_key()
    await centre.start()
    result = await asyncio.to_thread(
        cli,
        "gate",
        "simulate",
        "--server",
        centre.url,
        "--gate-key",
        key,
        "--tag",
        "0A1B2C3D4E",
        "--tag",
        "1F2E3D4C5B",
        "--count",
        "3",
        "--every",
        "1.5",
        env=JAPANESE,
    )
    assert result.returncode == 0, result.stderr
    assert [line.split(" を ")[0] for line in result.lines[:3]] == [
        "タグ 0A1B2C3D4E",
        "タグ 1F2E3D4C5B",
        "タグ 0A1B2C3D4E",
    ]
    assert result.lines[-1] == "すべての通過がセンターに受け付けられました。"
    passages = await Passage.all().order_by("id")
    assert [p.tag_number for p in passages] == ["0A1B2C3D4E", "1F2E3D4C5B", "0A1B2C3D4E"]
    assert await Photo.all().count() == 3
