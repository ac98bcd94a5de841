"""Canary addresses, IPs and browser strings sent to Marktplatz appear nowhere it writes."""

from __future__ import annotations

import logging
import secrets
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from marktplatz.bootstrap import migrate_database
from marktplatz.services import cities
from marktplatz.settings import Environment, Settings
from marktplatz.web.app import create_app

CANARY_MAC = "C4:7A:11:5E:9D:02"
CANARY_IP = "203.0.113.77"
CANARY_UA = "CanaryBrowser/9.9 (Marktplatz-Privacy-Test)"
CANARIES = (CANARY_MAC, CANARY_MAC.lower(), CANARY_MAC.replace(":", ""), CANARY_IP, "CanaryBrowser")


def found_in(data: bytes) -> list[str]:
    text = data.decode("latin-1")
    return [c for c in CANARIES if c in text or c.encode("utf-16-le").decode("latin-1") in text]


@pytest.fixture
def fresh_sqlite(tmp_path: Path) -> Settings:
    """Its own SQLite file whatever the suite's backend: the files themselves are inspected."""
    settings = Settings(var_dir=tmp_path, environment=Environment.TEST, base_url="http://t")
    migrate_database(settings)
    return settings


def database_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name.startswith("marktplatz")}


async def test_no_canary_reaches_database_files_logs_or_exports(
    fresh_sqlite: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    # given a fresh installation on SQLite with one city and one consenting visitor
    app: Any = create_app(fresh_sqlite)
    caplog.set_level(logging.DEBUG)
    await cities.create_city(
        app.state.marktplatz.ctx,
        {
            "slug": "kanarien",
            "name": "Kanarienstadt",
            "federal_state": "NW",
            "lat": 52.1,
            "lon": 8.7,
        },
    )
    visitor, secret = uuid.uuid4().hex, secrets.token_hex(32)
    headers = {"user-agent": CANARY_UA, "x-forwarded-for": CANARY_IP, "x-real-ip": CANARY_IP}
    now = datetime.now(UTC).isoformat()

    def event(**fields: Any) -> dict[str, Any]:
        return {
            "event_id": str(uuid.uuid4()),
            "kind": "page.view",
            "city": "kanarien",
            "occurred_at": now,
            "path": "/",
            **fields,
        }

    transport = httpx.ASGITransport(app=app, client=(CANARY_IP, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        consent = await c.post(
            "/api/v1/visitor/consent",
            json={
                "visitor": visitor,
                "secret": secret,
                "text_version": "2026-11",
                "purposes": {"analytics": True, "personalisation": False},
            },
        )
        assert consent.status_code == 200, consent.text
        # when canaries arrive in headers, in a query string, in fields and in an extra field
        sent = await c.post(
            "/e",
            json=[
                event(visitor=visitor, path=f"/kanarien?mac={CANARY_MAC}&ip={CANARY_IP}"),
                event(),
                event(path=f"/geraete/{CANARY_MAC}"),
                event(kind="content.viewed", content_id=f"mac-{CANARY_MAC}"),
                event(mac=CANARY_MAC),
            ],
        )
        exported = await c.post(
            "/api/v1/visitor/export", json={"visitor": visitor, "secret": secret}
        )
    await app.state.marktplatz.close()
    # then two events are stored, three refused, and no canary is written anywhere
    assert sent.json()["accepted"] == 2, sent.text
    assert [e["index"] for e in sent.json()["rejected"]] == [2, 3, 4]
    assert exported.status_code == 200
    assert found_in(exported.content) == []
    assert found_in(caplog.text.encode()) == []
    files = database_files(fresh_sqlite.var_dir)
    assert "marktplatz.sqlite3" in files
    assert {name: found_in(data) for name, data in files.items()} == {name: [] for name in files}
