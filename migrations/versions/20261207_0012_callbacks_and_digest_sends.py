"""follow-up callbacks claimed with a lease, and the digests sent per office and day

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cati.db

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Closing the loop: the interviewer calling the citizen back, and until when.
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("callback_claimed_by", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "callback_lease_expires_at", cati.db.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_follow_ups_callback_claimed_by_users"),
            "users",
            ["callback_claimed_by"],
            ["id"],
        )
    # One daily digest per office and local day, however often the job runs.
    op.create_table(
        "digest_sends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("new_count", sa.Integer(), nullable=False),
        sa.Column("overdue_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_digest_sends_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digest_sends")),
        sa.UniqueConstraint("office_id", "day", name=op.f("uq_digest_sends_office_id_day")),
    )


def downgrade() -> None:
    op.drop_table("digest_sends")
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_follow_ups_callback_claimed_by_users"), type_="foreignkey"
        )
        batch_op.drop_column("callback_lease_expires_at")
        batch_op.drop_column("callback_claimed_by")
