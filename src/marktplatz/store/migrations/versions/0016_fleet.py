"""Add the fleet's columns to touchpoints and an index of contact events

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-29 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_CONTACTS = sa.text("kind = 'touchpoint.contact'")


def upgrade() -> None:
    with op.batch_alter_table("touchpoints") as batch:
        batch.add_column(sa.Column("expected_interval_hours", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("battery_percent", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("battery_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_events_contacts",
        "events",
        ["city_id", "touchpoint_id", "occurred_at"],
        sqlite_where=_CONTACTS,
        postgresql_where=_CONTACTS,
    )


def downgrade() -> None:
    op.drop_index("ix_events_contacts", table_name="events")
    with op.batch_alter_table("touchpoints") as batch:
        batch.drop_column("battery_at")
        batch.drop_column("battery_percent")
        batch.drop_column("expected_interval_hours")
