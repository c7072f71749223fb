"""follow-ups: their reasons and changes, offices' email, users of an office

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cati.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("hotline_message_id", sa.Integer(), nullable=True),
        sa.Column("counter_rating_id", sa.Integer(), nullable=True),
        sa.Column("office_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("contact_allowed", sa.Boolean(), nullable=True),
        sa.Column("raised_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("callback_satisfied", sa.Boolean(), nullable=True),
        sa.Column("callback_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["hotline_message_id"],
            ["hotline_messages.id"],
            name=op.f("fk_follow_ups_hotline_message_id_hotline_messages"),
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_follow_ups_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_follow_ups_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("counter_rating_id", name=op.f("uq_follow_ups_counter_rating_id")),
        sa.UniqueConstraint("hotline_message_id", name=op.f("uq_follow_ups_hotline_message_id")),
        sa.UniqueConstraint("member_id", name=op.f("uq_follow_ups_member_id")),
    )
    op.create_index("ix_follow_ups_office_id_status", "follow_ups", ["office_id", "status"])
    op.create_table(
        "follow_up_reasons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("raised_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_follow_up_reasons_follow_up_id_follow_ups"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_reasons")),
        sa.UniqueConstraint(
            "follow_up_id",
            "reason",
            "source",
            name=op.f("uq_follow_up_reasons_follow_up_id_reason_source"),
        ),
    )
    op.create_table(
        "follow_up_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["follow_ups.id"],
            name=op.f("fk_follow_up_changes_follow_up_id_follow_ups"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_follow_up_changes_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_up_changes")),
    )
    op.create_index(
        op.f("ix_follow_up_changes_follow_up_id"), "follow_up_changes", ["follow_up_id"]
    )
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("office_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_users_office_id_offices"), "offices", ["office_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_users_office_id_offices"), type_="foreignkey")
        batch_op.drop_column("office_id")
    with op.batch_alter_table("offices", schema=None) as batch_op:
        batch_op.drop_column("email")
    op.drop_index(op.f("ix_follow_up_changes_follow_up_id"), table_name="follow_up_changes")
    op.drop_table("follow_up_changes")
    op.drop_table("follow_up_reasons")
    op.drop_index("ix_follow_ups_office_id_status", table_name="follow_ups")
    op.drop_table("follow_ups")
