"""Shared fixtures: a real database (SQLite file or PostgreSQL), the app, tenants and logins."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from marktplatz.bootstrap import App, migrate_database
from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.shops import Shop
from marktplatz.services import accounts, cities, shops
from marktplatz.settings import Environment, Settings
from marktplatz.web.app import create_app

PASSWORD = "Sonnenblume-42-Markt"
POSTGRES_ADMIN_URL = os.environ.get(
    "MARKTPLATZ_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def backend() -> str:
    return os.environ.get("MARKTPLATZ_TEST_BACKEND", "sqlite")


async def _postgres(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(POSTGRES_ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for this test run; dropped afterwards."""
    if backend() == "postgresql":
        name = f"marktplatz_test_{uuid.uuid4().hex[:10]}"
        asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0].replace(
            "postgresql://", "postgresql+asyncpg://"
        )
        url = f"{base}/{name}"
        migrate_database(Settings(database_url=url, environment=Environment.TEST))
        yield url
        asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        url = f"sqlite+aiosqlite:///{path}"
        migrate_database(Settings(database_url=url, environment=Environment.TEST))
        yield url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        environment=Environment.TEST,
        var_dir=Path(tmp_path_factory.mktemp("var")),
        login_rate_limit="10000/minute",
        base_url="http://testserver",
    )


@pytest.fixture(scope="session")
async def web(settings: Settings) -> AsyncIterator[Any]:
    app = create_app(settings)
    yield app
    await app.state.marktplatz.close()


@pytest.fixture(scope="session")
def composed(web: Any) -> App:
    app: App = web.state.marktplatz
    return app


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Tenant:
    """A city with two shops and one user per role; every test gets its own."""

    city: City
    shop_a: Shop
    shop_b: Shop
    users: dict[str, User]


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[8.74, 52.10], [8.76, 52.10], [8.76, 52.11], [8.74, 52.11], [8.74, 52.10]]],
}


async def make_user(composed: App, role: str, city: City, shop: Shop | None = None) -> User:
    return await accounts.create_user(
        composed.ctx,
        email=f"{unique(role)}@example.org",
        password=PASSWORD,
        display_name=role,
        role=role,
        city_slug=city.slug,
        shop_slug=shop.slug if shop else None,
    )


async def make_tenant(composed: App) -> Tenant:
    ctx = composed.ctx
    city = await cities.create_city(
        ctx,
        {
            "slug": unique("stadt"),
            "name": "Teststadt",
            "timezone": "Europe/Berlin",
            "federal_state": "NW",
            "languages": ["de", "en"],
            "lat": 52.105,
            "lon": 8.75,
        },
    )
    admin = await make_user(composed, "city-admin", city)
    shop_data = {
        "category": "optician",
        "lat": 52.105,
        "lon": 8.75,
        "street": "Lange Straße 1",
        "opening_hours": "Mo-Fr 09:00-18:00; Sa 09:00-14:00",
    }
    shop_a = await shops.create_shop(
        ctx, admin, city.id, {**shop_data, "slug": unique("shop-a"), "name": "Optik A"}
    )
    shop_b = await shops.create_shop(
        ctx,
        admin,
        city.id,
        {**shop_data, "slug": unique("shop-b"), "name": "Mode B", "category": "clothes"},
    )
    users = {
        "city-admin": admin,
        "city-editor": await make_user(composed, "city-editor", city),
        "retailer-owner": await make_user(composed, "retailer-owner", city, shop_a),
        "retailer-staff": await make_user(composed, "retailer-staff", city, shop_a),
    }
    return Tenant(city, shop_a, shop_b, users)


@pytest.fixture
async def tenant(composed: App) -> Tenant:
    return await make_tenant(composed)


async def login(client: httpx.AsyncClient, user: User) -> str:
    """Log in through the API; returns the CSRF token for state changes."""
    response = await client.post(
        "/api/v1/session", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token
