"""Full-text search: ranked hits with snippets on both backends, safe with hostile input, an
index kept current by triggers (SQLite) and rebuilt once after a bulk write, and a migration
that goes both ways."""

from __future__ import annotations

import pytest

from ledger import db as ledger_db


def test_finds_a_claim_by_a_word_of_its_quote(story):
    story.ok("claim", "add", "The minister met the envoy twice", "--about", "Han Dong",
             "--source", "cbc-dong", "--quote", "a clandestine rendezvous near the harbour")
    hits = story.json("search", "rendezvous")
    assert [h["type"] for h in hits] == ["attribution"]
    hit = hits[0]
    assert hit["source"] == "cbc-dong"
    assert "**rendezvous**" in hit["snippet"]
    claim = story.json("claim", "show", str(hit["claim"]))
    assert claim["statement"] == "The minister met the envoy twice"


def test_text_output_names_what_each_hit_belongs_to(story):
    result = story.ok("search", "national security", "--limit", "3")
    lines = result.out.splitlines()
    assert len(lines) == 6
    assert "**national** **security**" in result.out
    assert lines[0].startswith(("quote in", "claim", "source", "denial", "official-response"))


def test_every_kind_of_record_is_searched(story):
    kinds = {h["type"] for h in story.json("search", "Dong", "--limit", "200")}
    assert {"claim", "attribution", "source", "response"} <= kinds


def test_stemming_and_ranking(story):
    hits = story.json("search", "interferences", "--limit", "50")
    assert hits, "the plural finds the singular"
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len(story.json("search", "interference", "--limit", "2")) == 2


def test_index_follows_edits(story):
    claim = story.json("claim", "add", "An entirely ordinary statement", "--about", "Han Dong")
    assert story.json("search", "ordinary")[0]["id"] == claim["id"]
    story.ok("claim", "edit", str(claim["id"]), "--statement", "A remarkable statement")
    assert story.json("search", "ordinary") == []
    assert story.json("search", "remarkable")[0]["id"] == claim["id"]


def test_no_match_is_not_an_error(story):
    result = story.ok("search", "xylophonist")
    assert result.out == ""
    assert "No match" in result.err


@pytest.mark.parametrize("query", [
    '"; DROP TABLE claim; --', "NEAR(Dong Chong", "statement:Dong", "Dong AND", "OR",
    "Dong*", "' OR 1=1 --", "^Dong", "a\"b", "{statement} : Dong", "-Dong",
    "Han Dong NOT", "<script>alert(1)</script>", "🙂 Dong",
])
def test_hostile_input_is_plain_words(story, query):
    result = story("search", "--json", "--", query)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    assert story.json("claim", "list")  # still there


@pytest.mark.parametrize(("query", "code", "message"), [
    ("", 2, "at least one word"),
    ("   ", 2, "at least one word"),
    ("!!! ??", 2, "no word to search for"),
    ("*", 2, "no word to search for"),
    ("(((", 2, "no word to search for"),
    ("a\x00b", 2, "NUL"),
    ("x" * 1001, 2, "limit is 1,000"),
])
def test_bad_queries_are_refused_cleanly(story, query, code, message):
    result = story("search", "--", query)
    assert result.code == code
    assert result.err.startswith("Error: ") and message in result.err
    assert "Traceback" not in result.err


def test_bad_limit(story):
    result = story("search", "Dong", "--limit", "0")
    assert result.code == 2 and "--limit" in result.err


def test_malformed_raw_query_gets_a_hint(story, db):
    if not db.endswith(".db"):
        # PostgreSQL's web search syntax accepts any input; nothing can be malformed there.
        assert story("search", "--raw", 'Dong OR "').code == 0
        return
    for query in ('Dong OR "', "NEAR(", "Dong AND", "statement:"):
        result = story("search", "--raw", query)
        assert result.code == 2, query
        assert result.err.startswith("Error: cannot search for")
        assert "FTS5 syntax" in result.err
        assert "Traceback" not in result.err


def test_raw_query_syntax(story, db):
    if db.endswith(".db"):
        hits = story.json("search", "--raw", '"national security" NOT unnamed', "--limit", "50")
    else:
        hits = story.json("search", "--raw", '"national security" -unnamed', "--limit", "50")
    assert hits
    assert all("unnamed" not in h["snippet"].lower() for h in hits)


def test_bulk_write_rebuilds_the_index_once(engine):
    from ledger import store
    from ledger.db import transaction
    from ledger.search import search
    from ledger.store.search import resume_index, suspend_index

    with transaction(engine, actor="tester") as session:
        store.add_person(session, name="Ada Bulk")
        triggers = suspend_index(session)
        for n in range(50):
            store.add_claim(session, statement=f"bulk statement number {n} zebra",
                            about=["Ada Bulk"])
        resume_index(session, triggers)
    with ledger_db.reading(engine) as session:
        hits = search(session, query="zebra", limit=100)
        assert len(hits) == 50
    with transaction(engine, actor="tester") as session:
        store.add_claim(session, statement="after the bulk write, a giraffe",
                        about=["Ada Bulk"])
    with ledger_db.reading(engine) as session:
        assert len(search(session, query="giraffe")) == 1


def test_datasette_detects_the_index(db):
    """Datasette's own detection query (datasette.utils.detect_fts_sql) finds each index."""
    if not db.endswith(".db"):
        pytest.skip("Datasette reads SQLite files only")
    import sqlite3

    connection = sqlite3.connect(db)
    for table in ("claim", "attribution", "response", "source"):
        sql = f"""select name from sqlite_master where rootpage = 0 and (
                  sql like '%VIRTUAL TABLE%USING FTS%content="{table}"%'
                  or sql like '%VIRTUAL TABLE%USING FTS%content=[{table}]%'
                  or (tbl_name = "{table}" and sql like '%VIRTUAL TABLE%USING FTS%'))"""
        assert connection.execute(sql).fetchall() == [(f"search_{table}",)]
    connection.close()


def test_migration_down_and_up_keeps_search_working(story, db):
    from ledger.db import database_url, make_engine

    engine = make_engine(database_url(db))
    ledger_db.downgrade(engine, "0001")
    assert ledger_db.current_revision(engine) == "0001"
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            names = connection.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE name LIKE 'search%'").all()
        else:
            names = connection.exec_driver_sql(
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search%%'").all()
    assert names == []
    ledger_db.upgrade(engine)
    engine.dispose()
    # Upgrading indexes what was already there.
    assert story.json("search", "interference", "--limit", "1")
    assert ledger_db.schema_differences(make_engine(database_url(db))) == []
