"""Add fitness_checks (the digital-fitness check of a shop)

Revision ID: 0011
Revises: 0009
Create Date: 2026-11-29 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fitness_checks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "shop_id", sa.Uuid(), sa.ForeignKey("shops.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "city_id", sa.Uuid(), sa.ForeignKey("cities.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("scores", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_fitness_checks_shop_created", "fitness_checks", ["shop_id", "created_at"])
    op.create_index("ix_fitness_checks_city_created", "fitness_checks", ["city_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_fitness_checks_city_created", "fitness_checks")
    op.drop_index("ix_fitness_checks_shop_created", "fitness_checks")
    op.drop_table("fitness_checks")
