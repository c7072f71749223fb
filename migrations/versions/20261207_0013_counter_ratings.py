"""counter ratings: kiosks at the desk, offices' QR codes, ratings and their answers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 16:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cati.db

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "office_qr_codes",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("created_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.PrimaryKeyConstraint("office_id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_table(
        "counter_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("flow", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("started_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dossier_code", sa.String(length=100), nullable=True),
        sa.Column("dossier_check", sa.String(length=16), nullable=True),
        sa.Column("officer", sa.String(length=255), nullable=True),
        sa.Column("flags", sa.String(length=100), nullable=True),
        sa.Column("accepted_by", sa.String(length=255), nullable=True),
        sa.Column("accepted_at", cati.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["kiosk_id"], ["kiosks.id"]),
        sa.ForeignKeyConstraint(["office_id"], ["offices.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_counter_ratings_office_started", "counter_ratings", ["office_id", "started_at"]
    )
    op.create_index("ix_counter_ratings_dossier_code", "counter_ratings", ["dossier_code"])
    op.create_table(
        "counter_answers",
        sa.Column("rating_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=16), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_at", cati.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["rating_id"], ["counter_ratings.id"]),
        sa.PrimaryKeyConstraint("rating_id", "question_id"),
    )


def downgrade() -> None:
    op.drop_table("counter_answers")
    op.drop_index("ix_counter_ratings_dossier_code", table_name="counter_ratings")
    op.drop_index("ix_counter_ratings_office_started", table_name="counter_ratings")
    op.drop_table("counter_ratings")
    op.drop_table("office_qr_codes")
    op.drop_table("kiosks")
