"""The events calendar (/{city}/events) and its .ics files: only published, upcoming events of
this city, by day, filtered by period and words; one event for the visitor's own calendar."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from icalendar import Calendar

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, Content, ContentKind
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput
from marktplatz.settings import Settings
from marktplatz.web.app import create_app
from support import Tenant, make_tenant, published_event, published_offer

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2030, 6, 5, 10, 0, tzinfo=BERLIN)  # a Wednesday morning
EN = {"accept-language": "en"}


def at(day: int, hour: int, month: int = 6) -> datetime:
    return datetime(2030, month, day, hour, 0, tzinfo=BERLIN)


@dataclass
class Events:
    tenant: Tenant
    breakfast: Content  # shop A, today 18–20
    exhibition: Content  # the city, yesterday 10:00 until Friday 18:00: running now
    market: Content  # the city, Saturday 8–13, with registration
    reading: Content  # shop B, 2 July 19:00, no end
    hidden: dict[str, Content]  # past, draft, expired, foreign, offer


@pytest.fixture(scope="module")
async def events(composed: App) -> Events:
    tenant = await make_tenant(composed)
    foreign = await make_tenant(composed)
    shop_a, shop_b = tenant.shop_a, tenant.shop_b
    admin = tenant.users["city-admin"]
    breakfast = await published_event(
        composed,
        tenant,
        shop_a,
        "Brillen-Frühstück",
        at(5, 18),
        ends_at=at(5, 20),
        place="Im Laden",
        body_html="<p>Kaffee &amp; Croissants; neue Fassungen.</p>",
    )
    exhibition = await published_event(
        composed, tenant, None, "Fotoausstellung Altstadt", at(4, 10), ends_at=at(7, 18)
    )
    market = await published_event(
        composed,
        tenant,
        None,
        "Samstagsmarkt",
        at(8, 8),
        ends_at=at(8, 13),
        place="Kirchplatz, vor dem Rathaus",
        registration="https://example.org/anmeldung",
    )
    reading = await published_event(
        composed, tenant, shop_b, "Lesung: Mode im Wandel", at(2, 19, month=7), place="Mode B"
    )
    past = await published_event(
        composed, tenant, shop_a, "Schon vorbei", at(5, 7), ends_at=at(5, 9)
    )
    draft = await content_service.create_content(
        composed.ctx,
        admin,
        tenant.city.id,
        shop_a.id,
        ContentInput(
            kind=ContentKind.EVENT, title="Nur ein Entwurf", starts_at=at(6, 18), place="X"
        ),
    )
    expired = await published_event(composed, tenant, shop_b, "Abgesagt", at(6, 18))
    await content_service.act_on_content(composed.ctx, admin, expired.id, Action.EXPIRE)
    elsewhere = await published_event(composed, foreign, None, "Fremdes Stadtfest", at(6, 12))
    offer = await published_offer(composed, tenant, shop_a, "Putztuch gratis", ends_at=at(30, 18))
    hidden = {
        "past": past,
        "draft": draft,
        "expired": expired,
        "foreign": elsewhere,
        "offer": offer,
    }
    return Events(tenant, breakfast, exhibition, market, reading, hidden)


@pytest.fixture(scope="module")
async def visitor(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A visitor's phone on an app whose clock stands on NOW (same database)."""
    app: Any = create_app(settings, clock=FixedClock(NOW.astimezone(UTC)))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await app.state.marktplatz.close()


def titles(html: str) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>", html)


def days(html: str) -> list[str]:
    return re.findall(r'<time datetime="(\d{4}-\d\d-\d\d)">([^<]+)</time>', html)


# --- the page --------------------------------------------------------------------------


async def test_the_calendar_lists_upcoming_events_by_day_in_german(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    # when a visitor opens the calendar
    response = await visitor.get(f"/{events.tenant.city.slug}/events")
    # then the published, upcoming events of this city appear by day, each day in German
    assert response.status_code == 200
    assert response.headers["content-language"] == "de"
    assert response.headers["x-offline-ok"] == "1"
    html = response.text
    assert days(html) == [
        ("2030-06-05", "Mittwoch, 5. Juni"),
        ("2030-06-08", "Samstag, 8. Juni"),
        ("2030-07-02", "Dienstag, 2. Juli"),
    ]
    # the exhibition that began yesterday is still on, so it is listed under today, first
    assert titles(html) == [
        "Fotoausstellung Altstadt",
        "Brillen-Frühstück",
        "Samstagsmarkt",
        "Lesung: Mode im Wandel",
    ]
    assert "4 Veranstaltungen · Alle kommenden" in html
    assert '<span class="today-badge">Heute</span>' in html


async def test_drafts_expired_past_foreign_and_other_content_never_appear(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    # when
    html = (await visitor.get(f"/{events.tenant.city.slug}/events")).text
    # then
    for item in events.hidden.values():
        assert item.title not in html
        assert str(item.id) not in html


async def test_each_event_shows_time_place_organiser_text_and_registration(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    # when
    html = (await visitor.get(f"/{events.tenant.city.slug}/events")).text
    card = _card(html, "Brillen-Frühstück")
    # then a shop's event names the shop, linked to its page, with start–end on one day
    city, shop_a = events.tenant.city, events.tenant.shop_a
    assert f'<a href="/{city.slug}/shops/{shop_a.slug}">Optik A</a>' in card
    assert ">18:00</time>–<time" in card
    assert ">20:00</time>" in card
    assert "Im Laden" in card
    assert "<p>Kaffee &amp; Croissants; neue Fassungen.</p>" in card
    assert f'href="/{city.slug}/events/{events.breakfast.id}.ics"' in card
    # the city's own event names the city; a span over days ends with its date
    exhibition = _card(html, "Fotoausstellung Altstadt")
    assert "<dd>Teststadt</dd>" in exhibition
    assert "Freitag, 7. Juni, 18:00" in exhibition
    market = _card(html, "Samstagsmarkt")
    assert 'href="https://example.org/anmeldung"' in market
    assert "Anmelden" in market
    assert "Kirchplatz, vor dem Rathaus" in market


def _card(html: str, title: str) -> str:
    start = html.index(f"<h3>{title}</h3>")
    return html[html.rindex("<li", 0, start) : html.index("</li>", start)]


@pytest.mark.parametrize(
    ("period", "expected"),
    [
        ("today", ["Fotoausstellung Altstadt", "Brillen-Frühstück"]),
        ("weekend", ["Samstagsmarkt"]),
        ("week", ["Fotoausstellung Altstadt", "Brillen-Frühstück", "Samstagsmarkt"]),
        ("month", ["Fotoausstellung Altstadt", "Brillen-Frühstück", "Samstagsmarkt"]),
        (
            "all",
            [
                "Fotoausstellung Altstadt",
                "Brillen-Frühstück",
                "Samstagsmarkt",
                "Lesung: Mode im Wandel",
            ],
        ),
        (
            "quatsch",
            [
                "Fotoausstellung Altstadt",
                "Brillen-Frühstück",
                "Samstagsmarkt",
                "Lesung: Mode im Wandel",
            ],
        ),
    ],
)
async def test_the_period_filter(
    visitor: httpx.AsyncClient, events: Events, period: str, expected: list[str]
) -> None:
    # when
    response = await visitor.get(f"/{events.tenant.city.slug}/events", params={"period": period})
    # then
    assert response.status_code == 200
    assert titles(response.text) == expected


async def test_the_weekend_lists_its_events_under_saturday(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    html = (
        await visitor.get(f"/{events.tenant.city.slug}/events", params={"period": "weekend"})
    ).text
    assert days(html) == [("2030-06-08", "Samstag, 8. Juni")]
    assert 'aria-current="page">Dieses Wochenende</a>' in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("samstagsmarkt", ["Samstagsmarkt"]),
        ("kirchplatz rathaus", ["Samstagsmarkt"]),  # the place, every word
        ("croissants", ["Brillen-Frühstück"]),  # the text
        ("optik", ["Brillen-Frühstück"]),  # the organising shop
        ("  MODE   im ", ["Lesung: Mode im Wandel"]),
    ],
)
async def test_the_search_finds_title_place_text_and_organiser(
    visitor: httpx.AsyncClient, events: Events, query: str, expected: list[str]
) -> None:
    response = await visitor.get(f"/{events.tenant.city.slug}/events", params={"q": query})
    assert titles(response.text) == expected


async def test_nothing_found_says_so_and_offers_every_event(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    # when
    slug = events.tenant.city.slug
    response = await visitor.get(f"/{slug}/events", params={"q": "Zauberflöte", "period": "today"})
    # then
    assert response.status_code == 200
    assert titles(response.text) == []
    assert "Keine Veranstaltung passt in diesem Zeitraum zu „Zauberflöte“." in response.text
    assert f'<a href="/{slug}/events">Alle kommenden Veranstaltungen zeigen</a>' in response.text
    # and the period links keep the search
    assert f'href="/{slug}/events?period=week&amp;q=Zauberfl%C3%B6te"' in response.text


async def test_a_city_without_events_has_a_clear_empty_calendar(
    visitor: httpx.AsyncClient, composed: App
) -> None:
    tenant = await make_tenant(composed)
    response = await visitor.get(f"/{tenant.city.slug}/events")
    assert response.status_code == 200
    assert (
        "Noch keine Veranstaltungen angekündigt. Schauen Sie bald wieder vorbei." in response.text
    )


async def test_the_calendar_speaks_english(visitor: httpx.AsyncClient, events: Events) -> None:
    html = (await visitor.get(f"/{events.tenant.city.slug}/events", headers=EN)).text
    assert "<h1>Events in Teststadt</h1>" in html
    assert ("2030-06-08", "Saturday, 8 Jun") in days(html)
    assert "Add to calendar" in html


async def test_an_unknown_city_has_no_calendar(visitor: httpx.AsyncClient) -> None:
    assert (await visitor.get("/keine-solche-stadt/events")).status_code == 404


async def test_the_shop_page_links_its_events_to_the_calendar(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    city, shop = events.tenant.city, events.tenant.shop_a
    html = (await visitor.get(f"/{city.slug}/shops/{shop.slug}")).text
    assert f'<a href="/{city.slug}/events">Alle Veranstaltungen in Teststadt</a>' in html
    assert f'href="/{city.slug}/events/{events.breakfast.id}.ics"' in html


# --- one event as .ics -----------------------------------------------------------------


async def test_an_event_downloads_as_ics_in_the_citys_timezone(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    # when
    slug = events.tenant.city.slug
    response = await visitor.get(f"/{slug}/events/{events.market.id}.ics")
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="{slug}-{events.market.id.hex[:8]}.ics"'
    )
    assert "x-offline-ok" not in response.headers
    parsed = Calendar.from_ical(response.content)
    [event] = parsed.walk("VEVENT")
    assert str(event["SUMMARY"]) == "Samstagsmarkt"
    assert str(event["LOCATION"]) == "Kirchplatz, vor dem Rathaus"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTSTART") == at(8, 8)
    assert event.decoded("DTSTART").utcoffset() == timedelta(hours=2)
    assert event.decoded("DTEND") == at(8, 13)
    assert str(event["UID"]) == f"{events.market.id}@testserver"
    assert str(event["URL"]) == f"http://testserver/{slug}/events"
    assert str(event["DESCRIPTION"]) == (
        "Veranstalter: Teststadt\n\nAnmeldung: https://example.org/anmeldung"
    )
    [zone] = parsed.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"


async def test_the_ics_file_escapes_and_folds_lines_by_rfc_5545(
    visitor: httpx.AsyncClient, events: Events, composed: App
) -> None:
    # given an event whose text has commas, semicolons, a backslash and a long paragraph
    long_text = "Lange Nacht, mit; Musik\\Tanz – " + "äöü " * 40
    item = await published_event(
        composed, events.tenant, None, "Nacht, Musik; mehr", at(6, 20), body_html=long_text
    )
    # when
    response = await visitor.get(f"/{events.tenant.city.slug}/events/{item.id}.ics")
    # then the raw file has CRLF line ends, lines of at most 75 octets, escaped text
    raw = response.content
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n")
    assert all(len(line) <= 75 for line in lines), [line for line in lines if len(line) > 75]
    assert b"SUMMARY:Nacht\\, Musik\\; mehr" in raw
    # and it reads back to the same text
    [event] = Calendar.from_ical(raw).walk("VEVENT")
    assert str(event["DESCRIPTION"]).startswith(long_text.strip())
    assert event.decoded("DTSTART") == at(6, 20)


@pytest.mark.parametrize("which", ["past", "draft", "expired", "offer"])
async def test_what_the_calendar_does_not_show_has_no_ics(
    visitor: httpx.AsyncClient, events: Events, which: str
) -> None:
    item = events.hidden[which]
    response = await visitor.get(f"/{events.tenant.city.slug}/events/{item.id}.ics")
    assert response.status_code == 404


async def test_another_citys_event_is_not_found_under_this_city(
    visitor: httpx.AsyncClient, events: Events
) -> None:
    foreign = events.hidden["foreign"]
    response = await visitor.get(f"/{events.tenant.city.slug}/events/{foreign.id}.ics")
    assert response.status_code == 404
    assert "Fremdes Stadtfest" not in response.text


@pytest.mark.parametrize("event_id", [str(uuid.uuid4()), "kein-uuid"])
async def test_an_unknown_event_is_not_found(
    visitor: httpx.AsyncClient, events: Events, event_id: str
) -> None:
    response = await visitor.get(f"/{events.tenant.city.slug}/events/{event_id}.ics")
    assert response.status_code == 404
