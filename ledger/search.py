"""Full-text search over statements, quotes, responses, source titles and stored texts.

`search(session, query=...)` returns ranked hits, each with a highlighted snippet and what it
belongs to: a claim (its statement), an attribution (the quote a source carries for a claim),
a response (to a claim, by a person) or a source (its title or stored text).

The words are searched as typed: each one is quoted before it reaches the index, so
characters such as `"`, `*`, `:`, `(` or `NOT` are ordinary text and never a syntax error.
With `raw=True` the backend's own syntax is used (FTS5 query syntax on SQLite; web search
syntax on PostgreSQL: "phrases", `or`, `-word`); a query it cannot parse raises
`InvalidValue` with a hint. Words are stemmed in English
("elections" finds "election") and, on SQLite, accents are ignored.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from ledger.errors import InvalidValue
from ledger.store import search as search_store

if TYPE_CHECKING:
    from sqlmodel import Session

MAX_QUERY = 1_000
MAX_LIMIT = 1_000
# A raw FTS5 query's cost grows steeply with the terms of a NEAR group (200 took 22 s, with
# the write lock free but a reader's time gone); these caps keep any query under a second.
MAX_NEAR_TERMS = 10
MAX_RAW_TERMS = 64
_NEAR = re.compile(r"\bNEAR\s*\(([^)]*)\)")
_RAW_TERM = re.compile(r'"(?:[^"]|"")*"|[^\s()"]+')
DEFAULT_MARK = ("**", "**")
_WORDLIKE = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class SearchHit:
    """One search result and what it belongs to.

    `type` is claim, attribution, response or source; `id` is that record's id; `claim` and
    `source` name the claim id and source key it concerns (when any); `title` says in a line
    what the hit belongs to; `snippet` is the best passage with the matched words marked.
    """

    type: str
    id: int
    claim: int | None
    source: str | None
    person: str | None
    title: str
    snippet: str
    score: float

    def as_dict(self) -> dict[str, Any]:
        """The hit as `--json` prints it."""
        return asdict(self)


def check_query(query: str | None) -> str:
    """Validate a search query: not blank, no NUL, at most MAX_QUERY characters."""
    value = unicodedata.normalize("NFC", query or "").strip()
    if not value:
        raise InvalidValue("give at least one word to search for")
    if "\x00" in value:
        raise InvalidValue("the query contains a NUL character")
    if len(value) > MAX_QUERY:
        raise InvalidValue(f"the query is {len(value):,} characters; the limit is {MAX_QUERY:,}")
    return value


def check_raw(query: str) -> None:
    """Refuse a raw (FTS5) query too complex to answer quickly (see MAX_NEAR_TERMS)."""
    for group in _NEAR.finditer(query):
        inside = group.group(1).rsplit(",", 1)[0] if "," in group.group(1) else group.group(1)
        terms = len(_RAW_TERM.findall(inside))
        if terms > MAX_NEAR_TERMS:
            raise InvalidValue(f"the query's NEAR group has {terms} terms; the limit is "
                               f"{MAX_NEAR_TERMS}. Search for fewer words near each other, or "
                               "for a phrase")
    terms = [t for t in _RAW_TERM.findall(query) if t not in ("AND", "OR", "NOT")]
    if len(terms) > MAX_RAW_TERMS:
        raise InvalidValue(f"the query has {len(terms)} terms; the limit for --raw is "
                           f"{MAX_RAW_TERMS}")


def fts_quote(query: str) -> str:
    """The FTS5 query that finds every word of `query` as typed (AND), with no syntax.

    Each white-space separated word becomes an FTS5 string ("..." with inner quotes doubled),
    so operators, column filters and stray quotes in user input are plain text. Words with no
    letter or digit are dropped (they match nothing).
    """
    words = [w for w in query.split() if _WORDLIKE.search(w)]
    if not words:
        raise InvalidValue(f"{query!r} has no word to search for (letters or digits)")
    return " ".join('"' + w.replace('"', '""') + '"' for w in words)


def search(session: Session, *, query: str, limit: int = 20, raw: bool = False,
           mark: tuple[str, str] = DEFAULT_MARK) -> list[SearchHit]:
    """The best `limit` hits for `query`, best first (see the module docstring)."""
    query = check_query(query)
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidValue(f"--limit must be between 1 and {MAX_LIMIT}; got {limit}")
    sqlite = session.get_bind().dialect.name == "sqlite"
    quoted = fts_quote(query)  # also refuses a query with no word in it, on both backends
    if raw:
        check_raw(query)
    match = quoted if sqlite and not raw else query
    rows = search_store.search_rows(session, match=match, raw=raw, limit=limit, mark=mark)
    return [_describe(row) for row in rows]


def _short(value: str, width: int = 80) -> str:
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"


def _describe(row: search_store.HitRow) -> SearchHit:
    person = None
    if row.table == "claim":
        title = f"claim {row.claim_id}: {_short(row.statement)}"
    elif row.table == "attribution":
        title = f"quote in {row.source_key} for claim {row.claim_id}"
        if row.voice:
            title += f" ({_short(row.voice, 40)})"
    elif row.table == "response":
        person = row.respondent
        title = f"{row.kind} by {row.respondent} to claim {row.claim_id}"
    else:
        title = f"source {row.source_key}: {_short(row.source_title)}"
    snippet = " ".join((row.snippet or "").split())
    return SearchHit(type=row.table, id=row.id, claim=row.claim_id, source=row.source_key,
                     person=person, title=title, snippet=snippet or title,
                     score=round(row.score, 6))
