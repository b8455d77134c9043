"""`ledger log` and `ledger verify`: the hash-chained history."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import Json, emit_json, out, state


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
        out(f"{r['seq']:>6}  {r['at'][:19]}Z  {r['actor']:<12} {r['action']:<8} "
            f"{r['entity']:<11} {str(label)[:60]}")


def verify(ctx: typer.Context,
           anchor: Annotated[str | None, typer.Option(
               "--anchor", help="SEQ:HASH from a dossier or an earlier `ledger log`: that "
               "event must still be in the log, unchanged.")] = None,
           checkpoint: Annotated[str | None, typer.Option(
               "--checkpoint", help="A signed checkpoint (FILE, its signature FILE.sig), or a "
               "folder of them: each must verify with --public-key and name an event still "
               "in the log.")] = None,
           public_key: Annotated[str | None, typer.Option(
               "--public-key", help="The OpenSSH public key the checkpoints were signed "
               "with (ssh-ed25519 AAAA...).")] = None,
           json: Json = False) -> None:
    """Recompute the hash chain; exit 1 naming the first bad sequence number.

    A plain verify cannot see a truncated tail or a chain rewritten wholesale with new
    hashes; an --anchor taken earlier (every dossier prints one) can, and so can a signed
    --checkpoint with the --public-key: its signature is checked first, then its head must be
    in the log and the chain up to it intact. A folder of checkpoints also shows the log
    only grew between any two of them.

    \b
    Example:
      ledger verify --anchor 42:3f5c...e1
      ledger verify --checkpoint reports/checkpoints --public-key newsroom-key.pub
    """
    from pathlib import Path

    from ledger import store
    from ledger.errors import ChainBroken, InvalidValue

    parsed = store.parse_anchor(anchor) if anchor else None
    if (checkpoint is None) != (public_key is None):
        raise InvalidValue("--checkpoint and --public-key go together: the checkpoint and "
                           "the key that signed it")
    checkpoints = []
    if checkpoint is not None and public_key is not None:
        from ledger.checkpoint import read_signed_files
        from ledger.cli.integrity import read_public_key

        checkpoints = read_signed_files(Path(checkpoint), read_public_key(public_key))
    with state(ctx).read() as session:
        if checkpoints:
            from ledger.store.checkpoints import verify_checkpoints

            report = verify_checkpoints(session, checkpoints)
            if report.ok and parsed:
                report = store.verify(session, anchor=parsed)
        else:
            report = store.verify(session, anchor=parsed)
    if json:
        emit_json({"ok": report.ok, "events": report.events, "head_seq": report.head_seq,
                   "head_hash": report.head_hash, "first_bad_seq": report.first_bad_seq,
                   "problem": report.problem, "checkpoints": len(checkpoints)})
    if not report.ok:
        raise ChainBroken(f"the history does not verify at sequence number "
                          f"{report.first_bad_seq}: {report.problem}")
    if not json:
        signed = ""
        if checkpoints:
            newest = max(checkpoints, key=lambda c: c.sequence)
            signed = (f"; {len(checkpoints)} signed checkpoint"
                      f"{'s' if len(checkpoints) != 1 else ''} verified, the newest at event "
                      f"{newest.sequence} ({newest.time})")
        out(f"ok: {report.events} events, head {report.head_seq}:{report.head_hash}{signed}")
