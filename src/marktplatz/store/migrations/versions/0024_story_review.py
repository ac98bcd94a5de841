"""Keep whether a story version waits for the city's approval, and the city's message

Revision ID: 0024
Revises: 0023
Create Date: 2026-11-30 08:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_COLUMNS = ("status", "flags", "review_note")


def upgrade() -> None:
    # Every version from before was published at once: that is what they are.
    op.add_column(
        "story_versions",
        sa.Column("status", sa.String(10), nullable=False, server_default="published"),
    )
    op.add_column("story_versions", sa.Column("flags", sa.JSON(), nullable=True))
    op.add_column(
        "story_versions",
        sa.Column("review_note", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_story_versions_status", "story_versions", ["status"])


def downgrade() -> None:
    op.drop_index("ix_story_versions_status", table_name="story_versions")
    # Plain DROP COLUMN (SQLite 3.35+), as in 0023: no batch copy of the table.
    for column in _COLUMNS:
        op.drop_column("story_versions", column)
