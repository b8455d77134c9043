"""`ledger source ...`: documents and the links between them."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import (
    Json,
    PageLimit,
    PageOffset,
    SourceRef,
    emit_json,
    new_app,
    out,
    read_text_file,
    state,
    table,
)

app = new_app("Sources: articles, statements, records, petitions, posts.")

Title = Annotated[str | None, typer.Option("--title", help="The document's title.")]
Publisher = Annotated[str | None, typer.Option("--publisher", help="e.g. CBC News.")]
Author = Annotated[str | None, typer.Option("--author")]
Url = Annotated[str | None, typer.Option("--url", help="http or https.")]
Published = Annotated[str | None, typer.Option("--published",
                                               help="YYYY, YYYY-MM or YYYY-MM-DD.")]
Kind = Annotated[str | None, typer.Option(
    "--kind", help="article | statement | record | petition | post | report | transcript | "
    "other.")]
Language = Annotated[str | None, typer.Option("--language", help="e.g. en, fr.")]
TextFile = Annotated[str | None, typer.Option(
    "--text-file", help="The document's text (UTF-8), stored with its SHA-256.")]


@app.command("add")
def add(ctx: typer.Context, title: Title = None,
        key: Annotated[str | None, typer.Option(
            "--key", help="Short unique handle you will type (default: from publisher "
            "and date).")] = None,
        publisher: Publisher = None, author: Author = None, url: Url = None,
        published: Published = None, kind: Kind = None, language: Language = None,
        text_file: TextFile = None,
        cites: Annotated[list[str] | None, typer.Option(
            "--cites", help="Key of a source this one relies on (repeatable).")] = None,
        json: Json = False) -> None:
    """Record a source document, optionally with its text.

    \b
    Example:
      ledger source add --key cbc-dong --title "Han Dong leaves Liberal caucus" \\
        --publisher "CBC News" --published 2023-03 --text-file cbc.txt --cites globalnews
    """
    from ledger import store
    from ledger.errors import InvalidValue

    if title is None:
        raise InvalidValue("--title is required")
    text = read_text_file(text_file)
    with state(ctx).write() as session:
        source = store.add_source(session, title=title, key=key, publisher=publisher,
                                  author=author, url=url, published=published,
                                  kind=kind or "article", language=language, text=text,
                                  cites=cites or [])
        record = store.source_record(session, source)
    if json:
        emit_json(record)
    else:
        out(f"Added source {source.key}: {source.title}")


@app.command("list")
def list_(ctx: typer.Context, json: Json = False, limit: PageLimit = None,
          offset: PageOffset = 0) -> None:
    """List sources by publication date (--limit and --offset show one page).

    \b
    Examples:
      ledger source list
      ledger source list --limit 50 --offset 100 --json
    """
    from ledger import store

    with state(ctx).read() as session:
        records = [store.source_record(session, s)
                   for s in store.list_sources(session, limit=limit, offset=offset)]
    if json:
        emit_json(records)
    else:
        table([[r["key"], r["published"], r["publisher"], r["title"],
                "yes" if r["text_sha256"] else "no", ", ".join(r["cites"])] for r in records],
              ["KEY", "PUBLISHED", "PUBLISHER", "TITLE", "TEXT", "CITES"])


@app.command("show")
def show(ctx: typer.Context, key: SourceRef, json: Json = False) -> None:
    """Show one source and what it relies on.

    \b
    Example:
      ledger source show cbc-dong
    """
    from ledger import store

    with state(ctx).read() as session:
        record = store.source_record(session, store.get_source(session, key))
    if json:
        emit_json(record)
        return
    out(f"{record['key']}: {record['title']}")
    for name in ("publisher", "author", "published", "kind", "language", "url", "retrieved"):
        if record[name]:
            out(f"  {name}: {record[name]}")
    if record["text_sha256"]:
        out(f"  text: {record['text_length']:,} characters, sha256 {record['text_sha256']}")
    for relation in ("cites", "republishes", "translates"):
        if record[relation]:
            out(f"  {relation}: {', '.join(record[relation])}")


@app.command("edit")
def edit(ctx: typer.Context, key: SourceRef, title: Title = None, publisher: Publisher = None,
         author: Author = None, url: Url = None, published: Published = None,
         kind: Kind = None, language: Language = None, text_file: TextFile = None,
         json: Json = False) -> None:
    """Change a source's details or its stored text; quotes against it are re-checked.

    \b
    Example:
      ledger source edit cbc-dong --published 2023-03-23 --text-file cbc.txt
    """
    from ledger import store

    text = read_text_file(text_file)
    with state(ctx).write() as session:
        source = store.edit_source(session, store.get_source(session, key), title=title,
                                   publisher=publisher, author=author, url=url,
                                   published=published, kind=kind, language=language,
                                   text=text)
        record = store.source_record(session, source)
    if json:
        emit_json(record)
    else:
        out(f"Edited source {source.key}")


@app.command("link")
def link(ctx: typer.Context, key: SourceRef,
         cites: Annotated[str | None, typer.Option(
             "--cites", help="Key of the source it relies on.")] = None,
         relation: Annotated[str, typer.Option(
             "--relation", help="cites | republishes | translates.")] = "cites",
         json: Json = False) -> None:
    """Record that one source relies on another; a citation cycle is refused.

    \b
    Example:
      ledger source link wire-dong --cites globalnews --relation translates
    """
    from ledger import store
    from ledger.errors import InvalidValue

    if not cites:
        raise InvalidValue("--cites is required: which source does it rely on?")
    with state(ctx).write() as session:
        source = store.get_source(session, key)
        target = store.get_source(session, cites, field="cites")
        store.link_sources(session, source=source, target=target, relation=relation)
        record = store.source_record(session, source)
    if json:
        emit_json(record)
    else:
        out(f"Linked {source.key} {relation} {target.key}")
