"""Keep an event's time and place as each participant registered for it, and its sequence

Revision ID: 0023
Revises: 0022
Create Date: 2026-11-30 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_SEEN = ("event_starts_at", "event_ends_at", "event_place")


def upgrade() -> None:
    # Counts the changes of time, place or status (iCalendar's SEQUENCE): 0 for every item.
    op.add_column(
        "contents", sa.Column("sequence", sa.Integer(), nullable=False, server_default="0")
    )
    op.add_column(
        "registrations", sa.Column("event_starts_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "registrations", sa.Column("event_ends_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "registrations",
        sa.Column("event_place", sa.String(200), nullable=False, server_default=""),
    )
    # Registrations from before: what the event says now is the best knowledge there is, so
    # they are told only of changes from here on.
    for column, of_event in (
        ("event_starts_at", "starts_at"),
        ("event_ends_at", "ends_at"),
        ("event_place", "place"),
    ):
        # Names from the list above, never from input.
        op.execute(
            f"UPDATE registrations SET {column} = (SELECT {of_event} FROM contents "  # noqa: S608
            "WHERE contents.id = registrations.content_id)"
        )


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite 3.35+), no batch copy: recreating `contents` would cascade
    # through the foreign keys and delete every registration and version with it.
    for column in _SEEN:
        op.drop_column("registrations", column)
    op.drop_column("contents", "sequence")
