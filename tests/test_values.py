"""Values users type: partial dates, names, slugs, keys, URLs, text limits."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import values
from ledger.errors import InvalidValue


@pytest.mark.parametrize("value", ["2021", "2021-02", "2021-02-14", "2024-02-29", " 2021-02 "])
def test_partial_dates_keep_their_precision(value):
    assert values.partial_date(value, field="occurred") == value.strip()


@pytest.mark.parametrize("value", ["202102", "2021-13", "2021-02-30", "2023-02-29", "21-02",
                                   "2021/02", "0000", "2021-2", "March 2021"])
def test_bad_dates_name_the_option(value):
    with pytest.raises(InvalidValue, match="--occurred"):
        values.partial_date(value, field="occurred")


def test_partial_dates_sort_and_span():
    assert sorted(["2021-02-14", "2021", "2020-12", "2021-02"]) == [
        "2020-12", "2021", "2021-02", "2021-02-14"]
    month = values.PartialDate("2024-02")
    assert (str(month.earliest()), str(month.latest()), month.precision) == (
        "2024-02-01", "2024-02-29", "month")
    assert str(values.PartialDate("2021").latest()) == "2021-12-31"


def test_fold_ignores_case_accents_and_form():
    nfd = unicodedata.normalize("NFD", "Mélanie  JOLY")
    assert values.fold(nfd) == values.fold("melanie joly") == "melanie joly"


def _fold_char_by_char(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_fold_drops_the_same_marks_as_a_test_of_each_character(value: str) -> None:
    assert values.fold(value) == _fold_char_by_char(value)
    assert values.fold("Ça, c’est “Zoë”") == "ca, c’est “zoe”"


@pytest.mark.parametrize("name, slug", [
    ("Mélanie Joly", "melanie-joly"), ("../../x", "x"), ("CON", "con-person"),
    ("🙂", "person"), ("François-Philippe Champagne", "francois-philippe-champagne"),
])
def test_slugs_are_safe_file_names(name, slug):
    assert values.safe_slug(name, fallback="person") == slug


def test_long_slugs_are_cut():
    assert len(values.safe_slug("a" * 300, fallback="person").encode()) <= 100


@pytest.mark.parametrize("typed, normalized", [
    ("https://www.CBC.ca/news/x/?utm_source=a&b=2&a=1#frag", "https://cbc.ca/news/x?a=1&b=2"),
    ("http://cbc.ca:80/news/x", "https://cbc.ca/news/x"),
    ("https://example.org:8443/a", "https://example.org:8443/a"),
])
def test_urls_normalize_for_duplicates(typed, normalized):
    assert values.url(typed) == (typed, normalized)


@pytest.mark.parametrize("bad", ["ftp://x.org/a", "javascript:alert(1)", "//x.org", "x.org/a",
                                 "https://", "data:text/html,hi"])
def test_only_http_urls(bad):
    with pytest.raises(InvalidValue):
        values.url(bad)


def test_text_limits_and_blanks():
    assert values.text("x" * 2_000, field="statement")
    with pytest.raises(InvalidValue, match="limit is 2,000"):
        values.text("x" * 2_001, field="statement")
    with pytest.raises(InvalidValue, match="must not be empty"):
        values.text(" \n\t", field="statement")
    with pytest.raises(InvalidValue, match="NUL"):
        values.text("a\x00b", field="statement")


@pytest.mark.parametrize("key", ["cbc", "cbc-2023-03-23", "globalnews.feb", "a_b"])
def test_good_keys(key):
    assert values.key(key) == key


@pytest.mark.parametrize("key", ["CBC", "-cbc", "../x", "a b", ".hidden", "con", "x" * 65, ""])
def test_bad_keys(key):
    with pytest.raises(InvalidValue):
        values.key(key)


@settings(deadline=None)  # the first call reads the confusables table
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_lookalike_key_of_ascii_matches_the_general_path(value):
    assert values.lookalike_key(value) == values._lookalike_key(value)


def test_lookalike_keys():
    assert {values.lookalike_key(v) for v in (
        "Han Dong", "HAN  DONG", "han-dong", "Hán Dông", "Han\u200bDong", "H\u0430n Dong",
        "Ｈａｎ Ｄｏｎｇ")} == {"handong"}
    assert values.lookalike_key("Hang Dong") != values.lookalike_key("Han Dong")
