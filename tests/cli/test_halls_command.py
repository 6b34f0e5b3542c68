"""A children's hall's pupils at the terminal: who is expected after school, on which weekdays."""

from core.models import AuditEntry, HallEnrolment, Language, SiteKind
from tests.cli.test_admin_commands import ENGLISH, JAPANESE
from tests.factories import make_pupil, make_site
from tests.one_language import assert_one_language


async def test_an_administrator_enrols_a_pupil_at_a_hall_and_withdraws_them(cli, database_url) -> None:
    school = await make_site()
    await make_site("みどり児童館", kind=SiteKind.HALL)
    pupil = await make_pupil(school, "山田 花子", tag="T-1")  # grade 3, class 2

    enrolled = cli(
        "halls", "enrol", "みどり児童館", "みどり小学校", "3", "2", "山田 花子", "--days", "531", env=JAPANESE
    )
    assert enrolled.returncode == 0, enrolled.stderr
    assert enrolled.lines == ["みどり児童館に登録しました（曜日 135）。"]
    assert (await HallEnrolment.get(pupil_id=pupil.id)).weekdays == "135"
    listed = cli("halls", "list", "みどり児童館", env=ENGLISH)
    assert listed.lines == ["みどり小学校  grade 3, class 2  山田 花子  weekdays 135"]
    assert_one_language("\n".join(listed.lines), Language.EN, names=["みどり小学校", "山田 花子"])

    wrong = cli("halls", "enrol", "みどり児童館", "みどり小学校", "3", "1", "山田 花子", env=JAPANESE)
    assert wrong.returncode != 0 and "その学年・組にそのような児童はいません" in wrong.stderr
    not_a_hall = cli("halls", "enrol", "みどり小学校", "みどり小学校", "3", "2", "山田 花子", env=ENGLISH)
    assert "みどり小学校 is not a children's hall." in not_a_hall.stderr
    bad_days = cli("halls", "enrol", "みどり児童館", "みどり小学校", "3", "2", "山田 花子", "--days", "18", env=ENGLISH)
    assert "1 for Monday to 7 for Sunday" in bad_days.stderr

    withdrawn = cli("halls", "withdraw", "みどり児童館", "みどり小学校", "3", "2", "山田 花子", env=ENGLISH)
    assert withdrawn.lines == ["Withdrawn from みどり児童館."]
    assert not await HallEnrolment.exists()
    assert await AuditEntry.filter(action__startswith="hall.").count() == 2
