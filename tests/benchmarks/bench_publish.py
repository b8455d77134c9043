"""Benchmark: publish a synthetic ledger; dossiers/s beside a bare baseline, SQL queries, memory.

    .venv/bin/python tests/benchmarks/bench_publish.py [--people 10000 --claims 200000]
        [--sources 2000] [--html] [--both-sizes] [--keep DIR]
    .venv/bin/python tests/benchmarks/bench_publish.py --floor [--people ... --claims ...]

`--floor` measures the whole site (every page, the index, the manifest) against its bare
single-process floor (`run_floor`: plain SQL + the same templates + plain writes), Markdown
on one worker and on one per core, then HTML the same way: `run_floor_rows`.

Builds a synthetic SQLite ledger with bulk SQLAlchemy Core inserts (an unchained event per
record: publishing does not verify here, and the review filter needs each claim's events; no
reviews, so everything is published as drafts), then measures, each in a child process of its own so
its peak memory (VmHWM) is its own:

- publish: `ledger.publish.publish` (Markdown, or Markdown and HTML with --html; with
  `drafts`: the synthetic ledger has no reviews), the dossier phase timed (source pages and
  the index come after), with every SQL statement counted by a `before_cursor_execute`
  listener;
- baseline: a plain loop that reads the same rows with one query per table (everything in
  memory at once), builds the same context and renders the same template (and the same HTML)
  to the same files.

Each person in the synthetic ledger is the subject of claims/people claims and the target of
as many, alleges as many and answers those they are the subject of; each claim has two
sources, a response and, one in four, a reply request: a dossier of 10k people / 200k claims
holds about 40 allegations, 80 citations and 60 responses.

Prints one result row per size:

    RESULT people=10000 claims=200000 html=0 dossiers_per_s=... baseline_dossiers_per_s=...
        ratio=... queries=... peak_mb=... seconds=...

`run(people=, claims=, html=)` returns the same figures as a dict for the suite
(tests/benchmarks/run_all.py). Not collected by pytest (no test_ prefix).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
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
    Event,
    Person,
    ReplyRequest,
    Response,
    Source,
    SourceLink,
)
from ledger.publish import _html, _render, environment, publish, write_atomically
from ledger.store import reports

KINDS = ("denial", "partial-denial", "confirmation", "no-comment", "official-response", "action")


def build(url_path: Path, *, people: int, claims: int, sources: int) -> None:
    engine = open_ledger(str(url_path))
    uid = iter(range(1, 10**9))
    # Every record gets an event, as a real ledger's do: the review filter of a publish finds
    # each claim's newest touching event (a claim without one counts as held, never shown).
    logged: list[tuple[str, str]] = []

    def u(entity: str = "") -> str:
        value = f"{next(uid):032x}"
        if entity:
            logged.append((entity, value))
        return value

    with engine.begin() as c:
        c.execute(Person.__table__.insert(), [
            {"id": i, "uid": u("person"), "name": f"Person {i}", "name_key": f"person {i}",
             "kind": "person", "slug": f"person-{i}", "description": f"Synthetic person {i}."}
            for i in range(1, people + 1)])
        c.execute(Source.__table__.insert(), [
            {"id": i, "uid": u("source"), "key": f"src-{i}", "title": f"Report number {i}",
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
                {"id": i, "uid": u("claim"), "statement": f"Person {i % people + 1} did thing {i}: "
                 "a synthetic allegation of ordinary length, with some punctuation (and more).",
                 "claimant_id": (i * 7) % people + 1, "occurred": "2022-05",
                 "status": "disputed" if i % 5 else "unverified"} for i in ids])
            c.execute(ClaimPerson.__table__.insert(), [
                row for i in ids for row in (
                    {"claim_id": i, "person_id": i % people + 1, "role": "subject"},
                    {"claim_id": i, "person_id": (i * 3) % people + 1, "role": "target"})
                if row["role"] == "subject" or (i * 3) % people != i % people])
            c.execute(Attribution.__table__.insert(), [
                {"uid": u("attribution"), "claim_id": i, "source_id": (i * k) % sources + 1,
                 "quote": f"quoted words {i}", "voice": "two unnamed officials",
                 "sourcing": "anonymous" if k == 1 else "named", "quote_status": "unverifiable"}
                for i in ids for k in (1, 13)])
            c.execute(Response.__table__.insert(), [
                {"uid": u("response"), "claim_id": i, "respondent_id": i % people + 1,
                 "kind": KINDS[i % len(KINDS)], "date": "2023-04-01",
                 "source_id": i % sources + 1, "quote": f"I deny claim {i}",
                 "summary": "Denies it."} for i in ids])
            c.execute(ReplyRequest.__table__.insert(), [
                {"uid": u("reply"), "claim_id": i, "addressee_id": i % people + 1,
                 "sent": "2023-03-01", "deadline": "2023-03-08", "channel": "email"}
                for i in ids if i % 4 == 0])
        hashes = [f"{n:064x}" for n in range(len(logged) + 1)]
        for start in range(0, len(logged), 50_000):
            c.execute(Event.__table__.insert(), [
                {"seq": n + 1, "at": "2026-01-01T00:00:00.000000Z", "actor": "bench",
                 "action": "add", "entity": entity, "uid": value, "state": "{}",
                 "prev_hash": hashes[n], "hash": hashes[n + 1]}
                for n, (entity, value) in enumerate(logged[start:start + 50_000], start)])
    engine.dispose()


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _counted(db: Path):
    engine = open_ledger(str(db))
    count = [0]
    event.listen(engine, "before_cursor_execute", lambda *a: count.__setitem__(0, count[0] + 1))
    return engine, count


def run_publish(db: Path, out: Path, *, html: bool) -> dict:
    """The ledger's own publish; the dossier phase is timed."""
    engine, count = _counted(db)
    marks: list[float] = []
    start = time.perf_counter()
    result = publish(engine, out, html=html, drafts=True,
                     progress=lambda stage, _done, _total: marks.append(time.perf_counter())
                     if stage == "dossiers" else None)
    total = time.perf_counter() - start
    engine.dispose()
    seconds = (marks[-1] if marks else time.perf_counter()) - start
    return {"seconds": seconds, "dossiers": result.people, "queries": count[0],
            "total_seconds": total, "peak_mb": peak_mb()}


def run_baseline(db: Path, out: Path, *, html: bool) -> dict:
    """One query per table, everything in memory, the same context and template."""
    engine, count = _counted(db)
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
    people_refs: dict = {}
    done = 0
    for person in overview.live_people():
        context = contexts.build_dossier(person_id=person.id, overview=overview, batch=batch,
                                         graph=graph, pages=pages, people_refs=people_refs)
        text = _render(env, "dossier.md.j2", d=context)
        write_atomically(out / "people" / f"{person.slug}.md", text.encode("utf-8"))
        if html:
            page = _html(text, title=context.title, stylesheet="../style.css", context=context)
            write_atomically(out / "people" / f"{person.slug}.html", page.encode("utf-8"))
        done += 1
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"seconds": seconds, "dossiers": done, "queries": count[0], "peak_mb": peak_mb()}


FLOOR_TABLES = ("person", "person_alias", "source", "source_link", "claim", "claim_person",
                "attribution", "response", "reply_request", "event", "checkpoint")


def run_floor(db: Path, out: Path, *, html: bool) -> dict:
    """The bare single-process floor of a whole-site Markdown publish: what any publish of
    these pages must spend, everything else counted as free.

    - plain SQL: `SELECT *` of every table publish reads (the source texts left out, as
      publish leaves them out), fetched in one pass, no ORM;
    - the same templates: Jinja rendering every page of the whole site (dossiers, their
      parts, source pages, index and its lists) from the contexts the ledger builds (the
      building itself is not counted);
    - plain writes: each page `open(path, "wb").write(...)` into a fresh folder.

    The three are timed (CPU and wall) and summed; publish must come within 1.2x of the sum
    on one core (issue 13). `html` is ignored (the floor is Markdown's)."""
    import ledger.publish as publishing

    engine = open_ledger(str(db))
    sql = {"wall": 0.0, "cpu": 0.0}
    wall, cpu = time.perf_counter(), time.process_time()
    with engine.connect() as connection:
        for table in FLOOR_TABLES:
            columns = "*" if table != "source" else ", ".join(
                c.name for c in Source.__table__.columns if c.name != "text")
            connection.exec_driver_sql(f"SELECT {columns} FROM {table}").fetchall()
    sql["wall"], sql["cpu"] = time.perf_counter() - wall, time.process_time() - cpu
    timers = {"render": [0.0, 0.0], "write": [0.0, 0.0]}
    pages = [0, 0]
    original_render = publishing._render

    def timed_render(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original_render(*args, **kwargs)
        finally:
            timers["render"][0] += time.perf_counter() - wall
            timers["render"][1] += time.process_time() - cpu

    folders: set[Path] = set()

    def plain_write(self, relative: str, content: str) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        path = out.joinpath(*relative.split("/"))
        if path.parent not in folders:
            path.parent.mkdir(parents=True, exist_ok=True)
            folders.add(path.parent)
        with open(path, "wb") as stream:
            stream.write(content.encode("utf-8"))
        timers["write"][0] += time.perf_counter() - wall
        timers["write"][1] += time.process_time() - cpu
        pages[0] += 1
        pages[1] += len(content)

    publishing._render = timed_render
    publishing._Output.write = plain_write  # the ledger's own writer does nothing here
    staged = out.parent / f"{out.name}-floor-unused"
    publish(engine, staged, html=False, jobs=1, drafts=True)
    shutil.rmtree(staged, ignore_errors=True)
    engine.dispose()
    return {"seconds": sql["wall"] + timers["render"][0] + timers["write"][0],
            "cpu_seconds": sql["cpu"] + timers["render"][1] + timers["write"][1],
            "sql_seconds": sql["wall"], "render_seconds": timers["render"][0],
            "write_seconds": timers["write"][0], "pages": pages[0], "megabytes": pages[1] / 1e6,
            "dossiers": 0, "queries": 0, "peak_mb": peak_mb()}


def run_site(db: Path, out: Path, *, html: bool, jobs: int | None = 1) -> dict:
    """The ledger's whole-site publish (`publish`, no verify), timed wall and CPU (the
    workers' CPU included)."""
    import resource

    engine = open_ledger(str(db))
    wall, cpu = time.perf_counter(), time.process_time()
    result = publish(engine, out, html=html, jobs=jobs, drafts=True)
    seconds = time.perf_counter() - wall
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    engine.dispose()
    return {"seconds": seconds,
            "cpu_seconds": time.process_time() - cpu + children.ru_utime + children.ru_stime,
            "dossiers": result.people, "files": len(result.files), "queries": 0,
            "peak_mb": peak_mb(), "children_peak_mb": children.ru_maxrss / 1024}


def _child(phase: str, db: Path, out: Path, html: bool) -> dict:
    """Run one phase in a fresh interpreter, so its peak memory is its own."""
    done = subprocess.run([sys.executable, __file__, "--child", phase, "--db", str(db),
                           "--out", str(out), *(["--html"] if html else [])],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"bench_publish --child {phase} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(people: int, claims: int, html: bool, *, sources: int = 2_000,
        workdir: str | Path | None = None) -> dict:
    """Build a synthetic ledger and publish it beside the baseline, each in a child process.

    Returns dossiers_per_s, baseline_dossiers_per_s, ratio (publish / baseline, higher is
    better), queries (SQL statements of the whole publish), peak_mb (the publish's own peak
    resident memory), seconds (the publish's dossier phase), plus build_seconds,
    total_seconds (the whole publish: dossiers, source pages, index) and baseline_peak_mb.
    `workdir` keeps the built ledger there (reused when it exists); else a temporary folder.
    """
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(workdir) if workdir else Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        db = root / f"bench-{people}-{claims}-{sources}.db"
        started = time.perf_counter()
        if not db.exists():
            build(db, people=people, claims=claims, sources=sources)
        build_seconds = time.perf_counter() - started
        figures = {}
        for phase in ("publish", "baseline"):
            out = root / f"out-{phase}"
            shutil.rmtree(out, ignore_errors=True)
            figures[phase] = _child(phase, db, out, html)
            shutil.rmtree(out, ignore_errors=True)
    mine, bare = figures["publish"], figures["baseline"]
    rate = mine["dossiers"] / mine["seconds"]
    bare_rate = bare["dossiers"] / bare["seconds"]
    return {"dossiers_per_s": round(rate, 1), "baseline_dossiers_per_s": round(bare_rate, 1),
            "ratio": round(rate / bare_rate, 3), "queries": mine["queries"],
            "peak_mb": round(mine["peak_mb"], 1), "seconds": round(mine["seconds"], 2),
            "total_seconds": round(mine["total_seconds"], 2),
            "baseline_peak_mb": round(bare["peak_mb"], 1),
            "build_seconds": round(build_seconds, 1), "dossiers": mine["dossiers"]}


PHASES = {
    "publish": run_publish, "baseline": run_baseline, "floor": run_floor,
    "site-md-1": lambda db, out, html: run_site(db, out, html=False, jobs=1),
    "site-md": lambda db, out, html: run_site(db, out, html=False, jobs=None),
    "site-html-1": lambda db, out, html: run_site(db, out, html=True, jobs=1),
    "site-html": lambda db, out, html: run_site(db, out, html=True, jobs=None),
}


def run_floor_rows(people: int, claims: int, *, sources: int = 2_000, rounds: int = 1,
                   workdir: str | Path | None = None) -> dict:
    """Publish's whole site beside its floor, each phase in a child process, interleaved:
    Markdown on one worker and on the default (one per core), the floor, HTML on one worker
    and on the default. Returns each phase's median wall and CPU seconds and the ratios
    (md_1_to_floor: the issue's <= 1.2x; html_to_md: <= 1.5x, both on the default)."""
    import statistics

    phases = ("floor", "site-md-1", "site-md", "site-html-1", "site-html")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(workdir) if workdir else Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        db = root / f"bench-{people}-{claims}-{sources}.db"
        if not db.exists():
            build(db, people=people, claims=claims, sources=sources)
        seen: dict[str, list[dict]] = {phase: [] for phase in phases}
        for _ in range(rounds):
            for phase in phases:
                out = root / f"out-{phase}"
                shutil.rmtree(out, ignore_errors=True)
                seen[phase].append(_child(phase, db, out, False))
                shutil.rmtree(out, ignore_errors=True)
    figures: dict[str, float] = {}
    for phase, runs in seen.items():
        key = phase.replace("-", "_")
        figures[f"{key}_s"] = round(statistics.median(r["seconds"] for r in runs), 2)
        figures[f"{key}_cpu_s"] = round(statistics.median(r["cpu_seconds"] for r in runs), 2)
        figures[f"{key}_peak_mb"] = round(max(r["peak_mb"] for r in runs))
    figures["md_1_to_floor"] = round(figures["site_md_1_s"] / figures["floor_s"], 2)
    figures["md_to_floor"] = round(figures["site_md_s"] / figures["floor_s"], 2)
    figures["html_to_md"] = round(figures["site_html_s"] / figures["site_md_s"], 2)
    figures["html_1_to_md_1"] = round(figures["site_html_1_s"] / figures["site_md_1_s"], 2)
    figures["floor_sql_s"] = round(seen["floor"][-1]["sql_seconds"], 2)
    figures["floor_render_s"] = round(seen["floor"][-1]["render_seconds"], 2)
    figures["floor_write_s"] = round(seen["floor"][-1]["write_seconds"], 2)
    figures["pages"] = seen["floor"][-1]["pages"]
    return figures


def result_row(people: int, claims: int, html: bool, figures: dict) -> str:
    """The one line per size that scripts parse: `RESULT key=value ...`."""
    fields = " ".join(f"{key}={value}" for key, value in figures.items())
    return f"RESULT people={people} claims={claims} html={int(html)} {fields}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--sources", type=int, default=2_000)
    parser.add_argument("--html", action="store_true", help="publish HTML pages too")
    parser.add_argument("--both-sizes", action="store_true",
                        help="also measure half the claims first, to see growth")
    parser.add_argument("--keep", help="build (or reuse) the ledgers in this folder")
    parser.add_argument("--floor", action="store_true",
                        help="the whole site beside its bare floor (see run_floor), then HTML "
                        "beside Markdown, one worker and the default")
    parser.add_argument("--child", choices=tuple(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(PHASES[args.child](Path(args.db), Path(args.out), html=args.html)))
        return
    if args.floor:
        figures = run_floor_rows(args.people, args.claims, sources=args.sources,
                                 workdir=args.keep)
        print(result_row(args.people, args.claims, False, figures), flush=True)
        return
    sizes = (args.claims // 2, args.claims) if args.both_sizes else (args.claims,)
    for claims in sizes:
        figures = run(args.people, claims, args.html, sources=args.sources, workdir=args.keep)
        print(result_row(args.people, claims, args.html, figures), flush=True)


if __name__ == "__main__":
    main()
