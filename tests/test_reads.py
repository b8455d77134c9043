"""Set-based reads: export and `claim list` read in batches, never a query per record."""

from __future__ import annotations

import json
from contextlib import contextmanager

from sqlalchemy import event

from ledger import store
from ledger.store import reads


@contextmanager
def counting(engine):
    """Count the SQL statements run on `engine`."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _fill(session, claims: int, *, first: int = 0) -> None:
    if not first:
        store.add_person(session, name="Han Dong", aliases=["Hang Dong"])
        store.add_person(session, name="Global News", kind="organization")
        store.add_source(session, title="A report", key="r", text="Han Dong said no.")
        store.add_source(session, title="A copy", key="copy", cites=["r"])
    source = store.get_source(session, "r")
    for n in range(first, first + claims):
        claim = store.add_claim(
            session,
            statement=f"Allegation {n}",
            about=["Han Dong"],
            claimant="Global News" if n % 2 else None,
        )
        store.cite(session, claim=claim, source=source, quote="said no")
        store.add_response(session, claim=claim, by="Han Dong", kind="denial", source="r")
        store.request_reply(session, claim=claim, to="Han Dong", sent="2023-03-01")


def test_records_equal_the_single_record_functions(story, engine) -> None:
    from ledger.db import reading

    with reading(engine) as session:
        claims = store.list_claims(session)
        assert list(reads.claim_records(session)) == [
            store.claim_record(session, c) for c in claims
        ]
        assert list(reads.claim_records(session, with_id=False, refs=True)) == [
            store.claim_record(session, c, with_id=False, ref=f"c{n}")
            for n, c in enumerate(claims, start=1)
        ]
        people = sorted(store.list_people(session), key=lambda p: p.id)
        assert list(reads.person_records(session)) == [
            store.person_record(session, p) for p in people
        ]
        sources = sorted(store.list_sources(session), key=lambda s: s.id)
        for with_text in (False, True):
            assert list(reads.source_records(session, with_text=with_text)) == [
                store.source_record(session, s, with_text=with_text) for s in sources
            ]
        responses = [r for c in claims for r in store.responses_to(session, c)]
        assert sorted(reads.response_records(session), key=lambda r: r["id"]) == sorted(
            (store.response_record(session, r) for r in responses), key=lambda r: r["id"]
        )


def test_export_and_claim_list_take_a_fixed_handful_of_queries(engine) -> None:
    from ledger.db import reading, transaction
    from ledger.io.bundle import dump, export_records
    from ledger.io.claimreview import export_reviews
    from ledger.io.csv_io import export_rows

    counts = {}
    for claims in (5, 60):
        with transaction(engine, actor="tester") as session:
            _fill(session, claims - counts.get("claims", 0), first=counts.get("claims", 0))
        counts["claims"] = claims
        with reading(engine) as session:
            readers = {
                "bundle": lambda: list(dump(export_records(session))),
                "csv": lambda: list(export_rows(session)),
                "claimreview": lambda: list(export_reviews(session)),
                "claim list": lambda: reads.list_claim_records(session, about="Han Dong"),
            }
            for name, read in readers.items():
                with counting(engine) as statements:
                    read()
                counts[(name, claims)] = len(statements)
    for name in ("bundle", "csv", "claimreview", "claim list"):
        assert counts[(name, 5)] == counts[(name, 60)], (name, counts)
        assert counts[(name, 60)] <= 20, (name, counts)


def test_claim_list_pages_with_limit_and_offset(cli) -> None:
    cli.ok("person", "add", "Han Dong")
    cli.ok("person", "add", "Michael Chong")
    for n in range(7):
        cli.ok(
            "claim", "add", f"Allegation {n}", "--about", "Han Dong" if n % 2 else "Michael Chong"
        )
    cli.ok("claim", "edit", "3", "--status", "disputed")
    everything = cli.json("claim", "list")
    assert [r["id"] for r in everything] == list(range(1, 8))
    page = cli.json("claim", "list", "--limit", "3", "--offset", "2")
    assert page == everything[2:5]
    assert cli.json("claim", "list", "--offset", "6") == everything[6:]
    assert cli.json("claim", "list", "--offset", "50") == []
    about = cli.json("claim", "list", "--about", "Han Dong", "--limit", "2", "--offset", "1")
    assert [r["id"] for r in about] == [4, 6]
    assert [r["id"] for r in cli.json("claim", "list", "--status", "disputed")] == [3]
    text = cli.ok("claim", "list", "--limit", "2").out.splitlines()
    assert text[0].split()[:2] == ["ID", "STATUS"] and len(text) == 3  # header and two rows
    for bad in (("--limit", "0"), ("--offset", "-1"), ("--limit", "x")):
        result = cli("claim", "list", *bad)
        assert result.code == 2 and "Traceback" not in result.err
    result = cli("claim", "list", "--status", "sure")
    assert result.code == 2 and result.err.startswith("Error: ")
    result = cli("claim", "list", "--about", "Nobody")
    assert result.code == 1 and result.err.startswith("Error: ")
    assert json.loads(cli.ok("claim", "list", "--json", "--limit", "1").out)[0]["id"] == 1
