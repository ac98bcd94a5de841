"""Shared fixtures: a real database (SQLite file or PostgreSQL), the app, tenants and logins."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette import formparsers
from starlette.datastructures import UploadFile

from marktplatz.bootstrap import App
from marktplatz.settings import Environment, Settings
from suite_db import composition, fresh_database, serving
from support import Tenant, make_tenant


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


@pytest.fixture
def uploads(monkeypatch: pytest.MonkeyPatch) -> list[UploadFile]:
    """Every file the form parser makes in a test, kept to check that it was closed."""
    made: list[UploadFile] = []

    class Recorded(UploadFile):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(formparsers, "UploadFile", Recorded)
    return made
