"""Visitor pages speak the visitor's language: tagline and holiday names included."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from marktplatz.adapters.clock import FixedClock
from marktplatz.settings import Settings
from marktplatz.web.app import create_app
from support import Tenant, login

EN = {"accept-language": "en"}
DE = {"accept-language": "de"}


async def test_english_visitors_read_the_english_tagline(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given a city admin who sets both taglines
    csrf = await login(client, tenant.users["city-admin"])
    changed = await client.patch(
        f"/api/v1/cities/{tenant.city.slug}",
        json={"tagline": "Einkaufen mit Herz", "tagline_en": "Shopping with heart"},
        headers={"x-csrf-token": csrf},
    )
    assert changed.status_code == 200, changed.text
    await client.delete("/api/v1/session", headers={"x-csrf-token": csrf})
    # when
    english = await client.get(f"/{tenant.city.slug}", headers=EN)
    german = await client.get(f"/{tenant.city.slug}", headers=DE)
    # then
    assert "Shopping with heart" in english.text
    assert "Einkaufen mit Herz" not in english.text
    assert "Einkaufen mit Herz" in german.text
    assert changed.json()["tagline_en"] == "Shopping with heart"


async def test_holidays_are_named_in_the_page_language(tenant: Tenant, settings: Settings) -> None:
    # given the clock on Corpus Christi 2026, a public holiday in North Rhine-Westphalia
    app: Any = create_app(settings, clock=FixedClock(datetime(2026, 6, 4, 10, 0, tzinfo=UTC)))
    path = f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}"
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            # when
            english = await c.get(path, headers=EN)
            german = await c.get(path, headers=DE)
            api = await c.get(f"/api/v1/shops/{tenant.shop_a.id}")
    finally:
        await app.state.marktplatz.close()
    # then
    assert "Closed today — public holiday" in english.text
    assert "Corpus Christi" in english.text
    assert "Fronleichnam" not in english.text
    assert "Fronleichnam" in german.text
    assert api.json()["hours"]["state"] == "holiday"
