"""People counts imported from counter exports in the console: dry run, confirm, re-import."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import touchpoints
from marktplatz.services.footfall import WRITE_BATCH, import_footfall
from marktplatz.store import tables
from marktplatz.web.console.footfall import pack
from support import Tenant, login, make_tenant, new_client, unique

EN = {"accept-language": "en"}
DATA = Path(__file__).parent.parent / "data"


async def counter(composed: App, tenant: Tenant, name: str) -> Touchpoint:
    return await touchpoints.create_touchpoint(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"kind": "people-counter", "name": name, "lat": 52.105, "lon": 8.75},
    )


async def editor(client: httpx.AsyncClient, tenant: Tenant) -> str:
    """The city editor logged in, reading English pages; returns the CSRF token."""
    client.headers.update(EN)
    return await login(client, tenant.users["city-editor"])


async def stored_counts(composed: App, tenant: Tenant) -> list[tuple[Any, ...]]:
    e = tables.events.c
    query = (
        select(e.touchpoint_id, e.occurred_at, e.count, e.channel)
        .where(e.city_id == tenant.city.id, e.kind == "counter.count")
        .order_by(e.touchpoint_id, e.occurred_at)
    )
    async with composed.engine.connect() as conn:
        return [tuple(r) for r in await conn.execute(query)]


async def audit_lines(composed: App, tenant: Tenant) -> list[str]:
    a = tables.audit_log.c
    query = select(a.detail).where(a.city_id == tenant.city.id, a.action == "footfall.imported")
    async with composed.engine.connect() as conn:
        return [r.detail for r in await conn.execute(query.order_by(a.id))]


def upload(name: str) -> dict[str, Any]:
    return {"file": (name, (DATA / name).read_bytes(), "text/csv")}


def packed(page: str) -> str:
    found = re.search(r'name="file" value="([^"]*)"', page)
    assert found, page
    return found[1]


async def check_and_confirm(
    client: httpx.AsyncClient, tenant: Tenant, token: str, name: str
) -> tuple[httpx.Response, httpx.Response]:
    base = f"/console/{tenant.city.slug}/footfall"
    checked = await client.post(base, data={"csrf_token": token}, files=upload(name))
    assert checked.status_code == 200, checked.text
    done = await client.post(
        f"{base}/confirm",
        data={"csrf_token": token, "file": packed(checked.text), "filename": name},
    )
    return checked, done


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


async def test_a_clean_export_is_imported_after_confirming_and_audited(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given the city's two counters and the hystreet export naming them
    bakery = await counter(composed, tenant, "Bäckerstraße")
    north = await counter(composed, tenant, "Markt Nord")
    token = await editor(client, tenant)
    # when
    checked, done = await check_and_confirm(client, tenant, token, "footfall_hystreet.csv")
    # then the dry run stored nothing and said what would happen; the import stored every hour
    assert (
        "Rows in footfall_hystreet.csv: 6. New hours: 6. Already stored, and not stored again: 0."
        in checked.text
    )
    assert (
        "These columns are not imported: weekday, temperature in ºc, weather condition, "
        "incidents." in checked.text
    )
    assert done.status_code == 200, done.text
    assert (
        "Imported from footfall_hystreet.csv. New hours: 6; already stored before: 0." in done.text
    )
    assert sorted(await stored_counts(composed, tenant), key=lambda r: (r[1], r[2])) == sorted(
        [
            (bakery.id, utc(2024, 10, 26, 23), 120, "counter"),
            (bakery.id, utc(2024, 10, 27, 0), 80, "counter"),
            (bakery.id, utc(2024, 10, 27, 1), 75, "counter"),
            (bakery.id, utc(2024, 10, 27, 2), 60, "counter"),
            (north.id, utc(2024, 5, 1, 8), 1523, "counter"),
            (north.id, utc(2024, 5, 1, 9), 1688, "counter"),
        ],
        key=lambda r: (r[1], r[2]),
    )
    assert await audit_lines(composed, tenant) == ["6 rows, 6 new, 0 already stored"]
    # and the page shows each counter's first and last hour in local time
    assert '<time datetime="2024-10-26T23:00:00+00:00">27.10.2024 01:00</time>' in done.text
    assert '<time datetime="2024-10-27T02:00:00+00:00">27.10.2024 03:00</time>' in done.text
    assert '<time datetime="2024-05-01T08:00:00+00:00">01.05.2024 10:00</time>' in done.text


async def test_importing_the_same_hours_again_stores_nothing_twice(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given the hystreet export imported once
    await counter(composed, tenant, "Bäckerstraße")
    await counter(composed, tenant, "Markt Nord")
    token = await login(client, tenant.users["city-admin"])
    client.headers.update(EN)
    await check_and_confirm(client, tenant, token, "footfall_hystreet.csv")
    before = await stored_counts(composed, tenant)
    # when the German portal export of the same autumn night (cp1252, local times) follows
    checked, done = await check_and_confirm(client, tenant, token, "footfall_portal_cp1252.csv")
    # then its four autumn hours are known, only the two spring hours are new
    assert (
        "footfall_portal_cp1252.csv: 6. New hours: 2. Already stored, and not stored again: 4."
        in checked.text
    )
    assert "it was read as Windows-1252" in checked.text
    assert "Imported from footfall_portal_cp1252.csv. New hours: 2; already stored before: 4." in (
        done.text
    )
    after = await stored_counts(composed, tenant)
    assert len(before) == 6
    assert len(after) == 8
    assert set(before) <= set(after)
    assert await audit_lines(composed, tenant) == [
        "6 rows, 6 new, 0 already stored",
        "6 rows, 2 new, 4 already stored",
    ]


async def test_a_stored_hour_with_another_count_keeps_its_count_and_says_so(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given one imported hour
    await counter(composed, tenant, "Markt Nord")
    token = await editor(client, tenant)
    base = f"/console/{tenant.city.slug}/footfall"
    first = {"file": ("a.csv", b"Standort;Zeitpunkt;Passanten\nMarkt Nord;01.05.2024 10:00;7\n")}
    checked = await client.post(base, data={"csrf_token": token}, files=first)
    await client.post(f"{base}/confirm", data={"csrf_token": token, "file": packed(checked.text)})
    # when a corrected file counts the hour differently
    second = {"file": ("b.csv", b"Standort;Zeitpunkt;Passanten\nMarkt Nord;01.05.2024 10:00;9\n")}
    again = await client.post(base, data={"csrf_token": token}, files=second)
    # then
    assert "1 stored hour has another count in this file; the stored count stays." in (again.text)
    assert [r[2] for r in await stored_counts(composed, tenant)] == [7]


async def test_a_file_with_two_bad_rows_stores_nothing_even_when_confirmed(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    await counter(composed, tenant, "Markt Nord")
    token = await editor(client, tenant)
    base = f"/console/{tenant.city.slug}/footfall"
    name = "footfall_two_bad_rows.csv"
    # when the dry run, and then the confirm step, get the file
    checked = await client.post(base, data={"csrf_token": token}, files=upload(name))
    forced = await client.post(
        f"{base}/confirm",
        data={"csrf_token": token, "file": pack((DATA / name).read_bytes()), "filename": name},
    )
    # then both list the two rows, and nothing is stored
    for response in (checked, forced):
        assert response.status_code == 422
        assert f"2 problems in {name} — nothing was imported" in response.text
        assert (
            "<td>3</td><td><code>Anzahl Passanten</code></td><td>A count cannot be negative.</td>"
            in response.text
        )
        assert (
            "<td>4</td><td><code>Zeitpunkt</code></td>"
            "<td>“01.05.2024 12:30” is not the start of a full hour.</td>" in response.text
        )
        assert "Import now" not in response.text
        assert 'aria-invalid="true"' in response.text
    assert await stored_counts(composed, tenant) == []
    assert await audit_lines(composed, tenant) == []


async def test_an_unknown_location_names_the_counters_there_are(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    await counter(composed, tenant, "Markt Nord")
    await counter(composed, tenant, "Bahnhofstraße")
    token = await editor(client, tenant)
    # when
    response = await client.post(
        f"/console/{tenant.city.slug}/footfall",
        data={"csrf_token": token},
        files=upload("footfall_hystreet.csv"),
    )
    # then
    assert response.status_code == 422
    assert (
        "<td>2</td><td><code>location</code></td><td>“Bäckerstraße” (rows naming it: 4) is not "
        "a people counter of this city. Its people counters are: Bahnhofstraße, Markt Nord.</td>"
    ) in response.text
    assert await stored_counts(composed, tenant) == []


async def test_retailers_are_refused_and_another_city_looks_missing(
    web: Any, composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given a counter, a retailer of the city and staff of another city
    await counter(composed, tenant, "Markt Nord")
    stranger = (await make_tenant(composed)).users["city-admin"]
    base = f"/console/{tenant.city.slug}/footfall"
    name = "footfall_hystreet.csv"
    # when
    token = await login(client, tenant.users["retailer-owner"])
    retailer = [
        await client.get(base),
        await client.post(base, data={"csrf_token": token}, files=upload(name)),
        await client.post(
            f"{base}/confirm",
            data={"csrf_token": token, "file": pack((DATA / name).read_bytes())},
        ),
    ]
    async with new_client(web) as other:
        token = await login(other, stranger)
        foreign = await other.post(
            f"{base}/confirm",
            data={"csrf_token": token, "file": pack((DATA / name).read_bytes())},
        )
    # then
    assert [r.status_code for r in retailer] == [403, 403, 403]
    assert foreign.status_code == 404
    assert await stored_counts(composed, tenant) == []


async def test_the_confirm_step_needs_the_csrf_token(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    await counter(composed, tenant, "Bäckerstraße")
    await counter(composed, tenant, "Markt Nord")
    await login(client, tenant.users["city-admin"])
    data = pack((DATA / "footfall_hystreet.csv").read_bytes())
    # when
    response = await client.post(
        f"/console/{tenant.city.slug}/footfall/confirm",
        data={"csrf_token": unique("falsch"), "file": data},
    )
    # then
    assert response.status_code == 403
    assert await stored_counts(composed, tenant) == []


async def test_a_confirm_field_that_is_no_packed_file_imports_nothing(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    await counter(composed, tenant, "Markt Nord")
    token = await editor(client, tenant)
    # when the hidden field was changed by hand
    response = await client.post(
        f"/console/{tenant.city.slug}/footfall/confirm",
        data={"csrf_token": token, "file": "Markt Nord;01.05.2024 10:00;5"},
    )
    # then
    assert response.status_code == 422
    assert "<td>whole file</td><td>—</td><td>The file is empty.</td>" in response.text
    assert await stored_counts(composed, tenant) == []


async def test_the_page_lists_counters_and_is_in_the_console_nav(
    composed: App, client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given a counter without counts
    point = await counter(composed, tenant, "Markt Süd")
    await login(client, tenant.users["city-editor"])
    # when (German, the default)
    page = await client.get(f"/console/{tenant.city.slug}/footfall")
    overview = await client.get(f"/console/{tenant.city.slug}")
    # then
    assert page.status_code == 200
    assert f"<code>{point.identifier}</code>" in page.text
    assert 'aria-current="page"' in page.text
    assert f'href="/console/{tenant.city.slug}/footfall"' in overview.text
    assert '<label for="f-file">' in page.text


async def test_a_file_larger_than_one_write_batch_is_stored_whole(
    composed: App, tenant: Tenant
) -> None:
    # given 6,000 hours of one counter: more than the writer takes in one batch
    point = await counter(composed, tenant, "Markt Nord")
    start = utc(2023, 1, 1)
    rows = [
        f"Markt Nord;{(start + timedelta(hours=h)).isoformat()};{h % 50}"
        for h in range(WRITE_BATCH + 1000)
    ]
    data = "\n".join(["location;timestamp;count", *rows]).encode()
    editor = tenant.users["city-editor"]
    # when imported twice through the service
    first = await import_footfall(composed.ctx, editor, tenant.city.id, data, dry_run=False)
    second = await import_footfall(composed.ctx, editor, tenant.city.id, data, dry_run=False)
    # then every hour is stored once
    assert (first.new, first.stored) == (6000, 0)
    assert (second.new, second.stored) == (0, 6000)
    stored = await stored_counts(composed, tenant)
    assert len(stored) == 6000
    assert stored[0] == (point.id, start, 0, "counter")
    assert stored[-1][1] == start + timedelta(hours=5999)
