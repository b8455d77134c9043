"""`ledger log` and `ledger verify`: the hash-chained history."""

from __future__ import annotations

from typing import Annotated

import typer

from ledger.cli.common import Json, emit_json, info, one_line, out, state


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
    from ledger import store
    from ledger.integrity import logged_state

    with state(ctx).read() as session:
        events = store.list_events(session, limit=limit, entity=entity, uid=uid)
        records = []
        for e in events:
            # A malformed event is shown as it is stored, and named, never a crash.
            parsed = logged_state(e.entity, e.uid, e.state)
            record = {"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action,
                      "entity": e.entity, "uid": e.uid,
                      "state": parsed if parsed is not None else e.state,
                      "prev_hash": e.prev_hash, "hash": e.hash}
            if e.on_behalf is not None:  # PostgreSQL: the login recorded for someone
                record["on_behalf"] = e.on_behalf
            if parsed is None:
                record["malformed"] = True
            records.append(record)
    if json:
        emit_json(records)
        return
    for r in records:
        if r.get("malformed"):
            info(f"event {r['seq']} is malformed (its state is not a {r['entity']}'s); "
                 "`ledger verify` says what is wrong")
            label = "(malformed state)"
        else:
            label = (r["state"].get("name") or r["state"].get("key")
                     or r["state"].get("statement") or r["state"].get("kind")
                     or r["state"].get("relation") or "")
        actor = r["actor"] + (f" for {r['on_behalf']}" if "on_behalf" in r else "")
        out(one_line(f"{r['seq']:>6}  {r['at'][:19]}Z  {actor:<12} {r['action']:<8} "
                     f"{r['entity']:<11} {str(label)[:60]}"))


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
           chain_only: Annotated[bool, typer.Option(
               "--chain-only", help="Check only the hash chain and each event, not the "
               "tables (quicker).")] = False,
           json: Json = False) -> None:
    """Check the history and that the tables hold exactly what it records.

    Recomputes the hash chain and validates every event (exit 1 naming the first bad
    sequence number), then replays the log against every table: each row must equal the
    state of its newest event, every row needs an event and every logged record its row.
    Each difference names the record, the field and both values (exit 1). A plain verify
    cannot see a truncated tail or a chain rewritten wholesale with new hashes; an --anchor
    taken earlier (every dossier prints one) can, and so can a signed --checkpoint with the
    --public-key: its signature is checked first, then its head must be in the log and the
    chain up to it intact. A folder of checkpoints also shows the log only grew between any
    two of them.

    \b
    Example:
      ledger verify
      ledger verify --chain-only --json
      ledger verify --checkpoint reports/checkpoints --public-key newsroom-key.pub
      ledger verify --anchor 42:3f5c0b6a9d1e4f27a8c3b5d7e9f1a2c4b6d8e0f1a3c5e7b9d1f3a5c7e9b1d3e1
    """
    from pathlib import Path

    from ledger import store
    from ledger.errors import ChainBroken, InvalidValue, StateMismatch
    from ledger.store.replay import mismatch_summary, verify_ledger

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

            signed = verify_checkpoints(session, checkpoints)
            if not signed.ok:
                if json:
                    emit_json({"ok": False, "chain": {
                        "ok": False, "events": signed.events, "head_seq": signed.head_seq,
                        "head_hash": signed.head_hash, "first_bad_seq": signed.first_bad_seq,
                        "problem": signed.problem}, "checkpoints": len(checkpoints)})
                raise ChainBroken(f"the history does not verify at sequence number "
                                  f"{signed.first_bad_seq}: {signed.problem}")
        report = verify_ledger(session, anchor=parsed, chain_only=chain_only)
    chain = report.chain
    if json:
        data = report.to_dict()
        if checkpoints:
            data["checkpoints"] = len(checkpoints)
        emit_json(data)
    if not chain.ok:
        raise ChainBroken(f"the history does not verify at sequence number "
                          f"{chain.first_bad_seq}: {chain.problem}")
    if report.total_differences:
        if not json:
            for difference in report.differences:
                info(difference.message())
            if report.total_differences > len(report.differences):
                info(f"... and {report.total_differences - len(report.differences)} more")
        raise StateMismatch(f"{mismatch_summary(report, first=json)}: the tables were "
                            "changed without an event; restore them from a backup or a "
                            "re-import of an export taken before the change")
    if not json:
        rows = sum(report.rows.values())
        checked = f"; {rows} rows match the log" if report.replayed else " (chain only)"
        signed_note = ""
        if checkpoints:
            newest = max(checkpoints, key=lambda c: c.sequence)
            signed_note = (f"; {len(checkpoints)} signed checkpoint"
                           f"{'s' if len(checkpoints) != 1 else ''} verified, the newest at "
                           f"event {newest.sequence} ({newest.time})")
        out(f"ok: {chain.events} events, head {chain.head_seq}:{chain.head_hash}{checked}"
            f"{signed_note}")
