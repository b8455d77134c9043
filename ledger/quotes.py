"""Find a recorded quote in a source's stored text, or say why it is not there.

A quote is verified in one of three ways, tried in order:

- **exact**: the quote, as typed, is a substring of the text;
- **normalized**: it is a substring once both sides are normalized (see `normalize`);
- **elided**: it joins parts with an ellipsis ("…", "..." or "[...]"); every part is found,
  normalized, in the order given. The anchor spans from the first part to the last, so a
  reviewer sees what was left out.

Matches must start and end on word boundaries: "ring" is not found in "during", and
"the allegation" is not found in "the allegations".

Anything else is **not found**, however close: a one-word change ("February" for "March") is a
misquote, not a typo to forgive. A not-found check carries the closest passage of the text, its
similarity and a word-level difference, so a reviewer can see what the source says instead. The
fuzzy search that finds that passage runs only for quotes that are not found, and never changes a
verdict. Its cost follows where the quote's words occur, not the length of the text; a passage
longer than three times the quote plus 100 characters (a "word" of a megabyte without a space)
is compared and shown only up to that length from its start.

A source without stored text leaves its quotes **unverifiable**.

Case is never folded: a change of case is a change of the words quoted.
"""

from __future__ import annotations

import re
import time
import unicodedata
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from itertools import accumulate, islice
from operator import add
from typing import Any, Literal

__all__ = [
    "QUOTE_CONTEXT",
    "QuoteCheck",
    "QuoteMatch",
    "QuoteStatus",
    "TextIndex",
    "check_quote",
    "normalize",
    "normalize_with_map",
    "recheck",
    "word_diff",
]

QUOTE_CONTEXT = 40
"""Characters of original text kept before and after a verified quote."""
HINT_SECONDS = 0.05
"""How long the search for a not-found quote's closest passage may refine its window."""
MAX_SPREAD = 16
"""How many words a closest passage's window may move or stretch by, at most."""

QuoteStatus = Literal["verified", "not-found", "unverifiable"]
QuoteMatch = Literal["exact", "normalized", "elided"]

# Characters folded by `normalize`, beyond what NFKC already does.
_SINGLE_QUOTES = "\u2018\u2019\u201a\u201b\u2032\u2035`\u00b4"
_DOUBLE_QUOTES = "\u201c\u201d\u201e\u201f\u2033\u2036"
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
# Invisible characters that only ever split a word: soft hyphen, zero-width space and joiners,
# word joiner, byte-order mark.
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"

_FOLD = {ord(c): "'" for c in _SINGLE_QUOTES}
_FOLD.update({ord(c): '"' for c in _DOUBLE_QUOTES})
_FOLD.update({ord(c): "-" for c in _DASHES})
_FOLD.update({ord(c): None for c in _INVISIBLE})

# Runs of text that normalization leaves untouched: printable ASCII other than the hyphen and
# the backtick, joined by single spaces or by single hyphens between two such characters.
# Normalizing is then a C-speed regex scan plus Python work only for the short gaps between
# runs (white space, dashes, non-ASCII), which keeps a 5 KB text well under a millisecond.
_PLAIN = re.compile(r"[!-,.-_a-~]+(?:[ -][!-,.-_a-~]+)*")
_ELLIPSIS = re.compile(r"\s*(?:\[\s*\.\.\.\s*\]|\.\.\.)\s*")
# Words for the fuzzy search: a dash joins words once normalized ("learned-and"), but a
# closest passage may well end before it.
_WORD = re.compile(r"[^ -]+")
# The verdict's shortcut (`TextIndex._locate`): ASCII words of a quote, the places a window
# of the text may start (after white space, at a letter or digit) and end (the reverse).
_ASCII_WORD = re.compile(r"[0-9A-Za-z]+")
_WINDOW_START = re.compile(r"(?<=[ \t\n\r])[0-9A-Za-z]")
_WINDOW_END = re.compile(r"(?<=[0-9A-Za-z])[ \t\n\r]")
_ASCII_BYTES = bytes(range(128))
ANCHOR_WORDS = 6
"""How many of a quote's longest words the verdict tries as the anchor of its search."""
ANCHOR_PLACES = 4_000
"""How many places of its anchor word the verdict reads at most."""
WINDOW_LIMIT = 1 << 16
"""Characters beyond the quote's length a window may grow to before the whole text is used."""
WINDOW_REACH = 1 << 14
"""Characters a window reaches past what its place needs, for the places after it."""
_UNDECIDED = object()


@dataclass(frozen=True)
class QuoteCheck:
    """The outcome of looking for one quote in one text.

    Offsets are into the original text, so `text[start:end]` is the passage that matched.
    `prefix` and `suffix` are up to `QUOTE_CONTEXT` characters of original text around it.
    `closest`, `similarity` (0..1) and `diff` are set only when the quote is not found; in
    `diff`, `[-...-]` marks words the source has and the quote lacks, `{+...+}` words the quote
    has and the source lacks.
    """

    status: QuoteStatus
    match: QuoteMatch | None = None
    start: int | None = None
    end: int | None = None
    prefix: str | None = None
    suffix: str | None = None
    closest: str | None = None
    similarity: float | None = None
    diff: str | None = None

    @property
    def verified(self) -> bool:
        """True when the quote was found in the text."""
        return self.status == "verified"

    def to_dict(self) -> dict[str, Any]:
        """Return the check as a plain JSON-ready dictionary."""
        return asdict(self)


UNVERIFIABLE = QuoteCheck(status="unverifiable")


@dataclass(frozen=True)
class _OffsetMap:
    """Maps positions in a normalized string back to the original string.

    Each segment starts at `norm_starts[i]` in the normalized string. A verbatim segment was
    copied unchanged, so positions inside it shift by a constant; any other segment is one
    normalized character produced from `orig_starts[i]:orig_ends[i]` of the original.
    """

    norm_starts: list[int]
    orig_starts: list[int]
    orig_ends: list[int]
    verbatim: list[bool]
    norm_length: int
    orig_length: int

    def start(self, position: int) -> int:
        """Original offset where the normalized character at `position` begins."""
        if position >= self.norm_length:
            return self.orig_length
        i = bisect_right(self.norm_starts, position) - 1
        if self.verbatim[i]:
            return self.orig_starts[i] + position - self.norm_starts[i]
        return self.orig_starts[i]

    def to_normalized(self, offset: int) -> int:
        """Normalized position of the character at original `offset` (where a character that
        normalizing merged or dropped went: the start of what it became)."""
        i = bisect_right(self.orig_starts, offset) - 1
        if self.verbatim[i]:
            return self.norm_starts[i] + offset - self.orig_starts[i]
        return self.norm_starts[i]

    def end(self, position: int) -> int:
        """Original offset just after the normalized character before `position`."""
        if position <= 0:
            return 0
        i = bisect_right(self.norm_starts, position - 1) - 1
        if self.verbatim[i]:
            return self.orig_starts[i] + position - self.norm_starts[i]
        return self.orig_ends[i]


def normalize(text: str) -> str:
    """Return `text` in the form quotes are matched in.

    NFKC (ligatures, full-width forms, "…" to "..."), curly quotes and apostrophes to straight
    ones, every dash to "-" with no space around it, soft hyphens and zero-width characters
    removed, runs of white space to one space, and no space at either end.

    >>> normalize("“Don’t” \u2014  he said,\u00a0twice")
    '"Don\\'t"-he said, twice'
    """
    return normalize_with_map(text)[0]


# Only what normalizing changes, so the common single space and lone hyphen are not rewritten.
_SPACE_RUN = re.compile(r"[^\S ]\s*| \s+")
_DASH_RUN = re.compile(r" -[ -]*|-[ -]+")


def normalize_fast(text: str) -> str:
    """`normalize(text)` for an ASCII text, at C speed, with no map back to the original.

    For ASCII, NFKC changes nothing and no mark combines, so normalizing is: the backtick to
    an apostrophe, white space runs to one space, dashes with the spaces around them to one
    "-", no space at either end. A verdict searches this form first; only a quote found in
    it needs the map (`normalize_with_map`, about 0.2 s per MB of text).
    """
    if not text.isascii():
        raise ValueError("normalize_fast takes ASCII text")
    spaced = _SPACE_RUN.sub(" ", text.replace("`", "'"))
    return _DASH_RUN.sub("-", spaced).strip(" ")


def normalize_with_map(text: str) -> tuple[str, _OffsetMap]:
    """Normalize `text` as `normalize` does, with a map back to original offsets."""
    pieces: list[str] = []
    norm_starts: list[int] = []
    orig_starts: list[int] = []
    orig_ends: list[int] = []
    verbatim: list[bool] = []
    length = 0
    position = 0
    for run in _PLAIN.finditer(text):
        run_start, run_end = run.span()
        # A combining mark composes with the character before it, so that character belongs
        # to the gap, where NFKC sees both.
        if run_end > run_start and _starts_combining(text, run_end):
            run_end -= 1
        if run_start > position:
            length = _emit_gap(
                text,
                position,
                run_start,
                pieces,
                norm_starts,
                orig_starts,
                orig_ends,
                verbatim,
                length,
            )
        if run_end > run_start:
            pieces.append(text[run_start:run_end])
            norm_starts.append(length)
            orig_starts.append(run_start)
            orig_ends.append(run_end)
            verbatim.append(True)
            length += run_end - run_start
        position = run_end
    if position < len(text):
        length = _emit_gap(
            text,
            position,
            len(text),
            pieces,
            norm_starts,
            orig_starts,
            orig_ends,
            verbatim,
            length,
        )
    normalized = "".join(pieces)
    # Gaps handle white space inside themselves; trim what is left at the ends.
    lead = len(normalized) - len(normalized.lstrip(" "))
    normalized = normalized.strip(" ")
    if lead:
        norm_starts = [max(s - lead, 0) for s in norm_starts]
    if not norm_starts or norm_starts[0] != 0:
        norm_starts.insert(0, 0)
        orig_starts.insert(0, 0)
        orig_ends.insert(0, 0)
        verbatim.insert(0, False)
    return normalized, _OffsetMap(
        norm_starts, orig_starts, orig_ends, verbatim, len(normalized), len(text)
    )


def _starts_combining(text: str, index: int) -> bool:
    return index < len(text) and unicodedata.combining(text[index]) != 0


def _emit_gap(
    text: str,
    start: int,
    end: int,
    pieces: list[str],
    norm_starts: list[int],
    orig_starts: list[int],
    orig_ends: list[int],
    verbatim: list[bool],
    length: int,
) -> int:
    """Normalize `text[start:end]` one output character at a time; return the new length."""
    # (character, original start, original end) before white space and dashes are collapsed.
    chars: list[tuple[str, int, int]] = []
    cluster_start = start
    for index in range(start + 1, end + 1):
        if index < end and unicodedata.combining(text[index]):
            continue
        cluster = unicodedata.normalize("NFKC", text[cluster_start:index]).translate(_FOLD)
        for char in cluster:
            chars.append((" " if char.isspace() else char, cluster_start, index))
        cluster_start = index
    # Collapse runs of spaces, and dashes with the spaces around them.
    collapsed: list[tuple[str, int, int]] = []
    for char, o_start, o_end in chars:
        previous = collapsed[-1][0] if collapsed else ""
        if char == " " and previous in (" ", "-"):
            if previous == " ":
                collapsed[-1] = (" ", collapsed[-1][1], o_end)
            continue
        if char == "-" and previous in (" ", "-"):
            if previous == " ":
                collapsed[-1] = ("-", o_start, o_end)
            else:
                collapsed[-1] = ("-", collapsed[-1][1], o_end)
            continue
        collapsed.append((char, o_start, o_end))
    # A gap follows and precedes plain text, which never has a space at its edges; but the
    # previous piece may end in a dash, which swallows a leading space here.
    if collapsed and collapsed[0][0] == " " and pieces and pieces[-1].endswith("-"):
        collapsed.pop(0)
    for char, o_start, o_end in collapsed:
        pieces.append(char)
        norm_starts.append(length)
        orig_starts.append(o_start)
        orig_ends.append(o_end)
        verbatim.append(False)
        length += 1
    return length


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _find(haystack: str, needle: str, begin: int = 0) -> int:
    """Index of the first occurrence of `needle` at or after `begin` that sits on word
    boundaries (where the needle's own edge is a word character), or -1."""
    check_left = _is_word_char(needle[0])
    check_right = _is_word_char(needle[-1])
    index = haystack.find(needle, begin)
    misses = 0
    while index != -1:
        after = index + len(needle)
        if not (check_left and index > 0 and _is_word_char(haystack[index - 1])) and not (
            check_right and after < len(haystack) and _is_word_char(haystack[after])
        ):
            return index
        misses += 1
        if misses == _MISSES:
            # Many occurrences inside longer words ("ab" in "ababab…"): let the regex engine
            # step through the rest instead of a Python loop per occurrence.
            return _bounded(needle, check_left, check_right).search(haystack, index + 1)
        index = haystack.find(needle, index + 1)
    return -1


_MISSES = 32


class _Bounded:
    """`needle` on word boundaries as a regex the engine runs without a Python step per
    occurrence: a left boundary becomes a non-word character before the needle (found by the
    engine's character-class scan), a right one a lookahead."""

    def __init__(self, needle: str, left: bool, right: bool) -> None:
        pattern = (r"\W" if left else "") + re.escape(needle) + (r"(?!\w)" if right else "")
        self.regex = re.compile(pattern)
        self.shift = 1 if left else 0

    def search(self, haystack: str, begin: int) -> int:
        match = self.regex.search(haystack, max(begin - self.shift, 0))
        return match.start() + self.shift if match else -1


def _bounded(needle: str, left: bool, right: bool) -> _Bounded:
    return _Bounded(needle, left, right)


def _rfind(haystack: str, needle: str, end: int) -> int:
    """Index of the last occurrence of `needle` ending at or before `end` that sits on word
    boundaries, or -1."""
    check_left = _is_word_char(needle[0])
    check_right = _is_word_char(needle[-1])
    index = haystack.rfind(needle, 0, end)
    while index != -1:
        after = index + len(needle)
        if not (check_left and index > 0 and _is_word_char(haystack[index - 1])) and not (
            check_right and after < len(haystack) and _is_word_char(haystack[after])
        ):
            return index
        index = haystack.rfind(needle, 0, after - 1)
    return -1


def _find_all(haystack: str, needle: str) -> list[int]:
    found: list[int] = []
    index = _find(haystack, needle)
    while index != -1:
        found.append(index)
        index = _find(haystack, needle, index + 1)
    return found


@lru_cache(maxsize=4096)
def _makes_ascii(char: str) -> bool:
    """True for a character that normalizing removes (a soft hyphen, a zero-width space) or
    turns into ASCII letters or digits (a ligature, a full-width or circled letter)."""
    if char in _INVISIBLE:
        return True
    return any(c.isascii() and c.isalnum() for c in unicodedata.normalize("NFKC", char))


def _marks_of(chars: set[str]) -> set[str]:
    """The characters of `chars` that are combining marks or normalize into some, and the
    marks they normalize into: what may follow a letter in the text or its normalized form
    and fold the letter into another."""
    marks: set[str] = set()
    for char in chars:
        made = {c for c in unicodedata.normalize("NFKC", char) if unicodedata.combining(c)}
        if made or unicodedata.combining(char):
            marks.add(char)
            marks |= made
    return marks


def _same_word(got: str, want: str, edge: bool) -> bool:
    """Whether a word read from the text can be the quote's word `want`. The quote's last
    word (`edge`) may go on in the text, or lose its last letter there to a combining mark
    that follows it."""
    return got == want or (edge and got.startswith(want[:-1]))


def _is_ascii_alnum(char: str) -> bool:
    return char.isascii() and char.isalnum()


def _window_start(text: str, position: int) -> int:
    """The last place at or before `position` where a window may start: 0 at the text's
    start, -1 if there is none within `WINDOW_LIMIT` characters."""
    if position <= 0:
        return 0
    high = position + 1
    while high > 0 and position - high < WINDOW_LIMIT:
        low = max(0, high - 1024)
        starts = [m.start() for m in _WINDOW_START.finditer(text, low, high)]
        if starts:
            return starts[-1]
        high = low
    return 0 if high <= 0 else -1


def _window_end(text: str, position: int) -> int:
    """The first place at or after `position` where a window may end (the text's end if
    none)."""
    if position >= len(text):
        return len(text)
    match = _WINDOW_END.search(text, max(position, 1))
    return match.start() if match else len(text)


class TextIndex:
    """One stored text, prepared for checking many quotes against it.

    The normalized form and the word table used by the fuzzy search are built on first need
    and kept, so auditing many quotes against one source normalizes it once, and a text whose
    quotes are all exact is never normalized at all.

    >>> TextIndex("Dong denied it.").check(quote="Dong denied").status
    'verified'
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._normalized: tuple[str, _OffsetMap] | None = None
        self._fast: str | None = None
        self._words: tuple[list[int], list[int], list[str]] | None = None
        self._where: dict[str, list[int]] | None = None
        self._searches = 0
        self._verbatim: tuple[re.Pattern[str] | None] | None = None
        self._others: set[str] = set()
        self._marks: set[str] = set()
        self._visible: tuple[TextIndex, str] | bool | None = False

    @property
    def normalized(self) -> str:
        """The text as `normalize` returns it."""
        return self._normal()[0]

    def _normal(self) -> tuple[str, _OffsetMap]:
        if self._normalized is None:
            self._normalized = normalize_with_map(self.text)
        return self._normalized

    def check(self, *, quote: str, hint: bool = True) -> QuoteCheck:
        """Look for `quote` in the text: exact, normalized, elided, else not found.

        `hint=False` skips the search for the closest passage of a quote that is not found
        (a write needs only the verdict; the audit shows the passage). Raises ValueError for
        an empty quote; callers validate input before this point.
        """
        return self._check(quote=quote, hint=hint)

    def _check(
        self,
        *,
        quote: str,
        near: int | None = None,
        prefix: str | None = None,
        suffix: str | None = None,
        hint: bool = True,
    ) -> QuoteCheck:
        stripped = quote.strip()
        if not stripped:
            raise ValueError("quote is empty")
        starts = _find_all(self.text, stripped) if near is not None else None
        if starts:
            start = _pick(self.text, starts, len(stripped), near, prefix, suffix)
            return self._verified("exact", start, start + len(stripped))
        if starts is None:
            start = _find(self.text, stripped)
            if start != -1:
                return self._verified("exact", start, start + len(stripped))

        needle = normalize(stripped)
        if not needle:
            raise ValueError("quote is empty once normalized")
        if near is None and self._normalized is None:
            located = self._locate(needle)
            if located is None:  # not in the text, and no ellipsis: neither whole nor elided
                return self._not_found(needle) if hint else QuoteCheck(status="not-found")
            if located is not _UNDECIDED:
                return self._verified("normalized", *located)
        if not hint and self._surely_absent(needle):
            return QuoteCheck(status="not-found")
        normalized, offsets = self._normal()
        candidates = _find_all(normalized, needle) if near is not None else None
        if candidates:
            spans = [(offsets.start(i), offsets.end(i + len(needle))) for i in candidates]
            chosen = _pick_span(self.text, spans, near, prefix, suffix)
            return self._verified("normalized", *chosen)
        if candidates is None:
            index = _find(normalized, needle)
            if index != -1:
                return self._verified(
                    "normalized", offsets.start(index), offsets.end(index + len(needle))
                )

        span = self._find_elided(needle)
        if span is not None:
            return self._verified("elided", offsets.start(span[0]), offsets.end(span[1]))
        if not hint:
            return QuoteCheck(status="not-found")
        return self._not_found(needle)

    def _letters_verbatim(self) -> re.Pattern[str] | None:
        """How to read the ASCII words of this text so that they are the words its normalized
        form has, in the same order; None when no such reading exists.

        None when the text holds a character that normalizing turns into ASCII letters or
        digits ("ﬁ", full-width "Ａ") or removes from inside a word (a soft hyphen). Otherwise
        every ASCII letter and digit of the normalized text is one of the stored text, so a
        quote's ASCII words, if it is in the text at all, are in the stored text as typed. A
        letter followed by a combining mark may fold into another ("e" and U+0301 into "é"),
        so in a text with combining marks such a letter is read as no part of a word.
        """
        if self._verbatim is None:
            text = self.text
            others: set[str] = (
                set()
                if text.isascii()
                else set(
                    text.encode("utf-8", "surrogatepass")
                    .translate(None, _ASCII_BYTES)
                    .decode("utf-8", "surrogatepass")
                )
            )
            self._others = others
            if any(map(_makes_ascii, others)):
                self._verbatim = (None,)
            else:
                self._marks = _marks_of(others)
                marks = "".join(sorted(self._marks))
                self._verbatim = (
                    re.compile(rf"(?:[0-9A-Za-z](?![{re.escape(marks)}]))+")
                    if marks
                    else _ASCII_WORD,
                )
        return self._verbatim[0]

    def _locate(self, needle: str) -> tuple[int, int] | object | None:
        """Where the normalized `needle` first is, as original offsets, found without
        normalizing the whole text; None when it is not in the text; `_UNDECIDED` when this
        shortcut cannot tell (an elided quote, no ASCII word to anchor on, a text whose
        letters normalizing may change, or only very common words and no early match).

        The quote's longest words are looked up as typed: one that is missing proves the quote
        absent. The rarest of them anchors the search: at each of its places, in order, the
        words that follow are compared with the quote's (most places fail there), and the
        rest are decided on a window of the text around the place, normalized with its map.
        """
        if _ELLIPSIS.search(needle):
            return _UNDECIDED
        words = self._letters_verbatim()
        if words is None:
            visible = self._without_invisibles()
            if visible is None:
                return _UNDECIDED
            index, invisible = visible
            span = index._locate(needle)
            if span is None or span is _UNDECIDED:
                return span
            first, last = span  # type: ignore[misc]
            return self._kept(first, invisible), self._kept(last - 1, invisible) + 1
        if not needle.isascii() and not self._marks.issuperset(
            c for c in needle if unicodedata.combining(c)
        ):
            return _UNDECIDED  # a mark the text cannot hold: read its words no further
        runs = [(m.group(), m.start(), m.end()) for m in words.finditer(needle)]
        if not runs:
            return _UNDECIDED
        text = self.text
        first: dict[str, int] = {}
        for number, (word, _, _) in enumerate(runs):
            first.setdefault(word, number)
        longest = sorted(first, key=len, reverse=True)[:ANCHOR_WORDS]
        chosen: tuple[int, list[int]] | None = None
        for word in longest:
            places: list[int] = []
            index = text.find(word)
            if index == -1:
                return None
            while index != -1 and len(places) <= ANCHOR_PLACES:
                places.append(index)
                index = text.find(word, index + 1)
            if chosen is None or len(places) < len(chosen[1]):
                chosen = (first[word], places)
        assert chosen is not None
        number, places = chosen
        # Past the cap, the places read are only the first ones: a match among them is the
        # first in the text, but finding none proves nothing.
        exhausted = len(places) <= ANCHOR_PLACES
        word, offset, word_end = runs[number]
        follow = [(w, end == len(needle)) for w, _, end in runs[number + 1 : number + 4]]
        windows: list = []  # the last window normalized, for the places it also holds
        for place in places[:ANCHOR_PLACES]:
            if offset > 0 and place > 0 and _is_ascii_alnum(text[place - 1]):
                continue
            found = [m for m in islice(words.finditer(text, place), len(follow) + 1)]
            head = found[0] if found else None
            if head is None or head.start() != place:
                continue
            if not _same_word(head.group(), word, word_end == len(needle)):
                continue
            if len(found) < len(follow) + 1 or not all(
                _same_word(m.group(), want, edge)
                for m, (want, edge) in zip(found[1:], follow, strict=False)
            ):
                continue
            span = self._aligned(needle, offset, place, windows)
            if span is _UNDECIDED:
                return _UNDECIDED
            if span is not None:
                return span
        return None if exhausted else _UNDECIDED

    def _without_invisibles(self) -> tuple[TextIndex, str] | None:
        """The text with its invisible characters taken out, prepared, and those characters;
        None when more than invisible characters keep its letters from being read as typed,
        or when a combining mark could follow one (taking the invisible out would let the mark
        fold into the letter before it, which normalizing the text as stored does not)."""
        if self._visible is False:
            others = self._others
            invisible = "".join(sorted(c for c in others if c in _INVISIBLE))
            rest = others.difference(invisible)
            if not invisible or any(map(_makes_ascii, rest)) or _marks_of(rest):
                self._visible = None
            else:
                text = self.text
                for char in invisible:
                    text = text.replace(char, "")
                index = TextIndex(text)
                index._others, index._verbatim = rest, (_ASCII_WORD,)  # no marks in `rest`
                self._visible = (index, invisible)
        return self._visible  # type: ignore[return-value]

    def _kept(self, number: int, invisible: str) -> int:
        """Original offset of the visible character `number` (counted without invisible
        ones): counted in C, a stretch at a time, since invisible ones may be many."""
        text = self.text
        position, counted = number, 0
        while True:
            more = sum(text.count(char, counted, position + 1) for char in invisible)
            if not more:
                break
            counted, position = position + 1, position + more
        return position

    def _aligned(
        self, needle: str, offset: int, place: int, windows: list
    ) -> tuple[int, int] | object | None:
        """Original span of `needle` if it is in the text with its character `offset` at the
        original `place`, decided on a window around the place, normalized with its map.

        A window starts at a letter or digit after white space and ends at one before white
        space, so it normalizes as that stretch of the whole text does; it must hold two
        normalized characters more than the quote needs on each side of the place. It reaches
        `WINDOW_REACH` characters further on, and the last one made (kept in `windows`) serves
        the places after this one that it holds."""
        text = self.text
        before, after = offset + 2, len(needle) - offset + 2
        made = windows[0] if windows else None
        left, right = before + 64, after + 64 + WINDOW_REACH
        while True:
            if made is not None and made[0] <= place < made[1]:
                start, end, window, offsets = made
            else:
                start = _window_start(text, place - left)
                end = _window_end(text, place + right)
                if start < 0 or end - start > len(needle) + WINDOW_LIMIT:
                    return _UNDECIDED
                window, offsets = normalize_with_map(text[start:end])
                made = (start, end, window, offsets)
            at = offsets.to_normalized(place - start)
            short_left = start > 0 and at < before
            short_right = end < len(text) and len(window) - at < after
            if not (short_left or short_right):
                break
            if made is not (windows[0] if windows else None):
                left, right = left * (2 if short_left else 1), right * (2 if short_right else 1)
            made = None
        windows[:] = [made]
        first = at - offset
        if first < 0 or not window.startswith(needle, first):
            return None
        last = first + len(needle)
        if _is_word_char(needle[0]) and first > 0 and _is_word_char(window[first - 1]):
            return None
        if _is_word_char(needle[-1]) and last < len(window) and _is_word_char(window[last]):
            return None
        return start + offsets.start(first), start + offsets.end(last)

    def _surely_absent(self, needle: str) -> bool:
        """True when `needle` (normalized) is in no form of an ASCII text: not as a whole, nor
        (elided) part by part in order. Decided on `normalize_fast`, without the offset map."""
        if self._normalized is not None or not self.text.isascii():
            return False
        if self._fast is None:
            self._fast = normalize_fast(self.text)
        if _find(self._fast, needle) != -1:
            return False
        parts = [p for p in _ELLIPSIS.split(needle) if any(_is_word_char(c) for c in p)]
        if not parts or (len(parts) == 1 and parts[0] == needle):
            return True
        position = 0
        for part in parts:
            index = _find(self._fast, part, position)
            if index == -1:
                return True
            position = index + len(part)
        return False

    def _find_elided(self, needle: str) -> tuple[int, int] | None:
        """Normalized span from the first part to the last, if every part of an elided quote
        is found in order; None if the quote has no ellipsis or a part is missing."""
        parts = [p for p in _ELLIPSIS.split(needle) if any(_is_word_char(c) for c in p)]
        if not parts or (len(parts) == 1 and parts[0] == needle):
            return None
        normalized = self.normalized
        position = 0
        first = -1
        for part in parts:
            index = _find(normalized, part, position)
            if index == -1:
                return None
            if first == -1:
                first = index
            position = index + len(part)
        return first, position

    def elided_parts(self, *, quote: str) -> list[tuple[int, int]]:
        """Where each part of an elided quote is, as original spans in order, placed as
        tightly as the text allows (so what the ellipses leave out is as short as it can
        be); empty if the quote has no ellipsis or a part is missing.

        >>> index = TextIndex("I was not offered any help.")
        >>> [index.text[a:b] for a, b in index.elided_parts(quote="I was … offered")]
        ['I was', 'offered']
        """
        needle = normalize(quote.strip())
        parts = [p for p in _ELLIPSIS.split(needle) if any(_is_word_char(c) for c in p)]
        if len(parts) < 2:
            return []
        normalized, offsets = self._normal()
        position = 0
        for part in parts:
            index = _find(normalized, part, position)
            if index == -1:
                return []
            position = index + len(part)
        # Back from the earliest possible end: each part at its last place before the next.
        spans: list[tuple[int, int]] = []
        limit = position
        for part in reversed(parts):
            index = _rfind(normalized, part, limit)
            spans.append((index, index + len(part)))
            limit = index
        return [(offsets.start(a), offsets.end(b)) for a, b in reversed(spans)]

    def _verified(self, match: QuoteMatch, start: int, end: int) -> QuoteCheck:
        return QuoteCheck(
            status="verified",
            match=match,
            start=start,
            end=end,
            prefix=self.text[max(0, start - QUOTE_CONTEXT) : start],
            suffix=self.text[end : end + QUOTE_CONTEXT],
        )

    def _word_table(self) -> tuple[list[int], list[int], list[str]]:
        """Start and end of every word of the normalized text, and its matching key."""
        if self._words is None:
            normalized = self.normalized
            words = normalized.replace("-", " ").split(" ")
            if "" in words:
                # Separators side by side, or at an end: let the regex find the words.
                spans = [m.span() for m in _WORD.finditer(normalized)]
                starts = [start for start, _ in spans]
                ends = [end for _, end in spans]
                words = _WORD.findall(normalized)
            else:
                # One separator between words: offsets follow from the lengths alone.
                before = list(accumulate(map(len, words), initial=0))
                starts = list(map(add, before[:-1], range(len(words))))
                ends = list(map(add, before[1:], range(len(words))))
            # Case folding never makes or removes a separator, nor touches the punctuation
            # `_word_key` strips, so folding the words at once gives the same keys.
            keys = [word.strip(_KEY_EDGES) for word in "\0".join(words).casefold().split("\0")]
            if len(keys) != len(words):
                keys = [_word_key(word) for word in words]
            self._words = (starts, ends, keys)
        return self._words

    def _occurrences(self, wanted: Counter[str]) -> list[tuple[int, str]]:
        """(word number, key) of every word of the text that the quote has, in text order.

        The first search scans the keys; a text searched again gets an index (key -> word
        numbers), so many misquotes of one long text read only their own words' places.
        """
        keys = self._word_table()[2]
        self._searches += 1
        if self._searches == 1:
            return [(number, key) for number, key in enumerate(keys) if key in wanted]
        if self._where is None:
            where: defaultdict[str, list[int]] = defaultdict(list)
            for number, key in enumerate(keys):
                where[key].append(number)
            self._where = dict(where)
        hits = [(number, key) for key in wanted for number in self._where.get(key, ())]
        hits.sort()
        return hits

    def _not_found(self, needle: str) -> QuoteCheck:
        normalized, offsets = self._normal()
        span, similarity = self._closest(needle)
        if span is None:
            return QuoteCheck(status="not-found", closest="", similarity=0.0, diff=None)
        n_start, n_end = span
        closest = self.text[offsets.start(n_start) : offsets.end(n_end)]
        return QuoteCheck(
            status="not-found",
            closest=closest,
            similarity=round(similarity, 4),
            diff=word_diff(source=normalized[n_start:n_end], quote=needle),
        )

    def _closest(self, needle: str) -> tuple[tuple[int, int] | None, float]:
        """The normalized span most like `needle`, and its similarity.

        Windows of the quote's length are ranked by how many of its words they contain; only
        the best few are compared word by word, and ties character by character. The ranking
        reads only the places where the quote's words occur, so past one scan of the text's
        words its cost follows those occurrences, not the length of the text.
        """
        starts, ends, keys = self._word_table()
        if not starts:
            return None, 0.0
        quote_keys = [_word_key(w) for w in _WORD.findall(needle)]
        # A quote of punctuation alone still gets a one-word window.
        n = max(1, min(len(quote_keys), len(starts)))
        wanted = Counter(quote_keys)
        spread = min(MAX_SPREAD, max(2, n // 8))
        deadline = time.monotonic() + HINT_SECONDS
        normalized = self.normalized
        # A window far longer than the quote (a giant "word", such as a megabyte without a
        # space) is compared, and shown, only up to this many characters from its start.
        longest = 3 * len(needle) + 100
        word_scores: dict[tuple[int, int], float] = {}
        char_scores: dict[tuple[int, int], float] = {}

        def shared(matched: int, window: int) -> float:
            """`matched` words over the longer side's word count, computed as difflib's
            ratio does (so a bound and a score agree to the last bit)."""
            total = window + len(quote_keys)
            ratio = 2.0 * matched / total if total else 1.0
            return ratio * total / 2 / max(window, len(quote_keys), 1)

        def word_score(first: int, last: int) -> float:
            """Shared words over the longer side's word count, or -1 out of range."""
            if first < 0 or last >= len(starts) or last < first:
                return -1.0
            score = word_scores.get((first, last))
            if score is None:
                matched = _common(keys[first : last + 1], quote_keys)
                score = word_scores[first, last] = shared(matched, last + 1 - first)
            return score

        def word_bound(first: int, last: int) -> float:
            """At least `word_score`: the words shared in any order."""
            if first < 0 or last >= len(starts) or last < first:
                return -1.0
            have = Counter(keys[first : last + 1])
            return shared(sum((have & wanted).values()), last + 1 - first)

        def window_end(first: int, last: int) -> int:
            return min(ends[last], starts[first] + longest)

        def chars(matched: int, window: int) -> float:
            """`matched` characters over the longer side's length, computed as difflib's
            ratio does (so a bound and a score agree to the last bit)."""
            total = window + len(needle)
            ratio = 2.0 * matched / total if total else 1.0
            return ratio * total / (2 * max(window, len(needle)))

        def char_score(first: int, last: int) -> float:
            """Matched characters over the longer side's length: a window that drops the
            quote's odd word does not beat the passage the odd word replaced."""
            score = char_scores.get((first, last))
            if score is None:
                window = normalized[starts[first] : window_end(first, last)]
                matched = _common(window, needle)
                score = char_scores[first, last] = chars(matched, len(window))
            return score

        needle_chars: Counter[str] = Counter(needle)

        def char_bound(first: int, last: int) -> float:
            """At least `char_score`: the characters shared in any order."""
            score = char_scores.get((first, last))
            if score is not None:
                return score
            size = window_end(first, last) - starts[first]
            bound = chars(min(size, len(needle)), size)
            if bound <= 0:
                return bound
            window = Counter(normalized[starts[first] : window_end(first, last)])
            return chars(sum((window & needle_chars).values()), size)

        # Windows are ranked by words shared, in order (cheap: a quote has few words), and
        # only ties are compared character by character. The best few windows in different
        # places are compared as they stand; then a local search around the one or two most
        # alike slides the window, then moves its end, then its start. One-word changes,
        # drops and additions all sit within `spread` words of a window of the quote's length.
        picked: list[tuple[int, int]] = []  # (words shared in any order, first word)
        runs = _ranked_windows(self._occurrences(wanted), wanted, n, len(starts) - n + 1)
        for negative, a, b in runs:
            first = a
            while first < b and len(picked) < 6:
                near = next((o for _, o in picked if abs(first - o) <= spread), None)
                if near is None:
                    picked.append((-negative, first))
                    first += spread + 1
                else:
                    first = near + spread + 1
            if len(picked) == 6:
                break
        regions = _top_two(
            [(shared(count, n), first, first + n - 1) for count, first in picked],
            word_score,
        )
        # Ranks are (words, characters), compared as tuples; the characters are worked out
        # only when the words tie, the costly half of a comparison.
        best_words, best_first, best_last = -1.0, 0, 0
        # A second place is worth searching only if it is nearly as alike as the first.
        contenders = [r for r in regions[:2] if r[0] >= regions[0][0] - 0.25]
        for words, first, last in contenders:
            rank = words
            moves = (
                [(d, d) for d in range(-spread, spread + 1) if d],
                [(0, d) for d in range(-spread, spread + 1) if d],
                [(d, 0) for d in range(-spread, spread + 1) if d],
            )
            for options in moves:
                base_first, base_last = first, last
                for d_first, d_last in options:
                    if time.monotonic() > deadline:
                        break  # the hint is a courtesy: the best window found so far
                    new_first, new_last = base_first + d_first, base_last + d_last
                    # The bound skips, unchanged, windows the full comparison would skip.
                    if word_bound(new_first, new_last) < rank:
                        continue
                    words = word_score(new_first, new_last)
                    if words < rank:
                        continue
                    if words == rank:
                        # A tie on words is decided by characters: skip, unchanged, a window
                        # that cannot have more of them.
                        held = char_score(first, last)
                        if char_bound(new_first, new_last) <= held:
                            continue
                        if char_score(new_first, new_last) <= held:
                            continue
                    rank, first, last = words, new_first, new_last
            if rank > best_words or (
                rank == best_words and char_score(first, last) > char_score(best_first, best_last)
            ):
                best_words, best_first, best_last = rank, first, last
        best_ratio = char_score(best_first, best_last) if best_words >= 0 else -1.0
        best = (starts[best_first], window_end(best_first, best_last)) if best_ratio >= 0 else None
        return best, max(best_ratio, 0.0)


def _common(first: Sequence[str], second: Sequence[str]) -> int:
    """How many items (characters, or words) the two have in common, in order: the length of
    their longest common subsequence, from rapidfuzz's bit-parallel Indel distance (linear
    in practice, where difflib's matching blocks took seconds for a 5,000-character quote)."""
    from rapidfuzz.distance import Indel  # on first use: most commands never compare quotes

    return (len(first) + len(second) - Indel.distance(first, second)) // 2


def _top_two(
    regions: list[tuple[float, int, int]], score: Callable[[int, int], float]
) -> list[tuple[float, int, int]]:
    """The first two of `regions` (bound, first, last) once scored and sorted by score, best
    first (ties in their given order), scoring only those whose bound could place them there:
    a window's score never exceeds its bound."""
    scored: list[tuple[float, int, int, int]] = []  # (score, order, first, last)
    by_bound = sorted(range(len(regions)), key=lambda i: -regions[i][0])
    for i in by_bound:
        bound, first, last = regions[i]
        if len(scored) >= 2:
            ranked = sorted(scored, key=lambda s: (-s[0], s[1]))
            if bound < ranked[1][0]:
                break
        scored.append((score(first, last), i, first, last))
    ranked = sorted(scored, key=lambda s: (-s[0], s[1]))
    return [(words, first, last) for words, _, first, last in ranked[:2]]


def _ranked_windows(
    hits: list[tuple[int, str]], wanted: Counter[str], n: int, count: int
) -> list[tuple[int, int, int]]:
    """Windows of `n` words, by starting word `0..count-1`, ranked as a scan of every window
    would rank them: most of the quote's words first (counted up to as often as the quote
    has them), then earliest. Returned as runs `(-shared, first, end)` of equal count.

    Only the occurrences `hits` (word number, key) of the quote's words are read: a word at
    `p` enters the windows starting at `p - n + 1` and leaves those starting after `p`.
    """
    events: list[tuple[int, int, str]] = []
    for p, key in hits:
        events.append((max(0, p - n + 1), 1, key))
        events.append((p + 1, -1, key))
    events.sort()
    runs: list[tuple[int, int, int]] = []
    have: Counter[str] = Counter()
    overlap = 0
    position = 0
    i = 0
    while i < len(events) and position < count:
        at = events[i][0]
        if at > position:
            runs.append((-overlap, position, min(at, count)))
            position = at
        while i < len(events) and events[i][0] == at:
            _, step, key = events[i]
            if step > 0:
                have[key] += 1
                if have[key] <= wanted[key]:
                    overlap += 1
            else:
                if have[key] <= wanted[key]:
                    overlap -= 1
                have[key] -= 1
            i += 1
    if position < count:
        runs.append((-overlap, position, count))
    runs.sort()
    return runs


_KEY_EDGES = "\"'.,;:!?()[]{}-"


def _word_key(word: str) -> str:
    """A word stripped of surrounding punctuation and case, for counting shared words."""
    return word.strip(_KEY_EDGES).casefold()


def _pick(
    text: str,
    starts: list[int],
    length: int,
    near: int | None,
    prefix: str | None,
    suffix: str | None,
) -> int:
    return _pick_span(text, [(s, s + length) for s in starts], near, prefix, suffix)[0]


def _pick_span(
    text: str,
    spans: list[tuple[int, int]],
    near: int | None,
    prefix: str | None,
    suffix: str | None,
) -> tuple[int, int]:
    """Of several occurrences, the one whose surroundings still match the stored context,
    then the one nearest the old offset: a re-check should follow the passage it anchored,
    not jump to an earlier repetition of the same words."""

    def rank(span: tuple[int, int]) -> tuple[int, int]:
        start, end = span
        context = 0
        if prefix and text[max(0, start - len(prefix)) : start] == prefix:
            context += 1
        if suffix and text[end : end + len(suffix)] == suffix:
            context += 1
        distance = abs(start - near) if near is not None else start
        return (-context, distance)

    return min(spans, key=rank)


def word_diff(*, source: str, quote: str, keep: int = 3) -> str:
    """Word-level difference from a source passage to a quote.

    Words only in the source are shown as `[-...-]`, words only in the quote as `{+...+}`.
    Long stretches of agreement are shortened to `keep` words on each side of "…".

    >>> word_diff(source="on March 3 he said", quote="on February 3 he said")
    'on [-March-] {+February+} 3 he said'
    """
    a = source.split()
    b = quote.split()
    # Align on words without their edge punctuation and case, so "Ottawa." at the end of a
    # passage agrees with "Ottawa" at the end of a quote; if that hides every difference (the
    # quote differs only in punctuation), align on the words as written.
    marked = _word_diff(a, b, [_word_key(w) for w in a], [_word_key(w) for w in b], keep)
    if "[-" in marked or "{+" in marked:
        return marked
    return _word_diff(a, b, a, b, keep)


def _word_diff(a: list[str], b: list[str], a_keys: list[str], b_keys: list[str], keep: int) -> str:
    out: list[str] = []
    opcodes = SequenceMatcher(None, a_keys, b_keys, autojunk=False).get_opcodes()
    last = len(opcodes) - 1
    for number, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        if tag == "equal":
            words = a[i1:i2]
            # Keep the words next to a change; the rest of the agreement is only noise.
            head = words[:keep] if number > 0 else []
            tail = words[-keep:] if number < last else []
            if (number == 0 and number == last) or len(words) <= len(head) + len(tail) + 1:
                out.extend(words)
            else:
                out.extend([*head, "…", *tail])
            continue
        if i2 > i1:
            out.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            out.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(out)


def check_quote(*, text: str | None, quote: str, hint: bool = True) -> QuoteCheck:
    """Look for `quote` in `text`: exact, then normalized, then elided, else not found.

    A `text` of None (no stored snapshot) makes the quote unverifiable. Raises ValueError for
    an empty quote.

    >>> check_quote(text="Dong said he would sit as an independent.", quote="sit as an").match
    'exact'
    >>> check_quote(text=None, quote="anything").status
    'unverifiable'
    """
    if text is None:
        if not normalize(quote):
            raise ValueError("quote is empty")
        return UNVERIFIABLE
    return TextIndex(text).check(quote=quote, hint=hint)


def recheck(
    *,
    text: str | None,
    quote: str,
    start: int | None,
    end: int | None,
    prefix: str | None = None,
    suffix: str | None = None,
    index: TextIndex | None = None,
    hint: bool = True,
) -> QuoteCheck:
    """Re-verify a stored anchor after the text may have changed.

    If the passage at `start:end` still is the quote (as typed or normalized), the anchor
    stands, with its context read afresh. Otherwise the quote is searched for again; of
    several occurrences, the one whose surroundings match the stored `prefix` and `suffix`,
    then the one nearest `start`, wins. Pass `index` to reuse a prepared text. `hint=False`
    skips the search for a not-found quote's closest passage, as `TextIndex.check` does (the
    verdict and the anchor are the same either way).
    """
    if text is None:
        if not normalize(quote):
            raise ValueError("quote is empty")
        return UNVERIFIABLE
    index = index if index is not None and index.text == text else TextIndex(text)
    stripped = quote.strip()
    if not stripped:
        raise ValueError("quote is empty")
    if start is not None and end is not None and 0 <= start <= end <= len(text):
        passage = text[start:end]
        if passage == stripped:
            return index._verified("exact", start, end)
        if normalize(passage) == normalize(stripped) and _on_boundaries(text, start, end):
            return index._verified("normalized", start, end)
    return index._check(quote=quote, near=start or 0, prefix=prefix, suffix=suffix, hint=hint)


def _on_boundaries(text: str, start: int, end: int) -> bool:
    if start >= end:
        return False
    left_ok = not (start > 0 and _is_word_char(text[start]) and _is_word_char(text[start - 1]))
    right_ok = not (end < len(text) and _is_word_char(text[end - 1]) and _is_word_char(text[end]))
    return left_ok and right_ok
