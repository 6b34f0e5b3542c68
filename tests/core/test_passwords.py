"""Password storage: Argon2id for chosen passwords, keyed HMAC for our one-time ones."""

import pytest
from argon2 import extract_parameters

from core.config import AccountSettings
from core.keyring import Keyring
from core.passwords import Passwords
from core.sealing import Sealer


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(AccountSettings(), Sealer(Keyring.generate()))


def test_chosen_passwords_use_argon2id_at_owasp_minimum_or_above(passwords: Passwords) -> None:
    stored = passwords.hash("きょうは晴れ-2026")
    params = extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert params.memory_cost >= 19456 and params.time_cost >= 2 and params.parallelism >= 1
    assert passwords.verify(stored, "きょうは晴れ-2026")
    assert not passwords.verify(stored, "きょうは晴れ-2025")


def test_a_hash_made_with_weaker_parameters_is_rehashed() -> None:
    sealer = Sealer(Keyring.generate())
    old = Passwords(AccountSettings(argon2_memory_kib=19456), sealer).hash("pw-1234567")
    current = Passwords(AccountSettings(argon2_memory_kib=47104), sealer)
    assert current.verify(old, "pw-1234567")
    assert current.needs_rehash(old)
    assert not current.needs_rehash(current.hash("pw-1234567"))


def test_settings_refuse_argon2_below_the_minimum() -> None:
    with pytest.raises(ValueError):
        AccountSettings(argon2_memory_kib=8192)


def test_a_one_time_password_is_accepted_however_it_is_typed(passwords: Passwords) -> None:
    password, stored = passwords.issue_one_time()
    assert password not in stored
    assert passwords.is_one_time(stored)
    for typed in (
        password,
        password.replace("-", ""),
        password.lower(),
        password.translate(
            str.maketrans(
                "ABCDEFGHJKMNPQRSTUVWXYZ23456789-", "ＡＢＣＤＥＦＧＨＪＫＭＮＰＱＲＳＴＵＶＷＸＹＺ２３４５６７８９－"
            )
        ),
    ):
        assert passwords.verify(stored, typed), typed
    assert not passwords.verify(stored, "AAAA-BBBB-CCCC")


def test_one_time_passwords_are_keyed(passwords: Passwords) -> None:
    password, stored = passwords.issue_one_time()
    other = Passwords(AccountSettings(), Sealer(Keyring.generate()))
    assert not other.verify(stored, password)
