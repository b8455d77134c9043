"""`ledger log` and `ledger verify`: the hash-chained history."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import Json, emit_json, one_line, out, state


def log(ctx: typer.Context,
        limit: Annotated[int, typer.Option("--limit", min=1, help="How many events.")] = 50,
        entity: Annotated[str | None, typer.Option(
            "--entity", help="person | source | link | claim | attribution | response | "
            "reply.")] = None,
        uid: Annotated[str | None, typer.Option("--uid", help="One record's history.")] = None,
        json: Json = False) -> None:
    """Show the history, newest first: every add, edit, merge and retraction.

    \b
    Example:
      ledger log --entity claim --limit 10
    """
    import json as json_module

    from ledger import store

    with state(ctx).read() as session:
        events = store.list_events(session, limit=limit, entity=entity, uid=uid)
        records = [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                    "entity": e.entity, "uid": e.uid, "state": json_module.loads(e.state),
                    "prev_hash": e.prev_hash, "hash": e.hash} for e in events]
    if json:
        emit_json(records)
        return
    for r in records:
        label = (r["state"].get("name") or r["state"].get("key") or r["state"].get("statement")
                 or r["state"].get("kind") or r["state"].get("relation") or "")
        out(one_line(f"{r['seq']:>6}  {r['at'][:19]}Z  {r['actor']:<12} {r['action']:<8} "
                     f"{r['entity']:<11} {str(label)[:60]}"))


def verify(ctx: typer.Context,
           anchor: Annotated[str | None, typer.Option(
               "--anchor", help="SEQ:HASH from a dossier or an earlier `ledger log`: that "
               "event must still be in the log, unchanged.")] = None,
           json: Json = False) -> None:
    """Recompute the hash chain; exit 1 naming the first bad sequence number.

    A plain verify cannot see a truncated tail or a chain rewritten wholesale with new
    hashes; an --anchor taken earlier (every dossier prints one) can.

    \b
    Example:
      ledger verify --anchor 42:3f5c...e1
    """
    from ledger import store
    from ledger.errors import ChainBroken

    parsed = store.parse_anchor(anchor) if anchor else None
    with state(ctx).read() as session:
        report = store.verify(session, anchor=parsed)
    if json:
        emit_json({"ok": report.ok, "events": report.events, "head_seq": report.head_seq,
                   "head_hash": report.head_hash, "first_bad_seq": report.first_bad_seq,
                   "problem": report.problem})
    if not report.ok:
        raise ChainBroken(f"the history does not verify at sequence number "
                          f"{report.first_bad_seq}: {report.problem}")
    if not json:
        out(f"ok: {report.events} events, head {report.head_seq}:{report.head_hash}")
