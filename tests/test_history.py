"""Every write appends events in the same transaction; edits and retractions are events;
editing any byte of a stored event makes `ledger verify` fail naming its sequence number."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from ledger.chain import GENESIS, canonical_json, event_hash


def _disable_append_only(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("DROP TRIGGER event_no_update")
    else:
        connection.exec_driver_sql("ALTER TABLE event DISABLE TRIGGER USER")


def test_every_write_is_an_event(cli):
    cli.ok("person", "add", "Han Dong")
    cli.ok("source", "add", "--title", "T", "--key", "t", "--text-file", __file__)
    cli.ok("claim", "add", "S", "--about", "Han Dong", "--source", "t", "--quote", "import")
    cli.ok("claim", "edit", "1", "--status", "disputed")
    cli.ok("claim", "retract", "1", "--reason", "wrong person")
    events = cli.json("log", "--limit", "100")
    assert [(e["entity"], e["action"]) for e in reversed(events)] == [
        ("person", "add"), ("source", "add"), ("claim", "add"), ("attribution", "add"),
        ("claim", "edit"), ("claim", "retract"),
    ]
    assert [e["seq"] for e in reversed(events)] == [1, 2, 3, 4, 5, 6]
    assert events[0]["state"]["status"] == "retracted"
    assert events[1]["state"]["status"] == "disputed"
    assert events[3]["state"]["status"] == "unverified"  # the old state stays in the log
    claim = cli.json("claim", "show", "1")
    assert claim["status"] == "retracted" and claim["retraction_reason"] == "wrong person"


def test_event_table_refuses_update_and_delete(engine):
    from ledger.db import transaction
    from ledger.store import add_person

    with transaction(engine, actor="t") as session:
        add_person(session, name="Someone")
    for statement in ("UPDATE event SET actor = 'mallory'", "DELETE FROM event"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))


@pytest.mark.parametrize("column", ["state", "actor", "at", "action", "entity", "uid"])
def test_editing_a_byte_of_any_event_is_caught(story, engine, column):
    target = 17
    with engine.begin() as connection:
        _disable_append_only(connection)
        value = connection.execute(text(f"SELECT {column} FROM event WHERE seq = :s"),
                                   {"s": target}).scalar()
        tampered = value[:-2] + ("x" if value[-2] != "x" else "y") + value[-1:]
        connection.execute(text(f"UPDATE event SET {column} = :v WHERE seq = :s"),
                           {"v": tampered, "s": target})
    result = story("verify")
    assert result.code == 1
    assert f"sequence number {target}" in result.err


def test_chain_hashing_is_pinned():
    state = canonical_json({"uid": "a" * 32, "name": "Mélanie Joly", "aliases": []})
    assert state == '{"aliases":[],"name":"Mélanie Joly","uid":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}'
    digest = event_hash(seq=1, at="2023-03-22T00:00:00.000000Z", actor="desk", action="add",
                        entity="person", uid="a" * 32, state=state, prev=GENESIS)
    assert digest == "b51a4f89a1f267b764e53fa4a654040f61f137712dcfdc609f4d34ebf245259a"
