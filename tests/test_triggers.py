"""The event log's append-only triggers hold against a conflicting insert, and `ledger db
check` reports a missing or altered trigger (event and search) on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from ledger.db import database_url, make_engine


def _sql(db: str, *statements: str) -> None:
    engine = make_engine(database_url(db))
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def _sqlite(db: str) -> bool:
    return "://" not in db


@pytest.fixture
def recorded(cli):
    cli.ok("person", "add", "Han Dong")
    cli.ok("person", "add", "Zhao Wei")
    return cli


def test_an_insert_cannot_replace_an_event(recorded, db):
    before = recorded.ok("log", "--json").out
    forged = (
        "(1, '2020-01-01T00:00:00.000000Z', 'mallory', 'add', 'person', 'x', '{}', "
        f"'{'0' * 64}', '{'f' * 64}')"
    )
    columns = "(seq, at, actor, action, entity, uid, state, prev_hash, hash)"
    attempts = (
        [
            f"INSERT OR REPLACE INTO event {columns} VALUES {forged}",
            f"REPLACE INTO event {columns} VALUES {forged}",
        ]
        if _sqlite(db)
        else [
            f"INSERT INTO event {columns} VALUES {forged} ON CONFLICT (seq) DO UPDATE "
            "SET actor = excluded.actor, hash = excluded.hash"
        ]
    )
    for attempt in attempts:
        with pytest.raises(DBAPIError, match="append-only"):
            _sql(db, attempt)
    assert recorded.ok("log", "--json").out == before
    recorded.ok("verify")
    recorded.ok("person", "add", "Michael Chong")  # a new event still appends


def test_db_check_is_ok_on_a_fresh_ledger(cli):
    result = cli.ok("db", "check")
    assert "triggers in place" in result.out


SQLITE_DAMAGE = [
    ("DROP TRIGGER search_claim_update", "trigger search_claim_update is missing"),
    ("DROP TRIGGER event_no_replace", "trigger event_no_replace is missing"),
    (
        "DROP TRIGGER event_no_delete | CREATE TRIGGER event_no_delete BEFORE DELETE ON event "
        "BEGIN SELECT 1; END",
        "trigger event_no_delete is altered",
    ),
    (
        "DROP TRIGGER search_source_insert | CREATE TRIGGER search_source_insert AFTER INSERT ON "
        "source BEGIN SELECT 1; END",
        "trigger search_source_insert is altered",
    ),
]
POSTGRES_DAMAGE = [
    ("DROP TRIGGER event_append_only ON event", "trigger event_append_only on event is missing"),
    ("ALTER TABLE event DISABLE TRIGGER event_append_only", "is disabled"),
    (
        "DROP TRIGGER event_append_only ON event | CREATE TRIGGER event_append_only BEFORE UPDATE "
        "ON event FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()",
        "is altered",
    ),
    ("DROP INDEX search_claim_tsv", "search index search_claim_tsv is missing"),
]


@pytest.mark.parametrize("case", range(4))
def test_db_check_names_a_missing_or_altered_trigger(cli, db, case):
    damage, named = (SQLITE_DAMAGE if _sqlite(db) else POSTGRES_DAMAGE)[case]
    _sql(db, *damage.split(" | "))
    result = cli("db", "check")
    assert result.code == 1, result.out
    assert named in result.err
    assert (
        result.err.rstrip()
        .splitlines()[-1]
        .startswith("Error: 1 trigger(s) or index(es) missing or altered")
    )
    assert "Traceback" not in result.err
