"""Benchmark: audit 100,000 quotes over 10,000 stored texts of about 5 KB.

The texts and quotes are synthetic and deterministic. Most quotes are exact spans; some are
normalized variants (straight for curly quotes, changed white space, a hyphen for a dash); about
5% are one-word misquotes, the only ones that reach the fuzzy search. Each text is wrapped in one
`TextIndex`, so it is normalized at most once however many quotes it carries, as the audit does.

    .venv/bin/python tests/benchmarks/bench_quotes.py [--texts 10000] [--per-text 10]
    .venv/bin/python tests/benchmarks/bench_quotes.py --limits   # the verdict at 5 MB

Only the checking is timed; building the texts is not.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

# Run as a script from anywhere: the repository root holds the `ledger` package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from ledger.quotes import TextIndex

SEED = 100_000
TEXT_SIZE = 5_000


def _vocabulary(rng: random.Random, size: int = 3_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = {"".join(rng.choice(letters) for _ in range(rng.randint(2, 10))) for _ in range(size)}
    return sorted(words)


def _text(rng: random.Random, vocabulary: list[str]) -> str:
    """About 5 KB of sentences and paragraphs with curly quotes, dashes and no-break spaces."""
    paragraphs: list[str] = []
    length = 0
    while length < TEXT_SIZE:
        sentences = []
        for _ in range(rng.randint(2, 5)):
            words = rng.choices(vocabulary, k=rng.randint(8, 24))
            words[0] = words[0].capitalize()
            roll = rng.random()
            if roll < 0.15:
                i = rng.randrange(1, len(words) - 2)
                words[i] = "“" + words[i]
                words[i + 1] = words[i + 1] + "”"
            elif roll < 0.25:
                i = rng.randrange(len(words))
                words[i] = words[i] + "’s"
            elif roll < 0.35:
                words.insert(rng.randrange(1, len(words) - 1), "—")
            elif roll < 0.40:
                i = rng.randrange(len(words) - 1)
                words[i] = words[i] + "\u00a0" + words.pop(i + 1)
            sentences.append(" ".join(words) + ".")
        paragraph = " ".join(sentences)
        paragraphs.append(paragraph)
        length += len(paragraph) + 2
    return "\n\n".join(paragraphs)


def _quotes(
    rng: random.Random, text: str, count: int, vocabulary: list[str]
) -> list[tuple[str, str]]:
    """(kind, quote) pairs: exact spans, normalized variants, one-word misquotes."""
    tokens = text.split(" ")
    out: list[tuple[str, str]] = []
    while len(out) < count:
        size = rng.randint(5, 16)
        first = rng.randrange(len(tokens) - size)
        span = " ".join(tokens[first : first + size]).strip()
        if not span:
            continue
        roll = rng.random()
        if roll < 0.05:
            words = span.split()
            i = rng.randrange(len(words))
            words[i] = rng.choice(vocabulary)
            quote = " ".join(words)
            if quote in text:
                continue
            out.append(("misquote", quote))
        elif roll < 0.15:
            variant = (
                span.replace("“", '"').replace("”", '"').replace("’", "'").replace(" — ", " - ")
            )
            if variant == span:
                variant = span.replace(" ", "  ", 1).replace(" ", "\n", 1)
            out.append(("normalized", variant))
        else:
            out.append(("exact", span))
    return out


LIMIT_TEXT = 5_000_000
LIMIT_QUOTE = 5_000


def _limit_cases() -> list[tuple[str, str, str, str]]:
    """(name, text, quote, expected status) at the limits: 5 MB of text, 5,000-character
    quotes, each a worst case for one part of the verdict."""
    rng = random.Random(13)
    vocabulary = _vocabulary(rng, 5_000)
    words = []
    length = 0
    while length < LIMIT_TEXT:
        word = rng.choice(vocabulary)
        words.append(word)
        length += len(word) + 1
    plain = " ".join(words)[:LIMIT_TEXT]
    start = plain.index(" ", 2_000_000) + 1
    middle = plain[start : start + LIMIT_QUOTE].rsplit(" ", 1)[0]
    changed = middle.split(" ")
    changed[len(changed) // 2] = "nowhere"
    shuffled = middle.split(" ")
    rng.shuffle(shuffled)
    tail = plain[-LIMIT_QUOTE:].split(" ", 1)[1]
    curly_tail = tail.replace(" ", "\u00a0", 40).replace(" ", " — ", 5)
    curly = plain[: -len(tail)] + curly_tail
    straight = curly_tail.replace("\u00a0", " ").replace("—", "-")
    repeated = "word " * (LIMIT_TEXT // 5)
    near = (middle[:-1] + "Q ") * (LIMIT_TEXT // len(middle))
    marked = plain.replace("e", "e\u0301")[:LIMIT_TEXT]
    marked_tail = marked[-LIMIT_QUOTE:].split(" ", 1)[1]
    invisible = plain.replace("a", "a\u200b")[:LIMIT_TEXT]
    invisible_tail = invisible[-LIMIT_QUOTE:].split(" ", 1)[1].replace("\u200b", "")
    return [
        ("absent: one word changed", plain, " ".join(changed), "not-found"),
        (
            "absent: the text's own words, shuffled",
            plain,
            " ".join(shuffled)[:LIMIT_QUOTE],
            "not-found",
        ),
        ("present at the end, exact", plain, tail, "verified"),
        ("present at the end, normalized", curly, straight, "verified"),
        ("many near matches (4,999 characters repeated)", near, middle, "not-found"),
        (
            "one repeated word, normalized, present",
            repeated,
            "word  " * (LIMIT_QUOTE // 6),
            "verified",
        ),
        (
            "one repeated word, absent",
            repeated,
            "word " * (LIMIT_QUOTE // 5 - 1) + "ward",
            "not-found",
        ),
        ("combining marks, present at the end", marked, marked_tail.replace(" ", "  "), "verified"),
        ("combining marks, absent", marked, " ".join(changed).replace("e", "e\u0301"), "not-found"),
        ("invisible characters, absent", invisible, " ".join(changed), "not-found"),
        (
            "invisible characters, present at the end",
            invisible,
            invisible_tail.replace(" ", "  "),
            "verified",
        ),
    ]


def limits() -> int:
    """Time the write-time verdict (`hint=False`) on each worst case at the limits: wall and
    CPU time of one check on a fresh `TextIndex` (as `claim add` makes one)."""
    wrong = 0
    print(
        f"verdict at the limits: {LIMIT_TEXT:,}-character texts, quotes up to "
        f"{LIMIT_QUOTE:,} characters (fresh TextIndex each, best of 3)"
    )
    for name, text, quote, expected in _limit_cases():
        walls, cpus = [], []
        for _ in range(3):
            wall, cpu = time.perf_counter(), time.process_time()
            check = TextIndex(text).check(quote=quote, hint=False)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        ok = check.status == expected
        wrong += not ok
        print(
            f"  {name:48s} {1e3 * min(walls):7.0f} ms wall {1e3 * min(cpus):7.0f} ms CPU  "
            f"{check.status}{'' if ok else ' (WRONG, expected ' + expected + ')'}"
        )
    return 1 if wrong else 0


def main(argv: list[str] | None = None) -> int:
    """Build the synthetic ledger, check every quote, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--per-text", type=int, default=10)
    parser.add_argument(
        "--limits",
        action="store_true",
        help="time the write-time verdict on worst cases at 5 MB instead",
    )
    args = parser.parse_args(argv)
    if args.limits:
        return limits()

    rng = random.Random(SEED)
    vocabulary = _vocabulary(rng)
    built = time.perf_counter()
    corpus = []
    for _ in range(args.texts):
        text = _text(rng, vocabulary)
        corpus.append((text, _quotes(rng, text, args.per_text, vocabulary)))
    built = time.perf_counter() - built
    total_quotes = sum(len(quotes) for _, quotes in corpus)
    mean_size = sum(len(text) for text, _ in corpus) / len(corpus)

    outcomes: Counter[str] = Counter()
    wrong: Counter[str] = Counter()
    fuzzy_seconds = 0.0
    fuzzy_slowest = 0.0
    normalized_texts = 0
    started = time.perf_counter()
    for text, quotes in corpus:
        index = TextIndex(text)
        for kind, quote in quotes:
            before = time.perf_counter()
            check = index.check(quote=quote)
            if check.status == "verified":
                outcomes[check.match or "verified"] += 1
            else:
                elapsed = time.perf_counter() - before
                fuzzy_seconds += elapsed
                fuzzy_slowest = max(fuzzy_slowest, elapsed)
                outcomes[check.status] += 1
            if (check.status == "verified") != (kind != "misquote"):
                wrong[kind] += 1
        normalized_texts += index._normalized is not None
    total = time.perf_counter() - started

    fuzzy = outcomes["not-found"]
    print(f"texts:              {len(corpus):,} (mean {mean_size:,.0f} chars)")
    print(f"quotes:             {total_quotes:,}")
    print(f"build (not timed):  {built:.1f} s")
    print(f"check total:        {total:.2f} s")
    print(f"per quote:          {1e6 * total / total_quotes:.1f} µs")
    print(f"texts normalized:   {normalized_texts:,}")
    print(
        "outcomes:           "
        + ", ".join(f"{name} {count:,}" for name, count in sorted(outcomes.items()))
    )
    print(f"fuzzy searches:     {fuzzy:,} (only for quotes not found)")
    if fuzzy:
        print(
            f"fuzzy time:         {fuzzy_seconds:.2f} s, {1e3 * fuzzy_seconds / fuzzy:.2f} ms"
            f" per quote, slowest {1e3 * fuzzy_slowest:.2f} ms"
        )
    print(f"wrong verdicts:     {sum(wrong.values())} {dict(wrong) if wrong else ''}")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
