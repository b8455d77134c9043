"""`ledger search`: full-text search over statements, quotes, responses and sources."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import Json, emit_json, info, out, state


def search(ctx: typer.Context,
           query: Annotated[str, typer.Argument(help="The words to find.", show_default=False)],
           limit: Annotated[int, typer.Option("--limit", help="How many hits (1-1000).")] = 20,
           raw: Annotated[bool, typer.Option(
               "--raw", help="Use the index's own query syntax (FTS5 on SQLite: \"phrase\", "
               "OR, NOT, prefix*; web search syntax on PostgreSQL).")] = False,
           json: Json = False) -> None:
    """Find claims, quotes, responses and sources by their words, best match first.

    Each hit shows what it belongs to and the best passage, with the matched words between
    ** marks. Words are matched as typed (all of them, in any order, English stemming);
    --raw allows the index's query syntax.

    \b
    Example:
      ledger search "national security sources" --limit 5
    """
    from ledger.search import search as run_search

    with state(ctx).read() as session:
        hits = run_search(session, query=query, limit=limit, raw=raw)
    if json:
        emit_json([hit.as_dict() for hit in hits])
        return
    if not hits:
        info(f"No match for {query!r}.")
        return
    for hit in hits:
        out(hit.title)
        out(f"    {hit.snippet}")
