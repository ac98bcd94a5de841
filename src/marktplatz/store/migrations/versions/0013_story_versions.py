"""Add story_versions (the story editor's saved versions)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "story_versions",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "shop_id", sa.Uuid(), sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column(
            "author_id", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_story_versions_shop_language", "story_versions", ["shop_id", "language", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_story_versions_shop_language", table_name="story_versions")
    op.drop_table("story_versions")
