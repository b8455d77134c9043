"""The event log: append in the writer's transaction, read, verify."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

from sqlmodel import Session, col, select

from ledger.chain import GENESIS, ChainReport, canonical_json, event_hash, verify_rows
from ledger.errors import InvalidValue
from ledger.integrity import ACTIONS, ENTITIES, EventValidator
from ledger.models import Event


class EventAppender:
    """Builds each new event after the chain head, which it keeps in the session.

    Writers are serialized (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so
    reading the head and appending after it is not a race. `at` fixes the time of every event
    (a bulk import is one transaction, recorded when it ran); otherwise the session's clock
    gives each event its time.
    """

    def __init__(self, session: Session, *, at: str | None = None) -> None:
        self.session = session
        self.at = at

    @property
    def head(self) -> tuple[int, str]:
        """The chain head: the newest event's sequence number and hash."""
        cached = self.session.info.get("chain_head")
        if cached is None:
            cached = self.session.info["chain_head"] = head(self.session)
        return cached

    @head.setter
    def head(self, value: tuple[int, str]) -> None:
        self.session.info["chain_head"] = value

    def next(self, *, action: str, entity: str, uid: str,
             state: dict[str, Any]) -> dict[str, Any]:
        """The next event's row, for a record's new state; the head moves past it."""
        if action not in ACTIONS or entity not in ENTITIES:  # what verify accepts, once
            raise ValueError(f"unknown event action {action!r} or entity {entity!r}")
        last, prev = self.head
        seq = last + 1
        actor = self.session.info["actor"]
        on_behalf = self.session.info.get("on_behalf")
        at = self.at or self.session.info["clock"]()
        state_json = canonical_json(state)
        digest = event_hash(seq=seq, at=at, actor=actor, action=action, entity=entity,
                            uid=uid, state=state_json, prev=prev, on_behalf=on_behalf)
        self.head = (seq, digest)
        return {"seq": seq, "at": at, "actor": actor, "on_behalf": on_behalf,
                "action": action, "entity": entity, "uid": uid, "state": state_json,
                "prev_hash": prev, "hash": digest}


def append_event(session: Session, *, action: str, entity: str, uid: str,
                 state: dict[str, Any]) -> Event:
    """Append one event for a record's new state; the caller's transaction commits it."""
    event = Event(**EventAppender(session).next(action=action, entity=entity, uid=uid,
                                                state=state))
    session.add(event)
    return event


def head(session: Session) -> tuple[int, str]:
    """The newest event's sequence number and hash ((0, 64 zeros) for an empty log)."""
    row = session.exec(select(Event.seq, Event.hash).order_by(col(Event.seq).desc())
                       .limit(1)).first()
    return (row[0], row[1]) if row else (0, GENESIS)


def count_events(session: Session) -> int:
    """How many events the log holds."""
    from sqlalchemy import func

    return session.exec(select(func.count()).select_from(Event)).one()


def list_events(session: Session, *, limit: int | None = 50, entity: str | None = None,
                uid: str | None = None, newest_first: bool = True) -> list[Event]:
    """Events, newest first by default, optionally of one entity kind or one record."""
    query = select(Event)
    if entity:
        query = query.where(Event.entity == entity)
    if uid:
        query = query.where(Event.uid == uid)
    query = query.order_by(col(Event.seq).desc() if newest_first else col(Event.seq))
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def iter_events(session: Session, *, batch: int = 5_000) -> Iterator[Event]:
    """Every event in sequence order, read in batches so memory stays flat."""
    last = None
    while True:
        query = select(Event).order_by(col(Event.seq)).limit(batch)
        if last is not None:
            query = query.where(Event.seq > last)
        rows = list(session.exec(query))
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


class EventRow(NamedTuple):
    """One event as plain values (attribute access at C speed, unlike an ORM object)."""

    seq: int
    at: str
    actor: str
    action: str
    entity: str
    uid: str
    state: str
    prev_hash: str
    hash: str
    on_behalf: str | None


def _event_rows(session: Session, *, batch: int = 10_000) -> Iterator[EventRow]:
    """Every event as an `EventRow`, in sequence order, batch by batch.

    Read through the DBAPI cursor of the session's connection (its transaction, so its
    snapshot): verify reads every event, and SQLAlchemy's rows cost a third of the read. The
    SQL is the same on SQLite and PostgreSQL; the only value in it is an integer.
    """
    cursor = session.connection().connection.cursor()
    columns = ", ".join(EventRow._fields)
    last = 0
    try:
        while True:
            cursor.execute(f"SELECT {columns} FROM event WHERE seq > {int(last)} "
                           f"ORDER BY seq LIMIT {int(batch)}")
            rows = cursor.fetchall()
            if not rows:
                return
            yield from map(EventRow._make, rows)
            last = rows[-1][0]
    finally:
        cursor.close()


def parse_anchor(value: str) -> tuple[int, str]:
    """Parse `SEQ:HASH` as printed in dossiers and by `ledger log`."""
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or int(seq) < 1 or len(digest) != 64 or not all(
        c in "0123456789abcdef" for c in digest
    ):
        raise InvalidValue(f"--anchor {value!r} must be SEQ:HASH (a sequence number and a "
                           "64-character hex hash, as a dossier's front matter gives)")
    return int(seq), digest


def verify(session: Session, *, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Recompute the whole chain and validate each event (time, action, entity, state shape);
    see `ledger.chain.verify_rows` and `ledger.integrity.EventValidator`."""
    return verify_rows(_event_rows(session), anchor=anchor, validate=EventValidator())
