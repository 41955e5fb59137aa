"""portal sync: write-backs, company lines, the pull's cursor

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("succeeded_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("tickets_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "company_phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=True),
        sa.Column("phone_raw", sa.String(length=64), nullable=False),
        sa.Column("phone_e164", sa.String(length=20), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["companies.id"],
            name="fk_company_phones_company_id_companies",
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "company_id", "phone_e164", name="uq_company_phones_company_id_phone"
        ),
    )
    with op.batch_alter_table("company_phones", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_company_phones_phone_e164"), ["phone_e164"], unique=False
        )

    op.create_table(
        "portal_writes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("priority_set_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note_state", sa.String(length=16), nullable=False),
        sa.Column("note_id", sa.BigInteger(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("request_method", sa.String(length=8), nullable=True),
        sa.Column("request_path", sa.Text(), nullable=True),
        sa.Column("request_body", sa.JSON(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["escalation_id"],
            ["escalations.id"],
            name="fk_portal_writes_escalation_id_escalations",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name="fk_portal_writes_ticket_id_tickets"
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", name="uq_portal_writes_key"),
    )
    with op.batch_alter_table("portal_writes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_portal_writes_ticket_id"), ["ticket_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("portal_writes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_portal_writes_ticket_id"))

    op.drop_table("portal_writes")
    with op.batch_alter_table("company_phones", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_company_phones_phone_e164"))

    op.drop_table("company_phones")
    op.drop_table("sync_cursors")
