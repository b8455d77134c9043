"""Migrations are the only way the schema is made: one head, upgrade from empty, models and
migrations agree, every downgrade works; a ledger behind the code is never migrated silently."""

from __future__ import annotations

import pytest
from alembic.script import ScriptDirectory

from ledger import db


def test_single_head_matches_the_code():
    script = ScriptDirectory.from_config(db.alembic_config())
    assert script.get_heads() == [db.HEAD_REVISION]


@pytest.fixture
def empty_engine(db):
    from ledger.db import database_url, make_engine

    engine = make_engine(database_url(db))
    # The `db` fixture hands out migrated ledgers; start this one from nothing.
    db_module_downgrade(engine)
    yield engine
    engine.dispose()


def db_module_downgrade(engine):
    db.downgrade(engine, "base")
    assert db.current_revision(engine) is None


def test_upgrade_from_empty_then_models_agree(empty_engine):
    db.upgrade(empty_engine)
    assert db.current_revision(empty_engine) == db.HEAD_REVISION
    assert db.schema_differences(empty_engine) == []


def test_every_step_down_and_up(empty_engine):
    script = ScriptDirectory.from_config(db.alembic_config())
    revisions = [r.revision for r in reversed(list(script.walk_revisions()))]
    for revision in revisions:
        db.upgrade(empty_engine, revision)
        assert db.current_revision(empty_engine) == revision
    for revision in reversed(revisions):
        previous = script.get_revision(revision).down_revision or "base"
        db.downgrade(empty_engine, previous)
    assert db.current_revision(empty_engine) is None
    db.upgrade(empty_engine)
    assert db.schema_differences(empty_engine) == []


def test_ledger_behind_the_code_is_refused(cli, db):
    from ledger.db import database_url, make_engine

    engine = make_engine(database_url(db))
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0000'")
    engine.dispose()
    result = cli("person", "list")
    assert result.code == 1
    assert "ledger db upgrade" in result.err


def test_init_creates_a_current_ledger(tmp_path, capsys):
    from ledger.cli import run

    path = tmp_path / "new.db"
    assert run(["init", str(path)]) == 0
    assert run(["--db", str(path), "db", "check"]) == 0
    assert "matching the models" in capsys.readouterr().out


def test_init_reports_current(tmp_path, capsys):
    from ledger.cli import run

    path = str(tmp_path / "l.db")
    assert run(["--db", path, "init"]) == 0
    assert run(["--db", path, "init"]) == 0
    assert run(["--db", path, "db", "current"]) == 0
    out = capsys.readouterr().out
    assert "Created a ledger" in out and "is current" in out and db.HEAD_REVISION in out


def test_not_a_ledger_is_refused(tmp_path, capsys):
    import sqlite3

    from ledger.cli import run

    path = tmp_path / "other.db"
    sqlite3.connect(path).execute("CREATE TABLE stuff (x)").connection.commit()
    assert run(["--db", str(path), "person", "list"]) == 1
    assert "is it a ledger" in capsys.readouterr().err
