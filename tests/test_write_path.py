"""One write path: a single write and a bulk import of the same record give the same rows
and the same event states, byte for byte; bundle records that match one in the ledger but
differ are refused; the shared rules (source keys) hold on both paths."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from ledger import models, store
from ledger.db import transaction
from ledger.errors import Conflict
from ledger.io.bundle import import_records

TEXT = (
    "Han Dong advised a Chinese diplomat, two unnamed national security sources said. "
    "What has been reported is false, Dong said."
)
TABLES = (
    "person",
    "person_alias",
    "source",
    "source_link",
    "claim",
    "claim_person",
    "attribution",
    "response",
    "reply_request",
)


def _clock() -> str:
    return "2026-03-01T12:00:00.000000Z"


def _snapshot(session) -> dict[str, Any]:
    """Every row of every table, and each record's events as (action, entity, actor, at,
    state), by uid."""
    session.flush()
    connection = session.connection()
    rows = {
        table: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))]
        for table in TABLES
    }
    events: dict[str, list[tuple]] = {}
    for uid, action, entity, actor, at, state in connection.execute(
        text("SELECT uid, action, entity, actor, at, state FROM event ORDER BY seq")
    ):
        events.setdefault(uid, []).append((action, entity, actor, at, state))
    return {"rows": rows, "events": events}


def _number_uids(monkeypatch, counter) -> None:
    """Uids from a counter instead of the random source, so two writes can be compared."""
    monkeypatch.setattr(models, "entropy", lambda size: next(counter).to_bytes(size, "big"))


def _written_by(engine, monkeypatch, write: Callable) -> dict[str, Any]:
    """What `write(session)` leaves in an empty ledger (uids from a counter; rolled back)."""
    counter = itertools.count(1)
    _number_uids(monkeypatch, counter)
    with transaction(engine, actor="tester", clock=_clock) as session:
        write(session)
        snapshot = _snapshot(session)
        session.rollback()
    return snapshot


def _singles_full(session) -> None:
    store.add_person(
        session,
        name="Han Dong",
        kind="person",
        description="MP for Don Valley",
        aliases=["Hang Dong", "H. Dong"],
    )
    store.add_person(session, name="Global News", kind="organization")
    store.add_person(session, name="Michael Chong")
    store.add_person(session, name="Zhao Wei", description="a diplomat")
    globalnews = store.add_source(
        session,
        key="globalnews",
        title="Global News report",
        publisher="Global News",
        author="Sam Cooper",
        url="https://globalnews.ca/news/1?utm_source=x",
        published="2023-03",
        kind="article",
        language="en",
        text=TEXT,
        retrieved="2023-03-24T08:00:00.000000Z",
    )
    cbc = store.add_source(
        session,
        title="MPs vote on an inquiry",
        publisher="CBC News",
        published="2023-03-23",
        cites=["globalnews"],
    )
    other = store.add_source(session, key="pmo", title="Statement", kind="statement")
    store.link_sources(session, source=other, target=globalnews, relation="republishes")
    claim = store.add_claim(
        session,
        statement="Han Dong advised a diplomat",
        about=["hang dong"],
        targets=["Michael Chong"],
        mentioned=["Zhao Wei"],
        claimant="Global News",
        occurred="2021-02",
        status="disputed",
    )
    store.cite(
        session,
        claim=claim,
        source=globalnews,
        quote="advised a Chinese diplomat",
        voice="two unnamed national security sources",
        sourcing="anonymous",
    )
    store.cite(session, claim=claim, source=cbc, quote="not in any stored text")
    store.cite(session, claim=claim, source=other, voice="the PMO")
    store.add_response(
        session,
        claim=claim,
        by="Han Dong",
        kind="denial",
        date="2023-03-22",
        source=globalnews.key,
        quote="What has been reported is false",
        summary="He denies it.",
    )
    store.request_reply(
        session,
        claim=claim,
        to="Han Dong",
        sent="2023-03-21",
        deadline="2023-03-22",
        channel="email",
    )


FULL_BUNDLE = [
    {
        "type": "person",
        "name": "Han Dong",
        "kind": "person",
        "description": "MP for Don Valley",
        "aliases": ["Hang Dong", "H. Dong"],
    },
    {"type": "person", "name": "Global News", "kind": "organization"},
    {"type": "person", "name": "Michael Chong"},
    {"type": "person", "name": "Zhao Wei", "description": "a diplomat"},
    {
        "type": "source",
        "key": "globalnews",
        "title": "Global News report",
        "publisher": "Global News",
        "author": "Sam Cooper",
        "url": "https://globalnews.ca/news/1?utm_source=x",
        "published": "2023-03",
        "kind": "article",
        "language": "en",
        "text": TEXT,
        "retrieved": "2023-03-24T08:00:00.000000Z",
    },
    {
        "type": "source",
        "title": "MPs vote on an inquiry",
        "publisher": "CBC News",
        "published": "2023-03-23",
        "cites": ["globalnews"],
    },
    {
        "type": "source",
        "key": "pmo",
        "title": "Statement",
        "kind": "statement",
        "republishes": ["globalnews"],
    },
    {
        "type": "claim",
        "ref": "c1",
        "statement": "Han Dong advised a diplomat",
        "about": ["hang dong"],
        "targets": ["Michael Chong"],
        "mentioned": ["Zhao Wei"],
        "claimant": "Global News",
        "occurred": "2021-02",
        "status": "disputed",
        "attributions": [
            {
                "source": "globalnews",
                "quote": "advised a Chinese diplomat",
                "voice": "two unnamed national security sources",
                "sourcing": "anonymous",
            },
            {"source": "cbc-news-2023-03-23", "quote": "not in any stored text"},
            {"source": "pmo", "voice": "the PMO"},
        ],
    },
    {
        "type": "response",
        "claim": "c1",
        "by": "Han Dong",
        "kind": "denial",
        "date": "2023-03-22",
        "source": "globalnews",
        "quote": "What has been reported is false",
        "summary": "He denies it.",
    },
    {
        "type": "reply",
        "claim": "c1",
        "to": "Han Dong",
        "sent": "2023-03-21",
        "deadline": "2023-03-22",
        "channel": "email",
    },
]


def _singles_minimal(session) -> None:
    store.add_person(session, name="Ann Example")
    source = store.add_source(session, title="A post")
    claim = store.add_claim(session, statement="Ann said a thing", about=["Ann Example"])
    store.cite(session, claim=claim, source=source)
    store.add_response(session, claim=claim, by="Ann Example", kind="no-comment")
    store.request_reply(session, claim=claim, to="Ann Example", sent="2024")


MINIMAL_BUNDLE = [
    {"type": "person", "name": "Ann Example"},
    {"type": "source", "title": "A post"},
    {
        "type": "claim",
        "ref": "c1",
        "statement": "Ann said a thing",
        "about": ["Ann Example"],
        "attributions": [{"source": "a-post"}],
    },
    {"type": "response", "claim": "c1", "by": "Ann Example", "kind": "no-comment"},
    {"type": "reply", "claim": "c1", "to": "Ann Example", "sent": "2024"},
]


def _bulk(records: list[dict[str, Any]]) -> Callable:
    def write(session) -> None:
        import_records(session, [(f"line {n}", r) for n, r in enumerate(records, 1)])

    return write


@pytest.mark.parametrize(
    "singles, bundle",
    [(_singles_full, FULL_BUNDLE), (_singles_minimal, MINIMAL_BUNDLE)],
    ids=["every-optional-field", "no-optional-field"],
)
def test_single_writes_and_import_write_the_same_rows_and_states(
    engine, monkeypatch, singles, bundle
):
    one = _written_by(engine, monkeypatch, singles)
    many = _written_by(engine, monkeypatch, _bulk(bundle))
    for table in TABLES:
        assert one["rows"][table] or bundle is MINIMAL_BUNDLE, f"no {table} row written"
        assert many["rows"][table] == one["rows"][table], table
    assert many["events"] == one["events"]
    if bundle is FULL_BUNDLE:
        kinds = {events[0][1] for events in one["events"].values()}
        assert kinds == {"person", "source", "link", "claim", "attribution", "response", "reply"}


def test_a_bundle_source_without_a_key_gets_the_derived_key_and_imports_once(session):
    record = {
        "type": "source",
        "title": "MPs vote",
        "publisher": "CBC News",
        "published": "2023-03-23",
    }
    other = {**record, "title": "Another CBC story"}
    first = import_records(session, [("line 1", record), ("line 2", other)])
    assert first.created["source"] == 2
    assert [s.key for s in store.list_sources(session)] == [
        "cbc-news-2023-03-23",
        "cbc-news-2023-03-23-2",
    ]
    again = import_records(session, [("line 1", other), ("line 2", record)])
    assert again.created["source"] == 0 and again.skipped["source"] == 2
    command = store.add_source(session, title="Third", publisher="CBC News", published="2023-03-23")
    assert command.key == "cbc-news-2023-03-23-3"


@pytest.mark.parametrize(
    "record, fields",
    [
        ({"type": "person", "name": "Han Dong", "description": "CHANGED"}, "description"),
        (
            {"type": "person", "name": "Han Dong", "kind": "organization", "aliases": ["HD"]},
            "aliases, kind",
        ),
        ({"type": "source", "key": "globalnews", "title": "Another title"}, "title"),
        (
            {
                "type": "claim",
                "statement": "Han Dong advised a diplomat",
                "about": ["Hang Dong"],
                "status": "false",
            },
            "status",
        ),
    ],
)
def test_a_record_without_uid_that_differs_from_its_match_is_a_conflict(session, record, fields):
    import_records(session, [(f"line {n}", r) for n, r in enumerate(FULL_BUNDLE[:8], 1)])
    before = _snapshot(session)
    with pytest.raises(Conflict) as caught:
        import_records(session, [("line 1", record)])
    assert str(caught.value).startswith("line 1: ")
    assert f"with a different {fields};" in str(caught.value)
    assert _snapshot(session) == before


def test_a_record_without_uid_that_agrees_with_its_match_is_skipped(session):
    import_records(session, [(f"line {n}", r) for n, r in enumerate(FULL_BUNDLE, 1)])
    before = _snapshot(session)
    same = [
        {"type": "person", "name": "Han Dong", "description": "MP for Don Valley"},
        {
            "type": "claim",
            "statement": "Han Dong advised a diplomat",
            "about": ["H. Dong"],
            "targets": ["michael chong"],
            "status": "disputed",
        },
    ]
    result = import_records(session, [(f"line {n}", r) for n, r in enumerate(same, 1)])
    assert sum(result.created.values()) == 0 and result.skipped["person"] == 1
    assert _snapshot(session) == before


def test_import_without_uid_refuses_a_changed_response(session):
    import_records(session, [(f"line {n}", r) for n, r in enumerate(FULL_BUNDLE, 1)])
    changed = [*FULL_BUNDLE[:8], {**FULL_BUNDLE[8], "summary": "He admits it."}]
    with pytest.raises(Conflict, match=r"line 9: response .* different summary"):
        import_records(session, [(f"line {n}", r) for n, r in enumerate(changed, 1)])


def test_cli_claim_add_and_import_agree(cli, tmp_path, monkeypatch):
    """The commands, as typed, and the bundle give the same rows and event states (times
    aside: the commands run on the wall clock)."""
    from ledger.db import open_ledger

    if not cli.db.endswith(".db"):
        pytest.skip("the typed ledger is compared with an imported SQLite one")
    counter = itertools.count(1)
    _number_uids(monkeypatch, counter)
    cli.ok("person", "add", "Han Dong", "--alias", "Hang Dong", "--description", "MP")
    cli.ok("person", "add", "PMO", "--kind", "organization")
    cli.ok("source", "add", "--key", "pmo", "--title", "Statement", "--kind", "statement")
    cli.ok("source", "add", "--title", "Report", "--publisher", "CBC", "--cites", "pmo")
    cli.ok(
        "claim",
        "add",
        "Han Dong advised a diplomat",
        "--about",
        "Hang Dong",
        "--claimant",
        "PMO",
        "--occurred",
        "2021-02",
        "--source",
        "pmo",
        "--quote",
        "he advised",
        "--voice",
        "a source",
        "--anonymous",
    )
    cli.ok(
        "response",
        "add",
        "1",
        "--by",
        "Han Dong",
        "--kind",
        "denial",
        "--date",
        "2023",
        "--summary",
        "No.",
    )
    cli.ok("reply", "request", "1", "--to", "PMO", "--sent", "2023-03-01", "--channel", "email")
    bundle = [
        {"type": "person", "name": "Han Dong", "aliases": ["Hang Dong"], "description": "MP"},
        {"type": "person", "name": "PMO", "kind": "organization"},
        {"type": "source", "key": "pmo", "title": "Statement", "kind": "statement"},
        {"type": "source", "title": "Report", "publisher": "CBC", "cites": ["pmo"]},
        {
            "type": "claim",
            "ref": "c1",
            "statement": "Han Dong advised a diplomat",
            "about": ["Hang Dong"],
            "claimant": "PMO",
            "occurred": "2021-02",
            "attributions": [
                {
                    "source": "pmo",
                    "quote": "he advised",
                    "voice": "a source",
                    "sourcing": "anonymous",
                }
            ],
        },
        {
            "type": "response",
            "claim": "c1",
            "by": "Han Dong",
            "kind": "denial",
            "date": "2023",
            "summary": "No.",
        },
        {"type": "reply", "claim": "c1", "to": "PMO", "sent": "2023-03-01", "channel": "email"},
    ]
    engine = open_ledger(cli.db)
    with transaction(engine, actor="tester") as session:
        typed = _snapshot(session)
    engine.dispose()
    other = tmp_path / "other.db"
    counter = itertools.count(1)
    _number_uids(monkeypatch, counter)
    engine = open_ledger(str(other))
    with transaction(engine, actor="tester") as session:
        import_records(session, [(f"line {n}", r) for n, r in enumerate(bundle, 1)])
        imported = _snapshot(session)
    engine.dispose()
    assert imported["rows"] == typed["rows"]

    def states(snapshot):
        return {
            uid: [(a, e, s) for a, e, _actor, _at, s in events]
            for uid, events in snapshot["events"].items()
        }

    assert states(imported) == states(typed)
