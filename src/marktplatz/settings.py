"""One Settings class for the whole application, read from MARKTPLATZ_* variables."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLAIN_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?", re.IGNORECASE)
DEVELOPMENT_SECRET = "development-only-secret-change-me"  # noqa: S105 (a known, refused default)


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Durability(StrEnum):
    NORMAL = "normal"
    STRICT = "strict"


class Settings(BaseSettings):
    """Every setting of Marktplatz; each one is documented in docs/settings.md."""

    model_config = SettingsConfigDict(
        env_prefix="MARKTPLATZ_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Environment = Field(
        Environment.DEVELOPMENT,
        description="development, test or production. Production refuses default secrets.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy async URL, e.g. postgresql+asyncpg://user@host/db. "
        "Empty: SQLite in WAL mode at <var_dir>/marktplatz.sqlite3.",
    )
    var_dir: Path = Field(
        Path("var"), description="Directory for the SQLite database and uploaded media."
    )
    secret_key: SecretStr = Field(
        SecretStr(DEVELOPMENT_SECRET),
        description="Secret for signing; at least 32 characters outside development.",
    )
    base_url: str = Field(
        "http://127.0.0.1:8000",
        description="Public address of the site; printed QR codes point to <base_url>/q/<code>.",
    )
    host: str = Field("127.0.0.1", description="Address `marktplatz serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `marktplatz serve` listens on.")
    default_language: str = Field("de", description="Language when the browser asks for none.")
    session_max_age_hours: int = Field(
        12, ge=1, le=24 * 30, description="Hours a login session lasts without activity."
    )
    two_factor_grace_days: int = Field(
        14,
        ge=0,
        le=365,
        description="Days a shop owner or city admin may still log in without two-factor login,"
        " counted from the account's creation; after that the portal asks them to set it up"
        " first. 0: at once.",
    )
    cookie_secure: bool = Field(
        False, description="Send cookies only over HTTPS (turn on behind TLS)."
    )
    login_rate_limit: str = Field(
        "10/15 minutes",
        description="Failed logins allowed per account and per client, in `limits` notation.",
    )
    coupon_guess_rate_limit: str = Field(
        "10/10 minutes",
        description="Unknown coupon codes one cashier account may try at the till, in `limits`"
        " notation; past it every code is refused for the rest of the window.",
    )
    coupon_save_rate_limit: str = Field(
        "60/minute",
        description="Coupons one client may save, and (counted apart) event registrations it may"
        " send, in `limits` notation.",
    )
    attribution_days: int = Field(
        14,
        ge=1,
        le=90,
        description="How many days before a redemption the visitor's contacts and exposures"
        " count as having led to it (visitors who consent to analytics only).",
    )
    max_upload_bytes: int = Field(
        5 * 1024 * 1024, ge=1024, description="Largest image upload accepted, in bytes."
    )
    max_image_pixels: int = Field(
        40_000_000, ge=10_000, description="Largest image accepted, in pixels (width × height)."
    )

    durability: Durability = Field(
        Durability.NORMAL,
        description="SQLite commits: normal (WAL, synchronous=NORMAL: survives a crash of the "
        "process) or strict (synchronous=FULL: also survives a power cut, slower).",
    )
    ingest_max_queued: int = Field(
        50_000, ge=100, description="Events waiting for the writer before POST /e answers 503."
    )
    retention_days: int = Field(
        180,
        ge=1,
        le=3650,
        description="Days raw events with a visitor pseudonym are kept by default.",
    )
    redis_url: str | None = Field(
        None,
        description=(
            "Redis for the decision counters (push budget, caps, stock) and the rate limits "
            "(logins, coupon saves and guesses) shared by several workers, e.g. "
            "redis://127.0.0.1:6379/0; empty: kept in the process."
        ),
    )
    map_tile_url: str = Field(
        "",
        description="Tile source of the visitor map, e.g. https://tile.example.org/{z}/{x}/{y}.png"
        " ({z}, {x}, {y} are filled in by the map; no placeholder in the host). Only its origin is"
        " allowed for images in the pages' security policy. Empty: no tiles, zones and shops on a"
        " plain background, and no request to another site.",
    )
    map_tile_attribution: str = Field(
        "",
        description="Credit line shown on the map for its tiles, as plain text, e.g."
        ' "© OpenStreetMap contributors" (required by most tile providers).',
    )

    unsafe_ack_before_commit: bool = Field(
        False,
        description="Testing only, refused in production: POST /e answers before COMMIT, so a "
        "crash loses acknowledged events (the control mode of the crash-safety test).",
    )

    @field_validator("map_tile_url")
    @classmethod
    def _check_tile_url(cls, value: str) -> str:
        # The policy allows images from the tile URL's origin: it must be one plain origin (a
        # host name and a port, nothing that could end the directive or widen it).
        if not value:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not _PLAIN_HOST.fullmatch(parts.netloc):
            raise ValueError("MARKTPLATZ_MAP_TILE_URL must be an http(s) URL with a fixed host")
        if not all(f"{{{key}}}" in parts.path + parts.query for key in "zxy"):
            raise ValueError("MARKTPLATZ_MAP_TILE_URL must contain {z}, {x} and {y}")
        return value

    @property
    def map_tile_origin(self) -> str:
        """scheme://host[:port] of the tile URL, or "" without one."""
        parts = urlsplit(self.map_tile_url)
        return f"{parts.scheme}://{parts.netloc}" if self.map_tile_url else ""

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> Settings:
        # A copied example configuration must never run in production with a known secret.
        if self.environment is Environment.PRODUCTION:
            secret = self.secret_key.get_secret_value()
            if secret == DEVELOPMENT_SECRET or len(secret) < 32:
                raise ValueError(
                    "MARKTPLATZ_SECRET_KEY must be set to a random value of at least 32 "
                    "characters in production"
                )
            if not self.database_url:
                raise ValueError("MARKTPLATZ_DATABASE_URL must be set in production")
            if self.unsafe_ack_before_commit:
                raise ValueError("MARKTPLATZ_UNSAFE_ACK_BEFORE_COMMIT is refused in production")
        return self

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'marktplatz.sqlite3').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.var_dir / "media"

    @property
    def extract_dir(self) -> Path:
        """Columnar copies of consented events for ad-hoc funnels (store/event_extract)."""
        return self.var_dir / "extracts"


def settings_documentation() -> list[tuple[str, Any, str]]:
    """(variable name, default, help) for every setting, for docs and `marktplatz check`."""
    rows = []
    for name, field in Settings.model_fields.items():
        rows.append((f"MARKTPLATZ_{name.upper()}", field.default, field.description or ""))
    return rows
