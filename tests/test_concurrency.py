"""Concurrent writers: 8 processes x 200 `ledger claim add` against one ledger.

On PostgreSQL the writers are recorders: one login holding the ledger's recorder role (its
roles set up by `ledger db roles`), each writer saying who it records for with --actor; the
database names the login as every event's actor and checks each append.

Each writer is a separate OS process running the command line in a loop (the same code path as
the `ledger` console script, without paying interpreter start-up 1,600 times). Nothing may be
refused with "database is locked", every claim and its event must be there, the event sequence
must be unique and gap-free and the chain must verify. On SQLite a `ledger backup` is taken
while the writers run; the copy must pass PRAGMA integrity_check and verify.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from conftest import login_as

WRITERS = 8
RECORDER = "rita"  # the PostgreSQL login the writers share (a recorder)
CLAIMS_EACH = 200
LEDGER = Path(sys.executable).with_name("ledger")

WORKER = textwrap.dedent("""
    import sys
    from ledger.cli import run

    db, writer, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    failures = 0
    for n in range(count):
        code = run(["--db", db, "--actor", f"writer-{writer}", "claim", "add",
                    f"Writer {writer} records allegation {n}", "--about", "Han Dong",
                    "--occurred", "2021-02"])
        if code != 0:
            failures += 1
            sys.stderr.write(f"FAILED writer {writer} claim {n}: exit {code}\\n")
    sys.stderr.write(f"done writer {writer}: {failures} failures\\n")
    sys.exit(1 if failures else 0)
""")


def figure(capsys, message: str) -> None:
    """Show a figure the test reached (printed, never asserted), even under capture."""
    with capsys.disabled():
        print(message)


def _sql_url(db: str) -> str:
    if db.startswith("postgresql://"):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return f"sqlite:///{db}"


def _count_claims(db: str) -> int:
    engine = create_engine(_sql_url(db))
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM claim")).scalar_one()
    finally:
        engine.dispose()


@pytest.mark.slow
def test_concurrent_writers(db: str, cli, tmp_path: Path) -> None:
    cli.ok("person", "add", "Han Dong")
    writers_db = db
    if db.startswith("postgresql://"):
        cli.ok("db", "grant", RECORDER, "--as", "recorder")
        writers_db = login_as(db, RECORDER)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("LEDGER_DB", None)
    logs = [tmp_path / f"writer-{w}.log" for w in range(WRITERS)]
    processes: list[subprocess.Popen] = []
    backup_path = tmp_path / "during-writes.db"
    backup_result = None
    started = time.monotonic()
    try:
        for writer, log in enumerate(logs):
            with log.open("w") as stream:
                processes.append(subprocess.Popen(
                    [sys.executable, "-c", WORKER, writers_db, str(writer), str(CLAIMS_EACH)],
                    stdout=subprocess.DEVNULL, stderr=stream, env=env))
        if not db.startswith("postgresql://"):
            # Take the backup once the writers are well under way, while they still write.
            deadline = time.monotonic() + 300
            while _count_claims(db) < 200 and time.monotonic() < deadline:
                time.sleep(0.1)
            backup_result = subprocess.run(
                [str(LEDGER), "--db", db, "backup", str(backup_path)],
                capture_output=True, text=True, env=env, timeout=300)
            claims_at_backup_end = _count_claims(db)
        codes = [p.wait(timeout=900) for p in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    elapsed = time.monotonic() - started
    stderr = "\n".join(log.read_text() for log in logs)
    figure(cli.capsys,
           f"\n{WRITERS} writers x {CLAIMS_EACH} claims on "
          f"{'PostgreSQL' if db.startswith('postgresql') else 'SQLite'}: {elapsed:.1f} s, "
          f"{WRITERS * CLAIMS_EACH / elapsed:.0f} claims/s")

    assert "database is locked" not in stderr
    assert codes == [0] * WRITERS, stderr[-3000:]
    _assert_complete(db, claims=WRITERS * CLAIMS_EACH)
    result = cli.ok("verify")
    assert result.out.startswith(f"ok: {WRITERS * CLAIMS_EACH + 1} events")

    if backup_result is not None:
        assert backup_result.returncode == 0, backup_result.stderr
        with sqlite3.connect(backup_path) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            assert copy.execute("PRAGMA foreign_key_check").fetchall() == []
            in_copy = copy.execute("SELECT count(*) FROM claim").fetchone()[0]
        figure(cli.capsys, f"backup taken during the writes holds {in_copy} claims "
              f"(the live ledger had {claims_at_backup_end} when it finished)")
        assert 200 <= in_copy <= WRITERS * CLAIMS_EACH
        copy_verify = subprocess.run([str(LEDGER), "--db", str(backup_path), "verify", "--json"],
                                     capture_output=True, text=True, env=env, timeout=120)
        assert copy_verify.returncode == 0, copy_verify.stderr
        assert json.loads(copy_verify.stdout)["events"] == in_copy + 1
        # The copy is a prefix of the live history: its head anchors the live log.
        head = json.loads(copy_verify.stdout)
        cli.ok("verify", "--anchor", f"{head['head_seq']}:{head['head_hash']}")


def _assert_complete(db: str, *, claims: int) -> None:
    engine = create_engine(_sql_url(db))
    try:
        with engine.connect() as connection:
            def column(sql: str) -> list:
                return [row[0] for row in connection.execute(text(sql))]

            seqs = column("SELECT seq FROM event ORDER BY seq")
            statements = set(column("SELECT statement FROM claim"))
            claim_uids = set(column("SELECT uid FROM claim"))
            event_uids = [row[0] for row in connection.execute(
                text("SELECT uid FROM event WHERE entity = 'claim' AND action = 'add'"))]
            actors = dict(connection.execute(text(
                "SELECT actor, count(*) FROM event WHERE entity = 'claim' GROUP BY actor")).all())
            behalf = dict(connection.execute(text(
                "SELECT on_behalf, count(*) FROM event WHERE entity = 'claim' "
                "GROUP BY on_behalf")).all())
    finally:
        engine.dispose()
    assert seqs == list(range(1, claims + 2)), "sequence numbers are not unique and gap-free"
    expected = {f"Writer {w} records allegation {n}"
                for w in range(WRITERS) for n in range(CLAIMS_EACH)}
    assert statements == expected
    assert sorted(event_uids) == sorted(claim_uids)
    declared = {f"writer-{w}": CLAIMS_EACH for w in range(WRITERS)}
    if db.startswith("postgresql://"):  # the database names the login; --actor is beside it
        assert actors == {RECORDER: claims}
        assert behalf == declared
    else:
        assert actors == declared
        assert behalf == {None: claims}


def test_backup_says_how_on_postgres_and_never_overwrites(db: str, cli, tmp_path: Path) -> None:
    cli.ok("person", "add", "Han Dong")
    target = tmp_path / "copy.db"
    result = cli("backup", str(target))
    if db.startswith("postgresql://"):
        assert result.code == 1 and result.err.startswith("Error:")
        assert "pg_dump" in result.err and "Traceback" not in result.err
        assert not target.exists()
        return
    assert result.code == 0, result.err
    again = cli("backup", str(target))
    assert again.code == 1 and "already exists" in again.err
    with sqlite3.connect(target) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
