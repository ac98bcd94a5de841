"""The visitor map (/<city>/map): the demo city's zones and shops as page data and as a list,
its filters, and a security policy that names a tile server only when one is configured.

The demo city lives in a SQLite database of this module's own (the shared test database holds
other tests' cities, and the simulator's tests load the demo there), at a fixed weekday morning.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App, migrate_database
from marktplatz.domain.content import Action, ContentKind, ContentStatus
from marktplatz.services import content, demo
from marktplatz.services.content import ContentInput
from marktplatz.settings import Environment, Settings
from marktplatz.web.app import create_app
from support import Tenant, published_offer

CITY = "musterstadt"
TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
DATA = re.compile(r'<script type="application/json" id="map-data">(.*?)</script>', re.DOTALL)


@dataclass(frozen=True)
class Served:
    plain: httpx.AsyncClient  # no tile URL configured
    tiled: httpx.AsyncClient  # MARKTPLATZ_MAP_TILE_URL set
    data: dict[str, Any]  # the demo city's source file


def _weekday_morning() -> datetime:
    """11:00 in Musterstadt on the next Tuesday: the demo's shops keep their weekday hours."""
    tz = ZoneInfo("Europe/Berlin")
    day = datetime.now(tz).date() + timedelta(days=1)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=tz)


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A migrated SQLite database of the module's own (migrations run outside the event loop)."""
    var_dir = Path(tmp_path_factory.mktemp("map-var"))
    settings = Settings(environment=Environment.TEST, var_dir=var_dir, database_url="")
    migrate_database(settings)
    return settings


@pytest.fixture(scope="module")
async def served(plain: Settings) -> AsyncIterator[Served]:
    tiled = plain.model_copy(
        update={"map_tile_url": TILES, "map_tile_attribution": "© Kachel-Beispiel"}
    )
    clock = FixedClock(_weekday_morning())
    apps = [create_app(plain, clock=clock), create_app(tiled, clock=clock)]
    data = json.loads(resources.files("marktplatz").joinpath(f"data/{CITY}.json").read_text())
    composed: App = apps[0].state.marktplatz
    assert (await demo.load_demo(composed.ctx, data, "optik-brillenhaus-krueger")).created
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        for app in apps
    ]
    yield Served(clients[0], clients[1], data)
    for client, app in zip(clients, apps, strict=True):
        await client.aclose()
        await app.state.marktplatz.close()


def map_data(response: httpx.Response) -> dict[str, Any]:
    found = DATA.search(response.text)
    assert found, "no map data block"
    result: dict[str, Any] = json.loads(found[1])
    return result


def listed(response: httpx.Response) -> list[str]:
    """The ids of the shops in the list below the map, in order."""
    return re.findall(r'<li class="map-entry [^"]*" id="(shop-[a-z0-9-]+)"', response.text)


async def test_the_map_holds_the_demo_citys_zones_and_shops(served: Served) -> None:
    # when a visitor opens the map
    response = await served.plain.get(f"/{CITY}/map", headers={"accept-language": "de"})
    # then it is a visitor page that the service worker may keep
    assert response.status_code == 200
    assert response.headers["x-offline-ok"] == "1"
    data = map_data(response)
    # and its data block holds every zone with its polygon and every shop with its position
    assert [z["name"] for z in data["zones"]] == sorted(z["name"] for z in served.data["zones"])
    for zone in data["zones"]:
        assert zone["geometry"]["type"] == "Polygon"
    assert len(data["shops"]) == len(served.data["shops"]) == 60
    by_id = {s["id"]: s for s in data["shops"]}
    optician = by_id["shop-optik-brillenhaus-krueger"]
    source = next(s for s in served.data["shops"] if s["slug"] == "optik-brillenhaus-krueger")
    assert (optician["lat"], optician["lon"]) == (source["lat"], source["lon"])
    assert optician["url"] == f"/{CITY}/shops/optik-brillenhaus-krueger"
    assert optician["category"] == "optician"
    assert optician["open"] is True  # Tuesday, 11:00
    # and the list below the map names the same shops, linked, and the zones
    assert listed(response) == list(by_id)
    assert f'href="/{CITY}/shops/optik-brillenhaus-krueger"' in response.text
    for zone in served.data["zones"]:
        assert zone["name"] in response.text
    # and without a tile server nothing points to another site
    assert data["tiles"] is None
    assert "tiles.example.org" not in response.text


async def test_the_map_counts_and_names_current_offers(served: Served) -> None:
    response = await served.plain.get(f"/{CITY}/map")
    data = map_data(response)
    with_offers = {s["id"]: s["offers"] for s in data["shops"] if s["offers"]}
    # the demo publishes offers of a few shops; each is counted once at its shop's marker
    assert with_offers
    assert sum(with_offers.values()) == len(re.findall(r"<li>[^<]+</li>", _offer_lists(response)))


def _offer_lists(response: httpx.Response) -> str:
    return "".join(re.findall(r'<ul class="map-offers">(.*?)</ul>', response.text, re.DOTALL))


@pytest.mark.parametrize(
    ("query", "wanted"),
    [
        ("category=optician", lambda s: s["category"] == "optician"),
        ("open_now=1", lambda s: s["open"]),
        ("category=optician&open_now=1", lambda s: s["category"] == "optician" and s["open"]),
        ("category=no-such-category", lambda s: True),
    ],
)
async def test_filters_apply_to_the_map_and_the_list(
    served: Served, query: str, wanted: Any
) -> None:
    # given every shop of the city with its category and open state
    everything = map_data(await served.plain.get(f"/{CITY}/map"))["shops"]
    expected = [s["id"] for s in everything if wanted(s)]
    # when the filter form is sent
    response = await served.plain.get(f"/{CITY}/map?{query}")
    # then the map and the list show exactly those shops
    assert response.status_code == 200
    assert [s["id"] for s in map_data(response)["shops"]] == expected
    assert listed(response) == expected
    assert 0 < len(expected) <= 60
    # and the zones stay
    assert len(map_data(response)["zones"]) == len(served.data["zones"])


async def test_an_unknown_city_has_no_map(served: Served) -> None:
    response = await served.plain.get("/nirgendwo/map")
    assert response.status_code == 404


async def test_without_a_tile_url_the_policy_names_no_other_site(served: Served) -> None:
    response = await served.plain.get(f"/{CITY}/map")
    policy = response.headers["content-security-policy"]
    assert "img-src 'self' data:;" in policy
    assert "http" not in policy


async def test_a_tile_url_is_allowed_in_the_policy_and_given_to_the_map(served: Served) -> None:
    # given MARKTPLATZ_MAP_TILE_URL and an attribution
    response = await served.tiled.get(f"/{CITY}/map")
    # then images may come from exactly that origin, and nothing else changes
    policy = response.headers["content-security-policy"]
    assert "img-src 'self' data: https://tiles.example.org;" in policy
    assert policy.count("https://") == 1
    # and the page hands the tile URL to the map and credits the tiles
    assert map_data(response)["tiles"] == TILES
    assert "© Kachel-Beispiel" in response.text


@pytest.mark.parametrize(
    "url",
    [
        "ftp://tiles.example.org/{z}/{x}/{y}.png",
        "https://{s}.tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org/tiles.png",
        "tiles.example.org/{z}/{x}/{y}.png",
        "https://tiles.example.org;script-src */{z}/{x}/{y}.png",
        "https://user@tiles.example.org/{z}/{x}/{y}.png",
    ],
)
def test_a_tile_url_that_is_no_single_origin_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="MARKTPLATZ_MAP_TILE_URL"):
        Settings(environment=Environment.TEST, map_tile_url=url)


async def test_only_published_offers_count_on_the_map(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a published offer of shop A, a draft of shop B and a published story of shop A
    offer = await published_offer(composed, tenant, tenant.shop_a, "Brillenputztuch gratis")
    admin = tenant.users["city-admin"]
    await content.create_content(
        composed.ctx,
        admin,
        tenant.city.id,
        tenant.shop_b.id,
        ContentInput(kind=ContentKind.OFFER, title="Entwurf bleibt intern"),
    )
    story = await content.create_content(
        composed.ctx,
        admin,
        tenant.city.id,
        tenant.shop_a.id,
        ContentInput(kind=ContentKind.STORY, title="Unsere Geschichte"),
    )
    story = await content.act_on_content(composed.ctx, admin, story.id, Action.SUBMIT)
    if story.status is ContentStatus.SUBMITTED:  # the city approves everything itself
        story = await content.act_on_content(composed.ctx, admin, story.id, Action.APPROVE)
    assert story.status is ContentStatus.PUBLISHED
    # when the map is opened
    response = await client.get(f"/{tenant.city.slug}/map")
    # then shop A carries its one offer, shop B none, and the draft's title is nowhere
    offers = {s["id"]: s["offers"] for s in map_data(response)["shops"]}
    assert offers == {f"shop-{tenant.shop_a.slug}": 1, f"shop-{tenant.shop_b.slug}": 0}
    assert offer.title in _offer_lists(response)
    assert "Entwurf bleibt intern" not in response.text
    assert "Unsere Geschichte" not in response.text
