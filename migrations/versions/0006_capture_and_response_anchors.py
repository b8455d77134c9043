"""Source captures (the saved file's SHA-256 and media type) and response quote anchors.

Responses' quotes are checked against the stored text like attributions' quotes: the
migration checks each existing one. Both kinds of anchor remember the capture (text SHA-256)
the quote was found in, so a quote gone from a newer capture shows as drifted.

Revision ID: 0006
Revises: 0007
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("source") as batch:
        batch.add_column(
            sa.Column("file_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    with op.batch_alter_table("attribution") as batch:
        batch.add_column(
            sa.Column("anchor_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    with op.batch_alter_table("response") as batch:
        batch.add_column(
            sa.Column(
                "quote_status",
                sqlmodel.sql.sqltypes.AutoString(),
                nullable=False,
                server_default="no-quote",
            )
        )
        batch.add_column(sa.Column("anchor_start", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("anchor_end", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("anchor_prefix", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch.add_column(
            sa.Column("anchor_suffix", sqlmodel.sql.sqltypes.AutoString(), nullable=True)
        )
        batch.add_column(
            sa.Column("anchor_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    connection = op.get_bind()
    connection.execute(
        sa.text(
            "UPDATE attribution SET anchor_sha256 = (SELECT text_sha256 FROM source "
            "WHERE source.id = attribution.source_id) WHERE quote_status = 'verified'"
        )
    )
    _check_response_quotes(connection)


def _check_response_quotes(connection) -> None:
    from ledger.shapes import quote_anchor

    rows = connection.execute(
        sa.text(
            "SELECT response.id, response.quote, source.text, source.text_sha256 FROM response "
            "JOIN source ON source.id = response.source_id WHERE response.quote IS NOT NULL"
        )
    )
    update = sa.text(
        "UPDATE response SET quote_status = :quote_status, anchor_start = :anchor_start, "
        "anchor_end = :anchor_end, anchor_prefix = :anchor_prefix, "
        "anchor_suffix = :anchor_suffix, anchor_sha256 = :anchor_sha256 WHERE id = :id"
    )
    for response_id, quote, text, digest in rows.fetchall():
        connection.execute(
            update, {"id": response_id, **quote_anchor(text=text, digest=digest, quote=quote)}
        )


def downgrade() -> None:
    with op.batch_alter_table("response") as batch:
        for column in (
            "anchor_sha256",
            "anchor_suffix",
            "anchor_prefix",
            "anchor_end",
            "anchor_start",
            "quote_status",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("attribution") as batch:
        batch.drop_column("anchor_sha256")
    with op.batch_alter_table("source") as batch:
        batch.drop_column("media_type")
        batch.drop_column("file_sha256")
