"""`ledger claim ...`, `ledger response add` and `ledger reply request`."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import (
    Anonymous,
    ClaimId,
    Json,
    Quote,
    Sourcing,
    Strict,
    Voice,
    emit_json,
    emit_json_array,
    new_app,
    out,
    report_quote,
    sourcing_of,
    state,
    table,
)

app = new_app("Claims: allegations, their sources and exact quotes.")
response_app = new_app("Responses: denials, confirmations, no comment, official responses.")
reply_app = new_app("The right of reply: record that a person was asked to respond.")

People = Annotated[list[str] | None, typer.Option("--about", help="Who is accused "
                                                  "(repeatable).")]
Targets = Annotated[list[str] | None, typer.Option("--target", help="Who the alleged act "
                                                   "targeted (repeatable).")]
Mentioned = Annotated[list[str] | None, typer.Option("--mentioned", help="Others named "
                                                     "(repeatable).")]
Claimant = Annotated[str | None, typer.Option("--claimant", help="Who alleges it.")]
Occurred = Annotated[str | None, typer.Option("--occurred", help="When it allegedly "
                                              "happened: YYYY, YYYY-MM or YYYY-MM-DD.")]
Status = Annotated[str | None, typer.Option(
    "--status", help="unverified | corroborated | confirmed | disputed | unsupported | false.")]
SourceKey = Annotated[str | None, typer.Option("--source", help="Key of the source.")]


def _print_claim(record: dict) -> None:
    out(f"Claim {record['id']} [{record['status']}]: {record['statement']}")
    for label, name in (("about", "about"), ("targets", "targets"),
                        ("mentioned", "mentioned")):
        if record[name]:
            out(f"  {label}: {', '.join(record[name])}")
    if record["claimant"]:
        out(f"  alleged by: {record['claimant']}")
    if record["occurred"]:
        out(f"  occurred: {record['occurred']}")
    if record.get("retraction_reason"):
        out(f"  retracted: {record['retraction_reason']}")
    for item in record["attributions"]:
        voice = f" ({item['voice']})" if item["voice"] else ""
        out(f"  source {item['source']} [{item['sourcing']}]{voice}")
        if item["quote"]:
            out(f"    \u201c{item['quote']}\u201d  [{item['quote_status']}]")
    if record.get("origins"):
        from ledger.origins import describe_origins

        sources = len({item["source"] for item in record["attributions"]})
        out(f"  origins: {len(record['origins'])} ({', '.join(record['origins'])}); "
            f"{describe_origins(len(record['origins']), sources)}")
    for item in record.get("responses", []):
        date = f" {item['date']}" if item["date"] else ""
        out(f"  response: {item['by']} {item['kind']}{date}"
            + (f": \u201c{item['quote']}\u201d" if item["quote"] else ""))
    for item in record.get("reply_requests", []):
        out(f"  reply requested from {item['to']} on {item['sent']}"
            + (f", deadline {item['deadline']}" if item["deadline"] else ""))


@app.command("add")
def add(ctx: typer.Context,
        statement: Annotated[str, typer.Argument(help="The allegation, in neutral words.")],
        about: People = None, target: Targets = None, mentioned: Mentioned = None,
        claimant: Claimant = None, occurred: Occurred = None, status: Status = None,
        source: SourceKey = None, quote: Quote = None, voice: Voice = None,
        anonymous: Anonymous = False, sourcing: Sourcing = None, strict: Strict = False,
        json: Json = False) -> None:
    """Record an allegation, optionally with its first source and exact quote.

    \b
    Example:
      ledger claim add "Han Dong advised a Chinese diplomat to delay freeing two Canadians" \\
        --about "Han Dong" --claimant "Global News" --occurred 2021-02 \\
        --source cbc-dong --quote "hold off on freeing" --anonymous \\
        --voice "two unnamed national security sources"
    """
    from ledger import store
    from ledger.errors import InvalidValue

    if source is None and (quote or voice or anonymous or sourcing):
        raise InvalidValue("--quote, --voice and --anonymous need --source")
    attribution = None
    with state(ctx).write() as session:
        claim = store.add_claim(session, statement=statement, about=about or [],
                                targets=target or [], mentioned=mentioned or [],
                                claimant=claimant, occurred=occurred, status=status)
        if source is not None:
            attribution = store.cite(session, claim=claim,
                                     source=store.get_source(session, source), quote=quote,
                                     voice=voice, sourcing=sourcing_of(sourcing, anonymous),
                                     strict=strict)
        # Read back only for --json: its three queries were a tenth of the command.
        record = store.claim_record(session, claim) if json else None
    if attribution is not None and attribution.quote:
        report_quote(attribution, source)
    if record is not None:
        emit_json(record)
    else:
        out(f"Added claim {claim.id}: {claim.statement}")


@app.command("cite")
def cite(ctx: typer.Context, claim_id: ClaimId, source: SourceKey = None, quote: Quote = None,
         voice: Voice = None, anonymous: Anonymous = False, sourcing: Sourcing = None,
         strict: Strict = False, json: Json = False) -> None:
    """Add a source that carries a claim, with the exact quote and who speaks in it.

    \b
    Example:
      ledger claim cite 1 --source wire-dong --quote "Global News" --anonymous
    """
    from ledger import store
    from ledger.errors import InvalidValue

    if source is None:
        raise InvalidValue("--source is required: which document carries the claim?")
    with state(ctx).write() as session:
        claim = store.get_claim(session, claim_id)
        attribution = store.cite(session, claim=claim, source=store.get_source(session, source),
                                 quote=quote, voice=voice,
                                 sourcing=sourcing_of(sourcing, anonymous), strict=strict)
        record = store.claim_record(session, claim)
    if attribution.quote:
        report_quote(attribution, source)
    if json:
        emit_json(record)
    else:
        out(f"Cited {source} for claim {claim.id} [{attribution.quote_status}]")


@app.command("list")
def list_(ctx: typer.Context,
          about: Annotated[str | None, typer.Option("--about", help="Only claims concerning "
                                                    "this person (any role).")] = None,
          status: Annotated[str | None, typer.Option("--status",
                                                     help="Only claims with this status.")]
          = None,
          limit: Annotated[int | None, typer.Option(
              "--limit", min=1, help="At most this many claims.", show_default=False)] = None,
          offset: Annotated[int, typer.Option(
              "--offset", min=0, help="Skip this many claims first.")] = 0,
          json: Json = False) -> None:
    """List claims, oldest first, a page at a time with --limit and --offset.

    \b
    Example:
      ledger claim list --about "Han Dong" --status disputed
      ledger claim list --limit 50 --offset 100 --json
    """
    from ledger.store.reads import list_claim_records

    with state(ctx).read() as session:
        records = list_claim_records(session, about=about, status=status, limit=limit,
                                     offset=offset)
    if json:
        emit_json_array(records)
    else:
        table([[r["id"], r["status"], ", ".join(r["about"]), len(r["attributions"]),
                r["statement"]] for r in records],
              ["ID", "STATUS", "ABOUT", "SOURCES", "STATEMENT"])


@app.command("show")
def show(ctx: typer.Context, claim_id: ClaimId, json: Json = False) -> None:
    """Show a claim with its sources, quotes, responses and reply requests.

    \b
    Example:
      ledger claim show 1
    """
    from ledger import store
    from ledger.store.origins import claim_origins

    with state(ctx).read() as session:
        claim = store.get_claim(session, claim_id)
        record = store.claim_record(session, claim)
        record["responses"] = [store.response_record(session, r)
                               for r in store.responses_to(session, claim)]
        record["reply_requests"] = [store.reply_record(session, r)
                                    for r in store.replies_for(session, claim)]
        record["origins"] = [s.key for s in claim_origins(session, claim)]
    if json:
        emit_json(record)
    else:
        _print_claim(record)


@app.command("edit")
def edit(ctx: typer.Context, claim_id: ClaimId,
         statement: Annotated[str | None, typer.Option("--statement")] = None,
         occurred: Occurred = None, status: Status = None, claimant: Claimant = None,
         about: People = None, target: Targets = None, mentioned: Mentioned = None,
         remove: Annotated[list[str] | None, typer.Option(
             "--remove", help="Remove a person from the claim (every role).")] = None,
         minor: Annotated[bool, typer.Option(
             "--minor", help="A typo-level fix: kept in the history, left out of the "
             "updates readers see on dossiers.")] = False,
         json: Json = False) -> None:
    """Change a claim (a new event: the previous state stays in the history).

    Every edit is listed under the claim's updates on its dossiers, with the old and the new
    wording, unless --minor marks it as a typo-level fix.

    \b
    Example:
      ledger claim edit 1 --status disputed --mentioned "Michael Kovrig"
      ledger claim edit 1 --statement "Han Dong advised ..." --minor
    """
    from ledger import store

    with state(ctx).write() as session:
        claim = store.edit_claim(session, store.get_claim(session, claim_id),
                                 statement=statement, occurred=occurred, status=status,
                                 claimant=claimant, add_about=about or [],
                                 add_targets=target or [], add_mentioned=mentioned or [],
                                 remove_people=remove or [], minor=minor)
        record = store.claim_record(session, claim)
    if json:
        emit_json(record)
    else:
        out(f"Edited claim {claim.id}")


@app.command("retract")
def retract(ctx: typer.Context, claim_id: ClaimId,
            reason: Annotated[str | None, typer.Option("--reason",
                                                       help="Why it is retracted.")] = None,
            json: Json = False) -> None:
    """Retract a claim. Nothing is deleted: the claim stays, marked retracted, with the reason.

    \b
    Example:
      ledger claim retract 4 --reason "recorded against the wrong person"
    """
    from ledger import store
    from ledger.errors import InvalidValue

    if reason is None:
        raise InvalidValue("--reason is required")
    with state(ctx).write() as session:
        claim = store.retract_claim(session, store.get_claim(session, claim_id), reason=reason)
        record = store.claim_record(session, claim)
    if json:
        emit_json(record)
    else:
        out(f"Retracted claim {claim.id}")


@response_app.command("add")
def response_add(ctx: typer.Context, claim_id: ClaimId,
                 by: Annotated[str | None, typer.Option("--by", help="Who responds.")] = None,
                 kind: Annotated[str | None, typer.Option(
                     "--kind", help="denial | partial-denial | confirmation | no-comment | "
                     "no-response | official-response | action.")] = None,
                 date: Annotated[str | None, typer.Option("--date", help="YYYY[-MM[-DD]].")]
                 = None,
                 source: SourceKey = None, quote: Quote = None,
                 voice: Annotated[str | None, typer.Option(
                     "--voice", help="Who spoke for the respondent, e.g. "
                     "\"Eric Balsam, CSIS spokesperson\".")] = None,
                 summary: Annotated[str | None, typer.Option("--summary")] = None,
                 strict: Strict = False, json: Json = False) -> None:
    """Record an answer to a claim; its quote is checked against the source's stored text.

    --voice names who spoke for an organization, so the audit does not take the
    spokesperson the source names for someone else.

    \b
    Example:
      ledger response add 1 --by "Han Dong" --kind denial --date 2023-03-22 \\
        --source cbc-dong --quote "What has been reported is false"
      ledger response add 2 --by CSIS --kind no-comment --source cbc-dong \\
        --voice "Eric Balsam, CSIS spokesperson" \\
        --quote "There are important limits to what I can publicly discuss"
    """
    from ledger import store
    from ledger.errors import InvalidValue

    if by is None or kind is None:
        raise InvalidValue("--by and --kind are required")
    with state(ctx).write() as session:
        response = store.add_response(session, claim=store.get_claim(session, claim_id), by=by,
                                      kind=kind, date=date, source=source, quote=quote,
                                      voice=voice, summary=summary, strict=strict)
        record = store.response_record(session, response)
    if response.quote:
        report_quote(response, source)
    if json:
        emit_json(record)
    else:
        out(f"Added response {response.id} to claim {response.claim_id}: {record['by']} "
            f"{record['kind']}")


@reply_app.command("request")
def reply_request(ctx: typer.Context, claim_id: ClaimId,
                  to: Annotated[str | None, typer.Option("--to", help="Who was asked.")] = None,
                  sent: Annotated[str | None, typer.Option("--sent", help="When it was sent.")]
                  = None,
                  deadline: Annotated[str | None, typer.Option("--deadline")] = None,
                  channel: Annotated[str | None, typer.Option(
                      "--channel", help="e.g. email, phone, press office.")] = None,
                  json: Json = False) -> None:
    """Record that a person was asked to respond to a claim, with the deadline given.

    A response from that person answers the request; past the deadline without one, the
    request is overdue.

    \b
    Example:
      ledger reply request 1 --to "Han Dong" --sent 2023-03-20 --deadline 2023-03-22 \\
        --channel email
    """
    from ledger import store
    from ledger.errors import InvalidValue

    if to is None or sent is None:
        raise InvalidValue("--to and --sent are required")
    with state(ctx).write() as session:
        reply = store.request_reply(session, claim=store.get_claim(session, claim_id), to=to,
                                    sent=sent, deadline=deadline, channel=channel)
        record = store.reply_record(session, reply)
    if json:
        emit_json(record)
    else:
        out(f"Recorded reply request {reply.id} to {record['to']} for claim {reply.claim_id}")
