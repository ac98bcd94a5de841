"""Add shops.staff_may_edit (what an owner lets the shop's staff change)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "shops", sa.Column("staff_may_edit", sa.String(40), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("shops") as batch:
        batch.drop_column("staff_may_edit")
