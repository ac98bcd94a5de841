"""Add registration_terms and registrations (registration for the city's events)

Revision ID: 0019
Revises: 0016
Create Date: 2026-11-29 22:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0016"
branch_labels = None
depends_on = None


def _fk(table: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete=ondelete)


def upgrade() -> None:
    op.create_table(
        "registration_terms",
        sa.Column("content_id", sa.Uuid(), _fk("contents", "CASCADE"), primary_key=True),
        sa.Column("audience", sa.String(10), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "registrations",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("content_id", sa.Uuid(), _fk("contents", "CASCADE"), nullable=False),
        sa.Column("city_id", sa.Uuid(), _fk("cities", "CASCADE"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("user_id", sa.Uuid(), _fk("users", "SET NULL"), nullable=True),
        sa.Column("shop_id", sa.Uuid(), _fk("shops", "SET NULL"), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("content_id", "email", name="uq_registrations_event_email"),
    )
    op.create_index("ix_registrations_content", "registrations", ["content_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_registrations_content", table_name="registrations")
    op.drop_table("registrations")
    op.drop_table("registration_terms")
