"""Add cities.retention_days (per-city retention of pseudonymous events)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cities", sa.Column("retention_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite ≥ 3.35): cities is referenced, so it is never recreated.
    op.drop_column("cities", "retention_days")
