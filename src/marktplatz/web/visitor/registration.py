"""Registering for a city event from the calendar, and cancelling with the one-time link."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.cities import City
from marktplatz.domain.content import Content
from marktplatz.domain.errors import N_, Conflict, InvalidInput
from marktplatz.domain.event_changes import change_notice
from marktplatz.domain.registrations import (
    KEEP_DAYS,
    Audience,
    Registration,
    closing_time,
    places_left,
    refusal,
)
from marktplatz.services import cities, registrations
from marktplatz.services.access import require_user
from marktplatz.services.registrations import Open, RegisteringThrottled
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import OFFLINE_HEADER, render
from marktplatz.web.portal.routes import form_errors, form_text
from marktplatz.web.security import CurrentUser, client_key, csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import form_values
from marktplatz.web.visitor.calendar import event_id_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])
THROTTLED = N_("Too many registrations at once. Please wait a minute.")


def _same_day(event: Content, city: City) -> bool:
    """Whether the event ends on the local day it starts (its end then shows as a time only)."""
    start, end = event.window.starts_at, event.window.ends_at
    tz = ZoneInfo(city.timezone)
    return bool(start and end and start.astimezone(tz).date() == end.astimezone(tz).date())


def _private(response: Response) -> Response:
    """Pages with a person's data or a cancel link: no cache and no offline copy keeps them."""
    response.headers["cache-control"] = "no-store"
    if OFFLINE_HEADER in response.headers:
        del response.headers[OFFLINE_HEADER]
    return response


async def _page(
    request: Request,
    city: City,
    found: Open,
    user: CurrentUser,
    status: int = 200,
    **extra: object,
) -> Response:
    ctx = app_of(request).ctx
    starts = found.event.window.starts_at
    retailers = found.terms.audience is Audience.RETAILERS
    if retailers and user is None:
        # Workshops for retailers: the portal's login first, then back here.
        require_user(user)
    context: dict[str, object] = {"values": {}, "errors": {}, **extra}
    mine = await registrations.own_registration(ctx, user, found.event.id)
    page = render(
        request,
        "visitor/register.html",
        status,
        city=city,
        event=found.event,
        same_day=_same_day(found.event, city),
        terms=found.terms,
        retailers=retailers,
        left=places_left(found.terms, found.taken),
        closes=closing_time(found.terms, starts),
        closed=refusal(found.terms, starts, ctx.clock.now(), found.taken),
        mine=mine,
        notice=change_notice(mine.seen, found.event) if mine else None,
        keep_days=KEEP_DAYS,
        **context,
    )
    return _private(page)


@router.get("/{city}/events/{event_id}/register", response_class=HTMLResponse)
async def register_page(request: Request, city: str, event_id: str, user: CurrentUser) -> Response:
    """The form: name, e-mail and consent for public events; the account for retailers'."""
    ctx = app_of(request).ctx
    found_city = await cities.city_by_slug(ctx, city)
    found = await registrations.registration_page(ctx, found_city.id, event_id_of(event_id))
    return await _page(request, found_city, found, user)


@router.post("/{city}/events/{event_id}/register", response_class=HTMLResponse)
async def register_submit(
    request: Request, city: str, event_id: str, user: CurrentUser
) -> Response:
    """Register; the confirmation shows the cancel link once (Marktplatz sends no e-mail)."""
    ctx = app_of(request).ctx
    found_city = await cities.city_by_slug(ctx, city)
    found = await registrations.registration_page(ctx, found_city.id, event_id_of(event_id))
    form = await request.form()
    person = (form_text(form, "name"), form_text(form, "email"), bool(form_text(form, "consent")))
    try:
        done = await registrations.register(
            ctx, user, found_city.id, found.event.id, person, client_key(request)
        )
    except RegisteringThrottled:
        errors = {"registration": gettext(pick_language(request), THROTTLED)}
        return await _page(
            request, found_city, found, user, 429, values=form_values(form), errors=errors
        )
    except (InvalidInput, Conflict) as exc:
        status = 409 if isinstance(exc, Conflict) or exc.field == "registration" else 422
        again = await registrations.registration_page(ctx, found_city.id, found.event.id)
        return await _page(
            request,
            found_city,
            again,
            user,
            status,
            values=form_values(form),
            errors=form_errors(request, exc),
        )
    base = app_of(request).settings.base_url.rstrip("/")
    page = render(
        request,
        "visitor/registered.html",
        201,
        city=found_city,
        event=done.event,
        same_day=_same_day(done.event, found_city),
        registration=done.registration,
        cancel_link=f"{base}/{found_city.slug}/registrations/{done.token}",
    )
    return _private(page)


def _cancel_page(
    request: Request, city: City, found: tuple[Registration | None, Content], token: str = ""
) -> Response:
    registration, event = found
    page = render(
        request,
        "visitor/registration_cancel.html",
        city=city,
        event=event,
        same_day=_same_day(event, city),
        registration=registration,
        notice=change_notice(registration.seen, event) if registration else None,
        token=token,
        cancelled=registration is None,
    )
    return _private(page)


@router.get("/{city}/registrations/{token}", response_class=HTMLResponse)
async def cancel_page(request: Request, city: str, token: str) -> Response:
    """What the cancel link shows: the event and the person, and a button to cancel."""
    ctx = app_of(request).ctx
    found_city = await cities.city_by_slug(ctx, city)
    found = await registrations.registration_by_token(ctx, found_city.id, token)
    return _cancel_page(request, found_city, found, token)


@router.post("/{city}/registrations/{token}/cancel", response_class=HTMLResponse)
async def cancel_submit(request: Request, city: str, token: str) -> Response:
    """Cancel: the registration and the person's data are deleted at once."""
    ctx = app_of(request).ctx
    found_city = await cities.city_by_slug(ctx, city)
    event = await registrations.cancel_registration(ctx, found_city.id, token)
    return _cancel_page(request, found_city, (None, event))
