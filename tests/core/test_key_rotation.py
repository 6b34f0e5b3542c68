"""Rotating the sealing key: everything re-sealed, everything still readable."""

from pathlib import Path

import pytest

from core import rotation, sealing
from core.keyring import Keyring
from core.models import ContactAddress, Guardian, Pupil
from tests.factories import make_guardian, make_pupil, make_site


@pytest.fixture
async def rotating_sealer(database_url: str, tmp_path: Path) -> sealing.Sealer:
    """A keyring of this test's own, since rotation changes it."""
    path = tmp_path / "keyring.json"
    Keyring.generate(path).save()
    sealer = sealing.Sealer(Keyring.open(str(path)))
    sealing.install(sealer)
    return sealer


async def test_rotation_reseals_every_row_and_keeps_every_value(rotating_sealer) -> None:
    site = await make_site()
    pupils = [await make_pupil(site, f"見守 {i}号", tag=f"TAG{i:04d}") for i in range(450)]
    await make_guardian("見守 恵子", pupils=pupils[:2], emails=["keiko@example.jp"])
    assert (await rotation.count_by_key()) == {"k1": 450 * 2 + 2}

    sealer = _rotated(rotating_sealer)
    advanced: list[int] = []
    found = await rotation.reseal_all(sealer, progress=advanced.append)

    assert found == {"k1": 902}
    assert sum(advanced) == 902  # the progress bar reached the end
    assert await rotation.count_by_key() == {"k2": 902}
    names = sorted(p.name for p in await Pupil.all())
    assert names == sorted(f"見守 {i}号" for i in range(450))
    assert (await Guardian.get(name_index=sealer.blind_index("name", "見守 恵子"))).name == "見守 恵子"
    assert [a.value for a in await ContactAddress.all()] == ["keiko@example.jp"]


async def test_an_interrupted_rotation_resumes_where_it_stopped(rotating_sealer) -> None:
    site = await make_site()
    for i in range(3):
        await make_pupil(site, f"見守 {i}号")
    sealer = _rotated(rotating_sealer)
    first = await rotation.reseal_all(sealer)
    again = await rotation.reseal_all(sealer)
    assert first == {"k1": 3}
    assert again == {"k2": 3}  # all found on the new key, none re-sealed twice


def _rotated(old: sealing.Sealer) -> sealing.Sealer:
    keyring = Keyring.open(str(old.keyring.path))
    keyring.add_key()
    keyring.save()
    sealer = sealing.Sealer(Keyring.open(str(keyring.path)))
    sealing.install(sealer)
    return sealer


async def test_a_row_changed_during_rotation_keeps_its_new_value(rotating_sealer) -> None:
    site = await make_site()
    pupil = await make_pupil(site, "見守 花子")
    sealer = _rotated(rotating_sealer)

    # The service renames the pupil (sealing with the old key) after rotation read the row.
    batches = rotation._batches

    async def racing_batches(col, dialect):
        async for batch in batches(col, dialect):
            if col.table == "pupil" and col.column == "name":
                pupil.name = "見守 花"
                await pupil.save(update_fields=["name"])
            yield batch

    rotation._batches = racing_batches
    try:
        await rotation.reseal_all(sealer)
    finally:
        rotation._batches = batches
    assert (await Pupil.get(id=pupil.id)).name == "見守 花"
