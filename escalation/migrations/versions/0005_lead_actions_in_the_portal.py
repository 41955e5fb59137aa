"""lead actions in the portal: a note-only write per audit event

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("portal_writes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("audit_event_id", sa.Integer(), nullable=True))
        batch_op.alter_column(
            "priority", existing_type=sa.String(length=16), nullable=True
        )
        batch_op.create_index(
            batch_op.f("ix_portal_writes_audit_event_id"),
            ["audit_event_id"],
            unique=False,
        )
        batch_op.create_foreign_key(
            "fk_portal_writes_audit_event_id_audit_events",
            "audit_events",
            ["audit_event_id"],
            ["id"],
        )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("portal_state")


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "portal_state",
                sa.String(length=16),
                server_default="queued",
                nullable=False,
            )
        )

    # Notes for lead actions have no priority; the old schema cannot hold them.
    op.execute("DELETE FROM portal_writes WHERE priority IS NULL")
    with op.batch_alter_table("portal_writes", schema=None) as batch_op:
        batch_op.drop_constraint(
            "fk_portal_writes_audit_event_id_audit_events", type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_portal_writes_audit_event_id"))
        batch_op.alter_column(
            "priority", existing_type=sa.String(length=16), nullable=False
        )
        batch_op.drop_column("audit_event_id")
