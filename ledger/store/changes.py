"""What changed since an anchor: the events after it, grouped by record, field by field.

`changes_since` first verifies the chain up to the anchor (the anchor must still be in the
log, unchanged), then reads the later events in batches and, for each record they touch, its
state as of the anchor (one query per batch of records), so every edit is shown as the fields
it changed, old and new.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session, col

from ledger.errors import ChainBroken
from ledger.models import Claim, Event, Person, Source
from ledger.store.events import verify

_BATCH = 500
# A source's text can be megabytes; its SHA-256 (also in the state) says that it changed.
_HIDDEN_FIELDS = {"text"}
_ID_TABLES = {"claim": Claim, "person": Person, "source": Source}


@dataclass(frozen=True)
class FieldChange:
    """One field of a record: its value before the event and after it."""

    field: str
    before: Any
    after: Any


@dataclass(frozen=True)
class ChangeEvent:
    """One event after the anchor, with the fields it changed (for an add: every field set)."""

    seq: int
    at: str
    actor: str
    action: str
    changes: tuple[FieldChange, ...]


@dataclass
class RecordChanges:
    """Every event after the anchor for one record, in sequence order."""

    entity: str
    uid: str
    record_id: int | None
    label: str
    events: list[ChangeEvent] = field(default_factory=list)


@dataclass
class ChangesReport:
    """The anchor, the head now, and the records changed in between (by first change)."""

    since_seq: int
    since_hash: str
    head_seq: int
    head_hash: str
    records: list[RecordChanges]

    @property
    def event_count(self) -> int:
        return sum(len(r.events) for r in self.records)


def _label(entity: str, state: dict[str, Any], uid: str) -> str:
    for name in ("name", "key", "statement"):
        if isinstance(state.get(name), str):
            return state[name]
    if entity == "link":
        return f"{state.get('relation', 'link')} link"
    return f"{entity} {uid[:12]}"


def _diff(before: dict[str, Any] | None, after: dict[str, Any]) -> tuple[FieldChange, ...]:
    old = before or {}
    return tuple(
        FieldChange(name, old.get(name), after.get(name))
        for name in sorted(set(old) | set(after))
        if name not in _HIDDEN_FIELDS and name != "uid" and old.get(name) != after.get(name)
    )


def _states_at(
    session: Session, keys: list[tuple[str, str]], seq: int
) -> dict[tuple[str, str], dict[str, Any]]:
    """Each (entity, uid)'s state in its newest event at or before `seq`."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start : start + _BATCH]
        uids = sorted({uid for _, uid in chunk})
        newest = (
            select(Event.entity, Event.uid, func.max(Event.seq).label("seq"))
            .where(col(Event.uid).in_(uids), Event.seq <= seq)
            .group_by(col(Event.entity), col(Event.uid))
            .subquery()
        )
        rows = session.connection().execute(
            select(Event.entity, Event.uid, Event.state).join(newest, (Event.seq == newest.c.seq))
        )
        for entity, uid, state in rows:
            found[(entity, uid)] = json.loads(state)
    return found


def _record_ids(session: Session, records: list[RecordChanges]) -> None:
    for entity, model in _ID_TABLES.items():
        uids = sorted({r.uid for r in records if r.entity == entity})
        ids: dict[str, int] = {}
        for start in range(0, len(uids), _BATCH):
            ids.update(
                session.connection()
                .execute(
                    select(model.uid, model.id).where(
                        col(model.uid).in_(uids[start : start + _BATCH])
                    )
                )
                .all()
            )
        for record in records:
            if record.entity == entity:
                record.record_id = ids.get(record.uid)


def changes_since(session: Session, *, anchor: tuple[int, str]) -> ChangesReport:
    """What changed after the anchored event, grouped by record; the anchor verifies first."""
    report = verify(session, anchor=anchor)
    if not report.ok:
        raise ChainBroken(
            f"the anchor does not verify (sequence number "
            f"{report.first_bad_seq}: {report.problem}); nothing can be "
            "compared with it"
        )
    records: dict[tuple[str, str], RecordChanges] = {}
    pending: list[tuple[tuple[str, str], Any]] = []
    last = anchor[0]
    while True:
        rows = (
            session.connection()
            .execute(
                select(
                    Event.seq,
                    Event.at,
                    Event.actor,
                    Event.action,
                    Event.entity,
                    Event.uid,
                    Event.state,
                )
                .where(Event.seq > last)
                .order_by(col(Event.seq))
                .limit(_BATCH)
            )
            .all()
        )
        if not rows:
            break
        for row in rows:
            pending.append(((row.entity, row.uid), row))
        last = rows[-1].seq
    keys = list(dict.fromkeys(key for key, _ in pending))
    previous = _states_at(session, keys, anchor[0])
    for key, row in pending:
        state = json.loads(row.state)
        record = records.get(key)
        if record is None:
            record = records[key] = RecordChanges(
                entity=row.entity, uid=row.uid, record_id=None, label=""
            )
        record.events.append(
            ChangeEvent(
                seq=row.seq,
                at=row.at,
                actor=row.actor,
                action=row.action,
                changes=_diff(previous.get(key), state),
            )
        )
        record.label = _label(row.entity, state, row.uid)
        previous[key] = state
    result = list(records.values())
    _record_ids(session, result)
    return ChangesReport(
        since_seq=anchor[0],
        since_hash=anchor[1],
        head_seq=report.head_seq,
        head_hash=report.head_hash,
        records=result,
    )
