"""why a web member's invitation SMS could never be sent (invalid number)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("web_links", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sms_error", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("web_links", schema=None) as batch_op:
        batch_op.drop_column("sms_error")
