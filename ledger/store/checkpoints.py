"""Signed checkpoints: sign the head, keep every checkpoint, verify checkpoints against the log.

The format and the signature are `ledger.checkpoint`'s; this module stores checkpoints and
checks them against the event chain.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import pairwise

from sqlmodel import Session, col, select

from ledger.chain import ChainReport, verify_rows
from ledger.checkpoint import (
    Checkpoint,
    CheckpointInvalid,
    checkpoint_time,
    ledger_name,
    public_key_line,
    sign,
)
from ledger.errors import Conflict, InvalidValue
from ledger.models import CheckpointRecord
from ledger.store.events import head, iter_events


def list_checkpoints(session: Session) -> list[CheckpointRecord]:
    """Every checkpoint, oldest first."""
    return list(session.exec(select(CheckpointRecord).order_by(col(CheckpointRecord.id))))


def latest_checkpoint(session: Session) -> CheckpointRecord | None:
    """The newest checkpoint, or None."""
    return session.exec(
        select(CheckpointRecord).order_by(col(CheckpointRecord.id).desc()).limit(1)
    ).first()


def add_checkpoint(
    session: Session, *, private_key, name: str | None = None
) -> tuple[CheckpointRecord, bool]:
    """Sign the current head with `private_key` (Ed25519) and keep the checkpoint.

    `name` is the ledger's name; without it, the previous checkpoint's name. The time is the
    transaction's clock, to the second. When the newest checkpoint already signs this head
    with this key, it is returned instead of a new one; the flag says whether one was made.
    """
    session.flush()
    # The head this transaction appended, if any (a bulk import's events may still be in its
    # sink); else the log's.
    sequence, head_hash = session.info.get("chain_head") or head(session)
    if sequence == 0:
        raise Conflict("the ledger is empty: there is no head to sign yet")
    previous = latest_checkpoint(session)
    if name is None:
        if previous is None:
            raise InvalidValue(
                "the first checkpoint needs the ledger's name: --name NAME "
                "(later checkpoints keep it)"
            )
        name = previous.ledger
    name = ledger_name(name)
    public = public_key_line(private_key.public_key()).decode("ascii").strip()
    if (
        previous is not None
        and previous.seq == sequence
        and previous.head_hash == head_hash
        and previous.public_key == public
        and previous.ledger == name
    ):
        return previous, False
    checkpoint = Checkpoint(
        ledger=name,
        sequence=sequence,
        head_hash=head_hash,
        time=checkpoint_time(session.info["clock"]()),
    )
    text = checkpoint.text()
    record = CheckpointRecord(
        seq=sequence,
        head_hash=head_hash,
        ledger=name,
        signed_at=checkpoint.time,
        public_key=public,
        text=text,
        signature=sign(text.encode("utf-8"), private_key),
    )
    session.add(record)
    session.flush()
    return record, True


def check_growth(checkpoints: Sequence[Checkpoint]) -> None:
    """Checkpoints of one ledger must show a log that only grew: by time, their sequence
    numbers never go down, and two of the same sequence number name the same head."""
    heads: dict[int, str] = {}
    for item in checkpoints:
        if heads.setdefault(item.sequence, item.head_hash) != item.head_hash:
            raise CheckpointInvalid(
                f"two checkpoints of event {item.sequence} name different "
                "heads: the log was rewritten between them"
            )
    by_time = sorted(checkpoints, key=lambda c: (c.time, c.sequence))
    for earlier, later in pairwise(by_time):
        if later.sequence < earlier.sequence:
            raise CheckpointInvalid(
                f"the checkpoint of {later.time} names event {later.sequence}, fewer than the "
                f"{earlier.sequence} of {earlier.time}: the log shrank between them"
            )


def verify_checkpoints(session: Session, checkpoints: Sequence[Checkpoint]) -> ChainReport:
    """Verify the chain up to the newest checkpointed event, and that every checkpoint's head
    is in the log with exactly that hash (one pass over the log, in batches)."""
    if not checkpoints:
        raise InvalidValue("no checkpoint to verify")
    check_growth(checkpoints)
    wanted = {c.sequence: c for c in checkpoints}
    seen: dict[int, str] = {}

    def rows() -> Iterator:
        for event in iter_events(session):
            if event.seq in wanted:
                seen[event.seq] = event.hash
            yield event

    newest = max(checkpoints, key=lambda c: c.sequence)
    report = verify_rows(rows(), anchor=newest.anchor)
    if not report.ok:
        if report.problem and "before the anchor" in report.problem:
            return ChainReport(
                report.events,
                report.head_seq,
                report.head_hash,
                first_bad_seq=newest.sequence,
                problem=f"the log ends at event {report.head_seq}, before the "
                f"checkpoint's event {newest.sequence}: it was truncated",
            )
        return report
    for sequence in sorted(wanted):
        if seen.get(sequence) != wanted[sequence].head_hash:
            return ChainReport(
                report.events,
                report.head_seq,
                report.head_hash,
                first_bad_seq=sequence,
                problem=f"the checkpoint says {wanted[sequence].head_hash[:12]}…, "
                f"the log {(seen.get(sequence) or '')[:12]}…",
            )
    return report
