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
from typing import Any

from sqlmodel import Session

from ledger.errors import InvalidValue
from ledger.models import Attribution, Claim, Person, Response, Source
from ledger.store import search as search_store

MAX_QUERY = 1_000
MAX_LIMIT = 1_000
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
    match = quoted if sqlite and not raw else query
    hits = search_store.match_rows(session, match=match, raw=raw, limit=limit)
    owners = search_store.load_owners(session, hits)
    passages = search_store.snippets(session, hits=hits, match=match, raw=raw, mark=mark)
    described = [_describe(session, hit, passages.get((hit.table, hit.id), "")) for hit in hits]
    del owners  # held until here so the session's weak identity map keeps the rows
    return described


def _short(value: str, width: int = 80) -> str:
    value = " ".join(value.split())
    return value if len(value) <= width else value[: width - 1] + "…"


def _describe(session: Session, hit: search_store.RawHit, snippet: str) -> SearchHit:
    claim_id = source_key = person = None
    if hit.table == "claim":
        claim = session.get(Claim, hit.id)
        claim_id, title = claim.id, f"claim {claim.id}: {_short(claim.statement)}"
    elif hit.table == "attribution":
        attribution = session.get(Attribution, hit.id)
        source = session.get(Source, attribution.source_id)
        claim_id, source_key = attribution.claim_id, source.key
        title = f"quote in {source.key} for claim {claim_id}"
        if attribution.voice:
            title += f" ({_short(attribution.voice, 40)})"
    elif hit.table == "response":
        response = session.get(Response, hit.id)
        respondent = session.get(Person, response.respondent_id)
        source = session.get(Source, response.source_id) if response.source_id else None
        claim_id, person = response.claim_id, respondent.name
        source_key = source.key if source else None
        title = f"{response.kind} by {respondent.name} to claim {claim_id}"
    else:
        source = session.get(Source, hit.id)
        source_key, title = source.key, f"source {source.key}: {_short(source.title)}"
    return SearchHit(type=hit.table, id=hit.id, claim=claim_id, source=source_key,
                     person=person, title=title, snippet=snippet or title,
                     score=round(hit.score, 6))
