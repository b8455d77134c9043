"""Migrations over real data: each one downgrades and upgrades a filled ledger losslessly.

The revisions come from alembic's ScriptDirectory, so a new migration is covered the moment
it is added. The ledger holds non-ASCII names, a 1 MB text, partial dates and empty optional
fields; after downgrading past a revision and upgrading back, every table's every value, the
export and the verify result are what they were.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from ledger import db as ledger_db

REVISIONS = list(reversed(list(
    ScriptDirectory.from_config(ledger_db.alembic_config()).walk_revisions())))
MEGABYTE_TEXT = ("Ein Satz über Łódź, 北京 und «Zitate» — " * 30_000)[:1_000_000]

RECORDS = [
    {"type": "person", "name": "Zhao Wei 赵巍", "aliases": ["Zhao", "Чжао Вэй"],
     "description": "Diplomat; «expelled» in 2023"},
    {"type": "person", "name": "Zoë Ñandú-Øster"},  # no description, no aliases
    {"type": "person", "name": "محمد الأحمد", "kind": "organization"},
    {"type": "person", "name": "Han Dong", "aliases": ["Hang Dong"]},
    {"type": "source", "key": "long", "title": "Ein sehr langer Bericht", "published": "2021",
     "text": MEGABYTE_TEXT, "language": "de", "publisher": "Zeitung"},
    {"type": "source", "key": "month", "title": "A month-dated post", "published": "2021-02",
     "url": "https://example.org/ünïcode?q=1", "cites": ["long"]},
    {"type": "source", "key": "bare", "title": "Only a title"},  # every optional field empty
    {"type": "claim", "ref": "c1", "statement": "Zhao Wei 赵巍 targeted an MP’s family",
     "about": ["Zoë Ñandú-Øster"], "claimant": "Zhao Wei 赵巍", "occurred": "2021-02-14",
     "attributions": [{"source": "long", "quote": "über Łódź", "voice": "zwei Quellen",
                       "sourcing": "anonymous"}, {"source": "bare"}]},
    {"type": "claim", "ref": "c2", "statement": "A claim with nothing else",
     "about": ["Han Dong"]},
    {"type": "claim", "ref": "c3", "statement": "A claim about an organization",
     "about": ["محمد الأحمد"], "targets": ["Han Dong"], "occurred": "2021", "status": "disputed"},
    {"type": "response", "claim": "c1", "by": "Zhao Wei 赵巍", "kind": "denial",
     "date": "2023-05", "source": "month", "quote": "Wir weisen das zurück"},
    {"type": "response", "claim": "c2", "by": "Han Dong", "kind": "no-comment"},
    {"type": "reply", "claim": "c3", "to": "Han Dong", "sent": "2023-03", "deadline": "2023-04-01"},
]


def _engine(db: str):
    return ledger_db.make_engine(ledger_db.database_url(db))


def _tables(engine) -> dict[str, list[dict]]:
    """Every row of every ledger table, in a stable order."""
    with engine.connect() as connection:
        names = [n for n in inspect(connection).get_table_names()
                 if n != "alembic_version" and not n.startswith(ledger_db.UNMODELLED_PREFIXES)]
        return {name: [dict(row._mapping) for row in connection.execute(
                    text(f'SELECT * FROM "{name}" ORDER BY 1'))] for name in sorted(names)}


@pytest.fixture
def filled(cli, tmp_path: Path):
    bundle = tmp_path / "data.jsonl"
    bundle.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in RECORDS),
                      encoding="utf-8")
    cli.ok("import", str(bundle))
    claim = cli.json("claim", "list")[1]["id"]
    cli.ok("claim", "retract", str(claim), "--reason", "Rétracté: la source s’est trompée")
    cli.ok("person", "edit", "Han Dong", "--description", "MP for Don Valley North")
    return cli


@pytest.mark.parametrize("revision", REVISIONS, ids=[r.revision for r in REVISIONS])
def test_migration_round_trip_over_data(filled, revision, tmp_path: Path) -> None:
    cli = filled
    export = cli.ok("export").out
    report = json.loads(cli.ok("verify", "--json").out)
    engine = _engine(cli.db)
    try:
        tables = _tables(engine)
        assert len(tables["source"]) == 3 and MEGABYTE_TEXT in {r for row in tables["source"]
                                                                 for r in row.values()}
        target = revision.down_revision or "base"
        ledger_db.downgrade(engine, target)
        assert ledger_db.current_revision(engine) == (None if target == "base" else target)
        if target != "base":
            kept = _tables(engine)
            for name, rows in kept.items():
                # A column the revision added is gone; every other value is kept.
                columns = set(rows[0]) if rows else set()
                before = [{k: v for k, v in row.items() if k in columns}
                          for row in tables.get(name, [])] if rows else tables.get(name, [])
                assert rows == before, f"{name} changed by the downgrade"
        ledger_db.upgrade(engine, "head")
        assert ledger_db.current_revision(engine) == ledger_db.HEAD_REVISION
        if target != "base":
            assert _tables(engine) == tables
    finally:
        engine.dispose()
    if target == "base":
        # The first migration's downgrade empties the ledger; the export brings it all back.
        saved = tmp_path / "saved.jsonl"
        saved.write_text(export, encoding="utf-8")
        assert cli.ok("verify", "--json").out and cli.json("person", "list") == []
        cli.ok("import", str(saved))
        assert cli.ok("export").out == export
        cli.ok("verify")
        return
    assert cli.ok("export").out == export
    assert json.loads(cli.ok("verify", "--json").out) == report


def test_every_revision_has_a_downgrade() -> None:
    for revision in REVISIONS:
        assert callable(getattr(revision.module, "downgrade", None)), revision.revision
    assert REVISIONS[-1].revision == ledger_db.HEAD_REVISION
