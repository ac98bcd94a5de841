"""Add coupons, coupon_tallies and coupon_touches (save, redeem, attribute)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 15:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "city_id", sa.Uuid(), sa.ForeignKey("cities.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("shop_id", sa.Uuid(), sa.ForeignKey("shops.id", ondelete="CASCADE")),
        sa.Column(
            "content_id",
            sa.Uuid(),
            sa.ForeignKey("contents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("code_tail", sa.String(4), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pseudonym", sa.String(32)),
        sa.Column("touchpoint_id", sa.Uuid()),
        sa.Column("decision_id", sa.Uuid()),
        sa.Column("redeemed_at", sa.DateTime(timezone=True)),
        sa.Column("redeemed_by", sa.Uuid(), sa.ForeignKey("users.id", ondelete="SET NULL")),
    )
    op.create_index("ix_coupons_pseudonym", "coupons", ["pseudonym"])
    op.create_index("ix_coupons_content_status", "coupons", ["content_id", "status"])
    op.create_table(
        "coupon_tallies",
        sa.Column(
            "content_id",
            sa.Uuid(),
            sa.ForeignKey("contents.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("saved", sa.Integer(), nullable=False),
        sa.Column("redeemed", sa.Integer(), nullable=False),
    )
    op.create_table(
        "coupon_touches",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "coupon_id",
            sa.Uuid(),
            sa.ForeignKey("coupons.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("content_id", sa.Uuid(), nullable=False),
        sa.Column("touchpoint_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pseudonym", sa.String(32), nullable=False),
    )
    op.create_index("ix_coupon_touches_coupon_id", "coupon_touches", ["coupon_id"])
    op.create_index("ix_coupon_touches_content_id", "coupon_touches", ["content_id"])
    op.create_index("ix_coupon_touches_pseudonym", "coupon_touches", ["pseudonym"])


def downgrade() -> None:
    op.drop_table("coupon_touches")
    op.drop_table("coupon_tallies")
    op.drop_table("coupons")
