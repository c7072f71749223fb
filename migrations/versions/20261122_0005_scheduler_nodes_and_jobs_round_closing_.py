"""scheduler nodes and jobs, round closing and erasure, hashed opt-outs

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 02:47:27.243930
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import cati.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduler_jobs",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("last_run_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_run_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_jobs")),
    )
    op.create_table(
        "scheduler_nodes",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("started_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("leader_since", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduler_nodes")),
    )
    with op.batch_alter_table("opt_outs", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phone_hash", sa.String(length=64), nullable=True))
        batch_op.alter_column("phone", existing_type=sa.VARCHAR(length=20), nullable=True)
        batch_op.create_unique_constraint(batch_op.f("uq_opt_outs_phone_hash"), ["phone_hash"])

    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("closed_at", cati.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("erased_at", cati.db.UTCDateTime(timezone=True), nullable=True)
        )

    # Rounds closed before this revision: their calling period ended 14 days after their week.
    rounds = sa.table(
        "rounds",
        sa.column("id", sa.Integer),
        sa.column("status", sa.String),
        sa.column("week_end_at", cati.db.UTCDateTime(timezone=True)),
        sa.column("closed_at", cati.db.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    closed = bind.execute(
        sa.select(rounds.c.id, rounds.c.week_end_at).where(rounds.c.status == "closed")
    ).all()
    for round_id, week_end_at in closed:
        bind.execute(
            rounds.update()
            .where(rounds.c.id == round_id)
            .values(closed_at=week_end_at + timedelta(days=14))
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("closed_at")

    with op.batch_alter_table("opt_outs", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_opt_outs_phone_hash"), type_="unique")
        batch_op.alter_column("phone", existing_type=sa.VARCHAR(length=20), nullable=False)
        batch_op.drop_column("phone_hash")

    op.drop_table("scheduler_nodes")
    op.drop_table("scheduler_jobs")
