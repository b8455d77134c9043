"""Benchmark: audit 100,000 quotes over 10,000 stored texts of about 5 KB.

The texts and quotes are synthetic and deterministic. Most quotes are exact spans; some are
normalized variants (straight for curly quotes, changed white space, a hyphen for a dash); about
5% are one-word misquotes, the only ones that reach the fuzzy search. Each text is wrapped in one
`TextIndex`, so it is normalized at most once however many quotes it carries, as the audit does.

    .venv/bin/python tests/benchmarks/bench_quotes.py [--texts 10000] [--per-text 10]

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


def main(argv: list[str] | None = None) -> int:
    """Build the synthetic ledger, check every quote, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=10_000)
    parser.add_argument("--per-text", type=int, default=10)
    args = parser.parse_args(argv)

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
