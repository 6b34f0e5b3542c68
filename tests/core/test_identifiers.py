"""Login IDs, one-time passwords and registration codes people read and type."""

import re

from core.identifiers import (
    UNAMBIGUOUS,
    compact_code,
    find_registration_code,
    new_login_id,
    new_one_time_password,
    new_registration_code,
)


def test_login_ids_have_no_look_alike_characters() -> None:
    ids = {new_login_id() for _ in range(200)}
    assert len(ids) == 200
    for login_id in ids:
        assert re.fullmatch(r"[2-9A-HJKMNP-Z]{8}", login_id)
    assert not set("01OIL") & set(UNAMBIGUOUS)


def test_one_time_passwords_are_grouped_for_reading() -> None:
    assert re.fullmatch(r"([2-9A-HJKMNP-Z]{4}-){2}[2-9A-HJKMNP-Z]{4}", new_one_time_password())


def test_registration_codes_are_twelve_digits_in_groups() -> None:
    assert re.fullmatch(r"\d{4} \d{4} \d{4}", new_registration_code())


def test_codes_typed_in_full_width_or_with_spaces_are_the_same_code() -> None:
    assert compact_code("１２３４　５６７８－９０１２") == "123456789012"
    assert compact_code("abcd-efgh") == "ABCDEFGH"


def test_a_registration_code_is_found_in_a_chat_message() -> None:
    assert find_registration_code("登録コード：１２３４ ５６７８ ９０１２ です") == "123456789012"
    assert find_registration_code("1234-5678-9012") == "123456789012"
    assert find_registration_code("電話 090-1234-5678") is None
    assert find_registration_code("1234567890123") is None
