"""The write-time verdict finds a quote without normalizing the whole text, and agrees with
the whole-text search on every verdict and every offset.

`TextIndex._locate` looks a normalized quote up from its rarest ASCII word and decides each
place on a small normalized window. These tests compare it with the search over the whole
normalized text (what an index already normalized does), on texts built to trip it: words
that repeat, white space and dash runs, curly quotes, no-break spaces, ellipses, combining
marks, invisible characters and full-width letters.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.quotes import TextIndex, _find

WORDS = ["Dong", "said", "he", "was", "not", "told", "the", "café", "Chong", "it", "x1", "ab"]
GAPS = [" ", " ", " ", "  ", "\n", "\n\n", " — ", "-", " - ", "\u00a0", ", ", ". ", "\t"]
TOUCHES = ["’s", "“", "”", "…", "e\u0301", "\u200b", "Ａ", "\u00ad", "ﬁ", "\u0301"]


def reference(text: str, quote: str) -> tuple:
    """The verdict from the whole normalized text (the index normalized first)."""
    index = TextIndex(text)
    index._normal()
    check = index.check(quote=quote, hint=False)
    return check.status, check.match, check.start, check.end


def verdict(text: str, quote: str) -> tuple:
    check = TextIndex(text).check(quote=quote, hint=False)
    return check.status, check.match, check.start, check.end


def build(rng: random.Random, words: int, touched: float) -> str:
    out = []
    for _ in range(words):
        word = rng.choice(WORDS)
        if rng.random() < touched:
            word = word + rng.choice(TOUCHES) if rng.random() < 0.5 else rng.choice(TOUCHES) + word
        out.append(word + rng.choice(GAPS))
    return "".join(out)


def quotes_of(rng: random.Random, text: str, count: int) -> list[str]:
    found = []
    for _ in range(count):
        start = rng.randrange(len(text))
        quote = text[start : start + rng.randint(1, 60)]
        roll = rng.random()
        if roll < 0.3:
            quote = quote.replace("“", '"').replace("”", '"').replace("’", "'")
            quote = quote.replace("—", "-").replace("\u00a0", " ").replace("\n", " ")
        elif roll < 0.5:
            quote = quote.replace(" ", "  ", 1)
        elif roll < 0.6:
            quote = quote.replace("said", "told", 1)
        if quote.strip() and any(c.isalnum() for c in quote):
            found.append(quote)
    return found


@pytest.mark.parametrize("seed", range(40))
@pytest.mark.parametrize("touched", [0.0, 0.3])
def test_the_verdict_agrees_with_the_whole_text_search(seed, touched):
    rng = random.Random(seed)
    text = build(rng, rng.randint(5, 400), touched if seed % 2 else touched / 3)
    for quote in quotes_of(rng, text, 25):
        assert verdict(text, quote) == reference(text, quote), (text, quote)


@pytest.mark.parametrize("seed", range(30))
def test_the_verdict_agrees_on_texts_with_invisible_characters(seed):
    rng = random.Random(1000 + seed)
    words = []
    for _ in range(rng.randint(5, 300)):
        word = rng.choice(WORDS)
        if rng.random() < 0.4:
            cut = rng.randrange(len(word) + 1)
            word = word[:cut] + rng.choice(["\u200b", "\u00ad", "\ufeff"]) + word[cut:]
        words.append(word + rng.choice([*GAPS, "\u200b ", " \u200b"]))
    text = "".join(words)
    for quote in quotes_of(rng, text, 25):
        for variant in (quote, quote.replace("\u200b", "").replace("\u00ad", "")):
            if variant.strip() and any(c.isalnum() for c in variant):
                assert verdict(text, variant) == reference(text, variant), (text, variant)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS + GAPS + TOUCHES), min_size=1, max_size=60),
    st.integers(0, 200),
    st.integers(1, 40),
    st.booleans(),
)
def test_the_verdict_agrees_on_any_mix(pieces, start, length, straighten):
    text = "".join(pieces)
    quote = text[start % len(text) :][:length]
    if straighten:
        quote = quote.replace("“", '"').replace("”", '"').replace("—", "-").replace("\n", " ")
    if not quote.strip() or not any(c.isalnum() for c in quote):
        return
    assert verdict(text, quote) == reference(text, quote)


def _text(size: int, vocabulary: list[str], rng: random.Random, gap: str = " ") -> str:
    words, length = [], 0
    while length < size:
        word = rng.choice(vocabulary)
        words.append(word)
        length += len(word) + len(gap)
    return gap.join(words)[:size]


@pytest.fixture(scope="module")
def five_mb() -> str:
    rng = random.Random(5)
    vocabulary = [
        "".join(rng.choice("abcdefghij") for _ in range(rng.randint(3, 9))) for _ in range(3_000)
    ]
    return _text(5_000_000, vocabulary, rng)


def test_a_long_normalized_quote_at_the_end_of_5_mb_is_anchored_where_it_is(five_mb):
    tail = five_mb[-5_000:]
    tail = tail[tail.index(" ") + 1 :]
    text = five_mb[: -len(tail)] + tail.replace(" ", "\u00a0", 3).replace(" ", " \n ", 2)
    check = TextIndex(text).check(quote=tail, hint=False)
    assert (check.status, check.match) == ("verified", "normalized")
    assert check.end == len(text) and check.start == len(text) - len(tail) - 4


def test_a_5000_character_quote_with_one_word_changed_is_not_found_in_5_mb(five_mb):
    quote = five_mb[2_000_000:2_005_000].split(" ", 1)[1].rsplit(" ", 1)[0]
    words = quote.split(" ")
    words[len(words) // 2] = "nowhere"
    assert TextIndex(five_mb).check(quote=" ".join(words), hint=False).status == "not-found"
    words[len(words) // 2] = words[len(words) // 2 + 1]  # only the text's own words
    changed = "  ".join(words)
    check = TextIndex(five_mb).check(quote=changed, hint=False)
    assert check.status == "not-found"


def test_one_repeated_word_is_found_at_the_first_place_on_word_boundaries():
    text = "word " * 1_000_000 + "words"
    check = TextIndex(text).check(quote="word  word\nword", hint=False)
    assert (check.status, check.start, check.end) == ("verified", 0, 14)
    assert TextIndex(text).check(quote="word-word", hint=False).status == "not-found"


def test_an_exact_search_steps_over_many_occurrences_inside_words():
    text = "ab" * 1_000_000 + " ab."
    assert _find(text, "ab") == len(text) - 3
    text = "xab " * 500_000 + "ab"
    assert _find(text, "ab") == len(text) - 2
    assert _find("ab" * 500_000, "ab") == -1


def test_a_quote_ending_where_the_text_puts_a_combining_mark_is_found():
    text = "one two abc\u0360d three " * 3 + "x\u0301"
    assert verdict(text, "two abc") == reference(text, "two abc")
    assert verdict(text, "two abc")[0] == "verified"


@pytest.mark.parametrize(
    "mark",
    ["\u0301", "\u0344", "\u0f73", "\u00a8", "\u0360", "\u0316\u0301", "\u200b\u0301"],
)
def test_marks_that_normalizing_makes_or_moves_never_hide_a_quote(mark):
    # U+0344 normalizes into two marks, U+0F73 (not itself combining) into marks, U+00A8
    # into a space and a mark; a zero-width space before a mark keeps it off the letter.
    text = f"one taq{mark} two waq{mark}y three taq four " * 3
    quotes = ["taq", "two waq", "taq two", f"taq{mark} two", "two waq\u0308\u0301y", "three taq"]
    for quote in quotes:
        for variant in (quote, quote.replace(" ", "  ")):
            assert verdict(text, variant) == reference(text, variant), (text, variant)
