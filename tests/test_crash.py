"""Crashes and I/O errors: an import is all or nothing, and the ledger stays sound.

`ledger import` runs as a real process and is killed with SIGKILL at seeded random moments;
afterwards SQLite's own checks pass, the import left either none or all of its records, and the
chain verifies. Injected I/O errors (a failing statement at every position of a small import, a
failing commit, a really full database) make the command exit 1 with a clear `Error:` and leave
the ledger exactly as it was.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ledger.cli import run

from conftest import new_ledger

LEDGER = Path(sys.executable).with_name("ledger")
KILLS = 50
PEOPLE, CLAIMS = 300, 1200


def figure(capsys, message: str) -> None:
    """Show a figure the test reached (printed, never asserted), even under capture."""
    with capsys.disabled():
        print(message)


def _bundle(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        stream.write(json.dumps({"type": "source", "key": "src", "title": "Ein Bericht",
                                 "text": "Zeugen sagten: «er war dort». " * 200}) + "\n")
        for p in range(PEOPLE):
            stream.write(json.dumps({"type": "person", "name": f"Crash Person {p} Łódź",
                                     "aliases": [f"CP{p}"]}, ensure_ascii=False) + "\n")
        for c in range(CLAIMS):
            stream.write(json.dumps({
                "type": "claim", "ref": f"c{c}", "statement": f"Crash allegation {c}",
                "about": [f"Crash Person {c % PEOPLE} Łódź"], "occurred": "2021-02",
                "attributions": [{"source": "src", "quote": "er war dort", "voice": "Zeugen",
                                  "sourcing": "anonymous"}] if c % 3 == 0 else []},
                ensure_ascii=False) + "\n")
    return path


def _counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return {table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("person", "source", "claim", "attribution", "event")}


def _sound(path: Path) -> None:
    with sqlite3.connect(path) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []


def _copy(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copy(source, target)


@pytest.mark.slow
def test_import_killed_at_random_points(tmp_path: Path, capsys) -> None:
    base = tmp_path / "base.db"
    new_ledger(base)
    assert run(["--db", str(base), "person", "add", "Han Dong"]) == 0
    assert run(["--db", str(base), "claim", "add", "Already recorded", "--about", "Han Dong"]) == 0
    with sqlite3.connect(base) as connection:  # fold the WAL in, so copying one file suffices
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    before = _counts(base)
    bundle = _bundle(tmp_path / "bundle.jsonl")

    # One undisturbed import: what "all" is, and how long a whole import takes.
    full = tmp_path / "full.db"
    _copy(base, full)
    started = time.monotonic()
    done = subprocess.run([str(LEDGER), "--db", str(full), "import", str(bundle)],
                          capture_output=True, text=True, timeout=600)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    after = _counts(full)
    assert after["claim"] == before["claim"] + CLAIMS

    rng = random.Random(20230324)
    ledger = tmp_path / "ledger.db"
    outcomes = {"none": 0, "all": 0}
    for attempt in range(KILLS):
        _copy(base, ledger)
        delay = rng.uniform(0.1, duration * 1.05)
        process = subprocess.Popen([str(LEDGER), "--db", str(ledger), "import", str(bundle)],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(delay)
            process.send_signal(signal.SIGKILL)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
        _sound(ledger)
        counts = _counts(ledger)
        assert counts in (before, after), f"attempt {attempt}, killed after {delay:.2f} s: " \
            f"a partial import {counts} (before {before}, after {after})"
        outcomes["none" if counts == before else "all"] += 1
        capsys.readouterr()
        assert run(["--db", str(ledger), "verify"]) == 0, capsys.readouterr().err
        _sound(ledger)
    figure(capsys,
           f"\n{KILLS} imports of {PEOPLE + CLAIMS + 1} records killed with SIGKILL (a whole "
          f"import takes {duration:.1f} s): {outcomes['none']} left nothing, {outcomes['all']} "
          "had committed everything; every ledger sound and verified")


# --- injected I/O errors ----------------------------------------------------------------------


SMALL = [
    {"type": "person", "name": "Zhao Wei 赵巍", "aliases": ["Zhao"]},
    {"type": "person", "name": "Michael Chong"},
    {"type": "source", "key": "gn", "title": "Global News report", "published": "2023-02",
     "text": "Two unnamed national security sources said Beijing targeted the MP."},
    {"type": "claim", "ref": "c1", "statement": "Beijing targeted an MP's family",
     "about": ["Michael Chong"], "claimant": "Zhao Wei 赵巍", "occurred": "2021",
     "attributions": [{"source": "gn", "quote": "Beijing targeted the MP", "sourcing":
                       "anonymous", "voice": "two unnamed national security sources"}]},
    {"type": "response", "claim": "c1", "by": "Zhao Wei 赵巍", "kind": "denial",
     "date": "2023-05-04", "source": "gn", "quote": "No comment"},
    {"type": "reply", "claim": "c1", "to": "Zhao Wei 赵巍", "sent": "2023-05-01",
     "deadline": "2023-05-03"},
]


def _io_error(db: str, message: str) -> Exception:
    if db.startswith("postgresql://"):
        import psycopg

        return psycopg.errors.DiskFull(message)
    return sqlite3.OperationalError(message)


class FailAt:
    """Counts the statements sent to the database; raises an I/O error at statement `at`."""

    def __init__(self, error: Exception | None = None, at: int | None = None) -> None:
        self.error, self.at, self.count = error, at, 0

    def __call__(self, *_args) -> None:
        self.count += 1
        if self.at is not None and self.count == self.at:
            raise self.error

    def __enter__(self) -> FailAt:
        for name in ("do_execute", "do_executemany", "do_execute_no_params"):
            event.listen(Engine, name, self)
        return self

    def __exit__(self, *_exc) -> None:
        for name in ("do_execute", "do_executemany", "do_execute_no_params"):
            event.remove(Engine, name, self)


def _snapshot(cli) -> tuple[str, int]:
    export = cli.ok("export").out
    events = json.loads(cli.ok("verify", "--json").out)["events"]
    return export, events


def test_a_failing_statement_anywhere_leaves_the_ledger_unchanged(story, tmp_path: Path) -> None:
    cli = story
    bundle = tmp_path / "small.jsonl"
    bundle.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in SMALL),
                      encoding="utf-8")
    before = _snapshot(cli)
    errors = ("disk I/O error", "database or disk is full")
    at, example = 0, ""
    while True:
        at += 1
        message = errors[at % 2]
        with FailAt(_io_error(cli.db, message), at) as hook:
            result = cli("import", str(bundle))
        if hook.count < at:  # the import finished before statement `at`: all were covered
            assert result.code == 0, result.err
            break
        assert result.code == 1, f"statement {at}: exit {result.code}: {result.err}"
        assert result.err.startswith("Error:") and "Traceback" not in result.err
        assert message in result.err, result.err
        if not example or "nothing was written" in result.err:
            example = result.err.strip()  # prefer a failure inside the import's transaction
        assert _snapshot(cli) == before, f"a failure at statement {at} changed the ledger"
    assert at > 20
    assert _snapshot(cli) != before
    figure(cli.capsys,
           f"\na failing statement at each of the {at - 1} statements of a small import: "
          f"exit 1, ledger unchanged each time; e.g. {example!r}")


def test_a_failing_commit_leaves_the_ledger_unchanged(story, tmp_path: Path,
                                                      monkeypatch) -> None:
    cli = story
    bundle = tmp_path / "small.jsonl"
    bundle.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in SMALL),
                      encoding="utf-8")
    before = _snapshot(cli)
    from sqlalchemy.engine.default import DefaultDialect

    error = _io_error(cli.db, "disk I/O error")

    def failing_commit(self, dbapi_connection) -> None:
        raise error

    with monkeypatch.context() as patch:
        patch.setattr(DefaultDialect, "do_commit", failing_commit)
        for dialect in _dialect_classes():
            if "do_commit" in vars(dialect):
                patch.setattr(dialect, "do_commit", failing_commit)
        result = cli("import", str(bundle))
    assert result.code == 1 and result.err.startswith("Error:"), result.err
    assert "disk I/O error" in result.err and "Traceback" not in result.err
    assert _snapshot(cli) == before


def _dialect_classes() -> list[type]:
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

    return [cls for base in (PGDialect_psycopg, SQLiteDialect_pysqlite) for cls in base.__mro__]


def test_a_full_database_refuses_an_import_cleanly(tmp_path: Path, capsys) -> None:
    """A real SQLITE_FULL: the database may not grow past a few more pages."""
    db = new_ledger(tmp_path / "ledger.db")
    assert run(["--db", db, "person", "add", "Han Dong"]) == 0
    bundle = tmp_path / "big.jsonl"
    bundle.write_text(json.dumps({"type": "source", "key": "big", "title": "A long document",
                                  "text": "Ein langer Satz über Łódź. " * 40_000}) + "\n",
                      encoding="utf-8")
    capsys.readouterr()
    assert run(["--db", db, "export"]) == 0
    before = capsys.readouterr().out

    def limit_growth(dbapi_connection, _record) -> None:
        pages = dbapi_connection.execute("PRAGMA page_count").fetchone()[0]
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages + 8}")

    event.listen(Engine, "connect", limit_growth)
    try:
        code = run(["--db", db, "import", str(bundle)])
    finally:
        event.remove(Engine, "connect", limit_growth)
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.startswith("Error:") and "full" in err and "Traceback" not in err
    assert run(["--db", db, "export"]) == 0
    assert capsys.readouterr().out == before
    assert run(["--db", db, "verify"]) == 0
    _sound(Path(db))
    # With room again, the same import goes through.
    assert run(["--db", db, "import", str(bundle)]) == 0
