"""A new SQLite ledger is made from the recorded schema (`ledger.db.create_sqlite`) instead of
running the migrations; it must be exactly the ledger the migrations make.

After a new migration, rewrite the recording with
`pytest -p no:cacheprovider tests/test_fast_init.py --update-golden` and read its diff.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ledger import db

REFRESH = "pytest -p no:cacheprovider tests/test_fast_init.py --update-golden"


def master(path: Path) -> list[tuple]:
    """sqlite_master as it matters: every object's type, name, table and SQL (not its page)."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        pragmas = [
            connection.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "user_version", "application_id")
        ]
        version = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        fts_config = [
            connection.execute(f"SELECT * FROM search_{t}_config").fetchall()
            for t in ("claim", "attribution", "response", "source")
        ]
    finally:
        connection.close()
    return [*rows, ("pragmas", *pragmas), ("alembic_version", *version), ("fts", fts_config)]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Path:
    """A ledger made by running every migration; with --update-golden, the recording is
    rewritten from it first."""
    path = tmp_path_factory.mktemp("migrated") / "ledger.db"
    engine = db.make_engine(db.database_url(str(path)))
    db.upgrade(engine)
    engine.dispose()
    if request.config.getoption("--update-golden"):
        connection = sqlite3.connect(path)
        db.write_sqlite_schema(connection, db.HEAD_REVISION)
        connection.close()
    return path


def test_the_recording_is_at_the_head(migrated):
    revision, _statements = db.recorded_sqlite_schema()
    assert revision == db.HEAD_REVISION, (
        f"ledger/sqlite_schema.sql is at {revision}, the migrations at {db.HEAD_REVISION}: "
        f"run `{REFRESH}`"
    )


def test_a_new_ledger_equals_a_migrated_one(migrated, tmp_path):
    path = tmp_path / "new.db"
    assert db.create_sqlite(path)
    assert master(path) == master(migrated), f"the recording is stale: run `{REFRESH}`"


def test_the_new_ledger_works_and_the_models_agree(tmp_path):
    path = tmp_path / "new.db"
    engine = db.open_ledger(str(path))
    assert db.current_revision(engine) == db.HEAD_REVISION
    assert db.schema_differences(engine) == []
    assert db.trigger_problems(engine) == []
    engine.dispose()


def test_an_existing_database_is_left_alone(tmp_path):
    path = tmp_path / "other.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE stuff (x)")
    connection.commit()
    connection.close()
    assert not db.create_sqlite(path)
    assert master_names(path) == ["stuff"]


def master_names(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [name for (name,) in connection.execute("SELECT name FROM sqlite_master")]
    finally:
        connection.close()


def test_a_stale_recording_falls_back_to_the_migrations(tmp_path, monkeypatch):
    monkeypatch.setattr(db, "HEAD_REVISION", "9999")
    assert not db.create_sqlite(tmp_path / "new.db")
    assert not (tmp_path / "new.db").exists()


def test_init_of_a_new_file_imports_no_sqlalchemy(tmp_path):
    """The fast path is the standard library's sqlite3 alone: SQLAlchemy's import is most
    of what `ledger init` would otherwise cost."""
    import subprocess
    import sys

    path = tmp_path / "new.db"
    code = (
        "import sys; from ledger.cli import run; code = run(['init', sys.argv[1]]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'alembic'))); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines() == [
        f"Created a ledger at schema {db.HEAD_REVISION}, file mode 0600", "[]"]
    assert master(path) == master_of_fresh_migration(tmp_path)


def master_of_fresh_migration(tmp_path: Path) -> list[tuple]:
    path = tmp_path / "migrated.db"
    engine = db.make_engine(db.database_url(str(path)))
    db.upgrade(engine)
    engine.dispose()
    return master(path)
