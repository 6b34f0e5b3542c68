"""Sealing values at rest, and looking them up by blind index."""

import json
import stat

import pytest

from core.keyring import Keyring, KeyringError
from core.sealing import Sealer, SealingError, key_id_of, normalise


@pytest.fixture
def sealer() -> Sealer:
    return Sealer(Keyring.generate())


def test_a_sealed_name_opens_to_the_same_name(sealer: Sealer) -> None:
    sealed = sealer.seal_text("山田 花子", "pupil.name")
    assert "山田".encode() not in sealed
    assert sealer.unseal_text(sealed, "pupil.name") == "山田 花子"


def test_the_same_value_seals_differently_each_time(sealer: Sealer) -> None:
    assert sealer.seal_text("a@example.jp", "x") != sealer.seal_text("a@example.jp", "x")


def test_a_value_moved_to_another_column_does_not_open(sealer: Sealer) -> None:
    sealed = sealer.seal_text("山田 花子", "pupil.name")
    with pytest.raises(SealingError, match="integrity"):
        sealer.unseal(sealed, "guardian.name")


def test_a_tampered_value_does_not_open(sealer: Sealer) -> None:
    sealed = bytearray(sealer.seal_text("山田 花子", "pupil.name"))
    sealed[-1] ^= 1
    with pytest.raises(SealingError):
        sealer.unseal(bytes(sealed), "pupil.name")


def test_plain_bytes_are_not_mistaken_for_sealed_ones(sealer: Sealer) -> None:
    with pytest.raises(SealingError, match="not sealed"):
        sealer.unseal("山田".encode(), "pupil.name")


def test_sealed_values_carry_their_key_id(sealer: Sealer) -> None:
    assert key_id_of(sealer.seal(b"x", "c")) == "k1"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("ＹＡＭＡＤＡ＠ＥＸＡＭＰＬＥ．ＪＰ", "yamada@example.jp"),  # full-width, as phones type it
        ("  山田　花子 ", "山田 花子"),  # ideographic space, padding
        ("ｶﾀｶﾅ", "カタカナ"),  # half-width katakana
    ],
)
def test_blind_indexes_match_what_people_type(sealer: Sealer, typed: str, stored: str) -> None:
    assert sealer.blind_index("name", typed) == sealer.blind_index("name", stored)


def test_blind_indexes_differ_by_purpose_and_key(sealer: Sealer) -> None:
    assert sealer.blind_index("name", "山田") != sealer.blind_index("address:email", "山田")
    other = Sealer(Keyring.generate())
    assert sealer.blind_index("name", "山田") != other.blind_index("name", "山田")


def test_normalise_folds_width_case_and_spacing() -> None:
    assert normalise("  Ａｂｃ　 ＤＥＦ ") == "abc def"


def test_the_keyring_file_is_created_private(tmp_path) -> None:
    path = tmp_path / "var" / "keyring.json"
    keyring = Keyring.open(str(path), create=True)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Keyring.open(str(path)).keys == keyring.keys


def test_an_inline_keyring_works_but_cannot_be_saved() -> None:
    text = Keyring.generate().to_json()
    keyring = Keyring.open(text)
    assert keyring.current_id == "k1"
    with pytest.raises(KeyringError, match="inline"):
        keyring.save()


def test_a_malformed_keyring_is_named_clearly(tmp_path) -> None:
    path = tmp_path / "keyring.json"
    path.write_text(json.dumps({"keys": {}, "current": "k1", "index_key": "AAAA"}))
    with pytest.raises(KeyringError, match=str(path)):
        Keyring.open(str(path))


def test_a_sealer_follows_a_key_added_by_another_process(tmp_path) -> None:
    path = tmp_path / "keyring.json"
    Keyring.generate(path).save()
    service = Sealer(Keyring.open(str(path)))
    rotated = Keyring.open(str(path))
    rotated.add_key()
    rotated.save()
    sealed_by_rotation = Sealer(rotated).seal_text("山田", "pupil.name")
    assert service.unseal_text(sealed_by_rotation, "pupil.name") == "山田"
    assert service.current_key_id == "k2"
