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


def snippets(session: Session, *, hits: list[RawHit], match: str, raw: bool,
             mark: tuple[str, str], ellipsis: str = "…") -> dict[tuple[str, int], str]:
    """The best passage of each matching row, matched words between `mark`, keyed by
    (table, id). One query per table that has hits."""
    found: dict[tuple[str, int], str] = {}
    sqlite = _dialect(session) == "sqlite"
    for table in SEARCHED:
        ids = [hit.id for hit in hits if hit.table == table]
        if not ids:
            continue
        marks = ", ".join(str(int(i)) for i in ids)
        if sqlite:
            fts = f"search_{table}"
            sql = (f"SELECT rowid, snippet({fts}, -1, :open, :close, :ellipsis, "
                   f"{SNIPPET_TOKENS}) FROM {fts} WHERE {fts} MATCH :q AND rowid IN ({marks})")
        else:
            parser = "websearch_to_tsquery" if raw else "plainto_tsquery"
            sql = (f"SELECT id, ts_headline({PG_CONFIG}, {PG_DOCUMENTS[table]}, "
                   f"{parser}({PG_CONFIG}, :q), :options) FROM {table} WHERE id IN ({marks})")
        # The options string is built here from fixed values; the marks are ours, not the user's.
        options = (f"StartSel=\"{mark[0]}\", StopSel=\"{mark[1]}\", FragmentDelimiter=\""
                   f"{ellipsis}\", MaxFragments=1, MaxWords={SNIPPET_TOKENS + 4}, MinWords=6")
        params = {"q": match, "open": mark[0], "close": mark[1], "ellipsis": ellipsis,
                  "options": options}
        if sqlite:
            params.pop("options")
        for row_id, value in session.connection().execute(text(sql), params):
            found[(table, int(row_id))] = " ".join((value or "").split())
    return found


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


def load_owners(session: Session, hits: list[RawHit]) -> list:
    """Load the hits' rows (and their sources and respondents) in one query per table, so
    that describing each hit finds them in the session instead of querying again. Keep the
    returned list while describing: the session holds its rows only weakly."""
    from sqlmodel import col, select

    from ledger.models import Attribution, Claim, Person, Response, Source

    models = {"claim": Claim, "attribution": Attribution, "response": Response,
              "source": Source}
    loaded: dict[str, list] = {}
    for table, model in models.items():
        ids = [hit.id for hit in hits if hit.table == table]
        if ids:
            loaded[table] = list(session.exec(select(model).where(col(model.id).in_(ids))))
    sources = {a.source_id for a in loaded.get("attribution", [])} | {
        r.source_id for r in loaded.get("response", []) if r.source_id}
    kept = [row for rows in loaded.values() for row in rows]
    if sources:
        kept += session.exec(select(Source).where(col(Source.id).in_(sources))).all()
    people = {r.respondent_id for r in loaded.get("response", [])}
    if people:
        kept += session.exec(select(Person).where(col(Person.id).in_(people))).all()
    return kept
