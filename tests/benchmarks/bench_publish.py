"""Benchmark: publish a synthetic ledger; dossiers/s, SQL queries and peak memory.

    .venv/bin/python tests/benchmarks/bench_publish.py [--people 10000 --claims 200000]

Builds a synthetic SQLite ledger with bulk SQLAlchemy Core inserts (no events: the head is
empty, which publishing does not mind), then for two sizes (half the claims, then all):

- publish: `ledger.publish.publish`, Markdown only, timed per dossier, with every SQL statement
  counted by a `before_cursor_execute` listener;
- baseline: a plain loop that reads the same rows with one query per table (everything in
  memory at once), builds the same context and renders the same template to the same files.

Peak memory is the process's ru_maxrss after each phase (it only grows, so the baseline runs
last). Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event, select

from ledger import dossier as contexts
from ledger.db import open_ledger
from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Person,
    ReplyRequest,
    Response,
    Source,
    SourceLink,
)
from ledger.publish import _render, environment, publish, write_atomically
from ledger.store import reports

KINDS = ("denial", "partial-denial", "confirmation", "no-comment", "official-response", "action")


def build(url_path: Path, *, people: int, claims: int, sources: int) -> None:
    engine = open_ledger(str(url_path))
    uid = iter(range(1, 10**9))

    def u() -> str:
        return f"{next(uid):032x}"

    with engine.begin() as c:
        c.execute(Person.__table__.insert(), [
            {"id": i, "uid": u(), "name": f"Person {i}", "name_key": f"person {i}",
             "kind": "person", "slug": f"person-{i}", "description": f"Synthetic person {i}."}
            for i in range(1, people + 1)])
        c.execute(Source.__table__.insert(), [
            {"id": i, "uid": u(), "key": f"src-{i}", "title": f"Report number {i}",
             "publisher": f"Outlet {i % 50}",
             "published": f"2023-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
             "kind": "article", "url": f"https://news{i % 50}.example/story/{i}",
             "url_normalized": f"https://news{i % 50}.example/story/{i}"}
            for i in range(1, sources + 1)])
        c.execute(SourceLink.__table__.insert(), [
            {"uid": u(), "source_id": i, "target_id": i - 1, "relation": "cites"}
            for i in range(2, sources + 1) if i % 3 != 1])
        batch = 20_000
        for start in range(1, claims + 1, batch):
            ids = range(start, min(claims, start + batch - 1) + 1)
            c.execute(Claim.__table__.insert(), [
                {"id": i, "uid": u(), "statement": f"Person {i % people + 1} did thing {i}: "
                 "a synthetic allegation of ordinary length, with some punctuation (and more).",
                 "claimant_id": (i * 7) % people + 1, "occurred": "2022-05",
                 "status": "disputed" if i % 5 else "unverified"} for i in ids])
            c.execute(ClaimPerson.__table__.insert(), [
                row for i in ids for row in (
                    {"claim_id": i, "person_id": i % people + 1, "role": "subject"},
                    {"claim_id": i, "person_id": (i * 3) % people + 1, "role": "target"})
                if row["role"] == "subject" or (i * 3) % people != i % people])
            c.execute(Attribution.__table__.insert(), [
                {"uid": u(), "claim_id": i, "source_id": (i * k) % sources + 1,
                 "quote": f"quoted words {i}", "voice": "two unnamed officials",
                 "sourcing": "anonymous" if k == 1 else "named", "quote_status": "unverifiable"}
                for i in ids for k in (1, 13)])
            c.execute(Response.__table__.insert(), [
                {"uid": u(), "claim_id": i, "respondent_id": i % people + 1,
                 "kind": KINDS[i % len(KINDS)], "date": "2023-04-01",
                 "source_id": i % sources + 1, "quote": f"I deny claim {i}",
                 "summary": "Denies it."} for i in ids])
            c.execute(ReplyRequest.__table__.insert(), [
                {"uid": u(), "claim_id": i, "addressee_id": i % people + 1,
                 "sent": "2023-03-01", "deadline": "2023-03-08", "channel": "email"}
                for i in ids if i % 4 == 0])
    engine.dispose()


def peak_mb() -> float:
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / scale / 1024


def run_publish(db: Path, out: Path) -> tuple[float, int, int]:
    engine = open_ledger(str(db))
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
    marks: list[float] = []
    start = time.perf_counter()
    result = publish(engine, out, html=False,
                     progress=lambda m: marks.append(time.perf_counter()) if "dossiers" in m
                     else None)
    engine.dispose()
    people_time = (marks[-1] if marks else time.perf_counter()) - start
    return people_time, result.people, count[0]


def run_baseline(db: Path, out: Path) -> tuple[float, int, int]:
    """One query per table, everything in memory, the same context and template."""
    engine = open_ledger(str(db))
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
    env = environment()
    start = time.perf_counter()
    from ledger.db import reading

    with reading(engine) as session:
        overview = reports.load_overview(session)

        def rows(table, cls):
            return [cls._make(r) for r in session.execute(select(*[
                table.c[name] for name in cls._fields]).order_by(table.c.id))]

        batch = reports.Batch(
            claims={r.id: r for r in rows(Claim.__table__, reports.ClaimRow)},
            roles=rows(ClaimPerson.__table__, reports.RoleRow),
            attributions=rows(Attribution.__table__, reports.AttributionRow),
            responses=rows(Response.__table__, reports.ResponseRow),
            replies=rows(ReplyRequest.__table__, reports.ReplyRow))
    graph = contexts.origin_graph(overview)
    pages = contexts.Pages(people={p.id: p.slug for p in overview.live_people()},
                           sources={s.id: s.key for s in overview.sources.values()})
    done = 0
    for person in overview.live_people():
        context = contexts.build_dossier(person_id=person.id, overview=overview, batch=batch,
                                         graph=graph, pages=pages)
        text = _render(env, "dossier.md.j2", d=context)
        write_atomically(out / "people" / f"{person.slug}.md", text.encode("utf-8"))
        done += 1
    engine.dispose()
    return time.perf_counter() - start, done, count[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--sources", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for claims in (args.claims // 2, args.claims):
            db = root / f"bench-{claims}.db"
            started = time.perf_counter()
            build(db, people=args.people, claims=claims, sources=args.sources)
            print(f"built {args.people:,} people, {claims:,} claims, {args.sources:,} sources "
                  f"in {time.perf_counter() - started:.1f} s")
            seconds, dossiers, queries = run_publish(db, root / f"out-{claims}")
            print(f"  publish : {dossiers / seconds:8.0f} dossiers/s  ({dossiers:,} in "
                  f"{seconds:.1f} s), {queries} SQL queries for the whole publish, "
                  f"peak memory {peak_mb():.0f} MB")
        seconds, dossiers, queries = run_baseline(db, root / "baseline")
        print(f"  baseline: {dossiers / seconds:8.0f} dossiers/s  ({dossiers:,} in "
              f"{seconds:.1f} s), {queries} SQL queries (one per table, all in memory), "
              f"peak memory {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
