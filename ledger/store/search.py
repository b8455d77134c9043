"""Full-text search queries, and keeping the index current during bulk writes.

The index itself is made by migration 0002: FTS5 external-content tables kept current by
triggers on SQLite, GIN expression indexes on PostgreSQL. This module is the only code that
queries them. A search is one statement: each searched table answers for its best `limit` rows,
the union is ranked, and the rows finally shown are joined to what describes them (on
PostgreSQL only those get a highlighted passage; FTS5's snippet() needs its cursor, so on
SQLite each table's best rows carry theirs), so the cost stays close to one bare index query.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import TextClause, text
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
# The same documents over the aliases the search statement joins (for the highlighted passage).
_PG_SHOWN = {
    "claim": "c.statement",
    "attribution": "coalesce(a.quote, '') || ' ' || coalesce(a.voice, '')",
    "response": "coalesce(r.quote, '') || ' ' || coalesce(r.summary, '')",
    "source": "s.title || ' ' || left(coalesce(s.text, ''), 200000)",
}
PG_CONFIG = "'english'::regconfig"
SNIPPET_TOKENS = 16


class HitRow(NamedTuple):
    """One matching row with its snippet and what describes its owner (None where it does
    not apply): `claim_id` is the claim it concerns, `statement` a claim hit's statement,
    `voice` an attribution's voice, `kind` a response's kind, `respondent` its author's name,
    `source_key` and `source_title` the source it is (a source hit) or cites."""

    table: str
    id: int
    score: float
    snippet: str | None
    claim_id: int | None
    statement: str | None
    voice: str | None
    kind: str | None
    respondent: str | None
    source_key: str | None
    source_title: str | None


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# --- queries ------------------------------------------------------------------------------

# The hits joined to what describes them; {hits} is the ranked union of the per-table hits.
_OWNERS = """
SELECT hits.tbl, hits.id, hits.score, {snippet},
       coalesce(c.id, a.claim_id, r.claim_id), c.statement, a.voice, r.kind, rp.name,
       s.key, s.title
FROM ({hits}) AS hits
LEFT JOIN claim AS c ON hits.tbl = 'claim' AND c.id = hits.id
LEFT JOIN attribution AS a ON hits.tbl = 'attribution' AND a.id = hits.id
LEFT JOIN response AS r ON hits.tbl = 'response' AND r.id = hits.id
LEFT JOIN person AS rp ON rp.id = r.respondent_id
LEFT JOIN source AS s ON s.id = CASE hits.tbl WHEN 'source' THEN hits.id
    WHEN 'attribution' THEN a.source_id WHEN 'response' THEN r.source_id END
ORDER BY hits.score DESC, hits.tbl, hits.id
"""


@lru_cache(maxsize=8)
def _search_statement(dialect: str, raw: bool) -> TextClause:
    """The one statement a search runs, built once per dialect and syntax."""
    if dialect == "sqlite":
        # snippet() needs the FTS5 cursor, so it is taken inside each table's best rows.
        parts = [f"SELECT * FROM (SELECT '{table}' AS tbl, rowid AS id, -rank AS score, "
                 f"snippet(search_{table}, -1, :open, :close, :ellipsis, {SNIPPET_TOKENS}) "
                 f"AS snip FROM search_{table} WHERE search_{table} MATCH :q "
                 f"ORDER BY rank LIMIT :n)" for table in SEARCHED]
        hits = " UNION ALL ".join(parts) + " ORDER BY score DESC, tbl, id LIMIT :n"
        return text(_OWNERS.format(hits=hits, snippet="hits.snip"))
    parser = "websearch_to_tsquery" if raw else "plainto_tsquery"
    parts = [f"SELECT * FROM (SELECT '{table}' AS tbl, id, "
             f"ts_rank(to_tsvector({PG_CONFIG}, {document}), query) AS score "
             f"FROM {table}, {parser}({PG_CONFIG}, :q) AS query "
             f"WHERE to_tsvector({PG_CONFIG}, {document}) @@ query "
             f"ORDER BY score DESC, id LIMIT :n) AS {table}_hits"
             for table, document in PG_DOCUMENTS.items()]
    hits = " UNION ALL ".join(parts) + " ORDER BY score DESC, tbl, id LIMIT :n"
    # ts_headline needs no index, so only the rows finally shown pay for it.
    document = "CASE hits.tbl " + " ".join(
        f"WHEN '{table}' THEN {expression}" for table, expression in _PG_SHOWN.items()) + " END"
    snippet = f"ts_headline({PG_CONFIG}, {document}, {parser}({PG_CONFIG}, :q), :options)"
    return text(_OWNERS.format(hits=hits, snippet=snippet))


def search_rows(session: Session, *, match: str, raw: bool, limit: int,
                mark: tuple[str, str], ellipsis: str = "…") -> list[HitRow]:
    """The best `limit` rows over every searched table, best first, each with its best
    passage (matched words between `mark`) and what describes it, in one statement.

    On SQLite `match` is an FTS5 query; on PostgreSQL it is plain text (or, with `raw`, web
    search syntax). A query the index cannot parse raises InvalidValue with a hint.
    """
    dialect = _dialect(session)
    params: dict[str, object] = {"q": match, "n": limit}
    if dialect == "sqlite":
        params.update(open=mark[0], close=mark[1], ellipsis=ellipsis)
    else:
        # Built here from fixed values; the marks are ours, not the user's.
        params["options"] = (
            f"StartSel=\"{mark[0]}\", StopSel=\"{mark[1]}\", FragmentDelimiter=\""
            f"{ellipsis}\", MaxFragments=1, MaxWords={SNIPPET_TOKENS + 4}, MinWords=6")
    try:
        rows = session.connection().execute(_search_statement(dialect, raw), params).all()
    except OperationalError as exc:
        raise InvalidValue(_syntax_hint(match, exc)) from None
    return [HitRow(row[0], int(row[1]), float(row[2]), *row[3:]) for row in rows]


def bare_match(session: Session, *, match: str, limit: int,
               tables: tuple[str, ...] = ("claim",)) -> list[tuple[str, int]]:
    """The plain FTS5 query, best `limit` (table, rowid) by rank over `tables` and nothing
    else (no snippet, no owner): the yardstick the search benchmarks compare with."""
    sql = " UNION ALL ".join(
        f"SELECT * FROM (SELECT '{table}' AS tbl, rowid AS id, rank FROM search_{table} "
        f"WHERE search_{table} MATCH :q ORDER BY rank LIMIT :n)" for table in tables)
    if len(tables) > 1:
        sql += " ORDER BY rank LIMIT :n"
    return [(row[0], row[1]) for row in session.connection().execute(
        text(sql), {"q": match, "n": limit})]


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
