"""Migrations upgrade a database that already holds data without losing any of it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import text

from marktplatz.store import migrate
from marktplatz.store.database import create_engine


async def _execute(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


def test_upgrading_a_populated_sqlite_database_keeps_cities_and_shops(tmp_path: Path) -> None:
    # given a database at the first revision holding a city and one of its shops
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, "0001")
    city_id, shop_id, now = uuid.uuid4().hex, uuid.uuid4().hex, datetime.now(UTC).isoformat()
    asyncio.run(
        _execute(
            url,
            "INSERT INTO cities (id, slug, name, timezone, federal_state, languages, lat, lon, "
            "tagline, is_demo, created_at) VALUES (:id, 'altstadt', 'Altstadt', 'Europe/Berlin', "
            "'NW', '[\"de\"]', 52.1, 8.7, 'Motto', 0, :now)",
            id=city_id,
            now=now,
        )
    )
    asyncio.run(
        _execute(
            url,
            "INSERT INTO shops (id, city_id, slug, name, category, street, postcode, town, "
            "lat, lon, phone, email, website, story_html, story_html_en, opening_hours, "
            "created_at, updated_at) VALUES (:id, :city, 'laden', 'Laden', 'books', '', '', '', "
            "52.1, 8.7, '', '', '', '', '', '', :now, :now)",
            id=shop_id,
            city=city_id,
            now=now,
        )
    )
    # when
    migrate.upgrade(url)
    # then
    cities = asyncio.run(_execute(url, "SELECT slug, tagline, tagline_en FROM cities"))
    shops = asyncio.run(_execute(url, "SELECT slug FROM shops"))
    assert cities == [("altstadt", "Motto", "")]
    assert shops == [("laden",)]
    assert asyncio.run(_execute(url, "SELECT version_num FROM alembic_version")) == [
        (migrate.current_head(),)
    ]


def test_fitness_checks_survive_an_upgrade_and_leave_with_a_downgrade(tmp_path: Path) -> None:
    # given a database at the head holding a shop's fitness check
    url = f"sqlite+aiosqlite:///{tmp_path / 'fitness.sqlite3'}"
    migrate.upgrade(url)
    city_id, shop_id, now = uuid.uuid4().hex, uuid.uuid4().hex, datetime.now(UTC).isoformat()
    asyncio.run(
        _execute(
            url,
            "INSERT INTO cities (id, slug, name, timezone, federal_state, languages, lat, lon, "
            "tagline, tagline_en, is_demo, created_at, content_version) VALUES (:id, 'altstadt', "
            "'Altstadt', 'Europe/Berlin', 'NW', '[\"de\"]', 52.1, 8.7, '', '', 0, :now, 0)",
            id=city_id,
            now=now,
        )
    )
    asyncio.run(
        _execute(
            url,
            "INSERT INTO shops (id, city_id, slug, name, category, street, postcode, town, "
            "lat, lon, phone, email, website, story_html, story_html_en, opening_hours, "
            "created_at, updated_at) VALUES (:id, :city, 'laden', 'Laden', 'books', '', '', '', "
            "52.1, 8.7, '', '', '', '', '', '', :now, :now)",
            id=shop_id,
            city=city_id,
            now=now,
        )
    )
    asyncio.run(
        _execute(
            url,
            "INSERT INTO fitness_checks (id, shop_id, city_id, answers, scores, created_at) "
            "VALUES (:id, :shop, :city, '{}', '{\"overall\": 40}', :now)",
            id=uuid.uuid4().hex,
            shop=shop_id,
            city=city_id,
            now=now,
        )
    )
    # when
    command.downgrade(migrate.alembic_config(url), "0009")
    tables = asyncio.run(_execute(url, "SELECT name FROM sqlite_master WHERE type = 'table'"))
    migrate.upgrade(url)
    # then
    assert ("fitness_checks",) not in tables
    assert ("shops",) in tables
    assert asyncio.run(_execute(url, "SELECT count(*) FROM fitness_checks")) == [(0,)]
    assert asyncio.run(_execute(url, "SELECT slug FROM shops")) == [("laden",)]
