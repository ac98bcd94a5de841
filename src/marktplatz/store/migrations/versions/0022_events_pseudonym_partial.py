"""Index only the events that carry a pseudonym (events without consent carry none)

Revision ID: 0022
Revises: 0021
Create Date: 2026-11-30 07:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_WHERE = "pseudonym IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_events_pseudonym", "events")
    op.create_index(
        "ix_events_pseudonym",
        "events",
        ["pseudonym"],
        sqlite_where=sa.text(_WHERE),
        postgresql_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_events_pseudonym", "events")
    op.create_index("ix_events_pseudonym", "events", ["pseudonym"])
