"""The one-language checker finds what a doubled or untranslated label leaves, and nothing else."""

from __future__ import annotations

from core.models import Language
from tests.one_language import one_language_problems

PAGE = (
    '<html lang="{lang}"><body><h1>{h1}</h1><button lang="zh-Hans">简体中文</button><a href="/x">{a}</a></body></html>'
)


def test_a_doubled_label_is_found_in_japanese_and_in_english() -> None:
    assert one_language_problems(PAGE.format(lang="ja", h1="お子さま Children", a="ホーム"), Language.JA) == [
        "Children"
    ]
    assert one_language_problems(PAGE.format(lang="en", h1="Children", a="ホーム Home"), Language.EN) == ["ホーム"]


def test_an_untranslated_text_is_found_in_a_language_written_in_latin_letters() -> None:
    page = PAGE.format(lang="vi", h1="Đăng nhập", a="The login ID or password is wrong.")
    assert one_language_problems(page, Language.VI) == ["The login ID or password is wrong."]


def test_names_links_and_text_marked_as_another_language_are_not_counted() -> None:
    page = PAGE.format(lang="en", h1="Hanako arrived at みどり小学校", a="https://example.jp/photos/abc")
    assert one_language_problems(page, Language.EN, names=["みどり小学校"]) == []
    assert one_language_problems("花子さんが7:58にみどり小学校に登校しました。 LINE", Language.JA) == []
