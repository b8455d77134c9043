"""A labeled corpus of quotes built from the seed texts, and its confusion matrix.

Every case is a quote, the text it is checked against, and what the verifier must say:
`verified` for exact quotes, normalized variants and elided quotes; `not-found` for one-word
changes, dropped or added words, fabricated quotes and real sentences checked against the wrong
source. Built deterministically (fixed random seed) from `../shared/seeds/*.txt`.

Run `.venv/bin/python tests/quote_corpus.py` to classify every case and print the matrix.
"""

from __future__ import annotations

import random
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

SEEDS_DIR = Path(__file__).resolve().parents[2] / "shared" / "seeds"
RANDOM_SEED = 20230524

VERIFIED_CATEGORIES = ("exact", "normalized", "elided")
NOT_FOUND_CATEGORIES = (
    "one-word-change",
    "dropped-word",
    "added-word",
    "fabricated",
    "wrong-source",
)
CATEGORIES = VERIFIED_CATEGORIES + NOT_FOUND_CATEGORIES
OUTCOMES = ("exact", "normalized", "elided", "not-found", "unverifiable")

# How many cases of each kind to draw.
_COUNTS = {
    "exact": 60,
    "elided": 20,
    "one-word-change": 50,
    "dropped-word": 40,
    "added-word": 40,
    "wrong-source": 40,
}
_NORMALIZED_PER_KIND = 12

# Substitutions that make a plausible misquote: the kind a reader would not notice.
_SWAPS = {
    "February": "March",
    "March": "February",
    "Monday": "Tuesday",
    "Wednesday": "Thursday",
    "Toronto": "Ottawa",
    "Ottawa": "Toronto",
    "Chong": "Dong",
    "Dong": "Chong",
    "China": "Canada",
    "Canada": "China",
    "Chinese": "Canadian",
    "Canadian": "Chinese",
    "two": "three",
    "not": "now",
    "Liberals": "Conservatives",
    "Conservative": "Liberal",
    "denied": "admitted",
    "deny": "admit",
    "said": "denied",
    "against": "for",
    "released": "detained",
    "release": "detention",
    "former": "current",
}
_INSERTS = (
    "not",
    "never",
    "also",
    "allegedly",
    "reportedly",
    "only",
    "publicly",
    "secretly",
    "all",
    "new",
    "repeatedly",
    "indeed",
)
_FABRICATED = (
    "Han Dong told reporters he would resign from Parliament by the end of the month.",
    "Michael Chong said he had been warned about the threat two years ago.",
    "The Prime Minister said he learned of the intimidation campaign in 2021.",
    "Zhao Wei left Canada on Friday after the declaration took effect.",
    "CSIS confirmed that it had briefed every member of the Liberal caucus.",
    "Mélanie Joly said the government would expel five more diplomats next week.",
    "The petition was signed by more than ten thousand residents of Markham.",
    "Global News retracted its report after reviewing the intelligence documents.",
    "Vincent Ke admitted that he had accepted money from the consulate.",
    "Beijing said it would retaliate by expelling two Canadian diplomats from Shanghai.",
    "The committee voted unanimously to call the ambassador as a witness.",
    "Dong said he had never met anyone from the Chinese consulate in Toronto.",
    "Officials said the bank had foreclosed on both of the minister's properties.",
    "The Conservatives promised to publish the full intelligence report if elected.",
    "Rob Oliphant said the government had launched a public inquiry in January.",
    "According to the sources, the diplomat kept a file on every opposition member.",
    "Spavor and Kovrig were released on the same day the motion was debated.",
    "The spokesperson described the allegations as a misunderstanding between friends.",
    "The Speaker ruled that the privilege of the member had been breached.",
    "Opposition leaders walked out of the chamber before the vote was held.",
)


@dataclass(frozen=True)
class Case:
    """One labeled quote: checked against `text` (the seed named `source`)."""

    category: str
    kind: str
    source: str
    quote: str
    text: str

    @property
    def expected(self) -> Literal["verified", "not-found"]:
        """What the verifier must say about this quote."""
        return "verified" if self.category in VERIFIED_CATEGORIES else "not-found"


def load_seeds(directory: Path = SEEDS_DIR) -> dict[str, str]:
    """Seed texts by file name; raises FileNotFoundError if there are none."""
    paths = sorted(directory.glob("*.txt"))
    if not paths:
        raise FileNotFoundError(f"no seed texts in {directory}")
    return {path.name: path.read_text(encoding="utf-8") for path in paths}


def _loose(text: str) -> str:
    """Letters and digits only, case-folded: an independent, deliberately lax comparison, so
    a mutation that happens to produce real text is never labeled a misquote."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(c for c in folded if c.isalnum())


def _occurs(quote: str, text: str) -> bool:
    return _loose(quote) in _loose(text)


@dataclass(frozen=True)
class _Span:
    source: str
    text: str
    words: tuple[tuple[int, int], ...]  # (start, end) of each word in the original text

    @property
    def quote(self) -> str:
        return self.text[self.words[0][0] : self.words[-1][1]]

    def tokens(self) -> list[str]:
        return [self.text[s:e] for s, e in self.words]


def _sentences(text: str) -> Iterator[tuple[int, int]]:
    """Spans of sentence-like runs: within one line, split after ., ! or ?."""
    for line in re.finditer(r"[^\n]+", text):
        start = line.start()
        for stop in re.finditer(r"(?<=[.!?])\s+|$", line.group()):
            end = line.start() + stop.start()
            if end > start:
                yield start, end
            start = line.start() + stop.end()


def _spans(seeds: dict[str, str], rng: random.Random, *, low: int, high: int) -> list[_Span]:
    """Every word window of `low`..`high` words inside one sentence, shuffled."""
    found: list[_Span] = []
    for name, text in seeds.items():
        for s_start, s_end in _sentences(text):
            words = tuple(
                (m.start() + s_start, m.end() + s_start)
                for m in re.finditer(r"\S+", text[s_start:s_end])
            )
            if len(words) < low:
                continue
            for size in (low, (low + high) // 2, high):
                for first in range(0, max(1, len(words) - size + 1), 3):
                    window = words[first : first + size]
                    # A quote starts and ends on a word, not on a bullet or a dash.
                    edges = (text[slice(*window[0])], text[slice(*window[-1])])
                    if len(window) >= low and all(any(c.isalnum() for c in edge) for edge in edges):
                        found.append(_Span(name, text, window))
    rng.shuffle(found)
    return found


def _with_punct(token: str, word: str) -> str:
    """`word` wearing the punctuation around `token`."""
    m = re.match(r"^(\W*)(.*?)(\W*)$", token)
    assert m is not None
    return m.group(1) + word + m.group(3)


def _core(token: str) -> str:
    return re.sub(r"^\W+|\W+$", "", token)


# Normalized variants: each returns the changed quote, or None when it does not apply.
def _to_straight(quote: str, rng: random.Random) -> str | None:
    changed = quote.translate(str.maketrans("‘’“”", "''\"\""))
    return changed if changed != quote else None


def _to_curly(quote: str, rng: random.Random) -> str | None:
    out: list[str] = []
    double_open = True
    for i, char in enumerate(quote):
        if char == '"':
            out.append("“" if double_open else "”")
            double_open = not double_open
        elif char == "'":
            out.append("‘" if i == 0 or quote[i - 1].isspace() else "’")
        else:
            out.append(char)
    changed = "".join(out)
    return changed if changed != quote else None


def _dashes(quote: str, rng: random.Random) -> str | None:
    if "—" in quote or "–" in quote:
        return re.sub(r"\s*[—–]\s*", rng.choice([" - ", "--", "-", " — "]), quote, count=1)
    if re.search(r"\w-\w", quote):
        return re.sub(r"(?<=\w)-(?=\w)", rng.choice(["–", "‑", "‐"]), quote, count=1)
    return None


def _whitespace(quote: str, rng: random.Random) -> str | None:
    spaces = [m.start() for m in re.finditer(r" ", quote)]
    if not spaces:
        return None
    chars = list(quote)
    for index in rng.sample(spaces, min(2, len(spaces))):
        chars[index] = rng.choice(["\n", "  ", "\u00a0", "\t", " \n  ", "\u2009"])
    return "".join(chars)


def _soft_hyphen(quote: str, rng: random.Random) -> str | None:
    long_words = [m for m in re.finditer(r"[A-Za-z]{7,}", quote)]
    if not long_words:
        return None
    word = rng.choice(long_words)
    cut = word.start() + rng.randrange(3, len(word.group()) - 2)
    return quote[:cut] + "\u00ad" + quote[cut:]


def _ligature(quote: str, rng: random.Random) -> str | None:
    if "fi" in quote:
        return quote.replace("fi", "ﬁ", 1)
    if "fl" in quote:
        return quote.replace("fl", "ﬂ", 1)
    if "ff" in quote:
        return quote.replace("ff", "ﬀ", 1)
    return None


def _fullwidth(quote: str, rng: random.Random) -> str | None:
    words = [m for m in re.finditer(r"[A-Za-z0-9]+", quote)]
    if not words:
        return None
    digits = [m for m in words if m.group().isdigit()]
    word = rng.choice(digits or words)
    wide = "".join(chr(ord(c) + 0xFEE0) for c in word.group())
    return quote[: word.start()] + wide + quote[word.end() :]


def _ellipsis_char(quote: str, rng: random.Random) -> str | None:
    if "…" in quote:
        return quote.replace("…", "...")
    if "..." in quote:
        return quote.replace("...", "…")
    return None


def _combined(quote: str, rng: random.Random) -> str | None:
    changed = quote
    for variant in (_to_straight, _to_curly, _whitespace, _soft_hyphen):
        changed = variant(changed, rng) or changed
    return changed if changed != quote else None


_NORMALIZED_KINDS: dict[str, Callable[[str, random.Random], str | None]] = {
    "straight-quotes": _to_straight,
    "curly-quotes": _to_curly,
    "dashes": _dashes,
    "whitespace": _whitespace,
    "soft-hyphen": _soft_hyphen,
    "nfkc-ligature": _ligature,
    "nfkc-fullwidth": _fullwidth,
    "ellipsis-character": _ellipsis_char,
    "combined": _combined,
}


def build_corpus(seeds: dict[str, str] | None = None) -> list[Case]:
    """Build the labeled cases; the same seeds always give the same corpus."""
    seeds = load_seeds() if seeds is None else seeds
    rng = random.Random(RANDOM_SEED)
    spans = _spans(seeds, rng, low=6, high=16)
    cases: list[Case] = []
    used: set[tuple[str, str, str]] = set()

    def add(category: str, kind: str, span: _Span, quote: str, text: str | None = None) -> bool:
        key = (category, span.source, quote)
        if key in used:
            return False
        used.add(key)
        cases.append(Case(category, kind, span.source, quote, text or span.text))
        return True

    def take(category: str, make: Callable[[_Span], tuple[str, str] | None], count: int) -> None:
        made = 0
        for span in spans:
            if made == count:
                return
            result = make(span)
            if result is not None and add(category, result[0], span, result[1]):
                made += 1
        raise AssertionError(f"only {made} of {count} {category} cases could be built")

    take("exact", lambda span: ("span", span.quote), _COUNTS["exact"])

    for kind, variant in _NORMALIZED_KINDS.items():
        # Variants only apply to spans with the right characters; look at those first.
        made = 0
        for span in spans:
            changed = variant(span.quote, rng)
            if (
                changed is not None
                and changed != span.quote
                and add("normalized", kind, span, changed)
            ):
                made += 1
                if made == _NORMALIZED_PER_KIND:
                    break

    def elide(span: _Span) -> tuple[str, str] | None:
        tokens = span.tokens()
        if len(tokens) < 10:
            return None
        cut = rng.randrange(3, len(tokens) - 5)
        gap = rng.randrange(1, 3)
        mark = rng.choice([" ... ", " … ", " [...] "])
        return "ellipsis", " ".join(tokens[:cut]) + mark + " ".join(tokens[cut + gap :])

    take("elided", elide, _COUNTS["elided"])

    vocabulary = sorted(
        {
            _core(w)
            for text in seeds.values()
            for w in text.split()
            if len(_core(w)) >= 4 and _core(w).isalpha()
        }
    )

    def one_word(span: _Span) -> tuple[str, str] | None:
        tokens = span.tokens()
        swappable = [i for i, t in enumerate(tokens) if _core(t) in _SWAPS]
        if swappable:
            index = rng.choice(swappable)
            replacement, kind = _SWAPS[_core(tokens[index])], "swap"
        else:
            index = rng.randrange(len(tokens))
            replacement, kind = rng.choice(vocabulary), "random-word"
            original = _core(tokens[index])
            if not original or replacement.casefold() == original.casefold():
                return None
        tokens[index] = _with_punct(tokens[index], replacement)
        quote = " ".join(tokens)
        return None if _occurs(quote, span.text) else (kind, quote)

    take("one-word-change", one_word, _COUNTS["one-word-change"])

    def dropped(span: _Span) -> tuple[str, str] | None:
        tokens = span.tokens()
        # An edge word dropped leaves a shorter, genuine quote; only interior drops mislead.
        del tokens[rng.randrange(1, len(tokens) - 1)]
        quote = " ".join(tokens)
        return None if _occurs(quote, span.text) else ("interior", quote)

    take("dropped-word", dropped, _COUNTS["dropped-word"])

    def added(span: _Span) -> tuple[str, str] | None:
        tokens = span.tokens()
        tokens.insert(rng.randrange(1, len(tokens)), rng.choice(_INSERTS))
        quote = " ".join(tokens)
        return None if _occurs(quote, span.text) else ("interior", quote)

    take("added-word", added, _COUNTS["added-word"])

    names = sorted(seeds)
    for number, sentence in enumerate(_FABRICATED):
        for offset in (0, 2):
            name = names[(number + offset) % len(names)]
            if not _occurs(sentence, seeds[name]):
                cases.append(Case("fabricated", "handwritten", name, sentence, seeds[name]))

    made = 0
    for span in spans:
        if made == _COUNTS["wrong-source"]:
            break
        if len(span.words) < 8:
            continue
        other = rng.choice([n for n in names if n != span.source])
        if _occurs(span.quote, seeds[other]):
            continue
        if add("wrong-source", f"from {span.source[:3]}", span, span.quote, seeds[other]):
            cases[-1] = Case(
                "wrong-source", f"from {span.source[:3]}", other, span.quote, seeds[other]
            )
            made += 1
    return cases


def outcome(case: Case) -> str:
    """The verifier's verdict on one case, as a confusion-matrix column."""
    from ledger.quotes import check_quote

    check = check_quote(text=case.text, quote=case.quote)
    return check.match if check.status == "verified" and check.match else check.status


def confusion_matrix(cases: list[Case]) -> dict[str, Counter[str]]:
    """Outcome counts per category."""
    matrix: dict[str, Counter[str]] = {category: Counter() for category in CATEGORIES}
    for case in cases:
        matrix[case.category][outcome(case)] += 1
    return matrix


def format_matrix(matrix: dict[str, Counter[str]]) -> str:
    """The matrix as a fixed-width table, rows by category, a total row and column."""
    width = max(len(c) for c in CATEGORIES) + 2
    header = "category".ljust(width) + "".join(o.rjust(14) for o in OUTCOMES) + "total".rjust(8)
    lines = [header, "-" * len(header)]
    totals: Counter[str] = Counter()
    for category in CATEGORIES:
        row = matrix[category]
        totals.update(row)
        lines.append(
            category.ljust(width)
            + "".join(str(row[o]).rjust(14) for o in OUTCOMES)
            + str(sum(row.values())).rjust(8)
        )
    lines.append("-" * len(header))
    lines.append(
        "total".ljust(width)
        + "".join(str(totals[o]).rjust(14) for o in OUTCOMES)
        + str(sum(totals.values())).rjust(8)
    )
    return "\n".join(lines)


def main() -> int:
    """Classify the corpus, print the confusion matrix and any wrong verdict."""
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    cases = build_corpus()
    matrix = confusion_matrix(cases)
    print(f"{len(cases)} cases from {SEEDS_DIR}\n")
    print(format_matrix(matrix))
    kinds = Counter(c.kind for c in cases if c.category == "normalized")
    print("\nnormalized variants: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    wrong = [c for c in cases if (outcome(c) == "not-found") != (c.expected == "not-found")]
    for case in wrong:
        print(f"WRONG {case.category}/{case.kind} {case.source}: {case.quote!r}")
    print(f"\n{len(wrong)} wrong verdicts")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
