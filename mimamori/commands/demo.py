"""``mimamori demo``: a small city on the embedded defaults, from a fresh data directory, with the
real service, a mail server that keeps every mail, and simulated gates that pupils pass."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from datetime import UTC, datetime, time
from pathlib import Path
from urllib.parse import quote

import click

from core import accounts, totp, zones
from core.config import Settings, load_settings
from core.db import upgrade_schema
from core.errors import UserError
from core.i18n import Message, _
from core.models import SiteKind, StaffAccount, StaffRole
from core.roster import import_roster
from gates.simulator import Simulation, simulate
from mimamori.cli import N_, echo, language, pad, run
from mimamori.commands.serve import serve
from mimamori.demo_city import DemoCity, DemoGate, demo_roster, plan_walks
from mimamori.demo_mailbox import DemoMailbox, demo_router, mail_server
from mimamori.runtime import opened

SCHOOLS = ["みどり小学校", "さくら小学校"]
HALL = "ひかり児童館"
PUPILS = 60
ACTOR = "demo"
# Late enough that a pupil's first pass of the day is an arrival (登校) whenever the demo runs.
DEMO_CUTOFF = time(23, 59)


EVERY_MAIL = _("every mail the demo sends (demo only)")


@click.command("demo", help=N_("Seed a small city and run Mimamori on it: portal, mail, gates (Ctrl-C stops it)."))
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var/demo"),
    show_default=True,
    help=N_("Wiped and filled afresh on every run."),
)
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--every", type=float, default=4.0, show_default=True, help=N_("Seconds between pupils at a gate."))
@click.pass_context
def command(ctx: click.Context, data_dir: Path, port: int, every: float) -> None:
    config_path = ctx.find_root().params.get("config_path")
    _check_port_free(port)
    if data_dir.exists():
        shutil.rmtree(data_dir)
    mailbox, smtp_port = DemoMailbox(), _free_port()
    with mail_server(mailbox, smtp_port):
        settings = load_settings(
            config_path,
            data_dir=data_dir,
            database_url=f"sqlite://{data_dir / 'mimamori.db'}",
            keyring=str(data_dir / "keyring.json"),
            portal={
                "host": "127.0.0.1",
                "port": port,
                "public_url": f"http://127.0.0.1:{port}",
                "tls_cert": None,
                "tls_key": None,
                "behind_proxy": False,
            },
            smtp={
                "host": "127.0.0.1",
                "port": smtp_port,
                "security": "none",
                "username": None,
                "password": None,
                "dkim": False,  # the demo's keyring is new: it holds no DKIM key
            },
            passages={"repeat_minutes": 1},  # so a pupil may leave a minute or two after arriving
            # the demo's pupils pass the gates whenever it runs: no "not seen" alarm for the ones still to come
            attendance={"checks": False},
        )
        city = run(_seed(settings, every))
        run(_run(settings, city, mailbox))


async def _seed(settings: Settings, every: float) -> DemoCity:
    await upgrade_schema(settings.database_url)
    async with opened(settings) as runtime:
        gate_keys: dict[str, str] = {}
        for school in SCHOOLS:
            await accounts.add_site(
                school, SiteKind.SCHOOL, cutoff=DEMO_CUTOFF, timezone=settings.timezone, actor=ACTOR
            )
            gate_keys[school] = (await accounts.add_gate(school, "正門", actor=ACTOR))[1]
        await accounts.add_site(HALL, SiteKind.HALL, timezone=settings.timezone, actor=ACTOR)
        gate_keys[HALL] = (await accounts.add_gate(HALL, "入口", actor=ACTOR))[1]
        roster = demo_roster(SCHOOLS, PUPILS)
        result = await import_roster(
            roster,
            passwords=runtime.passwords,
            max_addresses=settings.accounts.max_addresses,
            actor=ACTOR,
            timezone=settings.timezone,
        )
        city = plan_walks(roster, SCHOOLS, HALL, gate_keys, every=every)
        guardian = next(g for g in result.new_guardians if g.guardian_ref == city.guardian_ref)
        city.logins.append((_("Guardian"), guardian.login_id, guardian.initial_password))
        for login, role, sites in (
            ("staff", StaffRole.STAFF, [SCHOOLS[0]]),
            ("support", StaffRole.SUPPORT, []),
            ("admin", StaffRole.ADMIN, []),
        ):
            issued = await accounts.add_staff(login, role, sites, runtime.passwords, actor=ACTOR)
            city.second_factors[login] = await _enrolled(issued.account_id)
            city.logins.append((accounts.ROLE_LABELS[role], login, issued.secret))
        return city


async def _enrolled(staff_id: int) -> str:
    """The demo's staff come with a second factor enrolled, its codes shown on /demo/codes."""
    staff = await StaffAccount.get(id=staff_id)
    secret = totp.new_secret()
    staff.totp_secret = secret
    staff.totp_enrolled_at = datetime.now(UTC)
    await staff.save(update_fields=["totp_secret", "totp_enrolled_at"])
    return secret


async def _run(settings: Settings, city: DemoCity, mailbox: DemoMailbox) -> None:
    stop = asyncio.Event()
    serving = asyncio.create_task(
        serve(
            settings,
            extra_routers=[demo_router(mailbox, city.second_factors)],
            stop=stop,
            log_level="warning",
        )
    )
    if not await _listening(settings.portal.port, serving):
        await serving  # it failed to start: its error ends the demo
        return
    _print_welcome(settings, city)
    scratch = settings.data_dir / "gates"
    walks = [
        asyncio.create_task(_walk(gate, city, settings, scratch / str(n), stop)) for n, gate in enumerate(city.gates)
    ]
    reminder = asyncio.create_task(_remind_when_walked(settings, city, stop))
    try:
        await serving
    finally:
        stop.set()
        await asyncio.gather(reminder, *walks, return_exceptions=True)
    click.echo()
    echo(_("The demo has stopped."), indent=2)


async def _listening(port: int, serving: asyncio.Task[None]) -> bool:
    while not serving.done():
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        return True
    return False


async def _walk(gate: DemoGate, city: DemoCity, settings: Settings, directory: Path, stop: asyncio.Event) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=gate.start_after)
    if stop.is_set():
        return
    simulation = Simulation(
        settings.portal.public_url,
        gate.key,
        gate.tags,
        every=gate.every,
        count=len(gate.tags),
        camera=gate.camera,
        keep_running=True,
    )
    zone = zones.zone(settings.timezone)

    def passed(tag: str, at: datetime) -> None:
        click.echo(f"  {at.astimezone(zone):%H:%M:%S}  {gate.site} {gate.name}  {city.pupils[tag]}")

    await simulate(simulation, directory, stop, on_pass=passed)


async def _remind_when_walked(settings: Settings, city: DemoCity, stop: asyncio.Event) -> None:
    """The pass lines have pushed the welcome table up: say again where to look."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=city.walk_seconds + 2)
    if not stop.is_set():
        url = settings.portal.public_url
        click.echo()
        echo(
            _(
                "Every pupil has passed; the gates stay up. Portal: %(portal)s  Mailbox: %(mailbox)s"
                "  Ctrl-C stops the demo.",
                portal=f"{url}/",
                mailbox=f"{url}/demo/mailbox",
            ),
            indent=2,
        )
        click.echo()


def _print_welcome(settings: Settings, city: DemoCity) -> None:
    url = settings.portal.public_url
    click.echo()
    echo(
        _(
            "Mimamori demo: %(schools)d schools and 1 children's hall, %(pupils)d pupils, %(gates)d gates",
            schools=len(SCHOOLS),
            pupils=PUPILS,
            gates=len(city.gates),
        ),
        indent=2,
    )
    click.echo()
    portal, mailbox, every_mail = (m.translate(language()) for m in (_("Portal"), _("Mailbox"), EVERY_MAIL))
    click.echo(f"  {pad(portal, 14)}{url}/")
    click.echo(f"  {pad(mailbox, 14)}{url}/demo/mailbox   {every_mail}")
    click.echo()
    heads = (_("Who"), _("Login ID"), _("Password (one-time: choose your own at first login)"))
    _login_row(*(h.translate(language()) for h in heads))
    for who, login, password in city.logins:
        _login_row(who.translate(language()), login, password)
    click.echo()
    mails = f"{url}/demo/mailbox?to={quote(city.guardian_email, safe='@')}"
    for line in (
        _("The guardian's notices go to %(address)s: open one at", address=city.guardian_email),
        _("%(mailbox)s and follow its link.", mailbox=mails),
        _("Staff, support and admin log in at %(url)s; their second factor is enrolled,", url=f"{url}/staff/login"),
        _(
            "and the current code is shown at %(url)s (demo only; in real use, an authenticator app).",
            url=f"{url}/demo/codes",
        ),
        _(
            "Gates: %(camera)s with a camera (a generated video), %(plain)s without;"
            " pupils arrive over the next minutes, some leave.",
            camera=", ".join(g.site for g in city.gates if g.camera),
            plain=", ".join(g.site for g in city.gates if not g.camera),
        ),
        _bots_line(settings),
        _("Ctrl-C stops the demo; running it again starts afresh."),
    ):
        echo(line, indent=2)
    click.echo()


def _login_row(who: str, login: str, password: str) -> None:
    click.echo(f"  {pad(who, 18)}{pad(login, 11)}{password}")


def _bots_line(settings: Settings) -> Message:
    telegram = settings.telegram.token is not None
    line = settings.line.access_token is not None
    hook = f"{settings.portal.public_url}/hooks/line"
    if telegram and line:
        return _("Chat bots on: Telegram (%(mode)s), LINE (webhook at %(hook)s).", mode=_mode(settings), hook=hook)
    if telegram:
        return _("Chat bot on: Telegram (%(mode)s).", mode=_mode(settings))
    if line:
        return _("Chat bot on: LINE (webhook at %(hook)s).", hook=hook)
    return _(
        "Chat bots are off: give %(telegram)s or %(line)s (a config file or MIMAMORI_*) to try them.",
        telegram="telegram.token",
        line="line.access_token",
    )


def _mode(settings: Settings) -> Message:
    return _("polling") if settings.telegram.mode == "polling" else _("webhook")


def _check_port_free(port: int) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            raise UserError(_("Port %(port)d is in use; choose another with --port.", port=port)) from None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
