"""Every write appends events in the same transaction; edits and retractions are events;
editing any byte of a stored event makes `ledger verify` fail naming its sequence number."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["uid", "name", "Name", "a", "é", "\x00", "b b", "claim",
                                        "people", "state"]), _JSON_VALUES))
def test_canonical_json_is_the_encoders_spelling(state):
    """canonical_json spells states itself (keys sorted once per set of keys); its bytes are
    the standard encoder's, sorted keys, no spaces, non-ASCII kept, for any value."""
    import json

    encoder = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                               allow_nan=False)
    assert canonical_json(state) == encoder.encode(state)
    assert canonical_json(dict(reversed(list(state.items())))) == encoder.encode(state)


def test_chain_hashing_is_pinned():
    state = canonical_json({"uid": "a" * 32, "name": "Mélanie Joly", "aliases": []})
    assert state == '{"aliases":[],"name":"Mélanie Joly","uid":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}'
    digest = event_hash(seq=1, at="2023-03-22T00:00:00.000000Z", actor="desk", action="add",
                        entity="person", uid="a" * 32, state=state, prev=GENESIS)
    assert digest == "b51a4f89a1f267b764e53fa4a654040f61f137712dcfdc609f4d34ebf245259a"
