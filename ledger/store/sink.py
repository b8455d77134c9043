"""Where a unit of work's new rows go: a plain add for one record, batches for many.

Both sinks take a row as a dict of column values and give back its id. `RowSink` adds it to
the session at once (the database assigns the id). `BatchSink` assigns ids itself, stages rows
and writes them in batches, parents first, with one `executemany` per table; on SQLite a large
batch rebuilds the full-text index once instead of row by row, and on PostgreSQL the id
sequences are brought up to date at the end.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, text
from sqlmodel import Session

from ledger.models import (
    Attribution,
    Claim,
    ClaimPerson,
    Event,
    Person,
    PersonAlias,
    ReplyRequest,
    Response,
    Source,
    SourceLink,
)
from ledger.store.search import resume_index, suspend_index

# Tables in the order their rows must be written (parents first).
TABLES = (
    Person,
    PersonAlias,
    Source,
    SourceLink,
    Claim,
    ClaimPerson,
    Attribution,
    Response,
    ReplyRequest,
    Event,
)
_FLUSH_ROWS = 20_000
# Above this many new rows, SQLite's full-text index is rebuilt once instead of per row.
_REBUILD_INDEX_AT = 2_000


class RowSink:
    """One record at a time: each row is added to the session and flushed."""

    def __init__(self, session: Session) -> None:
        self.session = session
        # The session's identity map holds its objects weakly: kept here, the record a
        # command goes on to show is still there (`session.get` reads nothing again).
        self.added: list[Any] = []

    def add(self, model, row: dict[str, Any]) -> int:
        """Add a row; its id (an event's sequence number)."""
        item = model(**row)
        self.session.add(item)
        self.added.append(item)
        if model is Event:
            return item.seq  # nothing refers to an event: written with the next flush
        self.session.flush()
        return item.id

    def staged(self) -> int:
        return 0

    def pending(self, model) -> list[dict[str, Any]]:
        """The rows of `model` waiting to be written: none, each is written as it comes."""
        return []

    def flush(self) -> None:
        self.session.flush()

    def finish(self) -> None:
        self.session.flush()


class BatchSink:
    """Many records: ids assigned here, rows staged and written in batches."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.rows: dict[str, list[dict[str, Any]]] = {t.__tablename__: [] for t in TABLES}
        # Looked up once: SQLModel's __tablename__ is a descriptor, costly once per row.
        self.names = {t: t.__tablename__ for t in TABLES}
        self.next_id = {t.__tablename__: self._max_id(t) + 1 for t in TABLES if t is not Event}
        self.searchable_rows = sum(
            self.next_id[t] for t in ("claim", "attribution", "response", "source")
        )
        self.inserted: set[str] = set()
        self.flushes = 0
        self.staged_rows = 0  # kept as rows come and go: asked after every record
        self.index_triggers: list[str] | None = None
        # The newest event a flush wrote: where the chain goes on after a `forget`.
        self.written_head: tuple[int, str] | None = None

    def _max_id(self, model) -> int:
        return self.connection.execute(select(func.max(model.id))).scalar() or 0

    def add(self, model, row: dict[str, Any]) -> int:
        """Stage a row (it gets its "id"); the id it will have."""
        table = self.names[model]
        self.staged_rows += 1
        if model is Event:
            self.rows[table].append(row)
            return row["seq"]
        row_id = self.next_id[table]
        self.next_id[table] = row_id + 1
        row["id"] = row_id
        self.rows[table].append(row)
        return row_id

    def staged(self) -> int:
        """How many rows wait to be written."""
        return self.staged_rows

    def pending(self, model) -> list[dict[str, Any]]:
        """The rows of `model` waiting to be written, in id order (read, do not change)."""
        return self.rows[self.names[model]]

    def large(self) -> bool:
        return self.staged() >= _FLUSH_ROWS

    def mark(self) -> tuple[dict[str, int], dict[str, int], int]:
        """A point to go back to (see `forget`)."""
        return ({t: len(r) for t, r in self.rows.items()}, dict(self.next_id), self.flushes)

    def forget(self, point: tuple[dict[str, int], dict[str, int], int]) -> None:
        """Drop the rows staged since `point`. A flush in between wrote what came before it:
        everything staged now is newer, and the ids it gave out stay taken (a flush inside a
        record leaves that record's written rows in place, with their events, rather than
        hand their ids out again)."""
        lengths, next_id, flushes = point
        flushed = flushes != self.flushes
        for table, length in lengths.items():
            del self.rows[table][0 if flushed else length :]
        self.staged_rows = sum(len(r) for r in self.rows.values())
        if not flushed:
            self.next_id = dict(next_id)

    def flush(self) -> None:
        """Write every staged row, parents first."""
        staged = self.staged()
        if not staged:
            return
        # Rebuilding re-reads the whole ledger: worth it only for a write of its size.
        if (
            self.index_triggers is None
            and self.dialect == "sqlite"
            and staged >= max(_REBUILD_INDEX_AT, self.searchable_rows // 2)
        ):
            self.index_triggers = suspend_index(self.session)
        events = self.rows["event"]
        if events:
            self.written_head = (events[-1]["seq"], events[-1]["hash"])
        for model in TABLES:
            rows = self.rows[model.__tablename__]
            if rows:
                self._insert(model.__table__, rows)
                self.inserted.add(model.__tablename__)
                rows.clear()
        self.staged_rows = 0
        self.flushes += 1

    def _insert(self, table, rows: list[dict[str, Any]]) -> None:
        if self.dialect != "sqlite":
            # psycopg: SQLAlchemy batches the rows into multi-row INSERTs.
            self.connection.execute(table.insert(), rows)
            return
        # SQLite: the driver's executemany on plain tuples; SQLAlchemy's per-row parameter
        # processing cost more than the inserts themselves.
        columns = [c.name for c in table.columns]
        sql = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        self.connection.exec_driver_sql(sql, [tuple(map(row.get, columns)) for row in rows])

    def finish(self) -> None:
        """Write what is staged; bring the search index and the id sequences up to date."""
        self.flush()
        if self.index_triggers is not None:
            resume_index(self.session, self.index_triggers)
            self.index_triggers = None
        if self.dialect == "postgresql":
            for table in sorted(self.inserted - {"event"}):
                self.connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
