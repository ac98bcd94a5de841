"""The touchpoint fleet in the console: health on the start page, the table, CSV out and in."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.datastructures import UploadFile

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import touchpoints
from marktplatz.settings import Settings
from marktplatz.store import tables
from marktplatz.web.app import create_app
from support import Tenant, login, new_client, qr_point, unique

EN = {"accept-language": "en"}
HEADER = "identifier;kind;name;lat;lon;shop;placement;status;target;expected_interval_hours"


@pytest.fixture
async def clocked(settings: Settings, tmp_path: Path) -> AsyncIterator[Any]:
    """An app on the shared database whose clock stands still until a test moves it."""
    app: Any = create_app(
        settings.model_copy(update={"var_dir": tmp_path}),
        clock=FixedClock(datetime(2026, 11, 25, 11, 0, tzinfo=UTC)),
    )
    yield app
    await app.state.marktplatz.close()


async def contacts(composed: App, point: Touchpoint, *moments: datetime) -> None:
    """Contact events written past the API (the ingest refuses events far from its clock)."""
    rows = [
        {
            "event_id": uuid.uuid4(),
            "kind": "touchpoint.contact",
            "city_id": point.city_id,
            "occurred_at": at,
            "received_at": at,
            "touchpoint_id": point.id,
            "channel": "qr",
            "schema_version": 1,
        }
        for at in moments
    ]
    async with composed.engine.begin() as conn:
        await conn.execute(tables.events.insert(), rows)


def silent_section(page: str) -> str:
    match = re.search(
        r'<section class="panel" aria-labelledby="silent-h">(.*?)</section>', page, re.S
    )
    assert match, page
    return match[1]


async def test_a_touchpoint_silent_past_its_interval_shows_on_the_start_page(
    clocked: Any, tenant: Tenant
) -> None:
    # given a pavement QR code (72 h interval) last scanned an hour ago
    composed: App = clocked.state.marktplatz
    clock = composed.ctx.clock
    point = await qr_point(composed, tenant, name=unique("Pflaster"))
    await contacts(composed, point, clock.now() - timedelta(hours=1))

    async def start_page() -> str:
        async with new_client(clocked) as client:  # a fresh login: sessions end as time passes
            client.headers.update(EN)
            await login(client, tenant.users["city-editor"])
            return silent_section((await client.get(f"/console/{tenant.city.slug}")).text)

    quiet = await start_page()
    # when the clock moves past the interval, then past three intervals
    clock.advance(timedelta(hours=72))
    warned = await start_page()
    clock.advance(timedelta(hours=146))
    alerted = await start_page()
    # then the touchpoint is silent: first a warning, then an alert, linked to its page
    assert point.name not in quiet
    assert "Warning: <strong>1</strong>" in warned
    assert "Alert: <strong>0</strong>" in warned
    assert f'href="/console/{tenant.city.slug}/touchpoints/{point.id}">{point.name}</a>' in warned
    assert "Alert: <strong>1</strong>" in alerted
    assert "Warning: <strong>0</strong>" in alerted
    assert point.name in alerted


async def test_the_table_sorts_and_filters_on_the_server(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given three touchpoints: one heard today, one heard long ago, one never
    now = datetime.now(UTC)
    busy = await qr_point(composed, tenant, name="Bahnhof")
    quiet = await qr_point(composed, tenant, name="Anger")
    never = await qr_point(composed, tenant, name="Chorweg")
    await contacts(composed, busy, *(now - timedelta(days=1, minutes=m) for m in range(9)))
    await contacts(composed, quiet, now - timedelta(days=20))
    client.headers.update(EN)
    await login(client, tenant.users["city-admin"])
    base = f"/console/{tenant.city.slug}/fleet"

    def order(page: str) -> list[str]:
        names = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', page)
        return [n for n in names if n in ("Bahnhof", "Anger", "Chorweg")]

    # when / then
    assert order((await client.get(base, params={"sort": "name"})).text) == [
        "Anger",
        "Bahnhof",
        "Chorweg",
    ]
    by_day = await client.get(base, params={"sort": "per_day", "order": "desc"})
    assert order(by_day.text)[0] == "Bahnhof"
    by_health = await client.get(base)  # worst first: alert, then never seen, then ok
    assert order(by_health.text) == ["Anger", "Chorweg", "Bahnhof"]
    never_seen = await client.get(base, params={"health": "never-seen"})
    assert order(never_seen.text) == ["Chorweg"]
    searched = await client.get(base, params={"q": "bahn", "kind": "qr"})
    assert order(searched.text) == ["Bahnhof"]
    assert 'aria-sort="ascending"' in by_health.text
    assert "1.3" in by_day.text  # 9 contacts in 7 days
    assert never.name in by_health.text


async def test_export_lists_every_touchpoint_with_its_fields(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    point = await qr_point(composed, tenant, name="Markt; Ecke", target="/angebote")
    await login(client, tenant.users["city-editor"])
    # when
    response = await client.get(f"/console/{tenant.city.slug}/fleet.csv")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 1
    assert rows[0]["identifier"] == point.identifier
    assert rows[0]["name"] == "Markt; Ecke"
    assert rows[0]["lat"] == "52,105"
    assert rows[0]["target"] == "/angebote"
    assert rows[0]["health"] == "never-seen"


async def count_points(composed: App, tenant: Tenant) -> int:
    async with composed.engine.connect() as conn:
        query = select(func.count()).where(tables.touchpoints.c.city_id == tenant.city.id)
        return int((await conn.execute(query)).scalar_one())


def upload(text: str, encoding: str = "utf-8") -> dict[str, Any]:
    return {"file": ("fleet.csv", text.encode(encoding), "text/csv")}


BAD = "\n".join(
    [
        HEADER,
        ";qr;Rathaus;52,105;8,75;;;active;/;",
        ";qr;;52,106;8,75;;;active;/;",  # row 3: no name
        ";kiosk;Kiosk;52,107;190;;;active;;",  # row 4: longitude out of range
    ]
)


async def test_the_dry_run_reports_every_bad_row_and_stores_nothing(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    token = await login(client, tenant.users["city-admin"])
    client.headers.update(EN)
    before = await count_points(composed, tenant)
    # when
    response = await client.post(
        f"/console/{tenant.city.slug}/fleet/import",
        data={"csrf_token": token},
        files=upload(BAD, "cp1252"),
    )
    # then
    assert response.status_code == 422
    assert "2 problems in fleet.csv — nothing was imported" in response.text
    assert (
        "<td>3</td><td><code>name</code></td><td>Please fill in this field.</td>" in response.text
    )
    assert (
        "<td>4</td><td><code>lon</code></td><td>Longitude must be between -180 and 180.</td>"
        in response.text
    )
    assert "Import now" not in response.text
    assert await count_points(composed, tenant) == before


@pytest.mark.parametrize("page", ["fleet/import", "footfall"])
@pytest.mark.parametrize(
    ("role", "token"), [("city-admin", "wrong"), ("retailer-owner", "")], ids=["csrf", "retailer"]
)
async def test_an_upload_refused_before_the_route_runs_is_closed(
    client: httpx.AsyncClient,
    tenant: Tenant,
    uploads: list[UploadFile],
    page: str,
    role: str,
    token: str,
) -> None:
    # given: a wrong CSRF token, or a retailer's right one who may not import
    csrf = await login(client, tenant.users[role])
    # when
    response = await client.post(
        f"/console/{tenant.city.slug}/{page}",
        data={"csrf_token": token or csrf},
        files=upload(BAD),
    )
    # then
    assert response.status_code == 403
    assert len(uploads) == 1
    assert uploads[0].file.closed


async def test_a_clean_file_is_imported_after_confirming_and_updates_by_identifier(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given a city with one QR code, and a file that renames it and adds a beacon
    old = await qr_point(composed, tenant, name="Alt")
    beacon = f"ibeacon:{uuid.uuid4()}:7:9"
    text = "\n".join(
        [
            HEADER,
            f"{old.identifier};qr;Neu;52,105;8,75;{tenant.shop_a.slug};Tür;active;/neu;24",
            f"{beacon};ibeacon;Bake Lange Straße;52,1051;8,7502;;;active;;",
        ]
    )
    token = await login(client, tenant.users["city-editor"])
    client.headers.update(EN)
    base = f"/console/{tenant.city.slug}/fleet/import"
    # when the dry run passes
    checked = await client.post(base, data={"csrf_token": token}, files=upload(text))
    # then nothing is stored yet
    assert checked.status_code == 200
    assert "will create 1 and change 1 touchpoints" in checked.text
    assert await count_points(composed, tenant) == 1
    # when confirmed
    csv_text = re.search(r'name="csv" value="([^"]*)"', checked.text, re.S)
    assert csv_text
    done = await client.post(
        f"{base}/confirm",
        data={"csrf_token": token, "csv": csv_text[1].replace("&#34;", '"').replace("&amp;", "&")},
    )
    # then both rows are there, and audited
    assert done.status_code == 200, done.text
    assert "Imported: 1 new and 1 changed touchpoints." in done.text
    points = await touchpoints.list_touchpoints(
        composed.ctx, tenant.users["city-admin"], tenant.city.id
    )
    by_id = {p.identifier: p for p in points}
    renamed = by_id[old.identifier]
    assert (renamed.name, renamed.target, renamed.shop_id) == ("Neu", "/neu", tenant.shop_a.id)
    assert renamed.expected_interval_hours == 24
    assert by_id[beacon].name == "Bake Lange Straße"
    async with composed.engine.connect() as conn:
        query = select(tables.audit_log.c.action).where(
            tables.audit_log.c.city_id == tenant.city.id, tables.audit_log.c.detail == "csv import"
        )
        actions = sorted(r.action for r in await conn.execute(query))
    assert actions == ["touchpoint.created", "touchpoint.updated"]


async def test_a_confirmed_file_with_problems_imports_nothing(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    token = await login(client, tenant.users["city-admin"])
    before = await count_points(composed, tenant)
    # when the confirm step gets a file that is not clean (changed after its dry run)
    response = await client.post(
        f"/console/{tenant.city.slug}/fleet/import/confirm", data={"csrf_token": token, "csv": BAD}
    )
    # then
    assert response.status_code == 422
    assert await count_points(composed, tenant) == before


async def test_an_own_interval_set_on_the_touchpoint_page_decides_its_health(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given a QR code heard five hours ago: fine within the 72 h of its kind
    point = await qr_point(composed, tenant, name=unique("Brunnen"))
    await contacts(composed, point, datetime.now(UTC) - timedelta(hours=5))
    token = await login(client, tenant.users["city-editor"])
    client.headers.update(EN)
    page = f"/console/{tenant.city.slug}/touchpoints/{point.id}"
    form = {
        "csrf_token": token,
        "name": point.name,
        "placement": "",
        "status": "active",
        "shop_id": "",
        "target": "/",
        "lat": "52.105",
        "lon": "8.75",
    }
    # when a bad interval is sent, then one of 2 hours
    refused = await client.post(page, data={**form, "expected_interval_hours": "zwei"})
    saved = await client.post(page, data={**form, "expected_interval_hours": "2"})
    # then the bad one is refused with its message, the good one makes the code silent
    assert refused.status_code == 422
    assert "Enter a whole number from 1 to 2160." in refused.text
    assert saved.status_code == 303
    fleet = await client.get(f"/console/{tenant.city.slug}/fleet", params={"q": point.name})
    assert "health health-warning" in fleet.text
    assert "2 hours" in fleet.text
