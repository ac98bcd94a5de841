"""Add the English tagline of a city.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN, not a batch copy: on SQLite a batch drops and recreates the table,
    # and with foreign keys on, dropping `cities` would cascade into every shop and zone.
    op.add_column(
        "cities",
        sa.Column("tagline_en", sa.String(length=200), nullable=False, server_default=""),
    )


def downgrade() -> None:
    with op.batch_alter_table("cities") as batch:
        batch.drop_column("tagline_en")
