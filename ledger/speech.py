"""Who a source says spoke a quote, and whether the way it was cut changed what it says.

The checks behind `speaker-mismatch`, `speaker-unconfirmed`, `elision-drops-negation` and
`quote-cut-mid-sentence` (see docs/audit.md). Pure text functions: no database, no printing.

`SpeechText(text)` prepares one stored text. Paragraphs are split once; sentences, quotation
marks and speech attributions are worked out per paragraph, on first need, so a check reads
only the quote's paragraph and the one before it, and many quotes on one source share the work.

A speech attribution is one of these patterns, outside the source's own quotation marks:

- `X said`, `X told`, `X denied`, `X described … as`, `X has said`, `X, who denied` (a verb of
  speech after a name; `SPEECH_VERBS`);
- `said X`, `asked X` (a verb of speech before a name, as after a closing quotation mark);
- `according to X`, `signed by X`, `reported by X`, `published by X`;
- `he said`, `she told`, `they said`: a pronoun, resolved to the nearest speaker named before
  it (in its paragraph or the one before);
- `the prime minister said`: a description, which confirms a speaker whose recorded
  description holds the same words and is otherwise no evidence either way.

The matching is English, with negation words for French where a list is cheap. It is a
reviewer's aid: it finds the common newsroom forms, not every sentence a writer can build.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

from ledger.values import fold


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


__all__ = [
    "NEGATIONS",
    "QUALIFIERS",
    "REVERSALS",
    "SPEECH_VERBS",
    "Attribution",
    "CutCheck",
    "Speaker",
    "SpeakerCheck",
    "SpeechText",
    "name_tokens",
]

NEGATIONS = _set(
    "not never no nor n't without neither none nothing nobody deny denies denied denying "
    "false untrue cannot"
)
"""Words that negate: an elision or a cut that drops one may turn the words around."""

REVERSALS = frozenset({"but", "however", "although", "though", "yet", "nevertheless"})
"""Words that qualify or take back what came before them."""

QUALIFIERS = _set(
    "allegedly reportedly supposedly apparently unless except if alleging alleged alleges "
    "perhaps possibly unverified unconfirmed"
)
"""Words that hedge a statement: a cut that drops one hides the hedge."""

FRENCH_NEGATIONS = _set(
    "ne n' pas jamais ni non sans aucun aucune rien nie nié niée nient faux fausse"
)
FRENCH_REVERSALS = frozenset({"mais", "cependant", "toutefois", "pourtant", "néanmoins"})

SPEECH_VERBS = _set(
    "said says say told tells asked asks added adds denied denies deny confirmed confirms "
    "stated states wrote writes insisted asserted described describes called tweeted "
    "announced announces admitted argued alleged alleges claimed claims warned explained "
    "noted replied responded answered declared assured acknowledged maintained countered "
    "recalled testified vowed promised suggested reported reports issued spoke continued "
    "commented emailed texted posted urged rejected dismissed calls warns notes argues "
    "insists admits explains replies declares asserts"
)
"""Verbs that put words in someone's mouth."""

# Verbs that may come before their speaker: `"...," said Dong`.
_INVERTED = _set(
    "said says asked asks added adds wrote writes continued replied explained noted "
    "insisted stated recalled argued countered tweeted warned declared answered responded"
)
# `signed by X`, `according to X`.
_BY_VERBS = frozenset({"signed", "reported", "published", "written", "issued"})
# "…, instead questioning: …": the sentence's subject speaks.
_PARTICIPLES = _set(
    "saying questioning asking adding telling insisting noting writing arguing describing "
    "announcing denying stating declaring warning explaining"
)
# Between a speaker and the verb: `Dong also said`, `Chong has since said`.
_BETWEEN = _set(
    "also has have had previously repeatedly later then again since would will is was "
    "were are once first publicly earlier recently simply flatly firmly strongly quickly "
    "reportedly allegedly personally directly both each all himself herself"
)
_PRONOUNS = frozenset({"he", "she", "they", "i", "we"})
_DETERMINERS = _set("the a an this that its his her their one another some several two three")
# Small words a name may hold between capitalized words: "Ministry of Foreign Affairs of
# the People's Republic of China", "Globe and Mail".
_CONNECTORS = _set("of the and for de du des la le van von al bin da di")
# Capitalized words that are not names: sentence openers, days, months.
_NOT_NAMES = _set(
    "the a an this that these those it its he she they we i you in on at for but and or "
    "so last next both some after before during while when throughout just also however "
    "meanwhile according speaking prior with from by as if since then there here his her "
    "their our my one many most all each every other another such what who why how where "
    "let yes no not earlier later today yesterday tonight now again still instead even "
    "only once asked monday tuesday wednesday thursday friday saturday sunday january "
    "february march april may june july august september october november december"
)
# Words of a role, not a name: a run of them alone is a description ("Prime Minister"). With
# them, plural nouns that open a sentence as its subject ("Officials said", "Critics say").
TITLES = _set(
    "prime minister ministers leader president premier spokesperson spokesman spokeswoman "
    "spokespeople secretary parliamentary ambassador consul general deputy mp mps mpp "
    "mpps senator congressman congresswoman chief director commissioner critic foreign "
    "affairs public safety mr mrs ms dr hon sir madam former house speaker member members "
    "chair officer official officials liberal conservative ndp green federal provincial "
    "ontario canadian chinese opposition party governor adviser advisor rapporteur "
    "special national security intelligence justice attorney finance defence defense "
    "health mayor councillor judge professor ministry sources "
    "critics reporters experts analysts observers residents people police authorities "
    "lawyers documents reports aides staff diplomats insiders others colleagues "
    "supporters opponents voters"
)
# Words before a verb of speech that are not its subject: "rise to say".
_FUNCTION = _set(
    "to that and or which not it would could should may might must can did do does been "
    "being be as than whom whose there here only even just what who why how when where if "
    "so because about of in on at for with by from into over under after before then also "
    "had has have"
)
_TITLE_DOT = _set("mr mrs ms dr st jr sr hon gen lt col sgt no vs etc inc ltd co corp prof rev")

_WORD = re.compile(r"\w+(?:['’]\w+)*|n['’]t", re.UNICODE)
_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*", re.UNICODE)
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")
_LINE = re.compile(r"\n\s*")
_OPEN_QUOTES = "“«„"
_CLOSE_QUOTES = "”»"
CLAUSE_REACH = 200
"""Characters read on each side of a cut: the clause next to it, however long the sentence."""
_BYLINE = 120  # characters: a paragraph this short that names a speaker is a byline
_CUE_WORDS = sorted(SPEECH_VERBS | _PARTICIPLES | _BY_VERBS | {"according"}, key=len)[::-1]
_CUES = frozenset(_CUE_WORDS)
# Punctuation to spaces (the apostrophe kept), for a quick split into words: a set lookup of
# a paragraph's words costs far less than a regex of many alternatives.
_SPACED = str.maketrans({c: " " for c in '!"#$%&()*+,./:;<=>?@[\\]^_`{|}~“”‘«»—–…-'})
_CLAUSE_CUTS = ',;:()[]"“”«»—–'
_ELLIPSIS_EDGES = ("…", "...", "[")
_NAME_WORD = re.compile(r"\w+")
_ROLE_GAP = re.compile(r"\s*\([^()\n]{0,80}\)\s*:?\s*|\s*:\s*")
_GAP_SPLIT = re.compile(r"[,;:()\[\]\"“”«»—–.!?…]+|\s-\s")
_CLAUSE_MARKS = ',;:()[]"“”«»—–.!?…'
_QUOTE_CHARS = '“”«»„"'
_STARTS_ELIDED = re.compile(r"\s*(?:…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\])")
_ENDS_ELIDED = re.compile(r"(?:…|\.\.\.|\[\s*(?:…|\.\.\.)\s*\])\s*$")


def name_tokens(name: str) -> tuple[str, ...]:
    """A name as folded words: "Prime Minister’s Office" is ('prime', 'minister', 's',
    'office')."""
    if name.isascii():  # the common case, without Unicode decomposition
        return tuple(_NAME_WORD.findall(name.lower()))
    return tuple(_NAME_WORD.findall(fold(name.replace("’", "'"))))


@dataclass(frozen=True)
class Speaker:
    """Who the ledger says spoke: every form of their name, and their description's words."""

    label: str
    forms: tuple[tuple[str, ...], ...]
    description: frozenset[str] = frozenset()

    def matches(self, found: tuple[str, ...]) -> bool:
        """True when a name the text gives is one of this speaker's: the whole name or an
        alias inside it ("Conservative Leader Pierre Poilievre"), or its last words ("Dong",
        "Mr. Chong"), titles aside."""
        core = tuple(t for t in found if t not in TITLES and t != "s") or found
        for form in self.forms:
            if not form:
                continue
            if _contains(found, form) or form[-len(core) :] == core:
                return True
        return False

    def described_by(self, words: tuple[str, ...]) -> bool:
        """True when a description in the text ("the prime minister") is in this speaker's
        recorded description, or names one of their forms ("a CSIS spokesperson")."""
        content = [w for w in words if w not in _DETERMINERS]
        if not content:
            return False
        if all(w in self.description for w in content if w not in ("s",)):
            return True
        return any(_contains(words, form) for form in self.forms if form)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


@dataclass(frozen=True)
class Attribution:
    """One speech attribution in a text: who (a name, a pronoun or a description) and where."""

    kind: Literal["name", "pronoun", "description"]
    words: tuple[str, ...]
    text: str
    position: int
    resolved: Attribution | None = None

    @property
    def name(self) -> tuple[str, ...] | None:
        """The name this attribution gives, its antecedent's for a pronoun; None otherwise."""
        if self.kind == "name":
            return self.words
        if self.resolved is not None:
            return self.resolved.words
        return None

    @property
    def shown(self) -> str:
        """How the text names the speaker, for a message: "Dong", "he (Dong)"."""
        if self.kind == "pronoun" and self.resolved is not None:
            return f"{self.text} ({self.resolved.text})"
        return self.text


@dataclass(frozen=True)
class SpeakerCheck:
    """What the text says about who spoke a quote.

    `status` is `confirmed` (an attribution names the recorded speaker), `mismatch` (the
    attributions that govern the quote name only someone else) or `unconfirmed` (none found).
    `found` are the attributions read, `where` the part of the text they came from.
    """

    status: Literal["confirmed", "mismatch", "unconfirmed"]
    found: tuple[Attribution, ...] = ()
    where: str | None = None


@dataclass(frozen=True)
class CutCheck:
    """Words a cut left out that may change the quote: `side` is `start` or `end`."""

    side: Literal["start", "end"]
    words: tuple[str, ...]
    cut_off: str


def _vocabularies(french: bool) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Negations, reversals, and every word a cut check looks for, in English (and French)."""
    negations = NEGATIONS | FRENCH_NEGATIONS if french else NEGATIONS
    reversals = REVERSALS | FRENCH_REVERSALS if french else REVERSALS
    cut = frozenset(
        {w for w in negations | reversals | QUALIFIERS if "'" not in w} | {"n't", "n’t", "n'", "n’"}
    )
    return negations, reversals, cut


# Built once, not for every text the audit reads.
_VOCABULARIES = {False: _vocabularies(False), True: _vocabularies(True)}


@dataclass
class _Paragraph:
    start: int
    end: int
    sentences: list[tuple[int, int]] = field(default_factory=list)
    sentence_starts: list[int] = field(default_factory=list)
    cut_words: list[int] | None = None
    words: frozenset[str] | None = None
    lowered: str = ""  # the paragraph case-folded, set with `words`
    quoted: list[tuple[int, int]] = field(default_factory=list)
    attributions: list[Attribution] = field(default_factory=list)
    subjects: list[Attribution] | None = None
    found: bool = False
    ready: bool = False
    read: bool = False
    tokens: list[tuple[str, int, int]] | None = None


class SpeechText:
    """One stored text, prepared for the speaker, elision and cut checks.

    >>> text = SpeechText('"What has been reported is false," said Dong.')
    >>> text.check_speaker(start=1, end=32, speaker=Speaker("Han Dong", (("han", "dong"),)))
    ... # doctest: +ELLIPSIS
    SpeakerCheck(status='confirmed', ...)
    """

    def __init__(self, text: str, *, language: str | None = None) -> None:
        self.text = text
        french = bool(language) and fold(language).startswith("fr")
        self.negations, self.reversals, self._cut_vocabulary = _VOCABULARIES[french]
        splitter = _BLANK_LINE if _BLANK_LINE.search(text) else _LINE
        spans, position = [], 0
        for gap in splitter.finditer(text):
            if gap.start() > position:
                spans.append((position, gap.start()))
            position = gap.end()
        if position < len(text):
            spans.append((position, len(text)))
        self._paragraphs = [_Paragraph(s, e) for s, e in spans] or [_Paragraph(0, len(text))]
        self._starts = [p.start for p in self._paragraphs]

    # --- structure -------------------------------------------------------------------------

    def _paragraph_index(self, position: int) -> int:
        return max(0, bisect_right(self._starts, position) - 1)

    def _paragraph(self, index: int) -> _Paragraph:
        paragraph = self._paragraphs[index]
        if not paragraph.ready:
            paragraph.ready = True
            paragraph.sentences = self._split_sentences(paragraph.start, paragraph.end)
            paragraph.sentence_starts = [s for s, _ in paragraph.sentences]
            paragraph.quoted = self._quoted(paragraph.start, paragraph.end)
        return paragraph

    def _read(self, index: int) -> _Paragraph:
        """The paragraph with its attributions found and its pronouns resolved (looking one
        paragraph back for an antecedent)."""
        paragraph = self._found(index)
        if not paragraph.read:
            paragraph.read = True
            previous = self._found(index - 1) if index else None
            self._resolve(paragraph, previous)
        return paragraph

    def _found(self, index: int) -> _Paragraph:
        """The paragraph with its attributions found, pronouns not yet resolved."""
        paragraph = self._paragraph(index)
        if not paragraph.found:
            paragraph.found = True
            # One scan for a word of speech; a paragraph without one is not read further.
            if not _CUES.isdisjoint(self._words_of(paragraph)):
                self._find_attributions(paragraph)
        return paragraph

    def _tokens(self, paragraph: _Paragraph) -> list[tuple[str, int, int]]:
        if paragraph.tokens is None:
            paragraph.tokens = [
                (m.group(), m.start(), m.end())
                for m in _TOKEN.finditer(self.text, paragraph.start, paragraph.end)
            ]
        return paragraph.tokens

    def _subjects_of(self, paragraph: _Paragraph) -> list[Attribution]:
        if paragraph.subjects is None:
            paragraph.subjects = self._subjects(self._tokens(paragraph), paragraph)
        return paragraph.subjects

    def _positions(self, chars: str, start: int, end: int) -> list[int]:
        """Where any of `chars` occurs in text[start:end], in order (str.find: C speed)."""
        text, found = self.text, []
        for char in chars:
            index = text.find(char, start, end)
            while index != -1:
                found.append(index)
                index = text.find(char, index + 1, end)
        found.sort()
        return found

    def _split_sentences(self, start: int, end: int) -> list[tuple[int, int]]:
        """Sentence spans: a sentence ends at . ! ? or … (and any closing quotation marks)
        followed by white space and a capital, a digit or an opening mark; not after a title
        ("Mr."), an initial ("U.S.") or inside a number."""
        text, sentences, first, done = self.text, [], start, -1
        for mark in self._positions(".!?…", start, end):
            if mark < done:
                continue  # inside a run already read: "?!", "..."
            stop = mark
            while stop < end and text[stop] in ".!?…":
                stop += 1
            while stop < end and text[stop] in "\"”’')]»":
                stop += 1
            done = stop
            after = stop
            while after < end and text[after].isspace():
                after += 1
            if after == stop:
                continue  # no space after the mark: "U.S.", "3.5", "persona…"
            if after >= end:
                break
            head = after
            while head < end and text[head] in "\"“‘'(«[":
                head += 1
            if head >= end or not (text[head].isupper() or text[head].isdigit()):
                continue
            if text[mark] == ".":
                before = _WORD.findall(text[max(first, mark - 12) : mark])
                if before and (
                    before[-1].casefold() in _TITLE_DOT
                    or (len(before[-1]) == 1 and before[-1].isupper())
                ):
                    continue
            sentences.append((first, stop))
            first = after
        if first < end:
            sentences.append((first, end))
        return sentences

    def _quoted(self, start: int, end: int) -> list[tuple[int, int]]:
        """Spans inside the source's own quotation marks; an unclosed one runs to the end."""
        regions: list[tuple[int, int]] = []
        opened: int | None = None
        straight_open = False
        for index in self._positions(_QUOTE_CHARS, start, end):
            char = self.text[index]
            if char in _OPEN_QUOTES and opened is None:
                opened = index
            elif char in _CLOSE_QUOTES and opened is not None:
                regions.append((opened, index + 1))
                opened = None
            elif char == '"':
                if opened is None:
                    opened, straight_open = index, True
                elif straight_open:
                    regions.append((opened, index + 1))
                    opened, straight_open = None, False
        if opened is not None:
            regions.append((opened, end))
        return regions

    @staticmethod
    def _inside(regions: list[tuple[int, int]], position: int) -> tuple[int, int] | None:
        for region in regions:
            if region[0] < position < region[1]:
                return region
        return None

    # --- attributions ----------------------------------------------------------------------

    def _find_attributions(self, paragraph: _Paragraph) -> None:
        tokens = self._tokens(paragraph)
        found: list[Attribution] = []
        for i, (word, start, _end) in enumerate(tokens):
            lower = word.casefold()
            if self._inside(paragraph.quoted, start):
                continue
            attribution = None
            passive = i + 1 < len(tokens) and tokens[i + 1][0] == "by"
            # A verb is lowercase ("United States" says nothing); "reported by X" is X's.
            if word == lower and lower in SPEECH_VERBS and not passive:
                attribution = self._subject_before(tokens, i, paragraph)
                if attribution is None and lower in _INVERTED:
                    attribution = self._speaker_after(tokens, i + 1, paragraph)
            elif word == lower and lower in _PARTICIPLES:
                # "Mendicino made no indication …, instead questioning: …": the sentence's
                # subject speaks.
                attribution = next(
                    (s for s in reversed(self._subjects_of(paragraph)) if s.position < start),
                    None,
                )
                if attribution is not None and not any(
                    a <= attribution.position and start < b for a, b in paragraph.sentences
                ):
                    attribution = None
            if (
                attribution is None
                and i + 1 < len(tokens)
                and (
                    (lower == "according" and tokens[i + 1][0].casefold() == "to")
                    or (lower in _BY_VERBS and tokens[i + 1][0].casefold() == "by")
                )
            ):
                attribution = self._speaker_after(
                    tokens, self._after_by(tokens, i + 1), paragraph, pronouns=False, loose=True
                )
            if attribution is not None:
                found.append(attribution)
        paragraph.attributions = found

    def _resolve(self, paragraph: _Paragraph, previous: _Paragraph | None) -> None:
        """Who each pronoun means: the nearest name before it in its sentence; else the
        nearest speaker named before it, in its paragraph or the one before; else the name
        opening the nearest sentence before it."""
        earlier = [a for a in (previous.attributions if previous else []) if a.kind == "name"]
        resolved: list[Attribution] = []
        for attribution in paragraph.attributions:
            if attribution.kind == "pronoun" and attribution.words[0] in ("he", "she", "they"):
                position = attribution.position
                named = self._mentions(paragraph, position)
                named = (
                    named
                    or [a for a in resolved if a.kind == "name" and a.position < position]
                    or earlier
                )
                named = named or [s for s in self._subjects_of(paragraph) if s.position < position]
                if not named and previous is not None:
                    named = self._subjects_of(previous)
                if named:
                    attribution = Attribution(
                        "pronoun", attribution.words, attribution.text, position, named[-1]
                    )
            resolved.append(attribution)
        paragraph.attributions = resolved

    def _mentions(self, paragraph: _Paragraph, position: int) -> list[Attribution]:
        """Names written before `position` in its sentence, outside quotation marks."""
        sentence = next((s for s in paragraph.sentences if s[0] <= position < s[1]), None)
        if sentence is None:
            return []
        tokens = self._tokens(paragraph)
        starts = [t[1] for t in tokens]
        i = bisect_right(starts, sentence[0] - 1)
        names: list[Attribution] = []
        while i < len(tokens) and tokens[i][1] < position:
            if (
                tokens[i][0][:1].isupper()
                and not self._inside(paragraph.quoted, tokens[i][1])
                and (
                    i == 0
                    or not tokens[i - 1][0][:1].isupper()
                    or not self._joined(tokens[i - 1], tokens[i])
                )
            ):
                run = self._run_from(tokens, i)
                if run is not None and run.kind == "name" and run.position < position:
                    names.append(run)
            i += 1
        return names

    def _subjects(self, tokens, paragraph: _Paragraph) -> list[Attribution]:
        """The name opening each sentence, after a short lead ("Last week, Chong …")."""
        subjects: list[Attribution] = []
        starts = [t[1] for t in tokens]
        for s_start, s_end in paragraph.sentences:
            i = bisect_right(starts, s_start - 1)
            for j in range(i, min(i + 4, len(tokens))):
                if tokens[j][1] >= s_end or self._inside(paragraph.quoted, tokens[j][1]):
                    break
                run = self._run_from(tokens, j)
                if run is not None:
                    if run.kind == "name":
                        subjects.append(run)
                    break
        return subjects

    def _run_from(self, tokens, i: int) -> Attribution | None:
        """A name starting at token i and running forward, or None."""
        run = []
        j = i
        while j < len(tokens):
            word = tokens[j][0]
            if j > i and not self._joined(tokens[j - 1], tokens[j]):
                break
            capital = word[:1].isupper() and (run or word.casefold() not in _NOT_NAMES)
            joins = (
                run
                and word.casefold() in _CONNECTORS
                and j + 1 < len(tokens)
                and tokens[j + 1][0][:1].isupper()
            )
            if not (capital or joins):
                break
            run.append(j)
            j += 1
        return self._name(tokens, run) if run else None

    def _joined(self, left, right) -> bool:
        """Two tokens side by side in one name: white space between, or "Mr. "."""
        gap = self.text[left[2] : right[1]]
        if not gap.strip():
            return True
        return gap.strip() == "." and (left[0].casefold() in _TITLE_DOT or len(left[0]) == 1)

    def _name(self, tokens, indexes: list[int]) -> Attribution | None:
        while indexes and tokens[indexes[0]][0].casefold() in _NOT_NAMES | _CONNECTORS:
            indexes = indexes[1:]
        while indexes and tokens[indexes[-1]][0].casefold() in _CONNECTORS:
            indexes = indexes[:-1]
        if not indexes:
            return None
        first, last = tokens[indexes[0]], tokens[indexes[-1]]
        shown = self.text[first[1] : last[2]]
        words = name_tokens(shown)
        if all(w in TITLES or w == "s" for w in words):
            return Attribution("description", words, shown, first[1])
        return Attribution("name", words, shown, first[1])

    def _subject_before(self, tokens, i: int, paragraph: _Paragraph) -> Attribution | None:
        """The speaker written before the verb at token i: `Dong said`, `he said`,
        `the minister said`, `Dong, who denied`."""
        j = i - 1
        skipped = 0
        while (
            j >= 0
            and tokens[j][0].casefold() in _BETWEEN
            and skipped < 2
            and self._joined(tokens[j], tokens[j + 1])
        ):
            j, skipped = j - 1, skipped + 1
        if j < 0:
            return None
        word = tokens[j][0]
        lower = word.casefold()
        if lower == "who" and self._joined(tokens[j], tokens[j + 1]):
            return self._before_who(tokens, j)
        if not self._joined(tokens[j], tokens[j + 1]) or self._inside(
            paragraph.quoted, tokens[j][1]
        ):
            return None
        if lower in _PRONOUNS:
            return Attribution("pronoun", (lower,), word, tokens[j][1])
        if word[:1].isupper() and lower not in _NOT_NAMES:
            run = [j]
            k = j - 1
            while k >= 0 and self._joined(tokens[k], tokens[k + 1]):
                w = tokens[k][0]
                if w[:1].isupper() or (
                    w.casefold() in _CONNECTORS and tokens[k + 1][0][:1].isupper()
                ):
                    run.insert(0, k)
                    k -= 1
                else:
                    break
            attribution = self._name(tokens, run)
            if attribution is not None and attribution.kind == "description":
                return self._description(tokens, run[-1])
            return attribution
        if lower.isalpha() and lower not in _NOT_NAMES and lower not in _FUNCTION:
            return self._description(tokens, j)
        return None

    def _before_who(self, tokens, who: int) -> Attribution | None:
        """`Hang Dong, who denied …`: the name before the comma."""
        if who == 0 or self.text[tokens[who - 1][2] : tokens[who][1]].strip() != ",":
            return None
        run = []
        k = who - 1
        while k >= 0 and (tokens[k][0][:1].isupper() or tokens[k][0].casefold() in _CONNECTORS):
            run.insert(0, k)
            if k == 0 or not self._joined(tokens[k - 1], tokens[k]):
                break
            k -= 1
        return self._name(tokens, run) if run else None

    def _description(self, tokens, j: int) -> Attribution:
        """`The prime minister said`: the words back to a determiner (at most five)."""
        words = []
        k = j
        while k >= 0 and len(words) < 5:
            words.insert(0, k)
            lower = tokens[k][0].casefold()
            if lower in _DETERMINERS or k == 0 or not self._joined(tokens[k - 1], tokens[k]):
                break
            k -= 1
        first, last = tokens[words[0]], tokens[words[-1]]
        shown = self.text[first[1] : last[2]]
        return Attribution("description", name_tokens(shown), shown, first[1])

    def _after_by(self, tokens, by: int) -> int:
        """The token after `by` or `to`, past a bracketed role and a colon: "Signed by
        (Minister or Parliamentary Secretary): Rob Oliphant"."""
        match = _ROLE_GAP.match(self.text, tokens[by][2])
        if match is None:
            return by + 1
        after = match.end()
        return next((k for k in range(by + 1, len(tokens)) if tokens[k][1] >= after), len(tokens))

    def _speaker_after(
        self, tokens, i: int, paragraph: _Paragraph, *, pronouns: bool = True, loose: bool = False
    ) -> Attribution | None:
        """The speaker written after the verb: `said Dong`, `according to Global News`."""
        if i >= len(tokens) or not (loose or self._joined(tokens[i - 1], tokens[i])):
            return None
        word = tokens[i][0]
        lower = word.casefold()
        if pronouns and lower in ("he", "she", "they"):
            return Attribution("pronoun", (lower,), word, tokens[i][1])
        if word[:1].isupper():
            run = self._run_from(tokens, i)
            if run is not None and run.kind == "description":
                return run
            return run
        if lower in _DETERMINERS:
            words = [i]
            k = i + 1
            while k < len(tokens) and len(words) < 5 and self._joined(tokens[k - 1], tokens[k]):
                if tokens[k][0][:1].isupper():
                    run = self._run_from(tokens, k)
                    if run is not None:
                        return run
                if tokens[k][0].casefold() in ("in", "on", "at", "to", "during", "after"):
                    break
                words.append(k)
                k += 1
            if len(words) > 1:
                shown = self.text[tokens[words[0]][1] : tokens[words[-1]][2]]
                return Attribution("description", name_tokens(shown), shown, tokens[i][1])
        return None

    # --- the speaker check -----------------------------------------------------------------

    def check_speaker(self, *, start: int, end: int, speaker: Speaker) -> SpeakerCheck:
        """Who the text credits with `text[start:end]`, compared with `speaker`.

        Reads the quote's sentences; then the rest of its paragraph (for a quote inside the
        source's quotation marks, only the sentences of that quotation and the one after
        it, where its attribution stands); then, when those hold no attribution, the
        paragraph before. The first of these that holds an attribution decides:
        `confirmed` if any attribution there names the speaker (or describes them as their
        description does), `mismatch` if they name only others, `unconfirmed` if they only
        describe someone in other words or nothing is found.
        """
        index = self._paragraph_index(start)
        if index:
            self._read(index - 1)  # so a pronoun can look one paragraph back
        paragraph = self._read(index)
        sentences = paragraph.sentences
        in_sentence = [s for s in sentences if s[1] > start and s[0] < end] or sentences[:1]
        low, high = in_sentence[0][0], in_sentence[-1][1]
        region = self._inside(paragraph.quoted, start)
        if region is not None:
            around = [n for n, s in enumerate(sentences) if s[1] > region[0] and s[0] < region[1]]
            if around:
                first = max(around[0] - 1, 0)
                last = min(around[-1] + 1, len(sentences) - 1)
                near = (sentences[first][0], sentences[last][1])
            else:
                near = (low, high)
        else:
            near = (paragraph.start, paragraph.end)
        before: list[Attribution] = []
        if index:
            previous = self._read(index - 1)
            # A paragraph that opens with a quotation runs on from the one that introduced
            # it; narration does only after a line that is all attribution ("Signed by …:
            # Rob Oliphant").
            opens_quoted = region is not None and region[0] == paragraph.start
            if opens_quoted or (previous.end - previous.start <= _BYLINE and not previous.quoted):
                before = previous.attributions
        windows = (
            ("sentence", [a for a in paragraph.attributions if low <= a.position < high]),
            ("paragraph", [a for a in paragraph.attributions if near[0] <= a.position < near[1]]),
            ("previous paragraph", before),
        )
        for where, attributions in windows:
            if not attributions:
                continue
            if any(_credits(a, speaker) for a in attributions):
                return SpeakerCheck("confirmed", tuple(attributions), where)
            named = tuple(a for a in attributions if a.name is not None)
            if named:
                return SpeakerCheck("mismatch", named, where)
            return SpeakerCheck("unconfirmed", tuple(attributions), where)
        return SpeakerCheck("unconfirmed")

    # --- cuts ------------------------------------------------------------------------------

    def dropped_negations(self, parts: list[tuple[int, int]]) -> tuple[list[str], list[str]]:
        """For an elided quote's parts (spans in order), the negation and reversal words the
        elisions leave out, and the omitted passages that hold them.

        A negation counts when it sits in the clause of a kept word ("I was [not] offered");
        one inside a whole clause the elision dropped (", I was not told,") negates only
        that clause. A reversal ("but", "however") counts wherever it is: it qualifies what
        came before it.
        """
        text = self.text
        dropped: list[str] = []
        passages: list[str] = []
        for (_, left_end), (right_start, _) in pairwise(parts):
            gap = text[left_end:right_start]
            pieces = _GAP_SPLIT.split(gap)
            attached_left = text[:left_end].rstrip()[-1:] not in _CLAUSE_MARKS
            attached_right = (gap.rstrip()[-1:] or " ") not in _CLAUSE_MARKS
            hits: list[str] = []
            for number, piece in enumerate(pieces):
                edge = (number == 0 and attached_left) or (
                    number == len(pieces) - 1 and attached_right
                )
                for word in _words(piece):
                    if word in self.reversals or (edge and word in self.negations):
                        hits.append(word)
            if hits:
                dropped.extend(hits)
                passages.append(" ".join(gap.split()))
        return dropped, passages

    def check_cut(self, *, start: int, end: int, quote: str) -> list[CutCheck]:
        """Negations and qualifiers a quote leaves out by starting or ending inside a sentence
        without an ellipsis: in the clause just before its start, or just after its end (at
        most `CLAUSE_REACH` characters of it).

        A quote inside the source's own quotation marks is measured against the quoted
        words, so starting where the speaker's words start is not a cut.
        """
        paragraph = self._paragraph(self._paragraph_index(start))
        hits = self._cut_words(paragraph)
        # Most quotes have no such word within reach on either side: two bisections say so.
        near = bisect_left(hits, start - CLAUSE_REACH)
        if near == len(hits) or hits[near] >= end + CLAUSE_REACH:
            return []
        sentences = paragraph.sentences
        text = self.text
        found: list[CutCheck] = []
        typed = quote.strip()
        marked_start = typed.startswith(_ELLIPSIS_EDGES) and _STARTS_ELIDED.match(typed)
        marked_end = typed.endswith(("…", "...", "]")) and _ENDS_ELIDED.search(typed)
        at = bisect_right(paragraph.sentence_starts, start) - 1
        if not marked_start and at >= 0 and start < sentences[at][1]:
            low = sentences[at][0]
            region = self._inside(paragraph.quoted, start)
            if region is not None:
                low = max(low, region[0] + 1)
            before = text[max(low, start - CLAUSE_REACH) : start]
            clause = before[max(map(before.rfind, _CLAUSE_CUTS)) + 1 :]
            words = self._hits(clause, self.negations | QUALIFIERS)
            if words:
                found.append(CutCheck("start", words, " ".join(before.split())))
        at = bisect_right(paragraph.sentence_starts, max(end - 1, 0)) - 1
        if not marked_end and at >= 0 and end <= sentences[at][1]:
            high = sentences[at][1]
            region = self._inside(paragraph.quoted, end - 1)
            if region is not None:
                high = min(high, region[1] - 1)
            after = text[end : min(high, end + CLAUSE_REACH)]
            rest = after.lstrip(" \t\n,;:—–-\"”’'")
            stops = [i for i in map(rest.find, _CLAUSE_CUTS) if i != -1]
            clause = rest[: min(stops)] if stops else rest
            words = self._hits(clause, self.negations | self.reversals | QUALIFIERS)
            if words:
                found.append(CutCheck("end", words, " ".join(after.split())))
        return found

    def _words_of(self, paragraph: _Paragraph) -> frozenset[str]:
        """The paragraph's distinct words, folded and split at punctuation (the apostrophe
        kept): one pass, shared by the quick tests of both checks."""
        if paragraph.words is None:
            chunk = self.text[paragraph.start : paragraph.end]
            # For ASCII, lower() is casefold() and runs at C speed without a Unicode table.
            lowered = chunk.lower() if chunk.isascii() else chunk.casefold()
            paragraph.lowered = lowered
            paragraph.words = frozenset(lowered.translate(_SPACED).split())
        return paragraph.words

    def _cut_words(self, paragraph: _Paragraph) -> list[int]:
        """Where the paragraph holds a negation, reversal or qualifier (found once, with
        str.find), so a cut far from any of them costs nothing more."""
        if paragraph.cut_words is None:
            paragraph.cut_words = []
            words = self._words_of(paragraph)
            lowered = paragraph.lowered
            if (
                self._cut_vocabulary.isdisjoint(words)
                and "n'" not in lowered
                and ("n’" not in lowered)
            ):
                return paragraph.cut_words
            found: list[int] = []
            for word in self._cut_vocabulary:
                index = lowered.find(word)
                while index != -1:
                    after = index + len(word)
                    contraction = word.startswith(("n'", "n’"))  # "didn't", "n'a"
                    if (contraction or index == 0 or not lowered[index - 1].isalnum()) and (
                        after == len(lowered) or not lowered[after].isalnum() or contraction
                    ):
                        found.append(paragraph.start + index)
                    index = lowered.find(word, index + 1)
            found.sort()
            if len(lowered) != paragraph.end - paragraph.start:
                # Case folding changed the length ("ß"): the offsets cannot be trusted, so
                # mark every stretch as worth reading.
                found = list(range(paragraph.start, paragraph.end, CLAUSE_REACH))
            paragraph.cut_words = found
        return paragraph.cut_words

    @staticmethod
    def _hits(clause: str, wanted: frozenset[str]) -> tuple[str, ...]:
        """The words of `clause` in `wanted`, in order; a quick set test first, since most
        clauses hold none."""
        # The clause holds no clause marks; only its last word may carry a full stop.
        words = clause.casefold().split()
        if words:
            words[-1] = words[-1].rstrip(".!?…\"”’')")
        if wanted.isdisjoint(words) and not ("n'" in clause or "n’" in clause):
            return ()
        return tuple(w for w in _words(clause) if w in wanted)


def _credits(attribution: Attribution, speaker: Speaker) -> bool:
    name = attribution.name
    if name is not None and speaker.matches(name):
        return True
    return attribution.kind == "description" and speaker.described_by(attribution.words)


def _words(text: str) -> list[str]:
    """Folded words, with "n't" split off ("didn't" gives "did", "n't")."""
    out: list[str] = []
    for word in _WORD.findall(text.replace("’", "'")):
        lower = word.casefold()
        if lower.endswith("n't") and len(lower) > 3:
            out.extend([lower[:-3], "n't"])
        elif lower.startswith("n'") and len(lower) > 2:
            out.extend(["n'", lower[2:]])
        else:
            out.append(lower)
    return out
