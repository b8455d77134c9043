"""SQLite: refuse an insert into `event` that would replace an existing event.

`INSERT OR REPLACE INTO event ...` (or `REPLACE INTO`) with a sequence number already in the
log deletes the old row and inserts the new one, and the append-only DELETE trigger does not
fire for a REPLACE. A BEFORE INSERT trigger runs before the conflict is resolved, while the old
row is still there, and refuses it. On PostgreSQL `INSERT ... ON CONFLICT DO UPDATE` already
fires the statement-level UPDATE trigger of 0001, so there is nothing to add.

Revision ID: 0005
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER event_no_replace BEFORE INSERT ON event "
            "WHEN EXISTS (SELECT 1 FROM event WHERE seq = new.seq) "
            "BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS event_no_replace")
