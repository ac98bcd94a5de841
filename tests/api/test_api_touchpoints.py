"""API tests for touchpoints: canonical identifiers, zones, the dynamic QR redirect, and who may
change what."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import httpx
import pytest

from marktplatz.adapters.codecache import TTL_SECONDS, InMemoryCodeCache
from marktplatz.bootstrap import App
from marktplatz.domain.accounts import User
from marktplatz.domain.errors import Conflict
from marktplatz.domain.touchpoints import LINK_KINDS, Touchpoint, TouchpointKind, is_code, new_code
from marktplatz.domain.zones import Zone
from marktplatz.services import cities, touchpoints
from support import SQUARE, Tenant, login, make_tenant, make_user

EN = {"accept-language": "en"}
INSIDE = {"lat": 52.105, "lon": 8.75}  # inside conftest.SQUARE
OUTSIDE = {"lat": 52.2, "lon": 8.9}
EXAMPLE_UUID = "F7826DA64FA24E988024BC5B71E0893E"
EXAMPLE_UUID_CANONICAL = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"


def beacon_ids() -> tuple[str, int, int]:
    """A fresh upper-case iBeacon UUID and major/minor, unique in the shared test database."""
    raw = uuid.uuid4()
    return raw.hex.upper(), raw.int % 65536, (raw.int >> 16) % 65536


def ids_for(kind: TouchpointKind) -> dict[str, Any]:
    proximity, major, minor = beacon_ids()
    if kind is TouchpointKind.IBEACON:
        return {"ibeacon": {"uuid": proximity, "major": major, "minor": minor}}
    if kind is TouchpointKind.ALTBEACON:
        return {"altbeacon": {"id1": proximity, "id2": major, "id3": minor}}
    if kind is TouchpointKind.EDDYSTONE_UID:
        return {"eddystone": {"namespace": proximity[:20], "instance": proximity[20:]}}
    if kind in LINK_KINDS:
        return {"target": "/stadt/angebote"}
    return {}


async def headers_for(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    return {"x-csrf-token": await login(client, user), **EN}


@pytest.fixture
async def admin(client: httpx.AsyncClient, tenant: Tenant) -> dict[str, str]:
    """Headers for state changes as the tenant's city admin (the client holds the cookie)."""
    return await headers_for(client, tenant.users["city-admin"])


async def make_touchpoint(composed: App, tenant: Tenant, **data: Any) -> Touchpoint:
    """A touchpoint made by the city admin through the service (the API cannot; see above)."""
    body = {"name": "Punkt", **INSIDE, **data}
    return await touchpoints.create_touchpoint(
        composed.ctx, tenant.users["city-admin"], tenant.city.id, body
    )


async def read(client: httpx.AsyncClient, headers: dict[str, str], tp_id: object) -> dict[str, Any]:
    response = await client.get(f"/api/v1/touchpoints/{tp_id}", headers=headers)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def city_identifiers(
    client: httpx.AsyncClient, headers: dict[str, str], tenant: Tenant
) -> list[str]:
    response = await client.get(f"/api/v1/cities/{tenant.city.slug}/touchpoints", headers=headers)
    assert response.status_code == 200, response.text
    return sorted(t["identifier"] for t in response.json())


# --- creating every kind ------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(TouchpointKind), ids=str)
async def test_city_admin_creates_each_kind_through_the_api(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], kind: TouchpointKind
) -> None:
    # given the raw ids or target this kind needs
    body = {"kind": kind.value, "name": f"Punkt {kind.value}", **INSIDE, **ids_for(kind)}

    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/touchpoints", headers=admin, json=body
    )

    # then
    assert response.status_code == 201, response.text
    created = response.json()
    assert (created["kind"], created["status"], created["city_id"]) == (
        kind.value,
        "active",
        str(tenant.city.id),
    )
    if kind in LINK_KINDS:
        assert is_code(created["code"])
        assert created["short_url"] == f"http://testserver/q/{created['code']}"
        assert created["target"] == "/stadt/angebote"
    else:
        assert (created["short_url"], created["target"]) == (None, "")
    assert await read(client, admin, created["id"]) == created


async def test_ibeacon_identifier_is_canonical_when_created_through_the_api(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given the example UUID without dashes, in capitals
    _, major, minor = beacon_ids()
    body = {
        "kind": "ibeacon",
        "name": "Bake",
        **INSIDE,
        "ibeacon": {"uuid": EXAMPLE_UUID, "major": major, "minor": minor},
    }

    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/touchpoints", headers=admin, json=body
    )

    # then
    assert response.status_code == 201, response.text
    assert response.json()["identifier"] == f"ibeacon:{EXAMPLE_UUID_CANONICAL}:{major}:{minor}"
    assert (response.json()["code"], response.json()["short_url"]) == ("", None)


async def test_duplicate_ibeacon_is_rejected_at_creation_through_the_api(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a beacon stored with its lower-case, dashed UUID
    proximity, major, minor = beacon_ids()
    await make_touchpoint(
        composed,
        tenant,
        kind="ibeacon",
        ibeacon={"uuid": str(uuid.UUID(proximity)), "major": major, "minor": minor},
    )
    before = await city_identifiers(client, admin, tenant)

    # when the same beacon is registered again, spelled in capitals without dashes
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/touchpoints",
        headers=admin,
        json={
            "kind": "ibeacon",
            "name": "Doppelt",
            **INSIDE,
            "ibeacon": {"uuid": proximity, "major": major, "minor": minor},
        },
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [
            {"field": "identifier", "message": "Another touchpoint already uses this identifier."}
        ],
    }
    assert await city_identifiers(client, admin, tenant) == before


async def test_touchpoint_creation_through_the_api_names_the_wrong_field(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str]
) -> None:
    # given a touchpoint with a latitude out of range and an unknown field
    before = await city_identifiers(client, admin, tenant)

    # when
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/touchpoints",
        headers=admin,
        json={
            "kind": "qr",
            "name": "QR",
            "lat": "52.1",
            "lon": 8.75,
            "target": "/x",
            "colour": "red",
        },
    )

    # then
    assert response.status_code == 422
    fields = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert fields["lat"] == "Input should be a valid number"
    assert fields["colour"] == "Extra inputs are not permitted"
    assert await city_identifiers(client, admin, tenant) == before


# --- identifiers, codes, short URLs ---------------------------------------------------------


async def test_ibeacon_identifier_is_canonical(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given the example UUID without dashes, in capitals
    _, major, minor = beacon_ids()

    # when
    created = await make_touchpoint(
        composed,
        tenant,
        kind="ibeacon",
        ibeacon={"uuid": EXAMPLE_UUID, "major": major, "minor": minor},
    )

    # then
    shown = await read(client, admin, created.id)
    assert shown["identifier"] == f"ibeacon:{EXAMPLE_UUID_CANONICAL}:{major}:{minor}"
    assert (shown["kind"], shown["code"], shown["short_url"], shown["target"]) == (
        "ibeacon",
        "",
        None,
        "",
    )


@pytest.mark.parametrize("kind", sorted(LINK_KINDS), ids=str)
async def test_link_kinds_get_a_code_and_a_short_url(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    composed: App,
    kind: TouchpointKind,
) -> None:
    # given a QR code, NFC tag or URL beacon
    created = await make_touchpoint(composed, tenant, kind=kind.value, target="/stadt/angebote")

    # when
    shown = await read(client, admin, created.id)

    # then
    assert is_code(shown["code"])
    assert len(shown["code"]) == 8
    assert shown["identifier"] == f"code:{shown['code']}"
    assert shown["short_url"] == f"http://testserver/q/{shown['code']}"
    assert shown["target"] == "/stadt/angebote"


@pytest.mark.parametrize(
    "kind",
    [
        TouchpointKind.WIFI_PORTAL,
        TouchpointKind.PEOPLE_COUNTER,
        TouchpointKind.KIOSK,
        TouchpointKind.WEBCAM,
        TouchpointKind.VOICE,
        TouchpointKind.WEB_WIDGET,
    ],
    ids=str,
)
async def test_devices_have_no_short_url_and_no_target(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    composed: App,
    kind: TouchpointKind,
) -> None:
    # given a device touchpoint, even if a target is sent along
    created = await make_touchpoint(composed, tenant, kind=kind.value, target="https://x.example")

    # when
    shown = await read(client, admin, created.id)
    qr = await client.get(f"/api/v1/touchpoints/{created.id}/qr.svg", headers=admin)

    # then
    assert (shown["kind"], shown["short_url"], shown["target"]) == (kind.value, None, "")
    assert (qr.status_code, qr.json()) == (404, {"detail": "this touchpoint has no QR code"})


# --- zones ----------------------------------------------------------------------------------


async def test_zone_is_assigned_by_position(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a zone drawn through the API
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/zones",
        headers=admin,
        json={"slug": "altstadt", "name": "Altstadt", "geometry": SQUARE},
    )
    assert response.status_code == 201, response.text
    zone_id = response.json()["id"]

    # when touchpoints are placed inside and outside it, and one is moved into it
    inside = await make_touchpoint(composed, tenant, kind="qr", target="/a", **INSIDE)
    outside = await make_touchpoint(composed, tenant, kind="qr", target="/b", **OUTSIDE)
    moved = await make_touchpoint(composed, tenant, kind="nfc", target="/c", **OUTSIDE)
    patched = await client.patch(f"/api/v1/touchpoints/{moved.id}", headers=admin, json=INSIDE)

    # then
    assert patched.status_code == 200, patched.text
    assert (await read(client, admin, inside.id))["zone_id"] == zone_id
    assert (await read(client, admin, outside.id))["zone_id"] is None
    assert (await read(client, admin, moved.id))["zone_id"] == zone_id


@pytest.mark.parametrize(
    ("start", "sent", "position", "in_zone"),
    [
        (INSIDE, {"lat": 52.2}, (52.2, 8.75), False),
        (INSIDE, {"lon": 8.9}, (52.105, 8.9), False),
        ({"lat": 52.2, "lon": 8.75}, {"lat": 52.105}, (52.105, 8.75), True),
    ],
    ids=["only lat, out of the zone", "only lon, out of the zone", "only lat, into the zone"],
)
async def test_moving_only_one_coordinate_keeps_the_other(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    composed: App,
    start: dict[str, float],
    sent: dict[str, float],
    position: tuple[float, float],
    in_zone: bool,
) -> None:
    # given a zone and a QR code
    zone = await make_zone(composed, tenant, SQUARE)
    created = await make_touchpoint(composed, tenant, kind="qr", target="/a", **start)
    before = await read(client, admin, created.id)

    # when only one coordinate is sent
    response = await client.patch(f"/api/v1/touchpoints/{created.id}", headers=admin, json=sent)

    # then the other one is the stored one, and the zone follows the new position
    assert response.status_code == 200, response.text
    after = await read(client, admin, created.id)
    assert after == {
        **before,
        "lat": position[0],
        "lon": position[1],
        "zone_id": str(zone.id) if in_zone else None,
    }


async def make_zone(composed: App, tenant: Tenant, geometry: dict[str, Any]) -> Zone:
    return await cities.create_zone(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"slug": f"zone-{uuid.uuid4().hex[:8]}", "name": "Zone", "geometry": geometry},
    )


def square(lat: float, lon: float, size: float) -> dict[str, Any]:
    """A GeoJSON square with its south-west corner at (lat, lon)."""
    ring = [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


SMALL = square(52.10, 8.74, 0.01)  # the same area as SQUARE
BIG = square(52.09, 8.73, 0.05)  # around SMALL
ELSEWHERE = square(52.19, 8.89, 0.02)  # holds OUTSIDE only


async def zone_ids(
    client: httpx.AsyncClient, headers: dict[str, str], points: list[Touchpoint]
) -> list[str | None]:
    return [(await read(client, headers, point.id))["zone_id"] for point in points]


async def test_a_new_zone_takes_the_touchpoints_inside_it(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given touchpoints placed before any zone: two inside the square to come, one outside
    big = await make_zone(composed, tenant, BIG)
    inside = await make_touchpoint(composed, tenant, kind="qr", target="/a", **INSIDE)
    corner = await make_touchpoint(composed, tenant, kind="kiosk", lat=52.1, lon=8.74)
    outside = await make_touchpoint(composed, tenant, kind="qr", target="/c", **OUTSIDE)
    assert await zone_ids(client, admin, [inside, corner, outside]) == [str(big.id)] * 2 + [None]

    # when the square is drawn through the API
    response = await client.post(
        f"/api/v1/cities/{tenant.city.slug}/zones",
        headers=admin,
        json={"slug": "markt", "name": "Markt", "geometry": SMALL},
    )

    # then the touchpoints inside it (edge included) are in it, the others stay where they were
    assert response.status_code == 201, response.text
    new = response.json()["id"]
    assert await zone_ids(client, admin, [inside, corner, outside]) == [new, new, None]


async def test_a_redrawn_zone_hands_its_touchpoints_to_the_zone_that_contains_them(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a big zone, touchpoints inside it and far away, and then a small zone inside the big
    # one, which takes the touchpoints it covers
    big = await make_zone(composed, tenant, BIG)
    in_both = await make_touchpoint(composed, tenant, kind="qr", target="/a", **INSIDE)
    in_big = await make_touchpoint(composed, tenant, kind="qr", target="/b", lat=52.13, lon=8.77)
    away = await make_touchpoint(composed, tenant, kind="qr", target="/c", **OUTSIDE)
    small = await make_zone(composed, tenant, SMALL)
    assert await zone_ids(client, admin, [in_both, in_big, away]) == [
        str(small.id),
        str(big.id),
        None,
    ]

    # when the small zone is redrawn far away, and then back again
    moved = await client.patch(
        f"/api/v1/zones/{small.id}", headers=admin, json={"geometry": ELSEWHERE}
    )
    after_move = await zone_ids(client, admin, [in_both, in_big, away])
    back = await client.patch(f"/api/v1/zones/{small.id}", headers=admin, json={"geometry": SMALL})
    after_back = await zone_ids(client, admin, [in_both, in_big, away])

    # then each touchpoint is in a zone that contains it, or in none
    assert (moved.status_code, back.status_code) == (200, 200)
    assert after_move == [str(big.id), str(big.id), str(small.id)]
    assert after_back == [str(small.id), str(big.id), None]


async def test_a_zone_whose_shape_stays_leaves_the_touchpoints_alone(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given two overlapping zones; the touchpoint is in the newer one
    big = await make_zone(composed, tenant, BIG)
    point = await make_touchpoint(composed, tenant, kind="qr", target="/a", **INSIDE)
    small = await make_zone(composed, tenant, SMALL)
    before = await read(client, admin, point.id)

    # when the older zone is renamed without a new shape
    response = await client.patch(f"/api/v1/zones/{big.id}", headers=admin, json={"name": "Groß"})

    # then
    assert response.status_code == 200, response.text
    assert await read(client, admin, point.id) == before
    assert before["zone_id"] == str(small.id)


async def test_a_deleted_zone_hands_its_touchpoints_to_the_zone_that_contains_them(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a big zone, touchpoints inside it and far away, and then a small zone inside the big
    # one and another around the far touchpoint, which take the touchpoints they cover
    big = await make_zone(composed, tenant, BIG)
    in_both = await make_touchpoint(composed, tenant, kind="qr", target="/a", **INSIDE)
    alone = await make_touchpoint(composed, tenant, kind="qr", target="/b", **OUTSIDE)
    small = await make_zone(composed, tenant, SMALL)
    only_small = await make_zone(composed, tenant, ELSEWHERE)
    assert await zone_ids(client, admin, [in_both, alone]) == [str(small.id), str(only_small.id)]

    # when both small zones are deleted
    deleted = [
        await client.delete(f"/api/v1/zones/{zone.id}", headers=admin)
        for zone in (small, only_small)
    ]

    # then
    assert [d.status_code for d in deleted] == [204, 204]
    assert await zone_ids(client, admin, [in_both, alone]) == [str(big.id), None]


# --- the dynamic QR redirect ----------------------------------------------------------------


async def test_code_redirects_to_the_target_without_a_cookie(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given an active QR code
    created = await make_touchpoint(
        composed, tenant, kind="qr", target="https://example.org/angebot?x=1"
    )

    # when a phone opens its short URL
    response = await client.get(f"/q/{created.code}")

    # then
    assert response.status_code == 307
    assert response.headers["location"] == "https://example.org/angebot?x=1"
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers
    assert not client.cookies


async def test_changed_target_is_followed_without_reprinting(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a printed QR code pointing to the summer offers
    created = await make_touchpoint(composed, tenant, kind="qr", target="/stadt/sommer")

    # when the target is changed
    response = await client.patch(
        f"/api/v1/touchpoints/{created.id}", headers=admin, json={"target": "/stadt/winter"}
    )

    # then the same code leads to the new target
    assert response.status_code == 200, response.text
    assert (response.json()["code"], response.json()["target"]) == (created.code, "/stadt/winter")
    redirect = await client.get(f"/q/{created.code}")
    assert (redirect.status_code, redirect.headers["location"]) == (
        307,
        f"/stadt/winter?via={created.code}",
    )


class CountingUnitsOfWork:
    """The application's unit-of-work factory, counting how often a transaction is opened."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.opened = 0

    def __call__(self, *, write: bool = False) -> Any:
        self.opened += 1
        return self.inner(write=write)


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_busy_code_is_looked_up_in_the_database_once(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an active QR code, and the database's transactions counted from now on
    created = await make_touchpoint(composed, tenant, kind="qr", target="/stadt/markt")
    counting = CountingUnitsOfWork(composed.ctx.uow)
    monkeypatch.setattr(composed, "ctx", replace(composed.ctx, uow=counting))

    # when it is scanned three times in a row
    answers = [await client.get(f"/q/{created.code}") for _ in range(3)]

    # then
    landing = f"/stadt/markt?via={created.code}"
    assert [(a.status_code, a.headers["location"]) for a in answers] == [(307, landing)] * 3
    assert counting.opened == 1


async def test_changes_are_followed_at_once_by_the_same_process(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a QR code that has just been scanned (so its link is cached)
    created = await make_touchpoint(composed, tenant, kind="qr", target="/stadt/sommer")
    url = f"/api/v1/touchpoints/{created.id}"
    assert (await client.get(f"/q/{created.code}")).headers["location"] == (
        f"/stadt/sommer?via={created.code}"
    )

    # when its target changes, it is switched off, and on again, with a scan after each change
    scans = []
    for change in ({"target": "/stadt/winter"}, {"status": "inactive"}, {"status": "active"}):
        assert (await client.patch(url, headers=admin, json=change)).status_code == 200
        scan = await client.get(f"/q/{created.code}")
        scans.append((scan.status_code, scan.headers.get("location")))

    # then every scan saw the change
    landing = f"/stadt/winter?via={created.code}"
    assert scans == [(307, landing), (404, None), (307, landing)]


async def test_a_new_code_works_at_once_even_if_it_was_asked_for_before(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a code nobody has yet, which someone has already tried
    code = new_code()
    assert (await client.get(f"/q/{code}")).status_code == 404

    # when a QR touchpoint gets exactly that code
    monkeypatch.setattr(touchpoints, "new_code", lambda: code)
    created = await make_touchpoint(composed, tenant, kind="qr", target="/stadt/neu")

    # then it works right away
    response = await client.get(f"/q/{created.code}")
    assert created.code == code
    assert (response.status_code, response.headers["location"]) == (307, f"/stadt/neu?via={code}")


async def test_another_worker_process_follows_a_change_within_the_time_to_live(
    tenant: Tenant, composed: App
) -> None:
    # given a second worker process (its own code cache, the same database) that has
    # resolved a code
    ticks = Ticks()
    elsewhere = replace(composed.ctx, codes=InMemoryCodeCache(monotonic=ticks))
    created = await make_touchpoint(composed, tenant, kind="qr", target="/stadt/sommer")
    assert await touchpoints.resolve_code(elsewhere, created.code) == "/stadt/sommer"

    # when this process changes the target, and the other one resolves the code again now and
    # once its cache entry has run out
    await touchpoints.update_touchpoint(
        composed.ctx, tenant.users["city-admin"], created.id, {"target": "/stadt/winter"}
    )
    meanwhile = await touchpoints.resolve_code(elsewhere, created.code)
    ticks.now += TTL_SECONDS
    later = await touchpoints.resolve_code(elsewhere, created.code)

    # then it followed the change within the time to live
    assert (meanwhile, later) == ("/stadt/sommer", "/stadt/winter")


@pytest.mark.parametrize("code", ["zzzzzzzz", "23456789", "abc", "ZZZZ-ZZZ", "0000000o"])
async def test_unknown_code_is_not_found(client: httpx.AsyncClient, code: str) -> None:
    # given a code no touchpoint has
    # when
    response = await client.get(f"/q/{code}")

    # then
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("status", ["inactive", "retired"])
async def test_code_of_a_touchpoint_that_is_not_active_is_not_found(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, status: str
) -> None:
    # given a QR code that has been switched off (through the service: the API cannot, see above)
    created = await make_touchpoint(composed, tenant, kind="qr", target="/stadt")
    await touchpoints.update_touchpoint(
        composed.ctx, tenant.users["city-admin"], created.id, {"status": status}
    )

    # when
    response = await client.get(f"/q/{created.code}")

    # then
    assert response.status_code == 404
    assert "location" not in response.headers


async def test_switching_a_code_off_through_the_api(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given an active QR code
    created = await make_touchpoint(composed, tenant, kind="qr", target="/stadt")

    # when
    response = await client.patch(
        f"/api/v1/touchpoints/{created.id}", headers=admin, json={"status": "inactive"}
    )

    # then
    assert response.status_code == 200, response.text
    assert (await client.get(f"/q/{created.code}")).status_code == 404


@pytest.mark.parametrize("kind", ["kiosk", "people-counter"])
async def test_code_of_a_device_is_not_a_short_url(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, kind: str
) -> None:
    # given an active kiosk or people counter, which has a code as its identifier
    created = await make_touchpoint(composed, tenant, kind=kind)
    assert is_code(created.code)

    # when someone opens /q/ with that code
    response = await client.get(f"/q/{created.code}")

    # then
    assert response.status_code == 404


# --- duplicate and bad beacon ids -----------------------------------------------------------


@pytest.mark.parametrize("spelling", ["upper-hex", "lower-dashed"])
async def test_duplicate_ibeacon_identifier_is_rejected_and_nothing_changes(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    composed: App,
    spelling: str,
) -> None:
    # given two beacons, the first stored with the lower-case dashed UUID
    proximity, major, minor = beacon_ids()
    await make_touchpoint(
        composed,
        tenant,
        kind="ibeacon",
        ibeacon={"uuid": str(uuid.UUID(proximity)), "major": major, "minor": minor},
    )
    other_ids = beacon_ids()
    second = await make_touchpoint(
        composed,
        tenant,
        kind="ibeacon",
        name="Zweite",
        ibeacon={"uuid": other_ids[0], "major": other_ids[1], "minor": other_ids[2]},
    )
    before = await read(client, admin, second.id)
    typed = proximity if spelling == "upper-hex" else str(uuid.UUID(proximity)).upper()

    # when the second beacon is given the first one's ids (and a new name with them)
    response = await client.patch(
        f"/api/v1/touchpoints/{second.id}",
        headers=admin,
        json={"name": "Umbenannt", "ibeacon": {"uuid": typed, "major": major, "minor": minor}},
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [
            {"field": "identifier", "message": "Another touchpoint already uses this identifier."}
        ],
    }
    assert await read(client, admin, second.id) == before


async def test_duplicate_ibeacon_is_refused_by_the_service_in_any_spelling(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a beacon stored with its lower-case, dashed UUID
    proximity, major, minor = beacon_ids()
    await make_touchpoint(
        composed,
        tenant,
        kind="ibeacon",
        ibeacon={"uuid": str(uuid.UUID(proximity)), "major": major, "minor": minor},
    )
    before = await city_identifiers(client, admin, tenant)

    # when the same beacon is registered again in capitals without dashes
    with pytest.raises(Conflict) as caught:
        await make_touchpoint(
            composed,
            tenant,
            kind="ibeacon",
            ibeacon={"uuid": proximity, "major": str(major), "minor": minor},
        )

    # then
    assert caught.value.field == "identifier"
    assert await city_identifiers(client, admin, tenant) == before


@pytest.mark.parametrize(
    ("ids", "field", "message"),
    [
        (
            {"uuid": "nicht-eine-uuid", "major": 1, "minor": 2},
            "ibeacon.uuid",
            "This is not a valid UUID.",
        ),
        (
            {"uuid": EXAMPLE_UUID, "major": 65536, "minor": 2},
            "ibeacon.major",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            {"uuid": EXAMPLE_UUID, "major": 1, "minor": -1},
            "ibeacon.minor",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            {"uuid": EXAMPLE_UUID, "major": "1", "minor": 2},
            "ibeacon.major",
            "Input should be a valid integer",
        ),
        (
            {"uuid": EXAMPLE_UUID, "major": 1, "minor": 2, "power": -59},
            "ibeacon.power",
            "Extra inputs are not permitted",
        ),
    ],
)
async def test_bad_beacon_ids_are_rejected_and_nothing_changes(
    client: httpx.AsyncClient,
    tenant: Tenant,
    admin: dict[str, str],
    composed: App,
    ids: dict[str, object],
    field: str,
    message: str,
) -> None:
    # given a beacon
    proximity, major, minor = beacon_ids()
    created = await make_touchpoint(
        composed,
        tenant,
        kind="ibeacon",
        ibeacon={"uuid": proximity, "major": major, "minor": minor},
    )
    before = await read(client, admin, created.id)

    # when
    response = await client.patch(
        f"/api/v1/touchpoints/{created.id}", headers=admin, json={"ibeacon": ids}
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [{"field": field, "message": message}],
    }
    assert await read(client, admin, created.id) == before


async def test_bad_location_on_update_is_rejected_and_nothing_changes(
    client: httpx.AsyncClient, tenant: Tenant, admin: dict[str, str], composed: App
) -> None:
    # given a QR code
    created = await make_touchpoint(composed, tenant, kind="qr", target="/a")
    before = await read(client, admin, created.id)

    # when
    response = await client.patch(
        f"/api/v1/touchpoints/{created.id}",
        headers=admin,
        json={"lat": 123.4, "lon": 8.75, "target": "/b"},
    )

    # then
    assert response.status_code == 422
    assert response.json() == {
        "detail": "invalid input",
        "errors": [{"field": "location.lat", "message": "Latitude must be between -90 and 90."}],
    }
    assert await read(client, admin, created.id) == before


# --- retailers ------------------------------------------------------------------------------


async def test_shop_owner_may_change_only_the_target(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a QR code of shop A and the owner of shop A
    created = await make_touchpoint(
        composed, tenant, kind="qr", target="/alt", shop_id=str(tenant.shop_a.id)
    )
    owner = await headers_for(client, tenant.users["retailer-owner"])

    # when the owner changes the target, and then tries to rename or move it
    target = await client.patch(
        f"/api/v1/touchpoints/{created.id}", headers=owner, json={"target": "/neu"}
    )
    after_target = await read(client, owner, created.id)
    renamed = await client.patch(
        f"/api/v1/touchpoints/{created.id}",
        headers=owner,
        json={"name": "Meins", "target": "/noch-neuer"},
    )
    moved = await client.patch(f"/api/v1/touchpoints/{created.id}", headers=owner, json=OUTSIDE)

    # then only the target changed
    assert target.status_code == 200, target.text
    assert after_target["target"] == "/neu"
    for rejected in (renamed, moved):
        assert rejected.status_code == 422
        assert rejected.json() == {
            "detail": "invalid input",
            "errors": [
                {"field": "target", "message": "Retailers may change only the target address."}
            ],
        }
    assert await read(client, owner, created.id) == after_target
    assert (await client.get(f"/q/{created.code}")).headers["location"] == (
        f"/neu?via={created.code}"
    )


async def test_owner_of_another_shop_sees_nothing(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a QR code of shop A and the owner of shop B
    created = await make_touchpoint(
        composed, tenant, kind="qr", target="/alt", shop_id=str(tenant.shop_a.id)
    )
    neighbour = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_b)
    headers = await headers_for(client, neighbour)

    # when
    patched = await client.patch(
        f"/api/v1/touchpoints/{created.id}", headers=headers, json={"target": "/gekapert"}
    )
    fetched = await client.get(f"/api/v1/touchpoints/{created.id}", headers=headers)
    listed = await client.get(f"/api/v1/cities/{tenant.city.slug}/touchpoints", headers=headers)

    # then
    assert (patched.status_code, patched.json()) == (404, {"detail": "not found"})
    assert (fetched.status_code, fetched.json()) == (404, {"detail": "not found"})
    assert listed.json() == []
    assert (await client.get(f"/q/{created.code}")).headers["location"] == (
        f"/alt?via={created.code}"
    )


async def test_shop_staff_may_read_but_not_change(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a QR code of shop A and a staff member of shop A
    created = await make_touchpoint(
        composed, tenant, kind="qr", target="/alt", shop_id=str(tenant.shop_a.id)
    )
    headers = await headers_for(client, tenant.users["retailer-staff"])

    # when
    patched = await client.patch(
        f"/api/v1/touchpoints/{created.id}", headers=headers, json={"target": "/neu"}
    )
    listed = await client.get(f"/api/v1/cities/{tenant.city.slug}/touchpoints", headers=headers)

    # then
    assert (patched.status_code, patched.json()) == (403, {"detail": "forbidden"})
    assert [t["id"] for t in listed.json()] == [str(created.id)]
    assert (await client.get(f"/q/{created.code}")).headers["location"] == (
        f"/alt?via={created.code}"
    )


async def test_touchpoints_of_another_city_look_nonexistent(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a QR code in the tenant's city and the admin of a second city
    created = await make_touchpoint(composed, tenant, kind="qr", target="/alt")
    other = await make_tenant(composed)
    headers = await headers_for(client, other.users["city-admin"])

    # when
    patched = await client.patch(
        f"/api/v1/touchpoints/{created.id}", headers=headers, json={"target": "/fremd"}
    )
    qr = await client.get(f"/api/v1/touchpoints/{created.id}/qr.svg", headers=headers)

    # then
    assert (patched.status_code, qr.status_code) == (404, 404)
    assert (await client.get(f"/q/{created.code}")).headers["location"] == (
        f"/alt?via={created.code}"
    )
