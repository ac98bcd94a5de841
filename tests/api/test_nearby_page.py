""" "Near me" (issue 6): offers picked for the visitor's position and the nearest shops, from a
form post; the position is used for the answer only."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, ContentKind
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput
from marktplatz.services.decisions import drain
from marktplatz.store import tables as t
from marktplatz.web.presenters import distance_text
from support import Tenant, open_all_day

DE = {"accept-language": "de"}
AT_SHOP = {"lat": "52.1050", "lon": "8.7500"}  # where both shops of the tenant stand


async def open_with_offer(composed: App, tenant: Tenant, title: str, radius_m: int = 300) -> None:
    await open_all_day(composed, tenant)
    data = ContentInput(kind=ContentKind.OFFER, title=title, radius_m=radius_m)
    owner = tenant.users["retailer-owner"]
    item = await content_service.create_content(
        composed.ctx, owner, tenant.city.id, tenant.shop_a.id, data
    )
    await content_service.act_on_content(composed.ctx, owner, item.id, Action.SUBMIT)


async def test_offers_around_the_position_are_shown_with_their_shop_and_reasons(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an open shop with an offer for visitors within 300 m
    await open_with_offer(composed, tenant, "Sehtest gratis")
    # when a visitor 100 m away asks what is near them
    near = {"lat": "52.1059", "lon": "8.7500"}
    response = await client.post(f"/{tenant.city.slug}/nearby", data=near, headers=DE)
    # then the offer is shown, linked to its shop, with why
    assert response.status_code == 200, response.text
    html = response.text
    assert "Sehtest gratis" in html
    assert f'href="/{tenant.city.slug}/shops/{tenant.shop_a.slug}"' in html
    assert "Warum sehe ich das?" in html
    assert response.headers["cache-control"] == "no-store"
    # and the exposure was recorded without the position
    await drain()
    async with composed.engine.connect() as conn:
        exposed = await conn.scalar(
            select(func.count())
            .select_from(t.events)
            .where(t.events.c.kind == "content.exposed", t.events.c.city_id == tenant.city.id)
        )
    assert exposed == 1


async def test_far_from_the_offer_it_is_not_shown_but_the_nearest_shops_are(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an offer for visitors within 150 m
    await open_with_offer(composed, tenant, "Nur hier am Laden", radius_m=150)
    # when a visitor about 800 m away asks
    far = {"lat": "52.1122", "lon": "8.7500"}
    response = await client.post(f"/{tenant.city.slug}/nearby", data=far, headers=DE)
    # then the offer is not there, and both shops are listed, nearest first, with the distance
    html = response.text
    assert response.status_code == 200
    assert "Nur hier am Laden" not in html
    assert "Genau hier gibt es gerade nichts Besonderes" in html
    assert "800 m entfernt" in html
    assert html.index("Mode B") < html.index("Optik A")  # same place: by name


async def test_outside_the_town_no_offers_are_picked_and_the_page_says_so(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    await open_with_offer(composed, tenant, "Stadtangebot")
    berlin = {"lat": "52.5200", "lon": "13.4050"}
    response = await client.post(f"/{tenant.city.slug}/nearby", data=berlin, headers=DE)
    assert response.status_code == 200
    assert "Sie scheinen nicht in Teststadt zu sein" in response.text
    assert "Stadtangebot" not in response.text
    assert "km entfernt" in response.text


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"lat": "abc", "lon": "8.75"}, "Breiten- und Längengrad müssen Zahlen sein."),
        ({"lat": "nan", "lon": "8.75"}, "Breiten- und Längengrad müssen Zahlen sein."),
        ({"lat": "91", "lon": "8.75"}, "Der Breitengrad muss zwischen -90 und 90 liegen."),
        ({"lat": "52.1", "lon": "-181"}, "Der Längengrad muss zwischen -180 und 180 liegen."),
    ],
)
async def test_a_bad_position_gets_its_own_message(
    client: httpx.AsyncClient, tenant: Tenant, form: dict[str, str], message: str
) -> None:
    response = await client.post(f"/{tenant.city.slug}/nearby", data=form, headers=DE)
    assert response.status_code == 422
    assert message in response.text


async def test_a_missing_position_or_an_unknown_city_is_refused(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    missing = await client.post(f"/{tenant.city.slug}/nearby", data={"lat": "52.1"}, headers=DE)
    assert missing.status_code == 422
    unknown = await client.post("/gibt-es-nicht/nearby", data=AT_SHOP, headers=DE)
    assert unknown.status_code == 404


async def test_the_start_page_offers_the_button_only_to_scripts(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # the form is hidden until nearby.js finds a browser that can locate
    html = (await client.get(f"/{tenant.city.slug}", headers=DE)).text
    assert (
        f'<form class="nearby" method="post" action="/{tenant.city.slug}/nearby" data-nearby hidden'
        in html
    )
    assert "Was ist in meiner Nähe?" in html


@pytest.mark.parametrize(
    ("metres", "de", "en"),
    [
        (3, "10 m", "10 m"),
        (84, "80 m", "80 m"),
        (994, "990 m", "990 m"),
        (1234, "1,2 km", "1.2 km"),
    ],
)
def test_distances_read_as_people_say_them(metres: float, de: str, en: str) -> None:
    assert (distance_text(metres, "de"), distance_text(metres, "en")) == (de, en)
