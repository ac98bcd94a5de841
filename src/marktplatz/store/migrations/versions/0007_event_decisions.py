"""Add events.decision_id and events.reasons (what a content.exposed event was shown for)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 13:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("decision_id", sa.Uuid(), nullable=True))
    op.add_column("events", sa.Column("reasons", sa.Text(), nullable=True))
    op.create_index(
        "ix_events_decision",
        "events",
        ["decision_id"],
        sqlite_where=sa.text("decision_id IS NOT NULL"),
        postgresql_where=sa.text("decision_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_decision", "events")
    op.drop_column("events", "reasons")
    op.drop_column("events", "decision_id")
