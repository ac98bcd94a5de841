"""SQLAlchemy Core tables; the schema itself is created by Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import text
from sqlalchemy.types import TypeDecorator

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class AwareDateTime(TypeDecorator[datetime]):
    """Stores UTC and always returns aware datetimes, also on SQLite (which keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


TS = AwareDateTime()

cities = Table(
    "cities",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("slug", String(60), nullable=False, unique=True),
    Column("name", String(120), nullable=False),
    Column("timezone", String(60), nullable=False),
    Column("federal_state", String(2), nullable=False),
    Column("languages", JSON, nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("tagline", String(200), nullable=False, default=""),
    Column("tagline_en", String(200), nullable=False, default=""),
    Column("is_demo", Boolean, nullable=False, default=False),
    Column("created_at", TS, nullable=False),
    # Days raw events with a pseudonym are kept; NULL: the installation's default.
    Column("retention_days", Integer, nullable=True),
    # The city's content and notification rules (domain/rules.py as JSON); NULL: the defaults.
    Column("rules", JSON, nullable=True),
    # Bumped by every change of the city's content or rules: workers rebuild their index on it.
    Column("content_version", Integer, nullable=False, default=0, server_default="0"),
)

zones = Table(
    "zones",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(60), nullable=False),
    Column("name", String(120), nullable=False),
    Column("description", String(500), nullable=False, default=""),
    Column("geometry", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    UniqueConstraint("city_id", "slug", name="uq_zones_city_slug"),
)

shops = Table(
    "shops",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False),
    Column("slug", String(60), nullable=False),
    Column("name", String(120), nullable=False),
    Column("category", String(40), nullable=False),
    Column("street", String(120), nullable=False, default=""),
    Column("postcode", String(5), nullable=False, default=""),
    Column("town", String(80), nullable=False, default=""),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("phone", String(30), nullable=False, default=""),
    Column("email", String(254), nullable=False, default=""),
    Column("website", String(500), nullable=False, default=""),
    Column("story_html", Text, nullable=False, default=""),
    Column("story_html_en", Text, nullable=False, default=""),
    Column("opening_hours", String(500), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("staff_may_edit", String(40), nullable=False, default="", server_default=""),
    UniqueConstraint("city_id", "slug", name="uq_shops_city_slug"),
    Index("ix_shops_city_category", "city_id", "category"),
)

shop_images = Table(
    "shop_images",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("filename", String(80), nullable=False, unique=True),
    Column("alt_text", String(200), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("position", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
)

touchpoints = Table(
    "touchpoints",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column(
        "city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="SET NULL"), nullable=True),
    Column("zone_id", Uuid, ForeignKey("zones.id", ondelete="SET NULL"), nullable=True),
    Column("kind", String(30), nullable=False),
    Column("name", String(120), nullable=False),
    # Unique across the installation: a sighting or a scanned code must name one touchpoint.
    Column("identifier", String(120), nullable=False, unique=True),
    Column("code", String(16), nullable=False, default=""),
    Column("target", String(500), nullable=False, default=""),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("placement", String(200), nullable=False, default=""),
    Column("status", String(20), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("expected_interval_hours", Integer, nullable=True),
    Column("battery_percent", Integer, nullable=True),
    Column("battery_at", TS, nullable=True),
)

contents = Table(
    "contents",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False),
    # NULL: the city itself publishes it (markets, late-night shopping, tours).
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="CASCADE"), nullable=True, index=True),
    Column("kind", String(10), nullable=False),
    Column("status", String(12), nullable=False),
    Column("title", String(120), nullable=False),
    Column("body_html", Text, nullable=False, default=""),
    Column("language", String(5), nullable=False),
    Column("starts_at", TS, nullable=True),
    Column("ends_at", TS, nullable=True),
    Column("weekdays", JSON, nullable=False),
    Column("day_start", String(5), nullable=True),
    Column("day_end", String(5), nullable=True),
    Column("zone_ids", JSON, nullable=False),
    Column("touchpoint_ids", JSON, nullable=False),
    Column("radius_m", Integer, nullable=True),
    Column("languages", JSON, nullable=False),
    Column("interests", JSON, nullable=False),
    # coupon_period NULL: the offer has no coupon.
    Column("coupon_period", String(10), nullable=True),
    Column("coupon_stock", Integer, nullable=True),
    Column("coupon_per_person", Integer, nullable=True),
    Column("image_id", Uuid, ForeignKey("shop_images.id", ondelete="SET NULL"), nullable=True),
    Column("place", String(200), nullable=False, default=""),
    Column("registration", String(500), nullable=False, default=""),
    Column("job_type", String(20), nullable=True),
    Column("prescription_only", Boolean, nullable=False, default=False),
    Column("flags", JSON, nullable=False),
    Column("review_note", String(500), nullable=False, default=""),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("published_at", TS, nullable=True),
    # Raised when the time, place or status changes: iCalendar's SEQUENCE (RFC 5545).
    Column("sequence", Integer, nullable=False, default=0, server_default="0"),
    # The Markdown body_html was rendered from ("" for items from before the editor kept it).
    Column("body_source", Text, nullable=False, default="", server_default=""),
    Index("ix_contents_city_status", "city_id", "status"),
)

users = Table(
    "users",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", String(120), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
    Column("created_at", TS, nullable=False),
)

memberships = Table(
    "memberships",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column(
        "city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="CASCADE"), nullable=True),
)

login_sessions = Table(
    "login_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
)

# Two-factor login. The TOTP secret is sealed with AES-GCM (key from the installation's secret):
# a copy of the database alone does not yield codes. Recovery codes and the login challenge are
# stored as SHA-256 hashes only.
two_factor = Table(
    "two_factor",
    metadata,
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("enabled_at", TS, nullable=True),
    Column("last_step", BigInteger, nullable=True),
    Column("created_at", TS, nullable=False),
)

recovery_codes = Table(
    "recovery_codes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("code_hash", String(64), nullable=False),
    Column("used_at", TS, nullable=True),
)

login_challenges = Table(
    "login_challenges",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("expires_at", TS, nullable=False, index=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", TS, nullable=False, index=True),
    Column("actor_id", Uuid, nullable=True, index=True),
    Column("city_id", Uuid, nullable=True, index=True),
    Column("action", String(60), nullable=False),
    Column("object_type", String(40), nullable=False),
    Column("object_id", String(254), nullable=False),
    Column("detail", String(500), nullable=False, default=""),
)

invitations = Table(
    "invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("email", String(254), nullable=False),
    Column("role", String(20), nullable=False),
    Column(
        "city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="CASCADE"), nullable=True),
    Column("invited_by", Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", TS, nullable=False),
    Column("expires_at", TS, nullable=False),
    Column("accepted_at", TS, nullable=True),
)

# Journey events. No column ever holds an IP address, a user agent or a hardware id.
events = Table(
    "events",
    metadata,
    Column("event_id", Uuid, primary_key=True),
    Column("kind", String(30), nullable=False),
    Column("city_id", Uuid, nullable=False),
    Column("occurred_at", TS, nullable=False),
    Column("received_at", TS, nullable=False),
    Column("touchpoint_id", Uuid, nullable=True),
    Column("content_id", String(64), nullable=True),
    Column("channel", String(20), nullable=True),
    Column("proximity", String(20), nullable=True),
    Column("rssi", Integer, nullable=True),
    Column("count", Integer, nullable=True),
    Column("path", String(200), nullable=True),
    Column("pseudonym", String(32), nullable=True),
    Column("daily_hash", String(64), nullable=True),
    Column("schema_version", Integer, nullable=False),
    Column("decision_id", Uuid, nullable=True),
    Column("reasons", Text, nullable=True),
    Index("ix_events_city_occurred", "city_id", "occurred_at"),
    # Erasure, export and retention look events up by pseudonym; most events (without
    # consent) carry none and stay out of the index, so their insert costs one index less.
    Index(
        "ix_events_pseudonym",
        "pseudonym",
        sqlite_where=text("pseudonym IS NOT NULL"),
        postgresql_where=text("pseudonym IS NOT NULL"),
    ),
    # Only exposures carry a decision: a partial index costs the other events nothing.
    Index(
        "ix_events_decision",
        "decision_id",
        sqlite_where=text("decision_id IS NOT NULL"),
        postgresql_where=text("decision_id IS NOT NULL"),
    ),
    # Fleet health: the last contact and the recent counts per touchpoint of a city, read from
    # the index alone; only contact events carry its cost.
    Index(
        "ix_events_contacts",
        "city_id",
        "touchpoint_id",
        "occurred_at",
        sqlite_where=text("kind = 'touchpoint.contact'"),
        postgresql_where=text("kind = 'touchpoint.contact'"),
    ),
)

# A consenting visitor: the random id of the device and the hash of its data-rights secret.
visitors = Table(
    "visitors",
    metadata,
    Column("pseudonym", String(32), primary_key=True),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
)

# Every consent decision, appended: the current state is the latest row per purpose.
consents = Table(
    "consents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pseudonym", String(32), nullable=False, index=True),
    Column("purpose", String(20), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("text_version", String(20), nullable=False),
    Column("at", TS, nullable=False),
)

# Salts for counting daily unique visitors without consent; deleted 48 h after their day.
daily_salts = Table(
    "daily_salts",
    metadata,
    Column("city_id", Uuid, primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("salt", String(64), nullable=False),
    Column("created_at", TS, nullable=False),
)

# Saved coupons. The code is kept only as a hash; the pseudonym only with analytics consent.
coupons = Table(
    "coupons",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="CASCADE"), nullable=True),
    Column("content_id", Uuid, ForeignKey("contents.id", ondelete="CASCADE"), nullable=False),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("code_tail", String(4), nullable=False),
    Column("status", String(10), nullable=False),
    Column("saved_at", TS, nullable=False),
    Column("pseudonym", String(32), nullable=True, index=True),
    Column("touchpoint_id", Uuid, nullable=True),
    Column("decision_id", Uuid, nullable=True),
    Column("redeemed_at", TS, nullable=True),
    Column("redeemed_by", Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Index("ix_coupons_content_status", "content_id", "status"),
)

# One row per offer with a coupon: the lock that serialises its redemptions, and its tallies.
coupon_tallies = Table(
    "coupon_tallies",
    metadata,
    Column("content_id", Uuid, ForeignKey("contents.id", ondelete="CASCADE"), primary_key=True),
    Column("saved", Integer, nullable=False, default=0),
    Column("redeemed", Integer, nullable=False, default=0),
)

# What led to a redemption, found at the till from the visitor's own events (consent only).
coupon_touches = Table(
    "coupon_touches",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "coupon_id", Uuid, ForeignKey("coupons.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("content_id", Uuid, nullable=False, index=True),
    Column("touchpoint_id", Uuid, nullable=False),
    Column("kind", String(30), nullable=False),
    Column("occurred_at", TS, nullable=False),
    Column("pseudonym", String(32), nullable=False, index=True),
)

# Digital-fitness checks: a shop's answers and the scores they gave at the time (trend).
fitness_checks = Table(
    "fitness_checks",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("scores", JSON, nullable=False),
    Column("created_by", Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", TS, nullable=False),
    Index("ix_fitness_checks_shop_created", "shop_id", "created_at"),
    Index("ix_fitness_checks_city_created", "city_id", "created_at"),
)

# Every saved state of a shop's story (Markdown source and published HTML), newest kept per
# shop and language; shops.story_html / story_html_en stay what visitor pages read.
story_versions = Table(
    "story_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="CASCADE"), nullable=False),
    Column("language", String(2), nullable=False),
    Column("source", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("author_id", Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", TS, nullable=False),
    # published, submitted (waits for the city), rejected, or draft (a newer save replaced it)
    Column("status", String(10), nullable=False, server_default="published"),
    Column("flags", JSON, nullable=True),  # the rules that asked for approval
    Column("review_note", String(500), nullable=False, server_default=""),
    Index("ix_story_versions_shop_language", "shop_id", "language", "id"),
    Index("ix_story_versions_status", "status"),
)

# Registration in Marktplatz for an event (the city's own): who may register, places, deadline.
registration_terms = Table(
    "registration_terms",
    metadata,
    Column("content_id", Uuid, ForeignKey("contents.id", ondelete="CASCADE"), primary_key=True),
    Column("audience", String(10), nullable=False),
    Column("capacity", Integer, nullable=True),
    Column("closes_at", TS, nullable=True),
)

# Participants of events; personal data, purged KEEP_DAYS after the event (services/retention).
# Only the hash of the cancel link's token is kept.
registrations = Table(
    "registrations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("content_id", Uuid, ForeignKey("contents.id", ondelete="CASCADE"), nullable=False),
    Column("city_id", Uuid, ForeignKey("cities.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(120), nullable=False),
    Column("email", String(254), nullable=False),
    Column("user_id", Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("shop_id", Uuid, ForeignKey("shops.id", ondelete="SET NULL"), nullable=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", TS, nullable=False),
    # The event's time and place when they registered, to tell them what changed since.
    Column("event_starts_at", TS, nullable=True),
    Column("event_ends_at", TS, nullable=True),
    Column("event_place", String(200), nullable=False, default="", server_default=""),
    UniqueConstraint("content_id", "email", name="uq_registrations_event_email"),
    Index("ix_registrations_content", "content_id", "created_at"),
)


# The content editor's saved versions of an item's title and text (newest 50 per item).
content_versions = Table(
    "content_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("content_id", Uuid, ForeignKey("contents.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(120), nullable=False),
    Column("source", Text, nullable=False),
    Column("html", Text, nullable=False),
    Column("author_id", Uuid, ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", TS, nullable=False),
    Index("ix_content_versions_content", "content_id", "id"),
)


# Rollups (domain/rollups.py): aggregates only, no visitor column; they outlive raw events.
rollup_rows = Table(
    "rollup_rows",
    metadata,
    Column("city_id", Uuid, primary_key=True),
    Column("stat", String(20), primary_key=True),
    Column("hour", TS, primary_key=True),
    Column("subject", String(64), primary_key=True),
    Column("via", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("identified", Integer, nullable=False),
    Column("anonymous", BigInteger, nullable=False),
)

# Per city: every hour before `filled_until` has its rollup rows (the fill state).
rollup_fill = Table(
    "rollup_fill",
    metadata,
    Column("city_id", Uuid, primary_key=True),
    Column("filled_until", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

# Hours that got events after they may have been filled; the writer marks them in the same
# transaction as the events, the rollup run redoes them. Each new mark bumps `version`: a run
# removes a mark only if no writer marked the hour again while the run recomputed it.
rollup_dirty = Table(
    "rollup_dirty",
    metadata,
    Column("city_id", Uuid, primary_key=True),
    Column("hour", TS, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("marked_at", TS, nullable=False),
)
