"""Add the rollup tables: hourly and daily aggregates, the fill state and the hours to redo

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-30 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollup_rows",
        sa.Column("city_id", sa.Uuid(), nullable=False),
        sa.Column("stat", sa.String(20), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("via", sa.String(64), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("identified", sa.Integer(), nullable=False),
        sa.Column("anonymous", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("city_id", "stat", "hour", "subject", "via", name="pk_rollup_rows"),
    )
    op.create_table(
        "rollup_fill",
        sa.Column("city_id", sa.Uuid(), primary_key=True),
        sa.Column("filled_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "rollup_dirty",
        sa.Column("city_id", sa.Uuid(), nullable=False),
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("marked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("city_id", "hour", name="pk_rollup_dirty"),
    )


def downgrade() -> None:
    op.drop_table("rollup_dirty")
    op.drop_table("rollup_fill")
    op.drop_table("rollup_rows")
