"""call flow

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("call_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["calls.id"],
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_reason"), ["reason"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "language", sa.String(length=8), nullable=False, server_default="nl"
            )
        )
        batch_op.add_column(
            sa.Column(
                "out_of_hours", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(sa.Column("ticket_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("ticket_tries", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("status_sequence", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("status_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("duration_seconds", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("dial_status", sa.String(length=32), nullable=True)
        )
        batch_op.add_column(
            sa.Column("dial_duration_seconds", sa.Integer(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("recording_sid", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(sa.Column("recording_url", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("recording_duration_seconds", sa.Integer(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("recording_status", sa.String(length=32), nullable=True)
        )
        batch_op.create_foreign_key(
            "fk_calls_ticket_id_tickets", "tickets", ["ticket_id"], ["id"]
        )

    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("language")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("fk_calls_ticket_id_tickets", type_="foreignkey")
        batch_op.drop_column("recording_status")
        batch_op.drop_column("recording_duration_seconds")
        batch_op.drop_column("recording_url")
        batch_op.drop_column("recording_sid")
        batch_op.drop_column("dial_duration_seconds")
        batch_op.drop_column("dial_status")
        batch_op.drop_column("duration_seconds")
        batch_op.drop_column("status_at")
        batch_op.drop_column("status_sequence")
        batch_op.drop_column("ticket_tries")
        batch_op.drop_column("ticket_id")
        batch_op.drop_column("out_of_hours")
        batch_op.drop_column("language")

    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_reason"))

    op.drop_table("reviews")
