"""The events calendar of a city: its own and its shops' events by day, and one event as .ics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.cities import City
from marktplatz.domain.content import Content
from marktplatz.domain.errors import N_, NotFound
from marktplatz.domain.event_calendar import (
    PERIOD_LABELS,
    Period,
    by_day,
    clean_query,
    matches,
    overlaps,
    parse_period,
    period_span,
)
from marktplatz.domain.shops import Shop
from marktplatz.services import cities, registrations, shops
from marktplatz.services import content as content_service
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import render
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.visitor.ics import MEDIA_TYPE, event_ics

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
ORGANISER = N_("Organiser: %(name)s")
REGISTRATION = N_("Registration: %(where)s")


@dataclass(frozen=True, slots=True)
class Listed:
    """An event as the calendar shows it: who organises it and whether it spans several days."""

    event: Content
    shop: Shop | None  # None: the city itself
    ends_at: datetime | None  # as the organiser gave it (None: no end given)
    same_day: bool  # starts and ends on the same local day
    running: bool  # began before the day it is listed under: it shows its end only


@router.get("/{city}/events", response_class=HTMLResponse)
async def events_page(request: Request, city: str, period: str = "", q: str = "") -> Response:
    """Upcoming events by day, filtered by period and words; works without JavaScript."""
    ctx = app_of(request).ctx
    found = await cities.city_by_slug(ctx, city)
    chosen, query = parse_period(period), clean_query(q)
    tz, now = ZoneInfo(found.timezone), ctx.clock.now()
    start, end = period_span(chosen, now, tz)
    organisers = {shop.id: shop for shop in await shops.list_shops(ctx, found.id)}
    shown = [
        event
        for event in await content_service.upcoming_events(ctx, found.id)
        if overlaps(event, start, end)
        and matches(event, query, _organiser(event, organisers, found))
    ]
    days = [
        (day, [_listed(event, organisers, tz, day) for event in events])
        for day, events in by_day(shown, start, tz)
    ]
    return render(
        request,
        "visitor/events.html",
        city=found,
        days=days,
        count=len(shown),
        periods=PERIOD_LABELS,
        chosen=chosen,
        filtered=chosen is not Period.ALL or bool(query),
        q=query,
        today=now.astimezone(tz).date(),
        signups=await registrations.open_for(ctx, found.id, shown),
    )


def _organiser(event: Content, organisers: dict[UUID, Shop], city: City) -> str:
    shop = organisers.get(event.shop_id) if event.shop_id else None
    return shop.name if shop else city.name


def _listed(event: Content, organisers: dict[UUID, Shop], tz: ZoneInfo, day: date) -> Listed:
    # An end the organiser gave is shown; the assumed length of an event without one is not.
    start, end = event.window.starts_at, event.window.ends_at
    first = start.astimezone(tz).date() if start else day
    same = bool(end and first == end.astimezone(tz).date())
    shop = organisers.get(event.shop_id) if event.shop_id else None
    return Listed(event, shop, end, same, running=first < day and end is not None)


@router.get("/{city}/events/{event_id}.ics")
async def event_file(request: Request, city: str, event_id: str) -> Response:
    """One event for the visitor's own calendar app (no tracking: the same file for everyone)."""
    app = app_of(request)
    found = await cities.city_by_slug(app.ctx, city)
    event = await content_service.public_event(app.ctx, found.id, event_id_of(event_id))
    lang = pick_language(request)
    organisers = {shop.id: shop for shop in await shops.list_shops(app.ctx, found.id)}
    notes = [gettext(lang, ORGANISER) % {"name": _organiser(event, organisers, found)}]
    if event.registration:
        notes.append(gettext(lang, REGISTRATION) % {"where": event.registration})
    page = f"{app.settings.base_url.rstrip('/')}/{found.slug}/events"
    body = event_ics(event, found.timezone, notes, page, app.ctx.clock.now())
    return Response(
        body,
        media_type=MEDIA_TYPE,
        headers={
            "content-disposition": f'attachment; filename="{found.slug}-{event.id.hex[:8]}.ics"',
            "cache-control": "public, max-age=300",
        },
    )


def event_id_of(value: str) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise NotFound("event") from None
