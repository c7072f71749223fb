"""cases offices opt-outs rounds members

Revision ID: 0001
Revises:
Create Date: 2026-11-22 00:28:50.945813
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cati.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "offices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_offices")),
        sa.UniqueConstraint("code", name=op.f("uq_offices_code")),
    )
    op.create_table(
        "opt_outs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opt_outs")),
        sa.UniqueConstraint("phone", name=op.f("uq_opt_outs_phone")),
    )
    op.create_table(
        "rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.Float(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=True),
        sa.Column("min_per_office", sa.Integer(), nullable=False),
        sa.Column("week_start_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("week_end_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("frame_size", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.Column("created_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rounds")),
        sa.UniqueConstraint("week", "flow", name=op.f("uq_rounds_week_flow")),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_code", sa.String(length=100), nullable=False),
        sa.Column("citizen_name", sa.String(length=255), nullable=True),
        sa.Column("phone_raw", sa.String(length=64), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("phone_type", sa.String(length=16), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("procedure_code", sa.String(length=64), nullable=True),
        sa.Column("procedure_name", sa.String(length=500), nullable=True),
        sa.Column("officer", sa.String(length=255), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("immediate_result", sa.Boolean(), nullable=False),
        sa.Column("received_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_cases_office_id_offices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("dossier_code", name=op.f("uq_cases_dossier_code")),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index("ix_cases_phone", ["phone"], unique=False)
        batch_op.create_index(
            "ix_cases_returned_at_office_id", ["returned_at", "office_id"], unique=False
        )

    op.create_table(
        "round_offices",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("frame", sa.Integer(), nullable=False),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_round_offices_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_round_offices_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("round_id", "office_id", name=op.f("pk_round_offices")),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_members_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["office_id"], ["offices.id"], name=op.f("fk_members_office_id_offices")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_members_round_id_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_members")),
        sa.UniqueConstraint("round_id", "case_id", name=op.f("uq_members_round_id_case_id")),
        sa.UniqueConstraint("round_id", "phone", name=op.f("uq_members_round_id_phone")),
    )
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.create_index("ix_members_phone", ["phone"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_index("ix_members_phone")

    op.drop_table("members")
    op.drop_table("round_offices")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_returned_at_office_id")
        batch_op.drop_index("ix_cases_phone")

    op.drop_table("cases")
    op.drop_table("rounds")
    op.drop_table("opt_outs")
    op.drop_table("offices")
