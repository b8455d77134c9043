"""Index claims by statement, so an import matches a claim without a uid by a lookup.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A hash index on PostgreSQL: a b-tree refuses entries over about 2.7 kB.
    op.create_index("ix_claim_statement", "claim", ["statement"], postgresql_using="hash")


def downgrade() -> None:
    op.drop_index("ix_claim_statement", table_name="claim")
