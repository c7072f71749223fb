"""each round's end of calling

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 04:47:00.397010
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import cati.db

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("calling_ends_at", cati.db.UTCDateTime(timezone=True), nullable=True)
        )
    # Rounds sampled before this revision were called until 14 days after their week.
    rounds = sa.table(
        "rounds",
        sa.column("id", sa.Integer),
        sa.column("week_end_at", cati.db.UTCDateTime(timezone=True)),
        sa.column("calling_ends_at", cati.db.UTCDateTime(timezone=True)),
    )
    bind = op.get_bind()
    for round_id, week_end_at in bind.execute(sa.select(rounds.c.id, rounds.c.week_end_at)).all():
        bind.execute(
            rounds.update()
            .where(rounds.c.id == round_id)
            .values(calling_ends_at=week_end_at + timedelta(days=14))
        )
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.alter_column(
            "calling_ends_at", existing_type=cati.db.UTCDateTime(timezone=True), nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("rounds", schema=None) as batch_op:
        batch_op.drop_column("calling_ends_at")
