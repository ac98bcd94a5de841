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

# The story editor's revision and the one it follows (re-chained when branches merge).
STORY_VERSIONS, STORY_BEFORE = "0013", "0012"
# The product stories' Markdown source and the revision it follows.
BODY_SOURCE, BODY_SOURCE_BEFORE = "0014", "0013"
# The versions of items' titles and texts and the revision they follow.
CONTENT_VERSIONS, CONTENT_VERSIONS_BEFORE = "0020", "0019"
# What participants registered for (time and place), the items' sequence, and the one before.
EVENT_CHANGES, EVENT_CHANGES_BEFORE = "0023", "0022"
# Whether a story version waits for the city's approval, and the one before.
STORY_REVIEW, STORY_REVIEW_BEFORE = "0024", "0023"


async def _execute(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(text(sql), params)
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


def _add_shop(url: str, shop_id: str, city_id: str, now: str, story: str = "") -> None:
    """A shop as every revision stores it (the columns of 0001)."""
    asyncio.run(
        _execute(
            url,
            "INSERT INTO shops (id, city_id, slug, name, category, street, postcode, town, "
            "lat, lon, phone, email, website, story_html, story_html_en, opening_hours, "
            "created_at, updated_at) VALUES (:id, :city, 'laden', 'Laden', 'books', '', '', '', "
            "52.1, 8.7, '', '', '', :story, '', '', :now, :now)",
            id=shop_id,
            city=city_id,
            now=now,
            story=story,
        )
    )


def _shop_at(path: Path, revision: str, story: str = "") -> tuple[str, str, str, str]:
    """A database file migrated to `revision` holding a city and its shop: its URL and the
    city's id, the shop's id and the time they were stored."""
    url = f"sqlite+aiosqlite:///{path}"
    migrate.upgrade(url, revision)
    city_id, shop_id, now = uuid.uuid4().hex, uuid.uuid4().hex, datetime.now(UTC).isoformat()
    _add_city(url, city_id, now)
    _add_shop(url, shop_id, city_id, now, story=story)
    return url, city_id, shop_id, now


def _add_city(url: str, city_id: str, now: str) -> None:
    """A city as the revisions since 0009 store it."""
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
    _add_shop(url, shop_id, city_id, now)
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
    url, city_id, shop_id, now = _shop_at(tmp_path / "fitness.sqlite3", "head")
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


def test_story_versions_come_with_their_revision_and_go_with_its_downgrade(
    tmp_path: Path,
) -> None:
    # given a database just before the story versions, holding a shop with a story
    url, _city_id, shop_id, now = _shop_at(
        tmp_path / "story.sqlite3", STORY_BEFORE, story="<p>Alt</p>"
    )
    # when
    migrate.upgrade(url, STORY_VERSIONS)
    asyncio.run(
        _execute(
            url,
            "INSERT INTO story_versions (shop_id, language, source, html, author_id, created_at) "
            "VALUES (:shop, 'de', 'Alt', '<p>Alt</p>', NULL, :now)",
            shop=shop_id,
            now=now,
        )
    )
    # then
    stored = asyncio.run(_execute(url, "SELECT language, source, html FROM story_versions"))
    assert stored == [("de", "Alt", "<p>Alt</p>")]
    # when
    command.downgrade(migrate.alembic_config(url), STORY_BEFORE)
    # then
    tables = asyncio.run(
        _execute(url, "SELECT name FROM sqlite_master WHERE name = 'story_versions'")
    )
    assert tables == []
    assert asyncio.run(_execute(url, "SELECT story_html FROM shops")) == [("<p>Alt</p>",)]


def _add_content(url: str, city_id: str, shop_id: str, now: str, body: str) -> str:
    """A shop's story item as the revisions since 0006 store it; its id is returned."""
    content_id = uuid.uuid4().hex
    asyncio.run(
        _execute(
            url,
            "INSERT INTO contents (id, city_id, shop_id, kind, status, title, body_html, "
            "language, weekdays, zone_ids, touchpoint_ids, languages, interests, place, "
            "registration, prescription_only, flags, review_note, created_at, updated_at) "
            "VALUES (:id, :city, :shop, 'story', 'published', 'Von Hand', :body, 'de', "
            "'[]', '[]', '[]', '[]', '[]', '', '', 0, '[]', '', :now, :now)",
            id=content_id,
            city=city_id,
            shop=shop_id,
            body=body,
            now=now,
        )
    )
    return content_id


def test_content_body_source_starts_empty_and_goes_with_its_downgrade(tmp_path: Path) -> None:
    # given a database just before the body source, holding a shop's published story item
    url, city_id, shop_id, now = _shop_at(tmp_path / "body.sqlite3", BODY_SOURCE_BEFORE)
    _add_content(url, city_id, shop_id, now, "<p>Alt</p>")
    # when
    migrate.upgrade(url, BODY_SOURCE)
    # then the item keeps its HTML and has no source yet (the editor shows the HTML)
    stored = asyncio.run(_execute(url, "SELECT body_html, body_source FROM contents"))
    assert stored == [("<p>Alt</p>", "")]
    # when
    command.downgrade(migrate.alembic_config(url), BODY_SOURCE_BEFORE)
    # then
    columns = asyncio.run(_execute(url, "SELECT name FROM pragma_table_info('contents')"))
    assert ("body_source",) not in columns
    assert asyncio.run(_execute(url, "SELECT body_html FROM contents")) == [("<p>Alt</p>",)]


def test_content_versions_come_with_their_revision_and_go_with_its_downgrade(
    tmp_path: Path,
) -> None:
    # given a database just before the content versions, holding a shop's published story item
    url, city_id, shop_id, now = _shop_at(
        tmp_path / "content_versions.sqlite3", CONTENT_VERSIONS_BEFORE
    )
    content_id = _add_content(url, city_id, shop_id, now, "<p>Alt</p>")
    # when
    migrate.upgrade(url, CONTENT_VERSIONS)
    asyncio.run(
        _execute(
            url,
            "INSERT INTO content_versions (content_id, title, source, html, author_id, "
            "created_at) VALUES (:item, 'Von Hand', 'Alt', '<p>Alt</p>', NULL, :now)",
            item=content_id,
            now=now,
        )
    )
    # then
    stored = asyncio.run(_execute(url, "SELECT title, source, html FROM content_versions"))
    assert stored == [("Von Hand", "Alt", "<p>Alt</p>")]
    # when
    command.downgrade(migrate.alembic_config(url), CONTENT_VERSIONS_BEFORE)
    # then
    tables = asyncio.run(
        _execute(url, "SELECT name FROM sqlite_master WHERE name = 'content_versions'")
    )
    assert tables == []
    assert asyncio.run(_execute(url, "SELECT body_html FROM contents")) == [("<p>Alt</p>",)]


def _add_registration(url: str, content_id: str, city_id: str, now: str) -> None:
    """A participant as 0019 stores it."""
    asyncio.run(
        _execute(
            url,
            "INSERT INTO registrations (id, content_id, city_id, name, email, token_hash, "
            "created_at) VALUES (:id, :item, :city, 'Anna', 'anna@example.org', 'h', :now)",
            id=uuid.uuid4().hex,
            item=content_id,
            city=city_id,
            now=now,
        )
    )


def test_registrations_learn_their_events_time_and_place_and_lose_it_with_the_downgrade(
    tmp_path: Path,
) -> None:
    # given a database just before, holding an event with a start, end, place and one participant
    url, city_id, shop_id, now = _shop_at(tmp_path / "event_changes.sqlite3", EVENT_CHANGES_BEFORE)
    content_id = _add_content(url, city_id, shop_id, now, "<p>Fest</p>")
    asyncio.run(
        _execute(
            url,
            "UPDATE contents SET kind = 'event', starts_at = '2030-06-08 08:00:00.000000', "
            "ends_at = '2030-06-08 10:00:00.000000', place = 'Rathaus'",
        )
    )
    _add_registration(url, content_id, city_id, now)
    # when
    migrate.upgrade(url, EVENT_CHANGES)
    # then the registration holds the event as it is now, and the item's sequence starts at 0
    seen = asyncio.run(
        _execute(url, "SELECT event_starts_at, event_ends_at, event_place FROM registrations")
    )
    now_is = asyncio.run(_execute(url, "SELECT starts_at, ends_at, place FROM contents"))
    assert seen == now_is
    assert seen[0][2] == "Rathaus"
    assert asyncio.run(_execute(url, "SELECT sequence FROM contents")) == [(0,)]
    # when
    command.downgrade(migrate.alembic_config(url), EVENT_CHANGES_BEFORE)
    # then the columns are gone and the participant stays
    columns = asyncio.run(_execute(url, "SELECT name FROM pragma_table_info('registrations')"))
    assert not {("event_starts_at",), ("event_ends_at",), ("event_place",)} & set(columns)
    assert ("sequence",) not in asyncio.run(
        _execute(url, "SELECT name FROM pragma_table_info('contents')")
    )
    assert asyncio.run(_execute(url, "SELECT name FROM registrations")) == [("Anna",)]


def test_story_versions_from_before_the_review_count_as_published_and_keep_their_text(
    tmp_path: Path,
) -> None:
    # given a database just before the story review, holding a shop with a saved story version
    url, _city_id, shop_id, now = _shop_at(
        tmp_path / "story_review.sqlite3", STORY_REVIEW_BEFORE, story="<p>Alt</p>"
    )
    asyncio.run(
        _execute(
            url,
            "INSERT INTO story_versions (shop_id, language, source, html, author_id, created_at) "
            "VALUES (:shop, 'de', 'Alt', '<p>Alt</p>', NULL, :now)",
            shop=shop_id,
            now=now,
        )
    )
    # when
    migrate.upgrade(url, STORY_REVIEW)
    # then it was published at once, as every version was
    stored = asyncio.run(
        _execute(url, "SELECT source, status, flags, review_note FROM story_versions")
    )
    assert stored == [("Alt", "published", None, "")]
    # when
    command.downgrade(migrate.alembic_config(url), STORY_REVIEW_BEFORE)
    # then
    columns = asyncio.run(_execute(url, "SELECT name FROM pragma_table_info('story_versions')"))
    assert {("status",), ("flags",), ("review_note",)} & set(columns) == set()
    assert asyncio.run(_execute(url, "SELECT source, html FROM story_versions")) == [
        ("Alt", "<p>Alt</p>")
    ]
