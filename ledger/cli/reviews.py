"""`ledger review ...`: sign-off before publication, a second pair of eyes, and holds."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import ClaimId, Json, emit_json, new_app, out, state

app = new_app("Reviews: approve, reject or hold a claim before it is published.")

Reason = Annotated[
    str | None,
    typer.Option(
        "--reason", help="Why (for the desk; never shown to readers).", show_default=False
    ),
]


def _record(claim, info) -> dict:
    """A claim's review as `--json` shows it."""
    return {
        "claim": claim.id,
        "statement": claim.statement,
        "state": info.state,
        "decision": info.decision,
        "stale": info.stale,
        "approved": (
            f"{info.approved_seq}:{info.approved_hash}" if info.decision == "approved" else None
        ),
        "reviewer": info.reviewer,
        "reviewed_at": info.reviewed_at,
        "note": info.note,
        "reason": info.reason,
        "override": info.override,
        "held": info.held,
        "hold_reason": info.hold_reason,
        "held_by": info.held_by,
        "held_at": info.held_at,
    }


def _decide(ctx: typer.Context, claim_id: str, decide, json: bool, done: str) -> None:
    from ledger import store
    from ledger.store.reviews import review_info

    with state(ctx).write() as session:
        claim = store.get_claim(session, claim_id)
        decide(session, claim)
        record = _record(claim, review_info(session, claim))
    if json:
        emit_json(record)
    else:
        out(f"{done} claim {record['claim']}")


@app.command("approve")
def approve(
    ctx: typer.Context,
    claim_id: ClaimId,
    note: Annotated[
        str | None, typer.Option("--note", help="A note for the desk.", show_default=False)
    ] = None,
    override: Annotated[
        str | None,
        typer.Option(
            "--override",
            help="Approve although the audit finds errors in the claim, "
            "and why (recorded, shown to reviewers, never to readers).",
            show_default=False,
        ),
    ] = None,
    json: Json = False,
) -> None:
    """Approve a claim for publication, as it stands now.

    The approval names the newest event touching the claim (its edits, attributions,
    responses, reply requests and its sources' changes); any later change puts it back into
    needs-review. Refused (exit 1) when you recorded or changed the claim since its last
    approval (a second pair of eyes), and while the audit finds errors in it unless
    --override gives the reason.

    \b
    Example:
      ledger --actor "R. Editor" review approve 3 --note "quotes checked against the captures"
    """
    from ledger.store.reviews import approve_claim

    _decide(
        ctx,
        claim_id,
        lambda session, claim: approve_claim(session, claim=claim, note=note, override=override),
        json,
        "Approved",
    )


@app.command("reject")
def reject(
    ctx: typer.Context, claim_id: ClaimId, reason: Reason = None, json: Json = False
) -> None:
    """Reject a claim: it is not published until a reviewer approves it.

    \b
    Example:
      ledger review reject 4 --reason "rests on one anonymous source"
    """
    from ledger.store.reviews import reject_claim

    _decide(
        ctx,
        claim_id,
        lambda session, claim: reject_claim(session, claim=claim, reason=reason),
        json,
        "Rejected",
    )


@app.command("hold")
def hold(ctx: typer.Context, claim_id: ClaimId, reason: Reason = None, json: Json = False) -> None:
    """Hold a claim (a legal or editorial hold): it never appears in any published output,
    draft or not, until it is released. The hold and its reason stay in the ledger.

    \b
    Example:
      ledger review hold 5 --reason "with the lawyers until Friday"
    """
    from ledger.store.reviews import hold_claim

    _decide(
        ctx,
        claim_id,
        lambda session, claim: hold_claim(session, claim=claim, reason=reason),
        json,
        "Held",
    )


@app.command("release")
def release(ctx: typer.Context, claim_id: ClaimId, json: Json = False) -> None:
    """Lift a claim's hold; its approval (or the want of one) is as it was.

    \b
    Example:
      ledger review release 5
    """
    from ledger.store.reviews import release_claim

    _decide(
        ctx, claim_id, lambda session, claim: release_claim(session, claim=claim), json, "Released"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    state_: Annotated[
        str | None,
        typer.Option(
            "--state", help="needs-review | approved | rejected | held.", show_default=False
        ),
    ] = None,
    json: Json = False,
) -> None:
    """List claims with where they stand in review: who approved, rejected or held each,
    when, the note, reason or override, and for an approval gone stale what changed since
    (as `ledger changes` shows it).

    \b
    Examples:
      ledger review list --state needs-review
      ledger review list --json
    """
    from ledger.store.reviews import list_reviews, what_changed

    with state(ctx).read() as session:
        rows = list_reviews(session, state=state_)
        records = []
        for claim, info in rows:
            record = _record(claim, info)
            record["changed"] = what_changed(session, claim, info) if info.stale else []
            records.append(record)
    if json:
        emit_json(records)
        return
    if not records:
        out("No claims" + (f" in {state_}" if state_ else "") + ".")
    for record in records:
        _print(record)


def _print(record: dict) -> None:
    statement = record["statement"]
    if len(statement) > 100:
        statement = statement[:99] + "…"
    out(f"Claim {record['claim']} [{record['state']}]: {statement}")
    if record["decision"] == "approved":
        stale = " (stale: changed since)" if record["stale"] else ""
        out(
            f"  approved by {record['reviewer']} on {(record['reviewed_at'] or '')[:10]}, "
            f"event {record['approved']}{stale}"
        )
    elif record["decision"] == "rejected":
        out(
            f"  rejected by {record['reviewer']} on {(record['reviewed_at'] or '')[:10]}: "
            f"{record['reason']}"
        )
    if record["note"]:
        out(f"  note: {record['note']}")
    if record["override"]:
        out(f"  override (audit errors): {record['override']}")
    if record["held"]:
        out(
            f"  held by {record['held_by']} on {(record['held_at'] or '')[:10]}: "
            f"{record['hold_reason']}"
        )
    for change in record["changed"]:
        out(f"  changed: {_change_line(change)}")
    if record["changed"]:
        out(f"  (`ledger changes --since {record['approved']}` shows the whole ledger's)")


def _change_line(change: dict) -> str:
    """One change since an approval, worded as `ledger changes` words it."""
    from ledger.changes_report import _value

    name = f"{change['entity']} {change['id']}" if change["id"] else change["entity"]
    fields = (
        "; ".join(
            f"{c['field']} {_value(c['before'])} → {_value(c['after'])}" for c in change["changes"]
        )
        or "no field changed"
    )
    if change["action"] == "add":
        fields = "added"
    return (
        f"event {change['seq']}, {change['at'][:19]}Z, by {change['actor']}, {name} "
        f"{change['action']}: {fields}"
    )
