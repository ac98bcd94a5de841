"""Add contents.body_source (the Markdown an item's text was written in)

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29 21:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Empty for existing items: the editor then shows their HTML, which renders unchanged.
    op.add_column(
        "contents", sa.Column("body_source", sa.Text(), nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("contents") as batch:
        batch.drop_column("body_source")
