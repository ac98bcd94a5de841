"""Shared fixtures: a real database (SQLite file or PostgreSQL), the app, tenants and logins."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from marktplatz.bootstrap import App, migrate_database
from marktplatz.settings import Environment, Settings
from marktplatz.web.app import create_app
from support import Tenant, make_tenant

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


@contextmanager
def fresh_database(folder: Path) -> Iterator[str]:
    """A new, migrated database of the suite's backend (a file in `folder` for SQLite); its url.

    A PostgreSQL database is dropped afterwards.
    """
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
        url = f"sqlite+aiosqlite:///{folder / 'test.sqlite3'}"
        migrate_database(Settings(database_url=url, environment=Environment.TEST))
        yield url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh, migrated database for this test run; dropped afterwards."""
    with fresh_database(tmp_path_factory.mktemp("db")) as url:
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


async def serving(settings: Settings) -> AsyncIterator[Any]:
    """The app on these settings, closed afterwards: the `web` fixture of any scope."""
    app = create_app(settings)
    yield app
    await app.state.marktplatz.close()


def composition(web: Any) -> App:
    """The app's composition root: the `composed` fixture of any scope."""
    app: App = web.state.marktplatz
    return app


web = pytest.fixture(scope="session")(serving)
composed = pytest.fixture(scope="session")(composition)


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
async def tenant(composed: App) -> Tenant:
    return await make_tenant(composed)
