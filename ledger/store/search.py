"""Full-text search queries, and keeping the index current during bulk writes.

The index itself is made by migration 0002: FTS5 external-content tables kept current by
triggers on SQLite, GIN expression indexes on PostgreSQL. This module is the only code that
queries them. Each searched table answers for its best `limit` rows, the union is ranked, and
only the rows finally shown get a highlighted snippet, so the cost stays close to one bare
index query.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from ledger.errors import InvalidValue

# table -> the columns migration 0002 indexes (SQLite) and the document expression (PostgreSQL;
# it must be exactly the indexed expression, or the planner cannot use the GIN index).
SEARCHED = {
    "claim": ("statement",),
    "attribution": ("quote", "voice"),
    "response": ("quote", "summary"),
    "source": ("title", "text"),
}
PG_DOCUMENTS = {
    "claim": "statement",
    "attribution": "coalesce(quote, '') || ' ' || coalesce(voice, '')",
    "response": "coalesce(quote, '') || ' ' || coalesce(summary, '')",
    "source": "title || ' ' || left(coalesce(text, ''), 200000)",
}
PG_CONFIG = "'english'::regconfig"
SNIPPET_TOKENS = 16


@dataclass(frozen=True)
class RawHit:
    """One matching row: which table, its id, and its score (higher is better)."""

    table: str
    id: int
    score: float


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# --- queries ------------------------------------------------------------------------------


def match_rows(session: Session, *, match: str, raw: bool, limit: int) -> list[RawHit]:
    """The best `limit` rows over every searched table, best first.

    On SQLite `match` is an FTS5 query; on PostgreSQL it is plain text (or, with `raw`, web
    search syntax). A query the index cannot parse raises InvalidValue with a hint.
    """
    if _dialect(session) == "sqlite":
        parts = [f"SELECT * FROM (SELECT '{table}' AS tbl, rowid AS id, -rank AS score "
                 f"FROM search_{table} WHERE search_{table} MATCH :q ORDER BY rank LIMIT :n)"
                 for table in SEARCHED]
        sql = " UNION ALL ".join(parts) + " ORDER BY score DESC, tbl, id LIMIT :n"
    else:
        parser = "websearch_to_tsquery" if raw else "plainto_tsquery"
        parts = [f"SELECT * FROM (SELECT '{table}' AS tbl, id, "
                 f"ts_rank(to_tsvector({PG_CONFIG}, {document}), query) AS score "
                 f"FROM {table}, {parser}({PG_CONFIG}, :q) AS query "
                 f"WHERE to_tsvector({PG_CONFIG}, {document}) @@ query "
                 f"ORDER BY score DESC, id LIMIT :n) AS {table}_hits"
                 for table, document in PG_DOCUMENTS.items()]
        sql = " UNION ALL ".join(parts) + " ORDER BY score DESC, tbl, id LIMIT :n"
    try:
        rows = session.connection().execute(text(sql), {"q": match, "n": limit}).all()
    except OperationalError as exc:
        raise InvalidValue(_syntax_hint(match, exc)) from None
    return [RawHit(table=row[0], id=int(row[1]), score=float(row[2])) for row in rows]


def bare_match(session: Session, *, match: str, limit: int) -> list[int]:
    """The plain FTS5 query on claims alone: the yardstick the search benchmark compares with."""
    sql = "SELECT rowid FROM search_claim WHERE search_claim MATCH :q ORDER BY rank LIMIT :n"
    return [row[0] for row in session.connection().execute(text(sql), {"q": match, "n": limit})]


def snippet(session: Session, *, hit: RawHit, match: str, raw: bool, mark: tuple[str, str],
            ellipsis: str = "…") -> str:
    """The best passage of the matching row, with the matched words between `mark`."""
    if _dialect(session) == "sqlite":
        fts = f"search_{hit.table}"
        sql = (f"SELECT snippet({fts}, -1, :open, :close, :ellipsis, {SNIPPET_TOKENS}) "
               f"FROM {fts} WHERE {fts} MATCH :q AND rowid = :id")
    else:
        parser = "websearch_to_tsquery" if raw else "plainto_tsquery"
        document = PG_DOCUMENTS[hit.table]
        # The options string is built here from fixed values; the marks are ours, not the user's.
        options = (f"StartSel=\"{mark[0]}\", StopSel=\"{mark[1]}\", FragmentDelimiter=\""
                   f"{ellipsis}\", MaxFragments=1, MaxWords={SNIPPET_TOKENS + 4}, MinWords=6")
        sql = (f"SELECT ts_headline({PG_CONFIG}, {document}, {parser}({PG_CONFIG}, :q), "
               f":options) FROM {hit.table} WHERE id = :id")
    params = {"q": match, "id": hit.id, "open": mark[0], "close": mark[1],
              "ellipsis": ellipsis}
    if _dialect(session) != "sqlite":
        params["options"] = options
    value = session.connection().execute(text(sql), params).scalar()
    return " ".join((value or "").split())


def _syntax_hint(match: str, exc: OperationalError) -> str:
    detail = str(exc.orig).strip().splitlines()[0] if exc.orig else "syntax error"
    detail = detail.removeprefix("fts5: ")
    return (f"cannot search for {match!r}: {detail}. Without --raw the words are searched as "
            'typed; with --raw use FTS5 syntax: words, "exact phrases", AND, OR, NOT, '
            "prefix* and parentheses")


# --- bulk writes ----------------------------------------------------------------------------


def suspend_index(session: Session) -> list[str]:
    """Drop the SQLite search triggers for a bulk write in this transaction.

    Returns their SQL for `resume_index`, which puts them back and rebuilds the index once,
    which is much faster than updating it row by row. Both run in the caller's transaction,
    so a rollback restores the triggers too. On PostgreSQL the GIN indexes need nothing:
    returns [].
    """
    if _dialect(session) != "sqlite":
        return []
    connection = session.connection()
    rows = connection.execute(text(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'search\\_%' "
        "ESCAPE '\\' ORDER BY name")).all()
    for name, _sql in rows:
        connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    return [sql for _name, sql in rows]


def resume_index(session: Session, triggers: list[str]) -> None:
    """Re-create the triggers `suspend_index` dropped and rebuild the index from the tables."""
    if _dialect(session) != "sqlite":
        return
    session.flush()
    connection = session.connection()
    for sql in triggers:
        connection.exec_driver_sql(sql)
    rebuild_index(session)


def rebuild_index(session: Session) -> None:
    """Rebuild every SQLite search index from the ledger's tables (a no-op on PostgreSQL)."""
    if _dialect(session) != "sqlite":
        return
    connection = session.connection()
    for table in SEARCHED:
        connection.exec_driver_sql(
            f"INSERT INTO search_{table}(search_{table}) VALUES ('rebuild')")
