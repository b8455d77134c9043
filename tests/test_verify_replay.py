"""Verify replays the log against the tables; publish refuses what does not verify.

The tamper suite works on the example ledger as an attacker with write access to the
database would: foreign keys and triggers out of the way, one direct change at a time to a
current-state table (every column of one row of every table, a deleted row in each, a row
inserted without an event in each). After each change `ledger verify` must exit 1 naming the
record, and `ledger publish` must refuse; the table is then restored for the next case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from ledger.chain import GENESIS, canonical_json, event_hash
from ledger.models import SQLModel, new_uid

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
# The entity a table's rows belong to, and the column naming that record (a link table's
# rows belong to their owner).
OWNER = {
    "person": ("person", "id"),
    "person_alias": ("person", "person_id"),
    "source": ("source", "id"),
    "source_link": ("source link", "id"),
    "claim": ("claim", "id"),
    "claim_person": ("claim", "claim_id"),
    "attribution": ("attribution", "id"),
    "response": ("response", "id"),
    "reply_request": ("reply request", "id"),
}
REFERENCES = {
    "person_id": "person",
    "merged_into_id": "person",
    "claimant_id": "person",
    "respondent_id": "person",
    "addressee_id": "person",
    "claim_id": "claim",
    "source_id": "source",
    "target_id": "source",
}


def figure(capsys, message: str) -> None:
    """Show a figure the test reached (printed, never asserted), even under capture."""
    with capsys.disabled():
        print(message)


def _url(db: str) -> str:
    if db.startswith("postgresql://"):
        return "postgresql+psycopg://" + db.split("://", 1)[1]
    return f"sqlite:///{db}"


class Tables:
    """Direct access to the tables with foreign keys and triggers out of the way."""

    def __init__(self, db: str) -> None:
        # No ledger pragmas: foreign keys are off. No pool: no connection of the test's stays
        # open in this process while a publish forks its workers.
        self.engine = create_engine(_url(db), poolclass=NullPool)
        self.postgres = db.startswith("postgresql://")
        self.snapshot = {table: self.rows(table) for table in TABLES}

    def execute(self, sql: str, params: dict | list | None = None) -> None:
        with self.engine.begin() as connection:
            if self.postgres:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(sql), params or {})

    def rows(self, table: str) -> list[dict]:
        with self.engine.connect() as connection:
            result = connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            return [dict(row._mapping) for row in result]

    def restore(self, table: str) -> None:
        rows = self.snapshot[table]
        columns = list(rows[0])
        with self.engine.begin() as connection:
            if self.postgres:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"DELETE FROM {table}"))
            connection.execute(
                text(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                    f"({', '.join(':' + c for c in columns)})"
                ),
                rows,
            )


def _changed(tables: Tables, table: str, column: str, row: dict) -> list:
    """Different values for one column of `row`, of the kind the column holds, best first
    (a reference may have to try a few ids to keep a unique constraint)."""
    value = row[column]
    if column == "uid":
        return [new_uid()]
    if column in REFERENCES:
        ids = [r["id"] for r in tables.snapshot[REFERENCES[column]]]
        return [i for i in ids if i not in (value, row.get("source_id"), row.get("target_id"))]
    if table == "person" and column == "kind":
        return ["organization" if value == "person" else "person"]
    if column in ("anchor_start", "anchor_end"):
        return [(value or 0) + 1]
    if column in ("text_sha256", "file_sha256", "anchor_sha256"):
        return ["0" * 64]
    return [(value or "") + " (edited)"]


def _update(tables: Tables, table: str, column: str, row_id: int, candidates: list) -> None:
    from sqlalchemy.exc import IntegrityError

    for value in candidates:
        try:
            return tables.execute(
                f"UPDATE {table} SET {column} = :v WHERE id = :i", {"v": value, "i": row_id}
            )
        except IntegrityError:
            continue
    raise AssertionError(f"no value of {table}.{column} could be written")


def _cases(tables: Tables) -> list[tuple[str, str, Callable[[], None], set[str]]]:
    """(table, description, tamper, records any of which the error must name)."""
    cases = []
    for table in TABLES:
        rows = tables.snapshot[table]
        label, owner_column = OWNER[table]
        # A row with the most values filled, so every column's edit changes something real.
        row = max(rows, key=lambda r: sum(v is not None for v in r.values()))
        named = {f"{label} {row[owner_column]}"}
        columns = [c.name for c in SQLModel.metadata.tables[table].columns if c.name != "id"]
        for column in columns:
            values = _changed(tables, table, column, row)
            also = {f"{label} {v}" for v in values} if column == owner_column else set()
            cases.append(
                (
                    table,
                    f"{table}.{column} of row {row['id']} edited",
                    lambda t=table, c=column, v=values, i=row["id"]: _update(tables, t, c, i, v),
                    named | also,
                )
            )
        victim = rows[-1]
        cases.append(
            (
                table,
                f"{table} row {victim['id']} deleted",
                lambda t=table, i=victim["id"]: tables.execute(
                    f"DELETE FROM {t} WHERE id = :i", {"i": i}
                ),
                {f"{label} {victim[owner_column]}"}
                if owner_column != "id"
                else {f"{label} (uid {victim['uid']})"},
            )
        )
        extra = {**victim, "id": max(r["id"] for r in rows) + 100}
        if "uid" in extra:
            extra["uid"] = new_uid()
        for unique in ("name", "slug", "key", "url_normalized", "quote", "statement"):
            if isinstance(extra.get(unique), str):
                extra[unique] += " (inserted)"
        if table == "claim_person":  # unique per claim, person and role
            extra["role"] = "mentioned"
        if table == "source_link":
            extra["target_id"], extra["source_id"] = victim["source_id"], victim["target_id"]
        columns = list(extra)
        cases.append(
            (
                table,
                f"{table} row inserted without an event",
                lambda t=table, e=extra, cs=columns: tables.execute(
                    f"INSERT INTO {t} ({', '.join(cs)}) VALUES ({', '.join(':' + c for c in cs)})",
                    e,
                ),
                {f"{label} {extra[owner_column]}"},
            )
        )
    return cases


def test_every_direct_table_change_is_caught_and_publish_refuses(story, tmp_path: Path) -> None:
    cli = story
    cli.ok(
        "reply",
        "request",
        "1",
        "--to",
        "Han Dong",
        "--sent",
        "2023-03-21",
        "--deadline",
        "2023-03-22",
        "--channel",
        "email",
    )
    assert "rows match the log" in cli.ok("verify").out
    tables = Tables(cli.db)
    cases = _cases(tables)
    caught = refused = 0
    try:
        for table, description, tamper, named in cases:
            tamper()
            try:
                result = cli("verify")
                assert result.code == 1, f"{description}: verify passed: {result.out}"
                assert "Traceback" not in result.err
                assert result.err.rstrip().splitlines()[-1].startswith("Error: "), result.err
                assert any(
                    f"{record} (uid" in result.err or record in result.err for record in named
                ), f"{description}: {named} not named:\n{result.err}"
                caught += 1
                out = tmp_path / f"site-{caught}"
                refusal = cli("publish", "--out", str(out))
                assert refusal.code == 1 and refusal.err.startswith("Error: "), refusal.err
                assert "publish refuses" in refusal.err and not out.exists(), description
                refused += 1
            finally:
                tables.restore(table)
        assert "rows match the log" in cli.ok("verify").out
    finally:
        tables.engine.dispose()
    assert caught == refused == len(cases)
    figure(
        cli.capsys,
        f"\n{caught} of {len(cases)} direct table changes caught by verify, "
        f"each naming its record, and refused by publish ({len(TABLES)} tables)",
    )


def test_a_difference_names_record_field_and_both_values(story) -> None:
    cli = story
    tables = Tables(cli.db)
    try:
        tables.execute(
            "UPDATE claim SET statement = 'Han Dong did nothing wrong at all' WHERE id = 1"
        )
        uid = tables.rows("claim")[0]["uid"]
        result = cli("verify")
        assert result.code == 1
        line = next(x for x in result.err.splitlines() if x.startswith("claim 1 "))
        assert re.fullmatch(
            rf"claim 1 \(uid {uid}\): statement is 'Han Dong did nothing wrong "
            r"at all' in the table, 'Han Dong advised .*' in event \d+",
            line,
        )
        report = json.loads(cli("verify", "--json").out)
        assert report["ok"] is False and report["differences_count"] == 1
        (difference,) = report["differences"]
        assert difference["entity"] == "claim" and difference["id"] == 1
        assert difference["field"] == "statement" and difference["uid"] == uid
        assert difference["table"] == "Han Dong did nothing wrong at all"
        assert difference["logged"].startswith("Han Dong advised")
        # The chain itself is sound: the quick check passes, and skip-verify publishes.
        assert "(chain only)" in cli.ok("verify", "--chain-only").out
        assert cli("dossier", "Han Dong").code == 1
        assert "did nothing wrong" in cli.ok("dossier", "Han Dong", "--skip-verify").out
    finally:
        tables.engine.dispose()


def test_derived_columns_are_recomputed(story) -> None:
    cli = story
    tables = Tables(cli.db)
    try:
        attribution = next(
            r for r in tables.snapshot["attribution"] if r["quote_status"] == "verified"
        )
        for sql, field in (
            ("UPDATE person SET name_key = 'someone else' WHERE id = 1", "name_key"),
            ("UPDATE attribution SET quote_status = 'not-found' WHERE id = :i", "quote_status"),
            (
                "UPDATE attribution SET anchor_start = anchor_start + 3 WHERE id = :i",
                "anchor_start",
            ),
        ):
            tables.execute(sql, {"i": attribution["id"]})
            report = json.loads(cli("verify", "--json").out)
            derived = [d for d in report["differences"] if d["kind"] == "derived"]
            assert [d["field"] for d in derived] == [field], report["differences"]
            tables.restore("person")
            tables.restore("attribution")
    finally:
        tables.engine.dispose()


def test_response_anchors_and_capture_hashes_are_recomputed(story) -> None:
    """A response's quote status and anchor, and the capture a verified quote was found in
    (anchor_sha256), are derived columns like an attribution's anchor."""
    cli = story
    tables = Tables(cli.db)
    try:
        response = next(r for r in tables.snapshot["response"] if r["quote_status"] == "verified")
        attribution = next(
            r for r in tables.snapshot["attribution"] if r["quote_status"] == "verified"
        )
        assert response["anchor_sha256"] is not None
        for sql, table, row, field in (
            (
                "UPDATE response SET quote_status = 'not-found' WHERE id = :i",
                "response",
                response,
                "quote_status",
            ),
            (
                "UPDATE response SET anchor_end = anchor_end - 1 WHERE id = :i",
                "response",
                response,
                "anchor_end",
            ),
            (
                "UPDATE attribution SET anchor_sha256 = :x WHERE id = :i",
                "attribution",
                attribution,
                "anchor_sha256",
            ),
            (
                "UPDATE response SET anchor_sha256 = :x WHERE id = :i",
                "response",
                response,
                "anchor_sha256",
            ),
        ):
            tables.execute(sql, {"i": row["id"], "x": "0" * 64})
            report = json.loads(cli("verify", "--json").out)
            derived = [d for d in report["differences"] if d["kind"] == "derived"]
            assert [(d["entity"], d["field"]) for d in derived] == [(table, field)], derived
            tables.restore(table)
        assert "rows match the log" in cli.ok("verify").out
    finally:
        tables.engine.dispose()


def test_a_source_event_from_before_captures_verifies(story) -> None:
    """A source event logged before file_sha256 and media_type existed lacks both keys: they
    read as None, so it verifies against a row that holds None."""
    cli = story
    log = Log(cli.db)
    try:
        event = next(
            r
            for r in log.original
            if r["entity"] == "source" and json.loads(r["state"])["file_sha256"] is None
        )
        state = json.loads(event["state"])
        del state["file_sha256"], state["media_type"]
        log.rewrite(event["seq"], state=canonical_json(state))
        assert "rows match the log" in cli.ok("verify").out
    finally:
        log.restore()
        log.engine.dispose()


# --- each event is validated (issue 17, item 7) ------------------------------------------------


class Log:
    """The event table with its append-only triggers dropped, rewritten as an attacker with
    the code would: the changed event and every later hash recomputed."""

    def __init__(self, db: str) -> None:
        self.engine = create_engine(_url(db))
        self.postgres = db.startswith("postgresql://")
        with self.engine.begin() as connection:
            if self.postgres:
                connection.execute(text("ALTER TABLE event DISABLE TRIGGER ALL"))
            else:
                connection.execute(text("DROP TRIGGER IF EXISTS event_no_update"))
                connection.execute(text("DROP TRIGGER IF EXISTS event_no_delete"))
            self.original = [
                dict(r._mapping)
                for r in connection.execute(text("SELECT * FROM event ORDER BY seq"))
            ]

    def rewrite(self, seq: int, **changes) -> None:
        rows = [dict(r) for r in self.original]
        rows[seq - 1].update(changes)
        prev = rows[seq - 2]["hash"] if seq > 1 else GENESIS
        for row in rows[seq - 1 :]:
            row["prev_hash"] = prev
            row["hash"] = prev = event_hash(
                seq=row["seq"],
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                entity=row["entity"],
                uid=row["uid"],
                state=row["state"],
                prev=prev,
                on_behalf=row.get("on_behalf"),
            )
        self._replace(rows)

    def restore(self) -> None:
        self._replace(self.original)

    def _replace(self, rows: list[dict]) -> None:
        columns = list(rows[0])
        with self.engine.begin() as connection:
            connection.execute(text("DELETE FROM event"))
            connection.execute(
                text(
                    f"INSERT INTO event ({', '.join(columns)}) VALUES "
                    f"({', '.join(':' + c for c in columns)})"
                ),
                rows,
            )


def test_each_event_is_validated_and_readers_name_a_bad_one(story) -> None:
    cli = story
    log = Log(cli.db)
    try:
        claim = next(r for r in log.original if r["entity"] == "claim")
        seq, state = claim["seq"], json.loads(claim["state"])
        earlier = log.original[seq - 2]["at"]
        cases = {
            "not a UTC timestamp": {"at": "2026-01-01 00:00:00"},
            "is earlier than the event before it": {"at": "2000-01-01T00:00:00.000000Z"},
            "its action 'delete' is not one of": {"action": "delete"},
            "its entity 'claims' is not one of": {"entity": "claims"},
            "its state is not an object of the claim shape": {"state": canonical_json([1])},
            "field(s) a claim does not have: extra": {
                "state": canonical_json({**state, "extra": 1})
            },
            "its state's statement is 5": {"state": canonical_json({**state, "statement": 5})},
            "its state's people is": {"state": canonical_json({**state, "people": "Han Dong"})},
            "is not the event's uid": {"state": canonical_json({**state, "uid": "0" * 32})},
        }
        assert earlier <= claim["at"]
        for problem, changes in cases.items():
            log.rewrite(seq, **changes)
            result = cli("verify", "--chain-only")
            assert result.code == 1, problem
            assert f"at sequence number {seq}: " in result.err and problem in result.err, result.err
            assert cli("publish", "--out", "never").code == 1
            if "state" in changes:  # readers name the event instead of failing on it
                shown = cli("log", "--limit", "500")
                assert shown.code == 0 and f"event {seq} is malformed" in shown.err, problem
                assert json.loads(cli.ok("log", "--json", "--limit", "500").out)
                exported = cli("export", "--format", "claimreview")
                assert "Traceback" not in exported.err and "unexpected" not in exported.err
                assert exported.code == 0 or f"event {seq} is malformed" in exported.err
            log.restore()
        cli.ok("verify")
    finally:
        log.engine.dispose()


def test_an_older_event_without_a_newer_field_verifies(story) -> None:
    """A field the state function gained later is missing from older events: it reads as None,
    so the event verifies and its record still equals the row."""
    cli = story
    log = Log(cli.db)
    try:
        claim = next(
            r
            for r in log.original
            if r["entity"] == "claim" and json.loads(r["state"])["retraction_reason"] is None
        )
        state = json.loads(claim["state"])
        del state["retraction_reason"]
        log.rewrite(claim["seq"], state=canonical_json(state))
        assert "rows match the log" in cli.ok("verify").out
    finally:
        log.restore()
        log.engine.dispose()


def test_missing_keys_of_required_fields_are_refused() -> None:
    from ledger.integrity import state_problem

    uid = "a" * 32
    assert state_problem("person", uid, {"uid": uid}) is not None  # a person needs a name
    assert (
        state_problem(
            "claim", uid, {"uid": uid, "statement": "s", "people": [], "status": "unverified"}
        )
        is None
    )


def test_library_report_counts_every_row(session) -> None:
    from ledger import store
    from ledger.store.replay import verify_ledger

    store.add_person(session, name="Han Dong", aliases=["Hang Dong"])
    source = store.add_source(session, title="A report", key="r", text="Han Dong said no.")
    claim = store.add_claim(session, statement="An allegation", about=["Han Dong"])
    store.cite(session, claim=claim, source=source, quote="said no")
    session.flush()
    report = verify_ledger(session)
    assert report.ok and report.replayed
    assert report.rows == {"person": 1, "source": 1, "claim": 1, "attribution": 1}
    assert verify_ledger(session, chain_only=True).replayed is False


@pytest.mark.parametrize("action,entity", [("remove", "claim"), ("add", "claims")])
def test_writers_append_only_known_actions_and_entities(session, action, entity) -> None:
    from ledger.store.events import append_event

    with pytest.raises(ValueError):
        append_event(session, action=action, entity=entity, uid="a" * 32, state={})


def test_a_forged_anchor_inside_a_word_is_caught(cli, tmp_path: Path) -> None:
    """ "ring" is not quoted by "During the day": an anchor forged onto it is recomputed."""
    text_file = tmp_path / "text.txt"
    text_file.write_text("During the day nothing happened.", encoding="utf-8")
    cli.ok("person", "add", "Han Dong")
    cli.ok("source", "add", "--key", "s", "--title", "T", "--text-file", str(text_file))
    cli.ok(
        "claim", "add", "An allegation", "--about", "Han Dong", "--source", "s", "--quote", "ring"
    )
    tables = Tables(cli.db)
    try:
        assert tables.snapshot["attribution"][0]["quote_status"] == "not-found"
        tables.execute(
            "UPDATE attribution SET quote_status = 'verified', anchor_start = 2, "
            "anchor_end = 6, anchor_prefix = 'Du', anchor_suffix = ' the day nothing "
            "happened.'"
        )
        report = json.loads(cli("verify", "--json").out)
        assert {d["field"] for d in report["differences"]} >= {"quote_status"}, report
    finally:
        tables.engine.dispose()


def test_responses_verify_the_same_whatever_source_texts_are_kept(story, monkeypatch) -> None:
    """Responses are read in id order and their sources' texts kept up to a budget: with no
    budget at all (every text read again) a forged anchor is found exactly as with all kept."""
    from ledger.store import replay

    cli = story
    tables = Tables(cli.db)
    try:
        response = next(r for r in tables.snapshot["response"] if r["quote_status"] == "verified")
        tables.execute("UPDATE response SET anchor_end = anchor_end - 1 WHERE id = :i",
                       {"i": response["id"]})
        reports = []
        for budget in (0, replay.TEXT_CACHE_CHARS):
            monkeypatch.setattr(replay, "TEXT_CACHE_CHARS", budget)
            reports.append(json.loads(cli("verify", "--json").out))
        assert reports[0] == reports[1]
        assert [(d["entity"], d["field"]) for d in reports[0]["differences"]] == [
            ("response", "anchor_end")
        ]
    finally:
        tables.engine.dispose()
