"""The suite's databases and app: shared by the fixtures and by modules that need their own."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from marktplatz.bootstrap import App, migrate_database
from marktplatz.settings import Environment, Settings
from marktplatz.web.app import create_app

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


async def serving(settings: Settings) -> AsyncIterator[Any]:
    """The app on these settings, closed afterwards: the `web` fixture of any scope."""
    app = create_app(settings)
    yield app
    await app.state.marktplatz.close()


def composition(web: Any) -> App:
    """The app's composition root: the `composed` fixture of any scope."""
    app: App = web.state.marktplatz
    return app
