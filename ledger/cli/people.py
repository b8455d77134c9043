"""`ledger person ...`: people and organizations."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import (
    Json,
    PageLimit,
    PageOffset,
    PersonRef,
    emit_json,
    new_app,
    out,
    state,
    table,
)

app = new_app("People and organizations that claims are about, or who allege or respond.")

Aliases = Annotated[list[str] | None, typer.Option(
    "--alias", help="Another name or spelling (repeatable).")]
Kind = Annotated[str | None, typer.Option("--kind", help="person | organization.")]
Description = Annotated[str | None, typer.Option("--description", help="One or two lines.")]
Wikidata = Annotated[str | None, typer.Option(
    "--wikidata", help="Their Wikidata item, Q and digits (Q2440547): shown on the dossier "
    "and its sameAs in the JSON-LD, so namesakes can be told apart.", show_default=False)]


@app.command("add")
def add(ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="Full name, as it should appear.")],
        alias: Aliases = None, kind: Kind = None, description: Description = None,
        distinct: Annotated[bool, typer.Option(
            "--distinct", help="Record it although the name looks like an existing person's "
            "name, alias or slug: this is someone else.")] = False,
        wikidata: Wikidata = None, json: Json = False) -> None:
    """Record a person or organization.

    A name that looks like one already recorded (case, accents, width, invisible characters
    or look-alike letters aside) is refused, naming that person, unless --distinct.

    \b
    Example:
      ledger person add "Han Dong" --alias "Hang Dong" --description "MP for Don Valley North"
      ledger person add "Douglas Adams" --wikidata Q42
    """
    from ledger import store

    with state(ctx).write() as session:
        person = store.add_person(session, name=name, kind=kind or "person",
                                  description=description, aliases=alias or [],
                                  distinct=distinct, wikidata=wikidata)
        record = store.person_record(session, person)
    if json:
        emit_json(record)
    else:
        out(f"Added person {person.id}: {person.name} ({person.slug})")


@app.command("list")
def list_(ctx: typer.Context, json: Json = False, limit: PageLimit = None,
          offset: PageOffset = 0) -> None:
    """List everyone recorded, by name (--limit and --offset show one page).

    \b
    Examples:
      ledger person list --json
      ledger person list --limit 50 --offset 100
    """
    from ledger import store

    with state(ctx).read() as session:
        records = [store.person_record(session, p)
                   for p in store.list_people(session, limit=limit, offset=offset)]
    if json:
        emit_json(records)
    else:
        table([[r["id"], r["slug"], r["name"], r["kind"], ", ".join(r["aliases"])]
               for r in records], ["ID", "SLUG", "NAME", "KIND", "ALIASES"])


@app.command("show")
def show(ctx: typer.Context, ref: PersonRef, json: Json = False) -> None:
    """Show one person, with the claims that concern them.

    \b
    Example:
      ledger person show "han dong"
    """
    from ledger import store

    with state(ctx).read() as session:
        person = store.get_person(session, ref)
        record = store.person_record(session, person)
        claims = store.list_claims(session, about=f"#{person.id}")
        record["claims"] = [{"id": c.id, "statement": c.statement, "status": c.status}
                            for c in claims]
    if json:
        emit_json(record)
        return
    out(f"{record['name']}  (id {record['id']}, {record['kind']}, slug {record['slug']})")
    if record["aliases"]:
        out(f"  also: {', '.join(record['aliases'])}")
    if record["description"]:
        out(f"  {record['description']}")
    if record.get("wikidata"):
        out(f"  wikidata: {record['wikidata']}")
    out(f"  claims: {len(claims)}")
    for claim in record["claims"]:
        out(f"    #{claim['id']} [{claim['status']}] {claim['statement']}")


@app.command("edit")
def edit(ctx: typer.Context, ref: PersonRef,
         name: Annotated[str | None, typer.Option("--name", help="New name; the old one "
                                                  "becomes an alias.")] = None,
         kind: Kind = None, description: Description = None,
         alias: Annotated[list[str] | None, typer.Option("--add-alias",
                                                         help="Add an alias.")] = None,
         remove_alias: Annotated[list[str] | None, typer.Option(
             "--remove-alias", help="Remove an alias.")] = None,
         wikidata: Wikidata = None, json: Json = False) -> None:
    """Change a person's name, kind, description, aliases or Wikidata item (a new event;
    history is kept).

    \b
    Example:
      ledger person edit han-dong --add-alias "Dong Han"
      ledger person edit douglas-adams --description "Author" --wikidata Q42
    """
    from ledger import store

    with state(ctx).write() as session:
        person = store.edit_person(session, store.get_person(session, ref), name=name,
                                   kind=kind, description=description,
                                   add_aliases=alias or [], remove_aliases=remove_alias or [],
                                   wikidata=wikidata)
        record = store.person_record(session, person)
    if json:
        emit_json(record)
    else:
        out(f"Edited person {person.id}: {person.name}")


@app.command("merge")
def merge(ctx: typer.Context,
          keep: Annotated[str, typer.Argument(help="The person to keep.")],
          duplicate: Annotated[str, typer.Argument(help="The duplicate to merge into it.")],
          json: Json = False) -> None:
    """Merge a duplicate into the person to keep; the duplicate's names become aliases.

    Claims, responses and reply requests move over. The duplicate's record is kept, marked as
    merged, so old references still resolve and the history stays whole.

    \b
    Example:
      ledger person merge "Han Dong" "Hang Dong"
    """
    from ledger import store

    with state(ctx).write() as session:
        kept = store.get_person(session, keep, field="keep")
        dup = store.get_person(session, duplicate, field="duplicate")
        dup_name = dup.name
        store.merge_people(session, keep=kept, duplicate=dup)
        record = store.person_record(session, kept)
    if json:
        emit_json(record)
    else:
        out(f"Merged {dup_name!r} into {kept.name} ({kept.slug})")
