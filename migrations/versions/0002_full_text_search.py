"""Full-text search over statements, quotes, responses, source titles and stored texts.

SQLite: one FTS5 external-content table per searched table (`search_claim` over
claim.statement, `search_attribution` over quote and voice, `search_response` over quote and
summary, `search_source` over title and text), kept current by triggers. External content
means the words are stored once, in the ledger's own tables; the index can be rebuilt in one
statement (`INSERT INTO search_claim(search_claim) VALUES ('rebuild')`), which is how a bulk
import refreshes it (see `ledger.store.search.suspend_index`). `content="claim"` is written
with double quotes because that is what Datasette looks for to offer its search box.

PostgreSQL: a GIN index on a `to_tsvector('english', ...)` expression per searched table; the
queries in `ledger.store.search` repeat the same expressions so the planner uses them.

Every object is named `search_*`, so autogenerate leaves it alone (`ledger.db.include_object`).
A later batch migration that copies one of these tables on SQLite drops its triggers with the
old table: it must create them again (copy them from this file) and rebuild the index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> the columns it is searched on
SEARCHED = {
    "claim": ("statement",),
    "attribution": ("quote", "voice"),
    "response": ("quote", "summary"),
    "source": ("title", "text"),
}
TOKENIZER = "porter unicode61 remove_diacritics 2"
# PostgreSQL: one document per row. Stored texts are indexed up to 200,000 characters, well
# inside the 1 MB a tsvector may hold.
PG_DOCUMENTS = {
    "claim": "statement",
    "attribution": "coalesce(quote, '') || ' ' || coalesce(voice, '')",
    "response": "coalesce(quote, '') || ' ' || coalesce(summary, '')",
    "source": "title || ' ' || left(coalesce(text, ''), 200000)",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table, columns in SEARCHED.items():
            _create_sqlite(table, columns)
    else:
        for table, document in PG_DOCUMENTS.items():
            op.execute(f"CREATE INDEX search_{table}_tsv ON {table} "
                       f"USING gin (to_tsvector('english'::regconfig, {document}))")


def _create_sqlite(table: str, columns: tuple[str, ...]) -> None:
    fts = f"search_{table}"
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    op.execute(f'CREATE VIRTUAL TABLE {fts} USING fts5({names}, content="{table}", '
               f"content_rowid=\"id\", tokenize='{TOKENIZER}')")
    op.execute(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); END")
    # Only a change to a searched column touches the index (a status edit does not).
    op.execute(f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN "
               f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
               f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END")
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in SEARCHED:
            for verb in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER IF EXISTS search_{table}_{verb}")
            op.execute(f"DROP TABLE IF EXISTS search_{table}")
    else:
        for table in PG_DOCUMENTS:
            op.execute(f"DROP INDEX IF EXISTS search_{table}_tsv")
