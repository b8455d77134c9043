"""Benchmark: `ledger search` over a synthetic 1,000,000-claim SQLite ledger, beside a bare FTS5
MATCH on the same index in the same run. Prints p50 and p95 in milliseconds for both.

    .venv/bin/python tests/benchmarks/bench_search.py [--claims 1000000] [--queries 200] [DB]

The ledger is built fast: migrations, then Core bulk inserts with the search triggers dropped,
then one FTS5 'rebuild' (ledger.store.search.suspend_index / resume_index). Building is not
timed. Statements are 12 words drawn from a Zipf-distributed 20,000-word vocabulary; queries
are one or two words from the middle of the distribution (hundreds to thousands of hits).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path


def build(path: Path, claims: int) -> None:
    from sqlalchemy import insert

    from ledger import db
    from ledger.models import Claim, ClaimPerson, Person
    from ledger.store.search import resume_index, suspend_index

    engine = db.make_engine(db.database_url(str(path)))
    db.upgrade(engine)
    rng = random.Random(7)
    words = [f"w{n}" for n in range(20_000)]
    from itertools import accumulate

    cumulative = list(accumulate(1 / (n + 1) for n in range(len(words))))
    with db.transaction(engine, actor="bench") as session:
        triggers = suspend_index(session)
        connection = session.connection()
        connection.execute(insert(Person), [
            {"id": n, "uid": uuid.uuid4().hex, "name": f"Person {n}", "name_key": f"person {n}",
             "kind": "person", "slug": f"person-{n}"} for n in range(1, 1001)])
        batch = 50_000
        for start in range(1, claims + 1, batch):
            ids = range(start, min(start + batch, claims + 1))
            connection.execute(insert(Claim), [
                {"id": i, "uid": uuid.uuid4().hex, "status": "unverified",
                 "statement": " ".join(rng.choices(words, cum_weights=cumulative, k=12))}
                for i in ids])
            connection.execute(insert(ClaimPerson), [
                {"claim_id": i, "person_id": 1 + i % 1000, "role": "subject"} for i in ids])
        resume_index(session, triggers)
    engine.dispose()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db", nargs="?")
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "search-bench.db"
    if not path.exists():
        started = time.perf_counter()
        build(path, args.claims)
        print(f"built {args.claims:,} claims in {time.perf_counter() - started:.1f} s")
    from ledger import db
    from ledger.search import fts_quote, search
    from ledger.store.search import bare_match

    engine = db.open_ledger(str(path))
    rng = random.Random(11)
    queries = [" ".join(f"w{rng.randint(200, 3000)}" for _ in range(rng.choice((1, 2))))
               for _ in range(args.queries)]
    ours, bare = [], []
    with db.reading(engine) as session:
        for query in queries[:10]:  # warm the page cache for both
            search(session, query=query, limit=20)
        for query in queries:
            started = time.perf_counter()
            bare_match(session, match=fts_quote(query), limit=20)
            bare.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            search(session, query=query, limit=20)
            ours.append((time.perf_counter() - started) * 1000)
    print(f"bare FTS5 MATCH: p50 {percentile(bare, 50):.2f} ms, p95 {percentile(bare, 95):.2f} ms")
    print(f"ledger search:   p50 {percentile(ours, 50):.2f} ms, p95 {percentile(ours, 95):.2f} ms")
    print(f"ratio: p50 {percentile(ours, 50) / percentile(bare, 50):.2f}x, "
          f"p95 {percentile(ours, 95) / percentile(bare, 95):.2f}x")


if __name__ == "__main__":
    main()
