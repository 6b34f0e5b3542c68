"""``mimamori halls``: which pupils a children's hall expects after school, on which weekdays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from core import hall_enrolments
from core.hall_enrolments import PupilRef
from core.i18n import _
from mimamori.cli import N_, echo, run, settings_of
from mimamori.runtime import cli_actor, opened


@click.group("halls", help=N_("Children's halls: enrol a pupil on some weekdays, withdraw them, list a hall's pupils."))
def command() -> None:
    pass


F = TypeVar("F", bound=Callable[..., Any])


def _pupil_arguments(function: F) -> F:
    """HALL SCHOOL GRADE CLASS NAME: a pupil as a hall's list names them."""
    for decorator in reversed(
        (
            click.argument("hall"),
            click.argument("school"),
            click.argument("grade", type=click.IntRange(1, 9)),
            click.argument("class_name", metavar="CLASS"),
            click.argument("name"),
        )
    ):
        function = decorator(function)
    return function


@command.command("enrol", help=N_("Expect the pupil NAME (of SCHOOL, GRADE, CLASS) at HALL after school on --days."))
@_pupil_arguments
@click.option("--days", default="12345", show_default=True, help=N_("ISO weekdays, 1 for Monday: 135 = Mon, Wed, Fri."))
@click.pass_context
def enrol(ctx: click.Context, hall: str, school: str, grade: int, class_name: str, name: str, days: str) -> None:
    async def _enrol() -> None:
        async with opened(settings_of(ctx)):
            pupil = PupilRef(school, grade, class_name, name)
            enrolment = await hall_enrolments.enrol(hall, pupil, days, actor=cli_actor())
            echo(_("Enrolled at %(hall)s on weekdays %(days)s.", hall=hall, days=enrolment.weekdays))

    run(_enrol())


@command.command("withdraw", help=N_("The hall no longer expects the pupil."))
@_pupil_arguments
@click.pass_context
def withdraw(ctx: click.Context, hall: str, school: str, grade: int, class_name: str, name: str) -> None:
    async def _withdraw() -> None:
        async with opened(settings_of(ctx)):
            removed = await hall_enrolments.withdraw(hall, PupilRef(school, grade, class_name, name), actor=cli_actor())
            echo(_("Withdrawn from %(hall)s.", hall=hall) if removed else _("The hall did not expect this pupil."))

    run(_withdraw())


@command.command("list", help=N_("The pupils HALL expects, with their weekdays."))
@click.argument("hall")
@click.pass_context
def list_pupils(ctx: click.Context, hall: str) -> None:
    async def _list() -> None:
        async with opened(settings_of(ctx)):
            pupils = await hall_enrolments.enrolled(hall)
            if not pupils:
                echo(_("%(hall)s expects no pupils.", hall=hall))
            for pupil, days in pupils:
                echo(
                    _(
                        "%(school)s  grade %(grade)d, class %(class_name)s  %(name)s  weekdays %(days)s",
                        school=pupil.school.name,
                        grade=pupil.grade,
                        class_name=pupil.class_name,
                        name=pupil.name,
                        days=days,
                    )
                )

    run(_list())
