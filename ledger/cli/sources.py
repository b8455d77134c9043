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
    info,
    new_app,
    out,
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
    "--text-file", help="The document as saved: text (UTF-8), HTML, PDF or WARC. Its text is "
    "extracted and stored with its SHA-256, and the file's own SHA-256 and media type.")]
Format = Annotated[str | None, typer.Option(
    "--format", help="txt | html | pdf | warc (default: from the file's content).")]


def _capture(path: str | None, fmt: str | None):
    """The --text-file's capture, or None; --format without --text-file is an error."""
    from ledger.errors import InvalidValue

    if path is None:
        if fmt is not None:
            raise InvalidValue("--format needs --text-file")
        return None
    from ledger.io.capture import read_capture

    return read_capture(path, format=fmt)


def _capture_fields(capture) -> dict:
    if capture is None:
        return {}
    return {"text": capture.text, "file_sha256": capture.file_sha256,
            "media_type": capture.media_type, "retrieved": capture.retrieved}


@app.command("add")
def add(ctx: typer.Context, title: Title = None,
        key: Annotated[str | None, typer.Option(
            "--key", help="Short unique handle you will type (default: from publisher "
            "and date).")] = None,
        publisher: Publisher = None, author: Author = None, url: Url = None,
        published: Published = None, kind: Kind = None, language: Language = None,
        text_file: TextFile = None, format: Format = None,
        cites: Annotated[list[str] | None, typer.Option(
            "--cites", help="Key of a source this one relies on (repeatable).")] = None,
        json: Json = False) -> None:
    """Record a source document, optionally with its text from the file you saved.

    An HTML page (or the page in a WARC) fills in --title, --published, --author and --url
    from its metadata when they are not given, saying where each came from.

    \b
    Example:
      ledger source add --key cbc-dong --title "Han Dong leaves Liberal caucus" \\
        --publisher "CBC News" --published 2023-03 --text-file cbc.html --cites globalnews
    """
    from ledger import store
    from ledger.errors import InvalidValue

    capture = _capture(text_file, format)
    given = {"title": title, "published": published, "author": author, "url": url}
    for name, (value, where) in (capture.metadata.items() if capture else ()):
        if given.get(name) is None:
            given[name] = value
            info(f"--{name} from {where}: {value}")
    if given["title"] is None:
        raise InvalidValue("--title is required")
    with state(ctx).write() as session:
        source = store.add_source(session, title=given["title"], key=key, publisher=publisher,
                                  author=given["author"], url=given["url"],
                                  published=given["published"], kind=kind or "article",
                                  language=language, cites=cites or [],
                                  **_capture_fields(capture))
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
    if record["file_sha256"]:
        out(f"  captured from: {record['media_type']}, sha256 {record['file_sha256']}")
    for relation in ("cites", "republishes", "translates"):
        if record[relation]:
            out(f"  {relation}: {', '.join(record[relation])}")


@app.command("edit")
def edit(ctx: typer.Context, key: SourceRef, title: Title = None, publisher: Publisher = None,
         author: Author = None, url: Url = None, published: Published = None,
         kind: Kind = None, language: Language = None, text_file: TextFile = None,
         format: Format = None, json: Json = False) -> None:
    """Change a source's details or its stored text; quotes against it are re-checked.

    To store a newer capture of the same document and see what it did to each quote, use
    `ledger source recapture`.

    \b
    Example:
      ledger source edit cbc-dong --published 2023-03-23 --text-file cbc.txt
    """
    from ledger import store

    capture = _capture(text_file, format)
    with state(ctx).write() as session:
        source = store.edit_source(session, store.get_source(session, key), title=title,
                                   publisher=publisher, author=author, url=url,
                                   published=published, kind=kind, language=language,
                                   **_capture_fields(capture))
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


@app.command("recapture")
def recapture(ctx: typer.Context, key: SourceRef, text_file: TextFile = None,
              format: Format = None, json: Json = False) -> None:
    """Store a newer capture of a source and re-check every quote on it.

    The old text stays in the history. Each attribution and response quote is looked for
    again, exactly, and re-anchored; the report says which still stand, which moved and
    which are gone (the audit then reports those as quote-drifted).

    \b
    Example:
      ledger source recapture cbc-dong --text-file cbc-2023-04-02.html
    """
    from ledger import store
    from ledger.errors import InvalidValue

    capture = _capture(text_file, format)
    if capture is None:
        raise InvalidValue("--text-file is required: the newer capture of the document")
    with state(ctx).write() as session:
        source = store.get_source(session, key)
        previous = source.text_sha256
        moves = store.recapture_source(session, source, **_capture_fields(capture))
        current = source.text_sha256
    report = {"source": source.key, "previous_sha256": previous, "text_sha256": current,
              "quotes": [{"entity": m.entity, "id": m.id, "claim": m.claim_id,
                          "outcome": m.outcome, "quote": m.quote,
                          "before": list(m.before) if m.before else None,
                          "after": list(m.after) if m.after else None} for m in moves]}
    if json:
        emit_json(report)
        return
    counts = {o: sum(m.outcome == o for m in moves)
              for o in ("stands", "moved", "gone", "found", "not-found")}
    extra = "".join(f", {counts[o]} {label}" for o, label in (
        ("found", "found again"), ("not-found", "still not found")) if counts[o])
    out(f"Recaptured {source.key}: sha256 {previous[:12]}… -> {current[:12]}…; "
        f"{counts['stands']} quote(s) still stand, {counts['moved']} moved, "
        f"{counts['gone']} gone{extra}")
    for m in moves:
        where = (f" (at {m.before[0]} -> {m.after[0]})" if m.outcome == "moved" else "")
        out(f"  {m.outcome}: claim {m.claim_id} {m.entity} {m.id}{where}: “{m.quote}”")
