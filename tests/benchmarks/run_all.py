"""The benchmark suite: every operation of issue 6 beside its bare baseline, in one table.

    .venv/bin/python tests/benchmarks/run_all.py [--sizes 10k,100k,1m] [--only OP,...] [--quick]
                                                 [--workdir /tmp/ledger-bench]

Operations (--only): import, publish, search, audit, cli, pg, liar, dossier (`ledger dossier`
of LIAR's barack-obama beside its floor; also part of liar), verify (verify, export
and `claim list --json` on an imported ledger, each beside its bare floor). Synthetic ledgers and
bundles (tests/benchmarks/synthetic.py) are built once and cached in --workdir; delete it to
rebuild. Every measurement runs in a child process of its own, which reports its figures and
its peak resident memory (VmHWM), so memory figures are per operation. Figures are medians (or
best of a few runs where a run is long); these machines are noisy, so ratios count and
absolute figures are context. Not collected by pytest. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LIAR = ROOT.parent / "shared" / "data" / "liar"
sys.path[:0] = [str(HERE), str(HERE.parent)]

OPERATIONS = ("import", "publish", "search", "audit", "cli", "pg", "liar", "dossier", "verify")
SIZE_NAMES = {"10k": 10_000, "100k": 100_000, "1m": 1_000_000}


# --- in the child: one measurement, figures as a dict -----------------------------------------


def peak_mb() -> float:
    """This process's peak resident memory in MB (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def ledger_db(workdir: Path, claims: int) -> Path:
    """The cached synthetic ledger with `claims` claims (Core build, search index rebuilt),
    migrated to the current schema."""
    import synthetic

    from ledger import db

    path = workdir / f"ledger-{claims}.db"
    if path.exists():
        engine = db.make_engine(sqlite_url(path))
        db.upgrade(engine)  # the schema may have moved on since it was built
        engine.dispose()
    else:
        part = workdir / f"ledger-{claims}.db.part"
        part.unlink(missing_ok=True)
        synthetic.build_ledger(sqlite_url(part), claims)
        part.replace(path)
    return path


def bundle_file(workdir: Path, claims: int) -> tuple[Path, int]:
    """The cached JSONL bundle of the same ledger, and how many records it holds."""
    import synthetic

    path = workdir / f"bundle-{claims}.jsonl"
    if not path.exists():
        synthetic.write_bundle(path, claims)
    with path.open("rb") as lines:
        return path, sum(1 for _ in lines)


def child_build(workdir: Path, claims: int) -> dict[str, Any]:
    started = time.perf_counter()
    ledger_db(workdir, claims)
    return {"seconds": time.perf_counter() - started}


def child_import(workdir: Path, claims: int, url: str | None = None) -> dict[str, Any]:
    """`ledger.io.bundle.import_file` of the cached bundle into a fresh migrated ledger, in
    one transaction (reading and parsing the file included, migrating not)."""
    from ledger import db
    from ledger.io.bundle import import_file

    bundle, records = bundle_file(workdir, claims)
    if url is None:
        target = workdir / f"imported-{claims}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        url = sqlite_url(target)
    engine = db.make_engine(url)
    db.upgrade(engine)
    started, cpu = time.perf_counter(), time.process_time()
    with db.transaction(engine, actor="bench") as session:
        import_file(session, bundle, strict=False)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "records": records, "rate": records / seconds,
            "peak_mb": peak_mb()}


def child_import_baseline(workdir: Path, claims: int) -> dict[str, Any]:
    """The import's floor (`copy_floor`) on the ledger the import just wrote."""
    source = workdir / f"imported-{claims}.db"
    figures = copy_floor(source, workdir / f"baseline-{claims}.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{source}{suffix}").unlink(missing_ok=True)
    records = bundle_file(workdir, claims)[1]
    return {**figures, "records": records, "rate": records / figures["seconds"]}


def copy_floor(source: Path, target: Path) -> dict[str, Any]:
    """Raw sqlite3: executemany of the rows an import wrote into `source` (every table, the
    event log too) into the same tables of a new ledger at `target`, search triggers off,
    then the full-text index rebuilt and the triggers restored, one transaction. Reading the
    rows is not timed; `target` is removed after."""
    import sqlite3

    from ledger import db

    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    engine = db.make_engine(sqlite_url(target))
    db.upgrade(engine)
    engine.dispose()
    read = sqlite3.connect(source)
    tables = [name for (name,) in read.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'search_%' "
        "AND name NOT LIKE 'sqlite_%' AND name != 'alembic_version'")]
    rows = {table: read.execute(f'SELECT * FROM "{table}"').fetchall() for table in tables}
    read.close()
    write = sqlite3.connect(target, isolation_level=None)
    write.execute("PRAGMA journal_mode = WAL")
    write.execute("PRAGMA foreign_keys = OFF")  # rows go in table by table, not in FK order
    started, cpu = time.perf_counter(), time.process_time()
    write.execute("BEGIN IMMEDIATE")
    triggers = write.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                             "AND name LIKE 'search%'").fetchall()
    for name, _sql in triggers:
        write.execute(f'DROP TRIGGER "{name}"')
    for table, values in rows.items():
        if values:
            marks = ", ".join("?" * len(values[0]))
            write.executemany(f'INSERT INTO "{table}" VALUES ({marks})', values)
    for table in ("claim", "attribution", "response", "source"):
        write.execute(f"INSERT INTO search_{table}(search_{table}) VALUES ('rebuild')")
    for _name, sql in triggers:
        write.execute(sql)
    write.execute("COMMIT")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    write.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return {"seconds": seconds, "cpu": cpu, "rows": sum(len(v) for v in rows.values()),
            "peak_mb": peak_mb()}


def child_publish(workdir: Path, claims: int, url: str | None = None) -> dict[str, Any]:
    """`ledger.publish.publish` of a synthetic ledger, Markdown, into an empty folder."""
    from ledger.db import make_engine
    from ledger.publish import publish

    url = url or sqlite_url(ledger_db(workdir, claims))
    out = Path(tempfile.mkdtemp(prefix="publish-", dir=workdir))
    try:
        engine = make_engine(url)
        started = time.perf_counter()
        result = publish(engine, out, html=False, drafts=True)
        seconds = time.perf_counter() - started
        engine.dispose()
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return {"seconds": seconds, "dossiers": result.people, "rate": result.people / seconds,
            "peak_mb": peak_mb()}


def logged_db(workdir: Path, claims: int) -> Path:
    """The synthetic ledger as the import writes it, event log included (the Core-built
    ledger has no events, so it cannot verify), cached."""
    from ledger import db
    from ledger.io.bundle import import_file

    path = workdir / f"logged-{claims}.db"
    if path.exists():
        engine = db.make_engine(sqlite_url(path))
        db.upgrade(engine)
        engine.dispose()
        return path
    part = workdir / f"logged-{claims}.db.part"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{part}{suffix}").unlink(missing_ok=True)
    engine = db.make_engine(sqlite_url(part))
    db.upgrade(engine)
    with db.transaction(engine, actor="bench") as session:
        import_file(session, bundle_file(workdir, claims)[0], strict=False)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    part.replace(path)
    return path


def child_logged(workdir: Path, claims: int) -> dict[str, Any]:
    started = time.perf_counter()
    logged_db(workdir, claims)
    return {"seconds": time.perf_counter() - started}


STATE_TABLES = ("person", "person_alias", "source", "source_link", "claim", "claim_person",
                "attribution", "response", "reply_request")


def child_verify(workdir: Path, claims: int) -> dict[str, Any]:
    """`ledger.store.replay.verify_ledger`: the chain, each event, every table replayed."""
    from ledger import db
    from ledger.store.replay import verify_ledger

    engine = db.make_engine(sqlite_url(logged_db(workdir, claims)))
    started, cpu = time.perf_counter(), time.process_time()
    with db.reading(engine) as session:
        report = verify_ledger(session)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    assert report.ok, report.to_dict()["differences"][:3]
    return {"seconds": seconds, "cpu": cpu, "events": report.chain.events,
            "rows": sum(report.rows.values()), "peak_mb": peak_mb()}


def child_verify_floor(workdir: Path, claims: int) -> dict[str, Any]:
    """The floor: a bare SELECT of every current-state table and a JSON parse of every event."""
    import sqlite3

    connection = sqlite3.connect(logged_db(workdir, claims))
    started, cpu = time.perf_counter(), time.process_time()
    for table in STATE_TABLES:
        for _row in connection.execute(f"SELECT * FROM {table}"):
            pass
    for (state,) in connection.execute("SELECT state FROM event ORDER BY seq"):
        json.loads(state)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    connection.close()
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb()}


def child_export(workdir: Path, claims: int) -> dict[str, Any]:
    """`ledger.io.bundle.export_records` dumped as JSONL (the default export), written to
    /dev/null."""
    from ledger import db
    from ledger.io.bundle import dump, export_records

    engine = db.make_engine(sqlite_url(logged_db(workdir, claims)))
    started, cpu = time.perf_counter(), time.process_time()
    with db.reading(engine) as session, open(os.devnull, "w", encoding="utf-8") as sink:
        for chunk in dump(export_records(session)):
            sink.write(chunk)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb()}


def child_export_floor(workdir: Path, claims: int) -> dict[str, Any]:
    """The floor: a bare SELECT of every table the export reads and json.dumps of each row."""
    import sqlite3

    connection = sqlite3.connect(logged_db(workdir, claims))
    connection.row_factory = sqlite3.Row
    started, cpu = time.perf_counter(), time.process_time()
    with open(os.devnull, "w", encoding="utf-8") as sink:
        for table in STATE_TABLES:
            for row in connection.execute(f"SELECT * FROM {table}"):
                sink.write(json.dumps(dict(row), ensure_ascii=False) + "\n")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    connection.close()
    return {"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb()}


def command_env(**extra: str) -> dict[str, str]:
    """The environment a timed command runs in: this one, but with bytecode written
    (PYTHONDONTWRITEBYTECODE dropped). Without it the ledger's own modules would be compiled
    from source on every run while its dependencies' bytecode was written at install, which
    no installed ledger pays; the first run of each command writes them."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}


def command_times(command: list[str]) -> dict[str, float]:
    """Run a command (stdout to /dev/null); its wall and CPU seconds (user + system)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, check=True, env=command_env())
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"seconds": seconds, "cpu": cpu}


def ledger_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("ledger")), *args]


def floor_command(*args: str) -> list[str]:
    return [sys.executable, str(HERE / "floors.py"), *args]


def child_claim_list(workdir: Path, claims: int) -> dict[str, Any]:
    """`ledger claim list --json` as a user runs it (a process, start-up included)."""
    return command_times(ledger_command("--db", str(logged_db(workdir, claims)), "claim",
                                        "list", "--json"))


def child_claim_list_floor(workdir: Path, claims: int) -> dict[str, Any]:
    """Its floor as a command (floors.py claim-list): the same stack imported, a bare SELECT
    of the claim, claim_person and attribution tables and json.dumps of each row."""
    return command_times(floor_command("claim-list", str(logged_db(workdir, claims))))


def child_publish_target(workdir: Path) -> dict[str, Any]:
    """bench_publish at 10k people / 200k claims: through its run() when it has one, else by
    running it and reading its printed figures."""
    import bench_publish

    if hasattr(bench_publish, "run"):
        figures = bench_publish.run(people=10_000, claims=200_000, html=False,
                                    workdir=workdir / "bench-publish")
        return {"figures": figures, "peak_mb": peak_mb()}
    done = subprocess.run([sys.executable, str(HERE / "bench_publish.py"), "--people",
                           "10000", "--claims", "200000"], capture_output=True, text=True,
                          check=True)
    figures: dict[str, Any] = {}
    for line in done.stdout.splitlines():
        words = line.split()
        if words and words[0] == "RESULT":  # RESULT key=value ..., one line per size
            figures = dict(word.split("=", 1) for word in words[1:])
            figures = {key: float(value) for key, value in figures.items()}
        elif words and words[0] in ("publish", "baseline:") and "dossiers/s" in words:
            key = "dossiers_per_s" if words[0] == "publish" else "baseline_dossiers_per_s"
            figures[key] = float(words[words.index("dossiers/s") - 1])
    return {"figures": figures, "output": done.stdout}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def child_search(workdir: Path, claims: int, queries: int = 300) -> dict[str, Any]:
    """`ledger.search.search` (limit 20) beside the bare FTS5 MATCH on the same four tables,
    and on claims alone, interleaved query by query."""
    import synthetic

    from ledger import db
    from ledger.search import fts_quote, search
    from ledger.store.search import SEARCHED, bare_match

    engine = db.open_ledger(str(ledger_db(workdir, claims)))
    words = synthetic.search_queries(queries)
    times: dict[str, list[float]] = {"ours": [], "bare": [], "claims": []}
    tables = tuple(SEARCHED)
    with db.reading(engine) as session:
        for query in words:  # every query once, untimed, so none pays for a cold cache
            search(session, query=query, limit=20)
            bare_match(session, match=fts_quote(query), limit=20, tables=tables)
        order = ["bare", "claims", "ours"]
        for query in words:
            match = fts_quote(query)
            order = order[1:] + order[:1]  # whoever goes first changes query by query
            for name in order:
                started = time.perf_counter()
                if name == "ours":
                    search(session, query=query, limit=20)
                else:
                    bare_match(session, match=match, limit=20,
                               tables=tables if name == "bare" else ("claim",))
                times[name].append((time.perf_counter() - started) * 1000)
    engine.dispose()
    return {name: {"p50": percentile(v, 50), "p95": percentile(v, 95)}
            for name, v in times.items()} | {"peak_mb": peak_mb()}


def child_audit(workdir: Path) -> dict[str, Any]:
    """bench_audit's ledger (100k attributions over 10k texts), its audit and its substring
    baseline, best of two each."""
    import bench_audit

    from ledger import db

    path = workdir / "audit.db"
    if not path.exists():
        bench_audit.build(path)
    engine = db.make_engine(db.database_url(str(path)))
    audits, bases = [], []
    for _ in range(2):
        bases.append(bench_audit.baseline(engine)[0])
        audits.append(bench_audit.run_audit(engine)[0])
    engine.dispose()
    return {"seconds": min(audits), "baseline": min(bases), "peak_mb": peak_mb()}


def child_liar(workdir: Path) -> dict[str, Any]:
    """The LIAR set through the CSV import (tests/liar_import.py) beside its floor
    (`copy_floor`), every speaker's dossier published as Markdown (beside
    `bench_publish.run_floor`, the single-process whole-site floor) and as HTML, and
    `ledger dossier barack-obama` as a command (with and without its verify) beside
    floors.py's; wall and CPU seconds."""
    import bench_liar
    from liar_import import import_liar

    from ledger.db import open_ledger

    folder = Path(tempfile.mkdtemp(prefix="liar-", dir=workdir))
    figures: dict[str, Any] = {}
    db = folder / "liar.db"

    def timed(name: str, work: Callable[[], Any]) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        figures[name] = {"seconds": time.perf_counter() - started,
                         "cpu": time.process_time() - cpu}
        return result

    try:
        timed("import", lambda: import_liar(str(db)))
        figures["import_floor"] = copy_floor(db, folder / "floor.db")
        engine = open_ledger(str(db))
        for step, html in (("publish_md", False), ("publish_html", True)):
            result = timed(step, lambda html=html, out=folder / step: bench_liar._publish(
                engine, out, html=html))
            figures["dossiers"] = result.people
        engine.dispose()
        import bench_publish

        if hasattr(bench_publish, "run_floor"):  # its floor is a Markdown whole-site publish
            floor = bench_publish.run_floor(db, folder / "publish-floor", html=False)
            figures["publish_md_floor"] = {"seconds": floor["seconds"],
                                           "cpu": floor.get("cpu_seconds", 0.0)}
        figures.update(dossier_times(db))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {**figures, "peak_mb": peak_mb()}


def dossier_times(db: Path, rounds: int = 5) -> dict[str, dict[str, float]]:
    """`ledger dossier barack-obama` as a command, with and without its verify, beside
    floors.py's, the three alternating round by round; the best round of each. With
    --drafts: on main every LIAR claim awaits review, and the floor shows all 616."""
    commands = {
        "dossier": ledger_command("--db", str(db), "dossier", "barack-obama", "--drafts"),
        "dossier_skip_verify": ledger_command("--db", str(db), "dossier", "barack-obama",
                                              "--drafts", "--skip-verify"),
        "dossier_floor": floor_command("dossier", str(db), "barack-obama"),
    }
    for command in commands.values():  # once untimed: bytecode written, the file cached
        command_times(command)
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, command in commands.items():
            runs[name].append(command_times(command))
    return {name: {kind: min(r[kind] for r in found) for kind in ("seconds", "cpu")}
            for name, found in runs.items()}


def child_dossier(workdir: Path) -> dict[str, Any]:
    """The LIAR set imported (tests/liar_import.py), then only `dossier_times`."""
    from liar_import import import_liar

    folder = Path(tempfile.mkdtemp(prefix="liar-", dir=workdir))
    try:
        import_liar(str(folder / "liar.db"))
        return dossier_times(folder / "liar.db")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "build": child_build, "import": child_import, "import_baseline": child_import_baseline,
    "publish": child_publish, "publish_target": child_publish_target, "search": child_search,
    "audit": child_audit, "liar": child_liar, "dossier": child_dossier, "logged": child_logged,
    "verify": child_verify,
    "verify_floor": child_verify_floor, "export": child_export,
    "export_floor": child_export_floor, "claim_list": child_claim_list,
    "claim_list_floor": child_claim_list_floor,
}


# --- in the parent: run the children, gather the table ----------------------------------------


class Timeout(Exception):
    """A measurement ran past its time limit."""


def measure(name: str, workdir: Path, *args: Any, timeout: float | None = None,
            **kwargs: Any) -> dict[str, Any]:
    """Run one measurement in a child process; its figures (and its peak memory)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", name,
               "--workdir", str(workdir), "--child-args", json.dumps([args, kwargs])]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise Timeout(f"{name} {args} ran past {timeout:.0f} s") from None
    if done.returncode != 0:
        raise RuntimeError(f"{name} {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Table:
    """The main table: operation, ledger figure, baseline figure, ratio, target, verdict."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, ...]] = []
        self.notes: list[str] = []

    def add(self, operation: str, ours: float, baseline: float, unit: str, *,
            at_least: float | None = None, at_most: float | None = None,
            baseline_name: str = "", ratio: float | None = None) -> None:
        ratio = ours / baseline if ratio is None else ratio
        if at_least is not None:
            target, met = f">= {at_least}x", ratio >= at_least
        elif at_most is not None:
            target, met = f"<= {at_most}x", ratio <= at_most
        else:
            target, met = "", None
        verdict = "" if met is None else ("met" if met else "NOT met")
        self.rows.append((operation, f"{ours:,.2f} {unit}", f"{baseline:,.2f} {unit}",
                          baseline_name, f"{ratio:.2f}x", target, verdict))
        print("  " + " | ".join(self.rows[-1]), flush=True)  # as it comes, for long runs

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def render(self) -> str:
        header = ("operation", "ledger", "baseline", "baseline is", "ratio", "target", "")
        rows = [header, *self.rows]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        lines = ["  ".join(cell.ljust(widths[i]) if i in (0, 3, 5, 6) else cell.rjust(widths[i])
                           for i, cell in enumerate(row)).rstrip() for row in rows]
        lines.insert(1, "-" * len(lines[0]))
        return "\n".join(lines + [f"- {note}" for note in self.notes])


def size_label(claims: int) -> str:
    return f"{claims // 1_000_000}M" if claims >= 1_000_000 else f"{claims // 1000}k"


def run_import(table: Table, growth: list[tuple], workdir: Path, sizes: list[int],
               budget: float) -> tuple[int, float] | None:
    """Import at each size (smallest first) beside its baseline; a size whose import the
    previous rate projects past `budget` seconds is skipped. Returns (size, seconds) of the
    largest size imported."""
    rate, largest = None, None
    per_record: dict[int, float] = {}
    cpu_per_record: dict[int, float] = {}
    for claims in sizes:
        records = bundle_file(workdir, claims)[1]
        if rate is not None and records / rate > budget:
            table.note(f"import at {size_label(claims)} skipped: {records:,} records at "
                       f"{rate:,.0f} records/s would take {records / rate / 60:.0f} min "
                       f"(--import-budget {budget:.0f} s)")
            continue
        print(f"import {size_label(claims)} ...", flush=True)
        try:
            ours = measure("import", workdir, claims, timeout=budget * 2)
        except Timeout as exc:
            table.note(f"import at {size_label(claims)}: {exc}")
            break
        bare = measure("import_baseline", workdir, claims)
        rate, largest = ours["rate"], (claims, ours["seconds"])
        table.add(f"bundle import {size_label(claims)}, records/s", ours["rate"], bare["rate"],
                  "rec/s", at_least=0.5, baseline_name="sqlite3 executemany + FTS rebuild")
        table.add(f"  bundle import {size_label(claims)}, CPU s", ours["cpu"], bare["cpu"], "s",
                  at_most=2.0, baseline_name="the same, CPU")
        per_record[claims] = ours["seconds"] / records
        cpu_per_record[claims] = ours["cpu"] / records
        growth.append(("import", claims, ours["seconds"], ours["peak_mb"],
                       ours["seconds"] / claims * 1e6))
    measured = sorted(per_record)
    for small, large in itertools.pairwise(measured):
        table.add(f"import time per record, {size_label(large)} vs {size_label(small)}",
                  per_record[large] * 1e6, per_record[small] * 1e6, "µs", at_most=1.3,
                  baseline_name=f"the same at {size_label(small)} (linear)")
        table.add(f"  import CPU per record, {size_label(large)} vs {size_label(small)}",
                  cpu_per_record[large] * 1e6, cpu_per_record[small] * 1e6, "µs", at_most=1.3,
                  baseline_name="the same, CPU")
    return largest


def run_publish(table: Table, growth: list[tuple], workdir: Path, sizes: list[int],
                quick: bool) -> None:
    if not quick:
        print("publish 10k people / 200k claims (bench_publish) ...", flush=True)
        figures = measure("publish_target", workdir)["figures"]
        ours, bare = figures.get("dossiers_per_s"), figures.get("baseline_dossiers_per_s")
        if ours and bare:
            table.add("publish 10k people/200k claims, dossiers/s", ours, bare, "/s",
                      at_least=0.5, baseline_name="a query per table + same render")
            if figures.get("peak_mb"):
                table.note(f"publish at 10k people/200k claims: peak {figures['peak_mb']:.0f} "
                           f"MB (baseline {figures.get('baseline_peak_mb', 0):.0f} MB), "
                           f"{figures.get('queries', '?')} SQL statements")
        else:
            table.note(f"bench_publish gave no rates: {figures}")
        run_publish_floor(table, workdir)
    for claims in sizes:
        print(f"publish {size_label(claims)} ...", flush=True)
        measure("build", workdir, claims)
        result = measure("publish", workdir, claims)
        growth.append(("publish", claims, result["seconds"], result["peak_mb"],
                       result["seconds"] / claims * 1e6))
        if claims >= 1_000_000:
            table.add(f"publish {size_label(claims)}: peak memory", result["peak_mb"], 500,
                      "MB", at_most=1.0, baseline_name="the 500 MB limit")


def run_publish_floor(table: Table, workdir: Path) -> None:
    """The whole site against its bare floor, and HTML against Markdown (issue 13)."""
    import bench_publish

    print("publish whole site vs its floor, 2k people / 40k claims (bench_publish) ...",
          flush=True)
    f = bench_publish.run_floor_rows(2_000, 40_000, sources=1_000,
                                     workdir=workdir / "bench-publish")
    floor = "plain SQL + same templates + plain writes"
    table.add("publish Markdown, whole site, 1 worker, s", f["site_md_1_s"], f["floor_s"], "s",
              at_most=1.2, baseline_name=floor)
    table.add("publish Markdown, whole site, 1 per core, s", f["site_md_s"], f["floor_s"], "s",
              at_most=1.2, baseline_name=floor)
    table.add("publish HTML, whole site, 1 per core, s", f["site_html_s"], f["site_md_s"], "s",
              at_most=1.5, baseline_name="publish Markdown, same ledger")
    table.note(f"publish floor: SQL {f['floor_sql_s']} s, templates {f['floor_render_s']} s, "
               f"writes {f['floor_write_s']} s for {f['pages']} pages; CPU: floor "
               f"{f['floor_cpu_s']} s, Markdown {f['site_md_1_cpu_s']} s (1 worker), "
               f"HTML {f['site_html_1_cpu_s']} s (1 worker)")


def _best(name: str, workdir: Path, claims: int, runs: int) -> dict[str, Any]:
    """The fastest of `runs` measurements (each in its own process), with the highest peak."""
    results = [measure(name, workdir, claims) for _ in range(runs)]
    best = min(results, key=lambda r: r["seconds"])
    return {**best, "peak_mb": max(r.get("peak_mb", 0) for r in results)}


def run_verify(table: Table, growth: list[tuple], workdir: Path, sizes: list[int],
               quick: bool) -> None:
    """verify, export and `claim list --json` on the imported ledger at each size (1M only
    within the import's memory), each beside its floor measured in the same run."""
    for claims in sizes:
        runs = 1 if quick or claims >= 1_000_000 else 3  # a 1M run is long enough to be steady
        label = size_label(claims)
        print(f"verify/export/claim list {label}: building the logged ledger ...", flush=True)
        measure("logged", workdir, claims)
        ours, bare = _best("verify", workdir, claims, runs), _best("verify_floor", workdir,
                                                                    claims, runs)
        published = measure("publish", workdir, claims, sqlite_url(logged_db(workdir, claims)))
        table.note(f"publish at {label} (Markdown, same ledger): {published['seconds']:.1f} s; "
                   f"the verify `ledger publish` runs first adds {ours['seconds']:.1f} s "
                   f"({ours['seconds'] / published['seconds']:.0%})")
        table.add(f"verify {label}, s", ours["seconds"], bare["seconds"], "s", at_most=3.0,
                  baseline_name="SELECT every table + parse every event")
        table.add(f"  verify {label}, CPU s", ours["cpu"], bare["cpu"], "s", at_most=3.0,
                  baseline_name="the same, CPU")
        growth.append(("verify", claims, ours["seconds"], ours["peak_mb"],
                       ours["seconds"] / claims * 1e6))
        ours, bare = _best("export", workdir, claims, runs), _best("export_floor", workdir,
                                                                    claims, runs)
        table.add(f"export {label} (jsonl), s", ours["seconds"], bare["seconds"], "s",
                  at_most=2.0, baseline_name="SELECT every table + json.dumps per row")
        table.add(f"  export {label} (jsonl), CPU s", ours["cpu"], bare["cpu"], "s",
                  at_most=2.0, baseline_name="the same, CPU")
        growth.append(("export", claims, ours["seconds"], ours["peak_mb"],
                       ours["seconds"] / claims * 1e6))
        ours, bare = (_best("claim_list", workdir, claims, runs),
                      _best("claim_list_floor", workdir, claims, runs))
        table.add(f"claim list --json {label}, s", ours["seconds"], bare["seconds"], "s",
                  at_most=2.0, baseline_name="floors.py claim-list (a command too)")
        table.add(f"  claim list --json {label}, CPU s", ours["cpu"], bare["cpu"], "s",
                  at_most=2.0, baseline_name="the same, CPU")


def run_search(table: Table, workdir: Path, sizes: list[int]) -> None:
    claims = max(sizes)
    print(f"search {size_label(claims)} ...", flush=True)
    measure("build", workdir, claims)
    result = measure("search", workdir, claims)
    for p in ("p50", "p95"):
        table.add(f"search {p} at {size_label(claims)}, ms", result["ours"][p],
                  result["bare"][p], "ms", at_most=2.0,
                  baseline_name="bare FTS5 MATCH, the 4 tables")
    for p in ("p50", "p95"):
        table.add(f"  (context) search {p}, ms", result["ours"][p], result["claims"][p], "ms",
                  baseline_name="bare FTS5 MATCH, claims only")


def run_audit(table: Table, workdir: Path) -> None:
    print("audit ...", flush=True)
    result = measure("audit", workdir)
    table.add("audit 100k attributions, s", result["seconds"], result["baseline"], "s",
              at_most=3.0, baseline_name="plain substring checks")


def run_cli(table: Table, runs: int) -> None:
    import bench_cli

    sqlite_utils = shutil.which("sqlite-utils", path=str(bench_cli.BIN)) or shutil.which(
        "sqlite-utils")
    if sqlite_utils is None:
        table.note("cli: sqlite-utils is missing (pip install -e '.[bench]')")
        return
    print("cli ...", flush=True)
    ledger = str(bench_cli.BIN / "ledger")
    with tempfile.TemporaryDirectory() as folder:
        env = command_env(LEDGER_DB=str(Path(folder) / "bench.db"), LEDGER_ACTOR="bench")
        subprocess.run([ledger, "init"], check=True, env=env, stdout=subprocess.DEVNULL)
        subprocess.run([ledger, "person", "add", "Han Dong"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
        peer = bench_cli.median_wall([sqlite_utils, "--help"], runs, env)
        ours = bench_cli.median_wall([ledger, "--help"], runs, env)
        table.add("ledger --help, ms", ours * 1000, peer * 1000, "ms", at_most=1.2,
                  baseline_name="sqlite-utils --help")
        # The ledger's console script ends with os._exit (no interpreter teardown), so the
        # floor does too: a peer that pays for the teardown would flatter the ledger.
        floors, times = [], []
        for n in range(runs):  # interleaved, so both see the same load
            floors.append(bench_cli.wall([sys.executable, "-c", bench_cli.FLOOR], env))
            times.append(bench_cli.wall([ledger, "claim", "add", f"Claim {n}", "--about",
                                         "Han Dong"], env))
        table.add("ledger claim add, ms", statistics.median(times) * 1000,
                  statistics.median(floors) * 1000, "ms", at_most=1.1,
                  baseline_name="python -c 'import sqlmodel, typer; os._exit(0)'")
        with tempfile.TemporaryDirectory() as folder:
            inits, pythons = [], []
            for n in range(runs):
                pythons.append(bench_cli.wall([sys.executable, "-c", "pass"], env))
                inits.append(bench_cli.wall([ledger, "init", str(Path(folder) / f"{n}.db")],
                                            env))
            table.add("ledger init (new SQLite file), ms", statistics.median(inits) * 1000,
                      300, "ms", at_most=1.0, baseline_name="the 300 ms limit")
            table.note(f"ledger init: {statistics.median(inits) * 1000:.0f} ms; a bare "
                       f"`python -c pass` takes {statistics.median(pythons) * 1000:.0f} ms")


def run_pg(table: Table, workdir: Path, claims: int, import_claims: int | None,
           budget: float) -> None:
    import pgcluster

    reason = pgcluster.skip_or_fail_reason()
    if reason:
        table.note(f"pg skipped: {reason}")
        return
    print(f"pg {size_label(claims)} ...", flush=True)
    measure("build", workdir, claims)
    with pgcluster.throwaway_cluster() as cluster:
        url = cluster.create_database()
        build_started = time.perf_counter()
        import synthetic

        synthetic.build_ledger(url, claims)
        print(f"  built the PostgreSQL ledger in {time.perf_counter() - build_started:.0f} s",
              flush=True)
        pg = measure("publish", workdir, claims, url=url)
        lite = measure("publish", workdir, claims)
        table.add(f"publish on PostgreSQL {size_label(claims)}, s", pg["seconds"],
                  lite["seconds"], "s", at_most=3.0, baseline_name="the same on SQLite")
        if import_claims:
            lite = measure("import", workdir, import_claims)
            try:
                pg = measure("import", workdir, import_claims, url=cluster.create_database(),
                             timeout=max(budget, 3 * lite["seconds"]) * 1.5)
                table.add(f"import on PostgreSQL {size_label(import_claims)}, s",
                          pg["seconds"], lite["seconds"], "s", at_most=3.0,
                          baseline_name="the same on SQLite")
            except Timeout as exc:
                table.note(f"import on PostgreSQL: {exc} (SQLite: {lite['seconds']:.0f} s)")


def run_liar(table: Table, workdir: Path) -> None:
    if not (LIAR / "train.tsv").exists():
        table.note(f"LIAR skipped: no {LIAR}/train.tsv")
        return
    print("LIAR ...", flush=True)
    result = measure("liar", workdir)
    for kind, unit in (("seconds", "s"), ("cpu", "CPU s")):
        table.add(f"LIAR import, {unit}", result["import"][kind], result["import_floor"][kind],
                  "s", at_most=2.0, baseline_name="copy_floor: executemany + FTS rebuild")
        for step in ("publish_md", "publish_html"):
            floor = result.get(f"{step}_floor")
            if floor:
                table.add(f"LIAR {step}, {unit}", result[step][kind], floor[kind], "s",
                          baseline_name="bench_publish.floor")
    add_dossier_rows(table, result)
    total = sum(result[step]["seconds"] for step in ("import", "publish_md", "publish_html"))
    cpu = sum(result[step]["cpu"] for step in ("import", "publish_md", "publish_html"))
    table.note(f"LIAR ({result['dossiers']:,} speakers): import {result['import']['seconds']:.1f}"
               f" s, Markdown publish {result['publish_md']['seconds']:.1f} s, HTML publish "
               f"{result['publish_html']['seconds']:.1f} s; total {total:.1f} s wall, "
               f"{cpu:.1f} s CPU; peak {result['peak_mb']:.0f} MB. The comparison with an old "
               "commit: bench_liar.py --baseline-commit")
    if "publish_md_floor" not in result:
        table.note("LIAR publish: bench_publish.py has no run_floor(db, out, html=...)")


def add_dossier_rows(table: Table, result: dict[str, Any]) -> None:
    for kind, unit in (("seconds", "s"), ("cpu", "CPU s")):
        table.add(f"ledger dossier barack-obama --drafts --skip-verify, {unit}",
                  result["dossier_skip_verify"][kind], result["dossier_floor"][kind], "s",
                  at_most=1.5, baseline_name="floors.py dossier (a command too)")
        table.add(f"ledger dossier barack-obama --drafts (verify included), {unit}",
                  result["dossier"][kind], result["dossier_floor"][kind], "s",
                  baseline_name="floors.py dossier (a command too)")


def run_dossier(table: Table, workdir: Path) -> None:
    if not (LIAR / "train.tsv").exists():
        table.note(f"dossier skipped: no {LIAR}/train.tsv")
        return
    print("dossier (LIAR) ...", flush=True)
    add_dossier_rows(table, measure("dossier", workdir))


def render_growth(growth: list[tuple]) -> str:
    lines = [f"{'operation':<10} {'claims':>10} {'seconds':>9} {'peak MB':>8} "
             f"{'µs/claim':>9} {'vs previous size':>18}"]
    previous: dict[str, tuple] = {}
    for operation, claims, seconds, peak, per_claim in growth:
        before = previous.get(operation)
        change = (f"x{claims / before[1]:.0f} claims: x{seconds / before[2]:.1f} time"
                  if before else "")
        lines.append(f"{operation:<10} {claims:>10,} {seconds:>9.1f} {peak:>8.0f} "
                     f"{per_claim:>9.1f} {change:>18}")
        previous[operation] = (operation, claims, seconds)
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="/tmp/ledger-bench", type=Path)
    parser.add_argument("--sizes", default="10k,100k,1m",
                        help="synthetic ledger sizes (10k, 100k, 1m or a number of claims)")
    parser.add_argument("--only", default=",".join(OPERATIONS),
                        help=f"comma-separated: {', '.join(OPERATIONS)}")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: 2k and 10k claims, fewer repeats, no 200k publish")
    parser.add_argument("--import-budget", type=float, default=600,
                        help="skip an import size projected to take longer (seconds)")
    parser.add_argument("--pg-claims", default="100k")
    parser.add_argument("--pg-import-claims", help="the import comparison size (default: "
                        "--pg-claims, or the largest SQLite import that fit the budget)")
    parser.add_argument("--runs", type=int, default=15, help="repeats of the CLI timings")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-args", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.child:
        positional, keywords = json.loads(args.child_args)
        print(json.dumps(CHILDREN[args.child](args.workdir, *positional, **keywords)))
        return 0

    def claims_of(value: str) -> int:
        return SIZE_NAMES.get(value.lower()) or int(value.replace("_", ""))

    sizes = sorted(claims_of(s) for s in args.sizes.split(","))
    pg_claims = claims_of(args.pg_claims)
    runs = args.runs
    if args.quick:
        sizes, pg_claims, runs = [2_000, 10_000], 10_000, 5
    only = {name.strip() for name in args.only.split(",")}
    unknown = only - set(OPERATIONS)
    if unknown:
        parser.error(f"unknown operation(s): {', '.join(sorted(unknown))}")
    table, growth = Table(), []
    started = time.perf_counter()
    print(f"sizes: {', '.join(size_label(s) for s in sizes)}; workdir {args.workdir}; "
          f"{os.cpu_count()} CPUs", flush=True)
    # Quick and independent first, so a long run shows its short rows early.
    if "search" in only:
        run_search(table, args.workdir, sizes)
    if "cli" in only:
        run_cli(table, runs)
    if "audit" in only:
        if args.quick:
            table.note("audit skipped in --quick (its ledger is fixed at 100k attributions)")
        else:
            run_audit(table, args.workdir)
    imported = None
    if "import" in only:
        imported = run_import(table, growth, args.workdir, sizes, args.import_budget)
    if "publish" in only:
        run_publish(table, growth, args.workdir, sizes, args.quick)
    if "pg" in only:
        # The import on both backends at the PostgreSQL size, unless that size's SQLite
        # import did not fit the budget (then at the largest size that did).
        import_claims = None
        if imported or "import" not in only:
            import_claims = pg_claims if (imported is None or imported[0] >= pg_claims) else (
                imported[0])
            if imported and import_claims != pg_claims:
                table.note(f"import on PostgreSQL measured at {size_label(import_claims)}: "
                           f"the SQLite import at {size_label(pg_claims)} did not fit the "
                           "budget")
        if args.pg_import_claims:
            import_claims = claims_of(args.pg_import_claims)
        run_pg(table, args.workdir, pg_claims, import_claims, args.import_budget)
    if "liar" in only:
        run_liar(table, args.workdir)
    elif "dossier" in only:  # the LIAR row has the dossier rows too
        run_dossier(table, args.workdir)
    if "verify" in only:
        run_verify(table, growth, args.workdir, sizes, args.quick)
    print()
    print(table.render())
    if growth:
        print()
        print("growth (each run in its own process; peak MB is that process's VmHWM)")
        print(render_growth(growth))
    print(f"\n{os.cpu_count()} CPUs; whole run {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
