"""users, audit trail, console leases, appointments and modes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 01:18:52.079018
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cati.db

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"], name=op.f("fk_audit_events_member_id_members")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_events_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_user_id"), ["user_id"], unique=False)

    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("user_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_attempts_user_id_users"), "users", ["user_id"], ["id"]
        )

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", cati.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("mode", sa.String(length=16), server_default="ivr", nullable=False)
        )
        batch_op.add_column(
            sa.Column("appointment_at", cati.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_members_claimed_by_users"), "users", ["claimed_by"], ["id"]
        )

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("mode", sa.String(length=16), server_default="ivr", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("mode")

    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_members_claimed_by_users"), type_="foreignkey")
        batch_op.drop_column("notes")
        batch_op.drop_column("appointment_at")
        batch_op.drop_column("mode")
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("claimed_by")

    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attempts_user_id_users"), type_="foreignkey")
        batch_op.drop_column("notes")
        batch_op.drop_column("user_id")

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_user_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_member_id"))

    op.drop_table("audit_events")
    op.drop_table("users")
