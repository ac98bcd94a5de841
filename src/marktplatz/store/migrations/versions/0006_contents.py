"""Add contents (offers, stories, events, jobs) and the city's rules and content version

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cities", sa.Column("rules", sa.JSON(), nullable=True))
    op.add_column(
        "cities",
        sa.Column("content_version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "contents",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column(
            "city_id",
            sa.Uuid(),
            sa.ForeignKey("cities.id", ondelete="CASCADE", name="fk_contents_city_id_cities"),
            nullable=False,
        ),
        sa.Column(
            "shop_id",
            sa.Uuid(),
            sa.ForeignKey("shops.id", ondelete="CASCADE", name="fk_contents_shop_id_shops"),
            nullable=True,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("weekdays", sa.JSON(), nullable=False),
        sa.Column("day_start", sa.String(5), nullable=True),
        sa.Column("day_end", sa.String(5), nullable=True),
        sa.Column("zone_ids", sa.JSON(), nullable=False),
        sa.Column("touchpoint_ids", sa.JSON(), nullable=False),
        sa.Column("radius_m", sa.Integer(), nullable=True),
        sa.Column("languages", sa.JSON(), nullable=False),
        sa.Column("interests", sa.JSON(), nullable=False),
        sa.Column("coupon_period", sa.String(10), nullable=True),
        sa.Column("coupon_stock", sa.Integer(), nullable=True),
        sa.Column("coupon_per_person", sa.Integer(), nullable=True),
        sa.Column(
            "image_id",
            sa.Uuid(),
            sa.ForeignKey(
                "shop_images.id", ondelete="SET NULL", name="fk_contents_image_id_shop_images"
            ),
            nullable=True,
        ),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("registration", sa.String(500), nullable=False),
        sa.Column("job_type", sa.String(20), nullable=True),
        sa.Column("prescription_only", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("review_note", sa.String(500), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_contents_city_status", "contents", ["city_id", "status"])
    op.create_index("ix_contents_shop_id", "contents", ["shop_id"])


def downgrade() -> None:
    op.drop_index("ix_contents_shop_id", "contents")
    op.drop_index("ix_contents_city_status", "contents")
    op.drop_table("contents")
    op.drop_column("cities", "content_version")
    op.drop_column("cities", "rules")
