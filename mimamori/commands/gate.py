"""``mimamori gate``: the gate worker at an entrance, and a simulated gate for demos and tests."""

from __future__ import annotations

import asyncio
import logging
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from core.i18n import _, _n
from gates.config import GateConfig, GateConfigError, load_gate_config
from mimamori.cli import N_, CommandError, echo, run, told
from mimamori.lifecycle import stop_on_signals

if TYPE_CHECKING:
    from gates.simulator import Simulation


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@click.group(
    "gate",
    invoke_without_command=True,
    help=N_("Run the gate worker: tag reader, camera, spool, uplink to the centre."),
)
@click.option("--config", "config_path", type=click.Path(dir_okay=False), help=N_("the gate's gate.toml"))
@click.pass_context
def command(ctx: click.Context, config_path: str | None) -> None:
    if ctx.invoked_subcommand is not None:
        return
    if config_path is None:
        raise CommandError(
            "mimamori gate: "
            + told(_("Give %(option)s (the gate's gate.toml), or a subcommand.", option="--config FILE"))
        )
    try:
        config = load_gate_config(config_path)
    except GateConfigError as exc:
        raise CommandError(f"mimamori gate: {told(exc.message)}") from None
    _logging()
    run(_run_worker(config))


async def _run_worker(config: GateConfig) -> None:
    from gates.worker import GateWorker  # OpenCV loads only for the commands that need it

    worker = GateWorker(config)
    stop = asyncio.Event()
    with stop_on_signals(stop.set):
        await worker.run(stop)


@command.command(
    "simulate", help=N_("Drive a real gate worker: reader frames into a pty, a generated video as the camera.")
)
@click.option("--server", "server_url", required=True, help=N_("the centre, e.g. http://127.0.0.1:8000"))
@click.option("--gate-key", required=True, envvar="MIMAMORI_GATE_KEY", help=N_("the key add-gate printed"))
@click.option("--tag", "tags", multiple=True, required=True, help=N_("a tag number to pass (repeatable)"))
@click.option("--every", default=3.0, show_default=True, help=N_("seconds between passes"))
@click.option("--count", default=0, show_default=True, help=N_("passes to make (0: until Ctrl-C)"))
@click.option("--protocol", default="em4100-ascii", show_default=True, type=click.Choice(["em4100-ascii", "line"]))
@click.option("--camera/--no-camera", default=True, show_default=True, help=N_("play a generated video as the camera"))
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    help=N_("where the pty link, video and spool live (default: a temporary directory)"),
)
def simulate_command(
    server_url: str,
    gate_key: str,
    tags: tuple[str, ...],
    every: float,
    count: int,
    protocol: str,
    camera: bool,
    directory: Path | None,
) -> None:
    from gates.simulator import Simulation

    _logging()
    simulation = Simulation(server_url, gate_key, tags, every=every, count=count, protocol=protocol, camera=camera)
    with tempfile.TemporaryDirectory(prefix="mimamori-gate-") as scratch:
        left = run(_simulate(simulation, directory or Path(scratch)))
    if left:
        not_yet = _n(
            "%(num)d passage not yet accepted by the centre (kept in the spool).",
            "%(num)d passages not yet accepted by the centre (kept in the spool).",
            left,
        )
        raise CommandError(f"mimamori gate simulate: {told(not_yet)}")
    echo(_("Every passage was accepted by the centre."))


async def _simulate(simulation: Simulation, directory: Path) -> int:
    from gates.simulator import simulate

    stop = asyncio.Event()
    with stop_on_signals(stop.set):
        return await simulate(simulation, directory, stop, on_pass=_print_pass)


def _print_pass(tag: str, at: datetime) -> None:
    echo(_("Tag %(tag)s read at %(time)s.", tag=tag, time=f"{at:%H:%M:%S}"))
