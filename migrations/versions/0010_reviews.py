"""Reviews before publication (a claim's approval, rejection or hold) and a person's Wikidata
item.

After this migration no claim is approved: `ledger publish` then publishes nothing until a
reviewer approves claims (`ledger review approve ID`), or `--drafts` publishes them marked as
drafts; publish says so on stderr.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "review",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("uid", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("approved_seq", sa.Integer(), nullable=True),
        sa.Column("approved_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("override", sa.Text(), nullable=True),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("decision IN ('approved', 'rejected')", name=op.f("ck_review_decision")),
        sa.ForeignKeyConstraint(["claim_id"], ["claim.id"], name=op.f("fk_review_claim_id_claim")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review")),
        sa.UniqueConstraint("claim_id", name=op.f("uq_review_claim_id")),
        sa.UniqueConstraint("uid", name=op.f("uq_review_uid")),
    )
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("wikidata", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # As every record table (0009): a change to a review needs its event in the same
        # transaction.
        op.execute(
            "CREATE CONSTRAINT TRIGGER ledger_change_has_event AFTER INSERT OR UPDATE OR DELETE "
            "ON review DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            "EXECUTE FUNCTION ledger_change_has_event('review')"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_change_has_event ON review")
    with op.batch_alter_table("person") as batch:
        batch.drop_column("wikidata")
    op.drop_table("review")
