"""A school's drill report, against a run with known times (tests/drills.py): reach times,
percentiles, answer rates at 5/10/30/60 minutes, and the families that could not be reached."""

from __future__ import annotations

from datetime import timedelta

from core.broadcasts.drill_report import AnswerRate, drill_report, duration, percentile
from core.models import Language
from tests.drills import READ_AT, after, drill_run


def _s(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


async def test_a_drill_report_gives_each_schools_figures_as_the_run_went(settings) -> None:
    run = await drill_run(settings)

    report = await drill_report(run.broadcast.id, now=READ_AT)

    assert [s.school.name for s in report.schools] == ["あおば小学校", "みどり小学校"]
    aoba, midori = report.schools
    assert (midori.pupils, midori.guardians, midori.reached) == (4, 7, 4)
    assert (midori.first_reached, midori.last_reached) == (_s(1), _s(10))
    assert (midori.p50, midori.p90) == (_s(2.5), _s(10))  # g6 counts from its resend, not its escalation
    assert midori.answered == 3
    assert midori.rates == (
        AnswerRate(5, 1, 4),
        AnswerRate(10, 2, 4),  # p2 counts from g2's answer at 8:00, not g5's change at 12:00
        AnswerRate(30, 3, 4),
        AnswerRate(60, None, 4),  # 10:45 now: not an hour yet
    )
    assert [r.percent for r in midori.rates] == [25, 50, 75, None]
    assert (midori.without_delivery, midori.failed, midori.pending, midori.unreachable) == (1, 1, 1, 2)
    assert (aoba.pupils, aoba.guardians, aoba.reached, aoba.answered) == (1, 1, 1, 1)
    assert (aoba.first_reached, aoba.last_reached, aoba.p50, aoba.p90) == (_s(0.5),) * 4
    assert [r.answered for r in aoba.rates] == [1, 1, 1, None] and aoba.unreachable == 0

    later = await drill_report(run.broadcast.id, now=after(60))
    assert [r.answered for r in later.schools[1].rates] == [1, 2, 3, 3]


async def test_a_report_shows_only_the_schools_asked_for(settings) -> None:
    run = await drill_run(settings)

    report = await drill_report(run.broadcast.id, site_ids=[run.midori.id], now=READ_AT)

    assert [s.school.name for s in report.schools] == ["みどり小学校"]
    assert report.schools[0].guardians == 7
    assert (await drill_report(run.broadcast.id, site_ids=[], now=READ_AT)).schools == ()


def test_percentiles_are_by_nearest_rank_and_durations_read_as_minutes_and_seconds() -> None:
    times = [_s(n) for n in range(1, 11)]
    assert (percentile(times, 50), percentile(times, 90), percentile(times[:1], 90)) == (_s(5), _s(9), _s(1))
    assert percentile([], 50) is None and duration(None) is None
    shown = duration(timedelta(minutes=12, seconds=5))
    assert shown is not None
    assert (shown.translate(Language.JA), shown.translate(Language.EN)) == ("12分05秒", "12 min 05 s")
