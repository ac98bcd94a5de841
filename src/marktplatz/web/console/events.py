"""City console: the city's own events with registration, and each event's participants."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.content import ContentKind
from marktplatz.domain.errors import N_, Conflict, InvalidInput
from marktplatz.domain.registrations import KEEP_DAYS, MAX_CAPACITY, Audience, participants_csv
from marktplatz.services import registrations, shops
from marktplatz.web.console.routes import Fields, Staff, StaffOf, console_page
from marktplatz.web.content_editor import content_input, content_values, local_time
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.portal.routes import form_errors, form_text, form_whole, saved
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import form_values

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])
NO_SIGNUP = "none"  # the form's choice for "registration elsewhere, or none"
ALIASES = {"source": "body_html", "audience": "signup"}
AUDIENCES = {  # msgids of the form's choices
    Audience.PUBLIC.value: N_("Visitors of the calendar (name and e-mail)"),
    Audience.RETAILERS.value: N_("Retailers of the city (with their portal account)"),
    NO_SIGNUP: N_("No registration in Marktplatz"),
}


def _audience_choices(request: Request) -> list[tuple[str, str]]:
    gettext = translations(pick_language(request)).gettext
    return [(value, gettext(label)) for value, label in AUDIENCES.items()]


async def _events_page(
    request: Request, staff: Staff, values: Fields | None = None, errors: Fields | None = None
) -> Response:
    rows = await registrations.city_events(app_of(request).ctx, staff.user, staff.city.id)
    return console_page(
        request,
        "console/events.html",
        staff,
        "events",
        422 if errors else 200,
        rows=rows,
        values=values or {"signup": Audience.PUBLIC.value, "language": "de"},
        errors=errors or {},
        audiences=AUDIENCES,
        audience_choices=_audience_choices(request),
    )


@router.get("/{city}/events", response_class=HTMLResponse)
async def events_page(request: Request, staff: StaffOf) -> Response:
    """The city's events with their registration counts, and the form for a new one."""
    return await _events_page(request, staff)


def _terms(form: FormData, tz: ZoneInfo) -> tuple[object, object, datetime | None] | None:
    signup = form_text(form, "signup")
    if signup == NO_SIGNUP:
        return None
    closes = local_time(form_text(form, "closes_at"), tz, "closes_at")
    return signup, form_whole(form, "capacity"), closes


@router.post("/{city}/events", response_class=HTMLResponse)
async def event_create(request: Request, staff: StaffOf) -> Response:
    """A market, late-night shopping or workshop of the city, published to the calendar."""
    form = await request.form()
    tz = ZoneInfo(staff.city.timezone)
    try:
        data = content_input(form, ContentKind.EVENT, tz)
        terms = _terms(form, tz)
        await registrations.create_city_event(
            app_of(request).ctx, staff.user, staff.city.id, data, terms
        )
    except (InvalidInput, Conflict) as exc:
        aliases = {"source": "body_html"}
        return await _events_page(
            request, staff, form_values(form), form_errors(request, exc, aliases)
        )
    return saved(f"{staff.base}/events")


def _terms_values(found: registrations.Participants, tz: ZoneInfo) -> Fields:
    terms = found.terms
    if terms is None:
        return {"signup": NO_SIGNUP}
    closes = terms.closes_at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if terms.closes_at else ""
    return {
        "signup": terms.audience.value,
        "capacity": str(terms.capacity or ""),
        "closes_at": closes,
    }


async def _participants_page(
    request: Request,
    staff: Staff,
    event_id: UUID,
    values: Fields | None = None,
    errors: Fields | None = None,
    event_values: Fields | None = None,
    event_errors: Fields | None = None,
) -> Response:
    ctx = app_of(request).ctx
    found = await registrations.participants(ctx, staff.user, staff.city.id, event_id)
    tz = ZoneInfo(staff.city.timezone)
    return console_page(
        request,
        "console/participants.html",
        staff,
        "events",
        422 if errors or event_errors else 200,
        found=found,
        shop_names={s.id: s.name for s in await shops.list_shops(ctx, staff.city.id)},
        keep_days=KEEP_DAYS,
        values=values or _terms_values(found, tz),
        errors=errors or {},
        event_values=event_values or content_values(found.event, tz),
        event_errors=event_errors or {},
        audience_choices=_audience_choices(request),
        told=_told(request),
    )


def _told(request: Request) -> int:
    """How many registered see the change just saved (0 unless the redirect says so)."""
    raw = request.query_params.get("told", "")
    return min(int(raw), MAX_CAPACITY) if raw.isdigit() and len(raw) <= 5 else 0


@router.get("/{city}/events/{event_id}/participants", response_class=HTMLResponse)
async def participants_page(request: Request, event_id: UUID, staff: StaffOf) -> Response:
    """Who registered, oldest first (city staff only: it is personal data), and the terms."""
    return await _participants_page(request, staff, event_id)


@router.post("/{city}/events/{event_id}", response_class=HTMLResponse)
async def event_update(request: Request, event_id: UUID, staff: StaffOf) -> Response:
    """Change an event's title, text, time or place; its registrations stay as they are."""
    form = await request.form()
    try:
        data = content_input(form, ContentKind.EVENT, ZoneInfo(staff.city.timezone))
        done = await registrations.update_city_event(
            app_of(request).ctx, staff.user, staff.city.id, event_id, data
        )
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc, ALIASES)
        return await _participants_page(
            request, staff, event_id, event_values=form_values(form), event_errors=errors
        )
    page = f"{staff.base}/events/{event_id}/participants"
    if done.told:  # the notice after saving: how many now see the change
        return RedirectResponse(f"{page}?saved=1&told={done.told}", status_code=303)
    return saved(page)


@router.post("/{city}/events/{event_id}/registration", response_class=HTMLResponse)
async def terms_submit(request: Request, event_id: UUID, staff: StaffOf) -> Response:
    """Open, change or end registration for an event; those registered keep their places."""
    form = await request.form()
    try:
        terms = _terms(form, ZoneInfo(staff.city.timezone))
        await registrations.change_terms(
            app_of(request).ctx, staff.user, staff.city.id, event_id, terms
        )
    except InvalidInput as exc:
        errors = form_errors(request, exc, ALIASES)
        return await _participants_page(request, staff, event_id, form_values(form), errors)
    return saved(f"{staff.base}/events/{event_id}/participants")


@router.get("/{city}/events/{event_id}/participants.csv")
async def participants_export(request: Request, event_id: UUID, staff: StaffOf) -> Response:
    """The participant list as CSV; each export is written to the audit log."""
    ctx = app_of(request).ctx
    found = await registrations.participants(ctx, staff.user, staff.city.id, event_id, export=True)
    names = {s.id: s.name for s in await shops.list_shops(ctx, staff.city.id)}
    data = participants_csv(found.people, names, ZoneInfo(staff.city.timezone))
    return Response(
        data,
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="participants-{event_id.hex[:8]}.csv"',
            "cache-control": "no-store",
        },
    )
