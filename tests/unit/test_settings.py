"""Settings: every one documented; production refuses default secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from marktplatz.settings import Environment, Settings, settings_documentation

DOCS = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_every_setting_is_documented() -> None:
    # given
    text = DOCS.read_text(encoding="utf-8")
    # when
    missing = [name for name, _, _ in settings_documentation() if f"`{name}`" not in text]
    # then
    assert missing == []


def test_every_setting_has_help_text() -> None:
    assert [name for name, _, help_text in settings_documentation() if not help_text] == []


def test_production_refuses_the_development_secret() -> None:
    with pytest.raises(ValidationError, match="MARKTPLATZ_SECRET_KEY"):
        Settings(environment=Environment.PRODUCTION, database_url="postgresql+asyncpg://x/y")


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(
            environment=Environment.PRODUCTION,
            secret_key="short",
            database_url="postgresql+asyncpg://x/y",
        )


def test_production_needs_a_database_url() -> None:
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(environment=Environment.PRODUCTION, secret_key="x" * 40)


def test_development_defaults_to_sqlite_under_var(tmp_path: Path) -> None:
    # given
    settings = Settings(var_dir=tmp_path)
    # then
    assert (
        settings.effective_database_url == f"sqlite+aiosqlite:///{tmp_path / 'marktplatz.sqlite3'}"
    )


def test_production_accepts_real_secrets() -> None:
    settings = Settings(
        environment=Environment.PRODUCTION,
        secret_key="k" * 40,
        database_url="postgresql+asyncpg://db/marktplatz",
    )
    assert settings.effective_database_url == "postgresql+asyncpg://db/marktplatz"
