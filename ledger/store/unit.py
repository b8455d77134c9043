"""The unit of work every write goes through: one resolver, one event appender, one row sink.

`ledger claim add` and `ledger import` run the same rules (people.py, sources.py, claims.py,
replies.py) on a `Unit`; only the unit's mode differs, the way sqlite-utils' `insert(row)` is
`insert_all([row])`:

- a single write (`writing(session)`): the resolver fills its indexes lazily, one query per
  reference; each row is added to the session; each event takes the session clock's time;
- bulk mode (`writing(session, bulk=True)`): people, sources and links are loaded once; rows
  are staged and written in batches (`BatchSink`); every event has the one time of the import.

In bulk mode `checkpoint()` and `rollback()` forget what was staged since a checkpoint (rows,
index entries, events, warnings), so a caller that refuses one record and goes on (the CSV
import's --dry-run) needs no savepoints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from ledger.models import Event
from ledger.store.events import EventAppender
from ledger.store.resolve import Resolver
from ledger.store.sink import BatchSink, RowSink


@dataclass
class Checkpoint:
    undo: int
    sink: Any
    head: tuple[int, str]
    warnings: int


class Unit:
    """One unit of work; see the module docstring."""

    def __init__(self, session: Session, *, bulk: bool = False, undoable: bool = False) -> None:
        session.flush()
        self.session = session
        self.bulk = bulk
        self.resolver = Resolver(session)
        self.warnings: list[str] = []
        if bulk:
            self.now: Callable[[], str] = _fixed(session.info["clock"]())
            self.events = EventAppender(session, at=self.now())
            self.sink: RowSink | BatchSink = BatchSink(session)
            self.resolver.preload()
            if undoable:
                self.resolver.undo = []
        else:
            self.now = lambda: session.info["clock"]()
            self.events = EventAppender(session)
            self.sink = RowSink(session)

    def add(self, model, row: dict[str, Any]) -> int:
        """Write (or stage) one row; its id."""
        return self.sink.add(model, row)

    def event(self, *, action: str, entity: str, uid: str, state: dict[str, Any]) -> None:
        """Append the event for a record's new state."""
        self.sink.add(Event, self.events.next(action=action, entity=entity, uid=uid, state=state))

    def warn(self, message: str) -> None:
        """Something the caller should tell the user (the write goes ahead)."""
        self.resolver.append(self.warnings, message)

    # --- bulk mode ----------------------------------------------------------------------

    def flush_if_large(self) -> None:
        """Write staged rows once there are enough of them (between records only)."""
        if isinstance(self.sink, BatchSink) and self.sink.large():
            self.flush()

    def flush(self) -> None:
        """Write every staged row; what is written can no longer be rolled back here."""
        self.sink.flush()
        self.resolver.written()
        if self.resolver.undo is not None:
            self.resolver.undo.clear()

    def checkpoint(self) -> Checkpoint:
        """A point to roll the staging back to (bulk mode with undo)."""
        assert isinstance(self.sink, BatchSink) and self.resolver.undo is not None
        self.flush_if_large()
        return Checkpoint(
            len(self.resolver.undo), self.sink.mark(), self.events.head, len(self.warnings)
        )

    def rollback(self, point: Checkpoint) -> None:
        """Forget everything staged since `point`."""
        assert isinstance(self.sink, BatchSink) and self.resolver.undo is not None
        undo = self.resolver.undo
        flushed = point.sink[2] != self.sink.flushes
        while len(undo) > (0 if flushed else point.undo):
            undo.pop()()
        self.sink.forget(point.sink)
        self.resolver.forget_texts()
        self.resolver.people_found.clear()  # found among people the undo may have removed
        # After a flush, the events it wrote stay in the chain (see `BatchSink.forget`).
        written = self.sink.written_head
        self.events.head = written if flushed and written is not None else point.head
        del self.warnings[point.warnings :]

    def finish(self) -> None:
        """Write what is staged and bring the indexes up to date."""
        self.sink.finish()
        self.resolver.written()


def _fixed(value: str) -> Callable[[], str]:
    return lambda: value


@contextmanager
def writing(session: Session, *, bulk: bool = False, undoable: bool = False) -> Iterator[Unit]:
    """A unit of work in the caller's transaction; its rows are written when it ends."""
    unit = Unit(session, bulk=bulk, undoable=undoable)
    yield unit
    unit.finish()
