"""A labeled corpus of quotes built from the seed texts, and its confusion matrix.

Every case is a quote, the text it is checked against, and what the verifier must say:
`verified` for exact quotes, normalized variants and elided quotes; `not-found` for one-word
changes, dropped or added words, fabricated quotes and real sentences checked against the wrong
source. Built deterministically (fixed random seed) from `../shared/seeds/*.txt`.

`build_audit_corpus` adds hand-labeled cases on the same texts for the audit's speaker, elision
and cut checks (issue 14): quotes credited to the wrong speaker, correct attributions (a name
in the sentence, a pronoun after a name, a quotation paragraph after "X said", a spokesperson),
quotes with no speaker in the text, elisions that drop a negation and faithful ones, cuts that
hide a qualifier and harmless or marked ones. Each case names its expected finding, or silence.

Run `.venv/bin/python tests/quote_corpus.py` to classify every case and print the matrices.
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


# Words whose loss under an ellipsis changes what a quote says, for labeling elided cases
# (written out here, apart from the audit's own lists).
_NEGATING = frozenset({"not", "never", "no", "nor", "n't", "without", "neither", "none",
                       "nothing", "denied", "denies", "deny", "false", "untrue", "cannot",
                       "but", "however", "although", "though", "yet"})
ELIDED_NEGATION = "ellipsis over a negation"


def _plain_words(token: str) -> list[str]:
    word = re.sub(r"^\W+|\W+$", "", token.replace("’", "'")).casefold()
    return [word[:-3], "n't"] if word.endswith("n't") else [word]


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
        # Labeled on its own terms: does a left-out word negate or reverse?
        left_out = {w for t in tokens[cut : cut + gap] for w in _plain_words(t)}
        kind = ELIDED_NEGATION if left_out & _NEGATING else "ellipsis"
        return kind, " ".join(tokens[:cut]) + mark + " ".join(tokens[cut + gap :])

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
    return 1 if wrong or audit_main() else 0


# --- who said it, and whether the cut changed it (issue 14) -------------------------------

S000, S001, S002, S003, S004 = (
    "000_a2d17891742cb4a1.txt",
    "001_fac26a3e44133cfc.txt",
    "002_75dfefc2ed60df01.txt",
    "003_a8d79ecdfe984ecd.txt",
    "004_fb5cfc7ecc80527b.txt",
)

# The people the speaker cases name, as a ledger would record them: (name, kind, aliases,
# description).
PEOPLE = (
    ("Han Dong", "person", ("Hang Dong",), "Member of Parliament for Don Valley North"),
    ("Mélanie Joly", "person", ("Melanie Joly",), "Minister of Foreign Affairs of Canada"),
    ("Michael Chong", "person", (), "Conservative Member of Parliament"),
    ("Justin Trudeau", "person", (), "Prime Minister of Canada"),
    ("Heather McPherson", "person", (), "NDP foreign affairs critic"),
    ("Mao Ning", "person", (), "Spokesperson of China's Ministry of Foreign Affairs"),
    ("Pierre Poilievre", "person", (), "Leader of the Conservative Party of Canada"),
    ("Charles Sousa", "person", (), "Liberal Member of Parliament"),
    ("Vincent Ke", "person", (), "Member of the Ontario legislature"),
    ("Rob Oliphant", "person", (), "Parliamentary Secretary to the Minister of Foreign Affairs"),
    ("Marco Mendicino", "person", (), "Minister of Public Safety"),
    ("Eric Balsam", "person", (), "CSIS spokesperson"),
    ("Canadian Security Intelligence Service", "organization", ("CSIS",), None),
    ("Prime Minister's Office", "organization", ("PMO",), None),
    ("Ministry of Foreign Affairs of the People's Republic of China", "organization",
     ("Chinese foreign ministry",), None),
    ("Global News", "organization", (), None),
    ("The Globe and Mail", "organization", ("Globe and Mail",), None),
)

SPEAKER_CODES = ("speaker-mismatch", "speaker-unconfirmed")
ELISION_CODES = ("elision-drops-negation",)
CUT_CODES = ("quote-cut-mid-sentence",)


@dataclass(frozen=True)
class AuditCase:
    """One labeled quote for the audit's speaker, elision and cut checks.

    With `by`, the quote is recorded as that person's response (with `voice` as who spoke
    for them); without, as an attribution with named sourcing and `voice`. `expected` is
    the set of `scored` codes the audit must report for it: empty means expected silence.
    """

    category: str
    source: str
    quote: str
    by: str | None = None
    voice: str | None = None
    expected: frozenset[str] = frozenset()
    note: str = ""

    @property
    def scored(self) -> tuple[str, ...]:
        """The codes this case is judged on."""
        return AUDIT_CATEGORIES[self.category][0]


# category: (codes it is judged on, expected codes for every case in it)
AUDIT_CATEGORIES: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "speaker: planted mismatch": (SPEAKER_CODES, frozenset({"speaker-mismatch"})),
    "speaker: name in sentence": (SPEAKER_CODES, frozenset()),
    "speaker: pronoun after name": (SPEAKER_CODES, frozenset()),
    "speaker: paragraph after said": (SPEAKER_CODES, frozenset()),
    "speaker: spokesperson": (SPEAKER_CODES, frozenset()),
    "speaker: held out": (SPEAKER_CODES, frozenset()),
    "speaker: none in text": (SPEAKER_CODES, frozenset({"speaker-unconfirmed"})),
    "elision: drops negation": (ELISION_CODES, frozenset({"elision-drops-negation"})),
    "elision: faithful": (ELISION_CODES, frozenset()),
    "cut: hides qualifier": (CUT_CODES, frozenset({"quote-cut-mid-sentence"})),
    "cut: harmless or marked": (CUT_CODES, frozenset()),
}
CORRECT_SPEAKER_CATEGORIES = tuple(c for c in AUDIT_CATEGORIES
                                   if c.startswith("speaker: ") and c not in (
                                       "speaker: planted mismatch", "speaker: none in text"))

_DONG_FALSE = ("What has been reported is false, and I will defend myself against these "
               "absolutely untrue claims")
_DONG_OFFERED = ("I was not offered, I was not told, I was not informed, nor would I accept "
                 "any help from a foreign country")
_BALSAM = "There are important limits to what I can publicly discuss"


def _cases(category: str, source: str, rows) -> list[AuditCase]:
    expected = AUDIT_CATEGORIES[category][1]
    out = []
    for row in rows:
        quote, who = row[0], row[1]
        voice = row[2] if len(row) > 2 else None
        by = who if who is not None and not who.startswith("voice:") else None
        if by is None:
            voice = who.removeprefix("voice:").strip() if who else voice
        out.append(AuditCase(category, source, quote, by=by, voice=voice, expected=expected))
    return out


def build_audit_corpus() -> list[AuditCase]:
    """The hand-labeled speaker, elision and cut cases, on the seed texts (quoted briefly).

    Speakers are written as a response's respondent ("Han Dong") or, with "voice:", as an
    attribution's voice with named sourcing.
    """
    cases: list[AuditCase] = []
    add = cases.extend
    add(_cases("speaker: planted mismatch", S001, [
        (_DONG_FALSE, "Mélanie Joly"),                      # the example: said Dong
        (_DONG_FALSE, "voice: Justin Trudeau"),
        (_DONG_OFFERED, "Mélanie Joly"),                    # "he said", after Dong
        ("I'm taking this extraordinary step because to [sit] in the government caucus is a "
         "privilege", "voice: Michael Chong"),              # "he said", after "Dong denies"
        ("Before concluding, I want to assure Mr. Michael Spavor and Mr. Michael Kovrig and "
         "their families that I did nothing to cause them any harm.", "Justin Trudeau"),
        ("I am a proud Liberal", "voice: Heather McPherson"),
        (_BALSAM, "Canadian Security Intelligence Service"),  # a spokesperson, no --voice
        (_BALSAM, "Han Dong"),
        ("Dong confirmed to Global that he had a discussion with Consul General Han Tao",
         "Mélanie Joly"),
    ]))
    add(_cases("speaker: planted mismatch", S000, [
        ("It's inexplicable why the government didn't support the motion", "Justin Trudeau"),
        ("the bare minimum and not enough", "voice: Michael Chong"),
        ("it looks like the Liberals are only acting because they got caught for not "
         "responding", "Mélanie Joly"),
        ("We remain firm in our resolve that defending our democracy is of the utmost "
         "importance", "voice: Pierre Poilievre"),
        ("described the allegations that a Chinese diplomat targeted a Canadian MP as a "
         "groundless smear", "Mélanie Joly"),
        ("it was \"absolutely unacceptable\" that Chong faced these threats", "Michael Chong"),
        ("Why the leader of the Conservative party continues to politicize an issue that is a "
         "Canadian issue.", "voice: Pierre Poilievre"),
    ]))
    add(_cases("speaker: planted mismatch", S004, [
        ("The truth will protect us", "Pierre Poilievre"),
        ("I know he cares about our country", "Han Dong"),
        ("allegations Ke denied with firmness", "Han Dong"),
    ]))
    add(_cases("speaker: planted mismatch", S002, [
        ("denied that the government had an interest in prolonging Kovrig and Spavor’s "
         "detention", "Han Dong"),
    ]))

    add(_cases("speaker: name in sentence", S001, [
        (_DONG_FALSE, "Han Dong"),
        ("I am a proud Liberal", "Han Dong"),
        ("Dong confirmed to Global that he had a discussion with Consul General Han Tao, but "
         "denied that he advised Beijing to delay releasing Kovrig and Spavor.", "Han Dong"),
        ("Dong denies the fresh allegations.", "Han Dong"),
        ("he had not been contacted by either CSIS, the RCMP or Elections Canada", "Han Dong"),
        ("alleged the Chinese government sought a Liberal minority government in the 2021 "
         "election", "voice: Reporting from the Globe and Mail"),
    ]))
    add(_cases("speaker: name in sentence", S000, [
        ("It's inexplicable why the government didn't support the motion", "Michael Chong"),
        ("All these things need to be done immediately.", "voice: Michael Chong"),
        ("the bare minimum and not enough", "voice: Heather McPherson, NDP foreign affairs "
         "critic"),
        ("it looks like the Liberals are only acting because they got caught for not "
         "responding", "Heather McPherson"),
        ("We remain firm in our resolve that defending our democracy is of the utmost "
         "importance", "Mélanie Joly"),
        ("described the allegations that a Chinese diplomat targeted a Canadian MP as a "
         "groundless smear", "Mao Ning"),
        ("it was \"absolutely unacceptable\" that Chong faced these threats", "Justin Trudeau"),
        ("he only became aware of them after they were first reported by The Globe and Mail",
         "Justin Trudeau"),
        ("his family had been targeted by a Chinese diplomat in 2021 over his stance on "
         "Beijing's treatment of Uyghur Muslims", "voice: Michael Chong, relaying what "
         "intelligence officials confirmed to him"),
        ("even though he threatened the family of a Canadian MP", "voice: Pierre Poilievre in "
         "question period"),
        ("Why the leader of the Conservative party continues to politicize an issue that is a "
         "Canadian issue.", "Marco Mendicino"),
        ("a sequence of events he called “inexplicable.”", "voice: Michael Chong"),
    ]))
    add(_cases("speaker: name in sentence", S002, [
        ("denied that the government had an interest in prolonging Kovrig and Spavor’s "
         "detention", "Mélanie Joly"),
        ("Hang Dong, who denied accusations made anonymously by Canadian intelligence sources "
         "to a news outlet", "Han Dong"),
    ]))
    add(_cases("speaker: name in sentence", S004, [
        ("Let me be clear, the reporting is false.", "Han Dong"),
        ("I know he cares about our country", "voice: Charles Sousa, Liberal MP"),
        ("allegations Ke denied with firmness", "Vincent Ke"),
        ("of being involved in Chinese interference networks", "voice: an article also "
         "published by Global News"),
        ("serious reports of actions that threaten the core of our Canadian democracy",
         "voice: Pierre Poilievre"),
    ]))

    add(_cases("speaker: pronoun after name", S001, [
        (_DONG_OFFERED, "Han Dong"),
        ("I'm taking this extraordinary step because to [sit] in the government caucus is a "
         "privilege", "Han Dong"),
    ]))
    add(_cases("speaker: pronoun after name", S000, [
        ("information about this was raised by CSIS with Prime Minister Justin Trudeau's "
         "national security and intelligence adviser at the time", "voice: Michael Chong"),
        ("several other MPs have also been targeted by China", "voice: Michael Chong"),
    ]))
    add(_cases("speaker: pronoun after name", S004, [
        ("The truth will protect us", "Han Dong"),
    ]))

    add(_cases("speaker: paragraph after said", S001, [
        ("Before concluding, I want to assure Mr. Michael Spavor and Mr. Michael Kovrig and "
         "their families that I did nothing to cause them any harm.", "Han Dong"),
        ("Let me assure you as a parliamentarian and as a person, I have never and I will "
         "never and would never advocate or support the violation of the basic human rights",
         "Han Dong"),
    ]))
    add(_cases("speaker: paragraph after said", S003, [
        ("Canada takes seriously allegations of interference conducted with the aim of "
         "undermining Canada’s democratic system", "Rob Oliphant"),
    ]))

    add(_cases("speaker: spokesperson", S001, [
        (_BALSAM, "Canadian Security Intelligence Service", "Eric Balsam, CSIS spokesperson"),
        (_BALSAM, "voice: Eric Balsam, CSIS spokesperson"),
        ("after Mr. Dong told us, following recent media questions.", "Prime Minister's Office"),
        ("Disclosure could allow our adversaries to interrupt or harm our operations",
         "Canadian Security Intelligence Service", "Eric Balsam, CSIS spokesperson"),
    ]))
    add(_cases("speaker: spokesperson", S000, [
        ("China has denied any involvement in foreign interference in Canadian politics.",
         "Ministry of Foreign Affairs of the People's Republic of China"),
        ("described the allegations that a Chinese diplomat targeted a Canadian MP as a "
         "groundless smear", "Ministry of Foreign Affairs of the People's Republic of China",
         "Mao Ning, foreign ministry spokesperson"),
        ("he's since instructed CSIS to change its processes around informing MPs about any "
         "threats to them", "Justin Trudeau"),                # "The prime minister said"
    ]))

    # Correct attributions written after the checks were built, and never tuned to: their
    # speaker-unconfirmed rate is the honest one.
    add(_cases("speaker: held out", S001, [
        ("he will sit as an Independent", "voice: Han Dong"),
        ("greatest strategic threat to national security.",
         "Canadian Security Intelligence Service"),
    ]))
    add(_cases("speaker: held out", S000, [
        ("not tolerate any form of foreign interference in our internal affairs.",
         "Mélanie Joly"),
        ("These are things we've been, and experts have been, long calling for.",
         "Michael Chong"),
        ("This government needs to do more to ensure all MPs are safe from foreign "
         "interference.", "Heather McPherson"),
    ]))
    add(_cases("speaker: held out", S002, [
        ("assured that their release was a government priority", "Mélanie Joly"),
        ("Han Dong had alleged to the Chinese consul that their release would benefit the "
         "Conservative Party of Canada", "voice: Global News"),
    ]))
    add(_cases("speaker: held out", S003, [
        ("Canada strongly condemns any malicious cyber activities", "Rob Oliphant"),
    ]))
    add(_cases("speaker: held out", S004, [
        ("nothing to cause any harm", "Han Dong"),
        ("worked hard to defend their interests", "Han Dong"),
        ("very serious allegations", "voice: Jagmeet Singh, NDP leader"),
        ("I will continue to serve the residents of Don Valley North", "Han Dong"),
        ("serious reports of actions that threaten the core of our Canadian democracy",
         "voice: Conservative leader Pierre Poilievre"),
    ]))

    add(_cases("speaker: none in text", S001, [
        ("The Canadian men's detention was widely considered to be a retaliatory action",
         "voice: Michael Chong"),
        ("Johnston has since resigned from the foundation.", "Justin Trudeau"),
        ("The motion, introduced by NDP MP Peter Julian, will be voted on after question "
         "period", "Han Dong"),
    ]))
    add(_cases("speaker: none in text", S000, [
        ("The vote result was 170 to 150, with just the Liberals voting against the proposal.",
         "voice: Pierre Poilievre"),
        ("creating a foreign agent registry similar to Australia and the United States of "
         "America", "Michael Chong"),
    ]))
    add(_cases("speaker: none in text", S002, [
        ("The two Canadians were released by Beijing in September 2021", "Mélanie Joly"),
    ]))

    add(_cases("elision: drops negation", S001, [
        ("I was … offered … any help from a foreign country", "voice: Han Dong"),  # the issue's
        ("Dong confirmed to Global that he had a discussion with Consul General Han Tao … "
         "that he advised Beijing to delay releasing Kovrig and Spavor", None),
        ("CBC News has … verified the allegations", None),
        ("An independent panel tasked with overseeing the 2021 election concluded that "
         "foreign meddling … affect the outcome", None),
        ("I have … advocate or support the violation of the basic human rights", None),
        ("The Liberal MPs on the committee voted against the motion … were outvoted by the "
         "Opposition MPs", None),
        ("While the motion is … binding, it will likely raise the heat", None),
    ]))
    add(_cases("elision: drops negation", S000, [
        ("the bare minimum and … enough", None),
        ("Mendicino has previously vowed broadly to move forward on creating a foreign "
         "influence registry … he has yet to offer a timeline", None),
        ("the RCMP has taken action to shut down the so-called police stations … that "
         "assertion has since been questioned", None),
    ]))
    add(_cases("elision: drops negation", S002, [
        ("The motion is … binding", None),
        ("the appointment of the special rapporteur is … enough", None),
    ]))
    add(_cases("elision: drops negation", S003, [
        ("Canada does … tolerate harassment or intimidation of its citizens", None),
    ]))
    add(_cases("elision: drops negation", S004, [
        ("Dong is … the only politician implicated in allegations of foreign interference",
         None),
    ]))
    add(_cases("elision: faithful", S001, [
        ("I was not offered … nor would I accept any help from a foreign country", None),
        ("Let me be clear. … I will defend myself against these absolutely untrue claims",
         None),
        ("Dong told the House of Commons … that he will sit as an Independent", None),
        ("Be granted all the necessary powers to call witnesses … from political parties.",
         None),
    ]))
    add(_cases("elision: faithful", S000, [
        ("Two years after CSIS raised concerns about Mr. Chong … it looks like the Liberals "
         "are only acting", None),
        ("Opposition parties teamed on Monday up to pass a motion … to counter foreign "
         "interference in Canada.", None),
    ]))
    add(_cases("elision: faithful", S003, [
        ("Canada takes seriously allegations of interference … and is committed to defending "
         "the democratic system of governance", None),
    ]))

    add(_cases("cut: hides qualifier", S000, [
        ("the RCMP has taken action to shut down the so-called police stations", None),
        ("Mendicino has previously vowed broadly to move forward on creating a foreign "
         "influence registry", None),
        ("Joly was about to make a move", None),
    ]))
    add(_cases("cut: hides qualifier", S001, [
        ("he advised Beijing to delay releasing Kovrig and Spavor", None),
        ("verified the allegations", None),
        ("The Liberal MPs on the committee voted against the motion", None),
        ("the lack of contact with Dong was unusual", None),
        ("advised a senior Chinese diplomat in February 2021 that Beijing should hold off on "
         "freeing Michael Kovrig and Michael Spavor", None),
    ]))
    add(_cases("cut: hides qualifier", S004, [
        ("he pushed to delay their release", None),
        ("Both leaders then reiterated their call for an independent public inquiry into "
         "foreign meddling in Canadian affairs", None),
    ]))
    add(_cases("cut: harmless or marked", S000, [
        ("… the RCMP has taken action to shut down the so-called police stations …", None),
        ("The vote result was 170 to 150", None),
        ("Mendicino has previously vowed broadly to move forward on creating a foreign "
         "influence registry …", None),
    ]))
    add(_cases("cut: harmless or marked", S001, [
        ("Dong denies the fresh allegations.", None),
        ("the two Canadians being held by China at the time", None),
        ("an independent probe of foreign interference", None),
        ("foreign meddling did not affect the outcome", None),
    ]))
    return cases


def run_audit_corpus(session, cases: list[AuditCase],
                     seeds: dict[str, str]) -> list[tuple[AuditCase, set[str]]]:
    """Record every case in a ledger on `session` (one claim each, the seeds as sources
    with their full text) and audit it; each case with the codes the audit reported for
    its quote."""
    from ledger import store
    from ledger.audit import audit

    sources = {name: store.add_source(session, key=f"seed-{i}", title=name, text=text)
               for i, (name, text) in enumerate(sorted(seeds.items()))}
    for name, kind, aliases, description in PEOPLE:
        store.add_person(session, name=name, kind=kind, aliases=list(aliases),
                         description=description)
    store.add_person(session, name="Subject")
    rows: dict[tuple[str, int], AuditCase] = {}
    for number, case in enumerate(cases):
        claim = store.add_claim(session, statement=f"audit case {number}", about=["Subject"])
        if case.by is not None:
            response = store.add_response(session, claim=claim, by=case.by,
                                          kind="official-response", source=case.source and
                                          sources[case.source].key, quote=case.quote,
                                          voice=case.voice)
            rows["response", response.id] = case
        else:
            attribution = store.cite(session, claim=claim, source=sources[case.source],
                                     quote=case.quote, voice=case.voice,
                                     sourcing="named" if case.voice else "document")
            rows["attribution", attribution.id] = case
    found: dict[int, set[str]] = {id(case): set() for case in cases}
    for finding in audit(session):
        for kind in ("attribution", "response"):
            case = rows.get((kind, finding.detail.get(kind, -1)))
            if case is not None:
                found[id(case)].add(finding.code)
    return [(case, found[id(case)]) for case in cases]


def is_wrong(case: AuditCase, codes: set[str]) -> bool:
    """Whether the audit got a case wrong. A correct attribution must draw no mismatch (it
    may draw `speaker-unconfirmed`, whose rate is reported); every other case must draw
    exactly its expected codes; no case may be `quote-not-found` (each quotes its seed)."""
    if "quote-not-found" in codes:
        return True
    scored = codes & set(case.scored)
    if case.category in CORRECT_SPEAKER_CATEGORIES:
        return "speaker-mismatch" in scored
    return scored != case.expected


AUDIT_COLUMNS = ("silent", *SPEAKER_CODES, *ELISION_CODES, *CUT_CODES, "quote-not-found")


def audit_matrix(results: list[tuple[AuditCase, set[str]]]) -> dict[str, Counter[str]]:
    """Per category, how many cases drew each of the codes it is judged on ("silent" for
    none of them)."""
    matrix: dict[str, Counter[str]] = {c: Counter() for c in AUDIT_CATEGORIES}
    for case, codes in results:
        scored = (codes & set(case.scored)) | (codes & {"quote-not-found"})
        row = matrix[case.category]
        row.update(scored or {"silent"})
        row["cases"] += 1
    return matrix


def format_audit_matrix(matrix: dict[str, Counter[str]]) -> str:
    """The audit corpus matrix as a fixed-width table."""
    short = {"silent": "silent", "speaker-mismatch": "mismatch",
             "speaker-unconfirmed": "unconfirmed", "elision-drops-negation": "elision",
             "quote-cut-mid-sentence": "mid-sent", "quote-not-found": "not-found"}
    width = max(map(len, AUDIT_CATEGORIES)) + 2
    header = ("category".ljust(width) + "expects".ljust(12)
              + "".join(short[c].rjust(12) for c in AUDIT_COLUMNS) + "cases".rjust(7))
    lines = [header, "-" * len(header)]
    for category, row in matrix.items():
        expected = AUDIT_CATEGORIES[category][1]
        label = short[next(iter(expected))] if expected else "silence"
        if category in CORRECT_SPEAKER_CATEGORIES:
            label = "no error"
        lines.append(category.ljust(width) + label.ljust(12)
                     + "".join(str(row[c]).rjust(12) for c in AUDIT_COLUMNS)
                     + str(row["cases"]).rjust(7))
    return "\n".join(lines)


def audit_main() -> int:
    """Run the speaker, elision and cut cases through the audit of a scratch ledger, print
    their matrix and any case the audit got wrong; the number wrong."""
    import tempfile

    from ledger import db
    from ledger.db import transaction

    cases = build_audit_corpus()
    with tempfile.TemporaryDirectory() as folder:
        engine = db.make_engine(db.database_url(str(Path(folder) / "corpus.db")))
        db.upgrade(engine)
        with transaction(engine, actor="corpus") as session:
            results = run_audit_corpus(session, cases, load_seeds())
            session.rollback()
        engine.dispose()
    print(f"\n{len(cases)} speaker, elision and cut cases\n")
    print(format_audit_matrix(audit_matrix(results)))
    wrong = [(case, codes) for case, codes in results if is_wrong(case, codes)]
    for case, codes in wrong:
        print(f"WRONG {case.category}: {case.quote!r} drew {sorted(codes)}")
    correct = [codes for case, codes in results if case.category in CORRECT_SPEAKER_CATEGORIES]
    unconfirmed = sum("speaker-unconfirmed" in codes for codes in correct)
    print(f"\nspeaker-unconfirmed on correct attributions: {unconfirmed} of {len(correct)}")
    print(f"{len(wrong)} wrong")
    return len(wrong)


if __name__ == "__main__":
    sys.exit(main())
