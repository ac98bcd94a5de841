"""The dashboards through the app: exact figures from the rollups, small cells hidden, CSV."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from babel.dates import get_day_names

from marktplatz.bootstrap import App
from marktplatz.domain.journey import EventKind, JourneyEvent
from marktplatz.domain.rollups import hour_of
from marktplatz.services import cities, rollups, touchpoints
from support import (
    SQUARE,
    Tenant,
    login,
    make_tenant,
    published_event,
    published_offer,
    unique,
)


@pytest.fixture
async def en(client: httpx.AsyncClient) -> httpx.AsyncClient:
    client.headers["accept-language"] = "en"
    return client


def yesterday_at(tenant: Tenant, hour: int, minute: int = 0) -> datetime:
    local = datetime.now(tenant.city.tz) - timedelta(days=1)
    return local.replace(hour=hour, minute=minute, second=0, microsecond=0).astimezone(UTC)


def contact(tenant: Tenant, at: datetime, point: uuid.UUID, **fields: Any) -> JourneyEvent:
    return JourneyEvent(
        event_id=uuid.uuid4(),
        kind=fields.pop("kind", EventKind.TOUCHPOINT_CONTACT),
        city_id=tenant.city.id,
        occurred_at=at,
        received_at=datetime.now(UTC),
        touchpoint_id=point,
        content_id=fields.pop("content_id", None),
        **fields,
    )


async def street_in_zone(composed: App, tenant: Tenant) -> uuid.UUID:
    admin = tenant.users["city-admin"]
    await cities.create_zone(
        composed.ctx,
        admin,
        tenant.city.id,
        {"slug": unique("zone"), "name": "Altstadt", "description": "", "geometry": SQUARE},
    )
    point = await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {"kind": "qr", "name": "Pflaster", "lat": 52.105, "lon": 8.75, "target": "/"},
    )
    return point.id


def cells(html: str, row: str) -> list[str]:
    """The cells of the dashboard table row whose header is `row`, as text (not the charts')."""
    tables = "".join(re.findall(r'<table class="table analytics-table.*?</table>', html, re.S))
    found = re.search(rf"<th scope=\"row\">{re.escape(row)}</th>(.*?)</tr>", tables, re.S)
    assert found, row
    return [
        re.sub(r"<[^>]+>", "", c).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", found[1], re.S)
    ]


async def test_the_city_sees_footfall_by_hour_with_small_cells_hidden(
    composed: App, en: httpx.AsyncClient
) -> None:
    # given yesterday 7 contacts at 11 and 6 at 10 without any id, and 3 at 15 from one visitor
    tenant = await make_tenant(composed)
    point = await street_in_zone(composed, tenant)
    events = [contact(tenant, yesterday_at(tenant, 11, m), point) for m in range(7)]
    events += [contact(tenant, yesterday_at(tenant, 10, m), point) for m in range(6)]
    events += [
        contact(tenant, yesterday_at(tenant, 15, m), point, daily_hash="d" * 64) for m in range(3)
    ]
    await composed.writer.append(events)
    await rollups.run_rollups(composed.ctx, only={tenant.city.id})
    await login(en, tenant.users["city-editor"])
    # when the city editor opens the dashboard and downloads the week
    page = await en.get(f"/console/{tenant.city.slug}/analytics")
    week = await en.get(f"/console/{tenant.city.slug}/analytics/week.csv")
    days = await en.get(f"/console/{tenant.city.slug}/analytics/days.csv")
    # then 11 o'clock shows 7; 15 o'clock rests on one visitor and is hidden, and 10 o'clock
    # with it, or the day's 16 minus the rest would give it away
    assert page.status_code == 200
    weekday = get_day_names("abbreviated", locale="en")[
        yesterday_at(tenant, 11).astimezone(tenant.city.tz).weekday()
    ]
    row = cells(page.text, f"Altstadt · {weekday}")
    assert row[11] == "7"
    assert row[10] == row[15] == "&lt;5"
    assert [c for i, c in enumerate(row) if i not in (10, 11, 15)] == ["0"] * 21
    # and the CSV files hold the same, as German Excel opens them
    assert week.headers["content-type"] == "text/csv; charset=utf-8"
    assert week.content.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(week.content.decode()[1:]), delimiter=";"))
    assert lines[0][:3] == ["Zone and weekday", "0", "1"]
    line = next(line for line in lines if line[0] == f"Altstadt · {weekday}")
    assert (line[11], line[12], line[16]) == ("<5", "7", "<5")
    day_lines = list(csv.reader(io.StringIO(days.content.decode()[1:]), delimiter=";"))
    assert day_lines[-1][:2] == ["Period", "16"]


async def test_a_bad_period_is_explained_and_the_default_shown(
    composed: App, en: httpx.AsyncClient
) -> None:
    # given a city editor
    tenant = await make_tenant(composed)
    await login(en, tenant.users["city-editor"])
    # when they ask for a period that ends before it starts, and one in the future
    backwards = await en.get(
        f"/console/{tenant.city.slug}/analytics",
        params={"first": "2026-03-10", "last": "2026-03-01"},
    )
    future = await en.get(f"/console/{tenant.city.slug}/analytics", params={"last": "2999-01-01"})
    # then each says what is wrong, keeps what was typed, and shows the last 28 days
    assert backwards.status_code == 422
    assert "The first day has to lie before the last day." in backwards.text
    assert 'value="2026-03-10"' in backwards.text
    assert future.status_code == 422
    assert "The last day cannot lie in the future." in future.text


async def test_a_retailer_sees_each_step_of_their_offer_and_no_median_below_five_shops(
    composed: App, en: httpx.AsyncClient
) -> None:
    # given shop A's offer shown 5 times at a touchpoint and opened twice yesterday
    tenant = await make_tenant(composed)
    point = await street_in_zone(composed, tenant)
    offer = await published_offer(composed, tenant, tenant.shop_a, "Gleitsichtbrille")
    kinds = [EventKind.CONTENT_EXPOSED] * 5 + [EventKind.CONTENT_VIEWED] * 2
    await composed.writer.append(
        [
            contact(tenant, yesterday_at(tenant, 12, m), point, kind=k, content_id=str(offer.id))
            for m, k in enumerate(kinds)
        ]
    )
    await rollups.run_rollups(composed.ctx, only={tenant.city.id})
    await login(en, tenant.users["retailer-owner"])
    # when the owner opens the shop's results
    page = await en.get(f"/portal/shops/{tenant.shop_a.id}/analytics")
    items = await en.get(f"/portal/shops/{tenant.shop_a.id}/analytics/items.csv")
    # then the offer was shown 5 times; the two openings are fewer than 5 visitors
    assert page.status_code == 200
    assert cells(page.text, "Gleitsichtbrille") == ["5", "&lt;5", "0", "0"]
    assert cells(page.text, "Pflaster") == ["5", "&lt;5", "0", "0"]
    assert cells(page.text, "Shown") == ["5", "from 5 shops"]
    lines = list(csv.reader(io.StringIO(items.content.decode()[1:]), delimiter=";"))
    assert lines == [
        ["Item", "Shown", "Opened", "Saved", "Redeemed"],
        ["Gleitsichtbrille", "5", "<5", "0", "0"],
        ["All items", "5", "<5", "0", "0"],
    ]


async def test_the_owner_downloads_the_monthly_report_as_pdf(
    composed: App, en: httpx.AsyncClient, tmp_path: Any
) -> None:
    # given a shop owner
    tenant = await make_tenant(composed)
    await login(en, tenant.users["retailer-owner"])
    month = (datetime.now(tenant.city.tz).replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    # when they ask for last month's report, and for a month that has not begun
    found = await en.get(
        f"/portal/shops/{tenant.shop_a.id}/analytics/report.pdf", params={"month": month}
    )
    future = await en.get(
        f"/portal/shops/{tenant.shop_a.id}/analytics/report.pdf", params={"month": "2999-01"}
    )
    # then the first is a PDF naming the shop and the month; the second says what is wrong
    assert found.status_code == 200
    assert found.headers["content-type"] == "application/pdf"
    assert found.content.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(found.content)
    read = ["pdftotext", str(path), "-"]
    text = (await asyncio.to_thread(subprocess.run, read, capture_output=True, text=True)).stdout
    assert "Optik A" in text
    assert "Monthly report" in text
    assert future.status_code == 422
    assert "The month cannot lie in the future." in future.text


async def test_a_city_event_is_compared_with_the_same_hours_of_the_weeks_before(
    composed: App, en: httpx.AsyncClient
) -> None:
    # given a city market yesterday 10–12 with 12 contacts, and 6 in those hours of each of the
    # four weeks before (the city's rollups are current, so only those hours are redone)
    tenant = await make_tenant(composed)
    point = await street_in_zone(composed, tenant)
    start = yesterday_at(tenant, 10)
    await published_event(
        composed, tenant, None, "Bauernmarkt", start, ends_at=start + timedelta(hours=2)
    )
    async with composed.ctx.uow(write=True) as uow:
        await uow.rollups.set_filled_until(tenant.city.id, hour_of(datetime.now(UTC)), start)
        await uow.commit()
    events = [contact(tenant, start + timedelta(minutes=9 * m), point) for m in range(12)]
    for weeks in range(1, 5):
        earlier = start - timedelta(weeks=weeks)
        events += [contact(tenant, earlier + timedelta(minutes=17 * m), point) for m in range(6)]
    await composed.writer.append(events)
    await rollups.run_rollups(composed.ctx, only={tenant.city.id})
    await login(en, tenant.users["city-editor"])
    # when the city looks at a period that holds the event
    page = await en.get(f"/console/{tenant.city.slug}/analytics")
    # then the market brought twice the usual contacts: +100 %
    day = start.astimezone(tenant.city.tz).strftime("%-d/%-m/%Y")
    row = next(k for k in re.findall(r'<th scope="row">(Bauernmarkt[^<]*)</th>', page.text))
    assert day in row
    assert cells(page.text, row) == ["12", "6", "100"]
    assert "Footfall during “Bauernmarkt”" in page.text


async def test_the_city_runs_a_funnel_and_is_told_what_is_wrong_with_a_step(
    composed: App, en: httpx.AsyncClient
) -> None:
    # given a city editor
    tenant = await make_tenant(composed)
    await login(en, tenant.users["city-editor"])
    base = f"/console/{tenant.city.slug}/analytics"
    # when they open the funnel with its default steps, one with a step that does not exist,
    # and the campaigns
    default = await en.get(f"{base}/funnel")
    wrong = await en.get(f"{base}/funnel", params={"steps": "web,flying"})
    exported = await en.get(f"{base}/funnel.csv", params={"steps": "web,contact"})
    listed = await en.get(f"{base}/campaigns")
    refused = await en.get(f"{base}/funnel.csv", params={"steps": "web,flying"})
    # then the default funnel shows its four steps (nobody did them yet: 0 each)
    assert default.status_code == 200
    assert cells(default.text, "1. Visited the web app") == ["0", "0"]
    assert cells(default.text, "4. Redeemed a coupon") == ["0", "0"]
    # the wrong step is named, and what was typed is kept
    assert wrong.status_code == 422
    assert 'id="e-steps"' in wrong.text
    assert 'value="web,flying"' in wrong.text
    lines = list(csv.reader(io.StringIO(exported.content.decode()[1:]), delimiter=";"))
    assert [line[0] for line in lines] == ["Step", "1. Visited the web app", "2. Met a touchpoint"]
    assert listed.status_code == 200
    assert "Nothing recorded in this period." in listed.text
    # and a download of a wrong funnel is refused, not an empty file
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("text/html")


async def test_a_shop_sees_its_campaigns_and_downloads_them(
    composed: App, en: httpx.AsyncClient
) -> None:
    # given a shop owner whose offers had no control group yet
    tenant = await make_tenant(composed)
    await login(en, tenant.users["retailer-owner"])
    base = f"/portal/shops/{tenant.shop_a.id}/analytics"
    # when they open their campaigns and download the table
    page = await en.get(f"{base}/campaigns")
    exported = await en.get(f"{base}/campaigns.csv")
    # then the page says nothing was recorded, and the file holds the header only
    assert page.status_code == 200
    assert "Nothing recorded in this period." in page.text
    lines = list(csv.reader(io.StringIO(exported.content.decode()[1:]), delimiter=";"))
    assert lines == [
        [
            "Offer",
            "Shown to (visitors)",
            "Came to the shop (%)",
            "Held back from (visitors)",
            "Came to the shop (%)",
            "Uplift (percentage points)",
        ]
    ]
