"""The opening hours editor: weekday rows, holidays and special days written as OSM for the shop."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID

from babel.dates import format_date, get_day_names
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.cities import City
from marktplatz.domain.errors import N_, Conflict, Forbidden, InvalidInput
from marktplatz.domain.hours_editor import EMPTY_PLAN, ReadPlan, write_osm
from marktplatz.domain.hours_form import (
    MAX_SPECIAL_DAYS,
    HoursInvalid,
    Problem,
    Row,
    copy_monday,
    editable_plan,
    plan_fields,
    read_fields,
    special_rows,
)
from marktplatz.domain.shops import Shop, ShopArea
from marktplatz.services import shops
from marktplatz.web import presenters as p
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import LoggedIn, can_edit_shop, form_errors, saved
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import form_values

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

_ROW_LABELS = {
    ("day", False): "%(day)s",
    ("day", True): N_("%(day)s, period %(number)s"),
    ("holidays", False): N_("Public holidays"),
    ("holidays", True): N_("Public holidays, period %(number)s"),
    ("special", False): N_("Special day %(number)s"),
    ("special", True): N_("Special day %(number)s, period %(period)s"),
}


def _row_label(lang: str, row: Row) -> str:
    template = _ROW_LABELS.get((row.kind, row.period > 0))
    if template is None:
        return ""
    day = str(get_day_names("wide", locale=lang)[row.index]) if row.kind == "day" else ""
    number = row.period if row.kind != "special" else row.index + 1
    text = translations(lang).gettext(template) if template != "%(day)s" else template
    return text % {"day": day, "number": number, "period": row.period}


def _message(lang: str, problem: Problem) -> str:
    params = {
        key: format_date(value, "medium", locale=lang) if isinstance(value, date) else value
        for key, value in problem.params.items()
    }
    text = translations(lang).gettext(problem.message) % params
    label = _row_label(lang, problem.row)
    return f"{label}: {text}" if label else text


def problem_messages(request: Request, exc: HoursInvalid) -> dict[str, str]:
    """One translated message per marked input, each naming its row ("Montag, 2. Zeitraum: …")."""
    lang = pick_language(request)
    messages: dict[str, str] = {}
    for problem in exc.problems:
        messages.setdefault(problem.field, _message(lang, problem))
    return messages


def _today(request: Request, city: City) -> date:
    return app_of(request).ctx.clock.now().astimezone(city.tz).date()


def _preview(request: Request, shop: Shop, city: City, values: dict[str, str]) -> dict[str, Any]:
    """What visitors would see with the entered hours: the OSM line, the state now, the week."""
    try:
        plan = read_fields(values, _today(request, city))
    except HoursInvalid as exc:
        return {"errors": problem_messages(request, exc)}
    raw = write_osm(plan)
    trial = replace(shop, opening_hours=raw)
    now, lang = app_of(request).ctx.clock.now(), pick_language(request)
    return {
        "osm": raw,
        "status": p.hours_status(trial, city, now, lang),
        "week": p.week_hours(trial, city, now, lang),
    }


async def _shop(request: Request, user: LoggedIn, shop_id: UUID) -> tuple[Shop, City]:
    shop = await shops.get_shop(app_of(request).ctx, user, shop_id)
    _, _, city = await shops.public_shop_by_id(app_of(request).ctx, shop.id)
    return shop, city


def _start(request: Request, shop: Shop, city: City) -> tuple[ReadPlan | None, str]:
    """The plan the page opens with (None: the expert field), and why it is the expert field."""
    mode = request.query_params.get("mode", "")
    if mode == "expert":
        return None, "chosen"
    if mode == "new":
        return ReadPlan(EMPTY_PLAN, 0), ""
    read = editable_plan(shop.opening_hours, _today(request, city))
    return read, "" if read is not None else "beyond"


async def _page(
    request: Request,
    user: LoggedIn,
    shop: Shop,
    city: City,
    *,
    values: dict[str, str],
    expert: str = "",
    status_code: int = 200,
    **context: Any,
) -> Response:
    preview = None if expert else _preview(request, shop, city, values)
    return render(
        request,
        "portal/hours.html",
        status_code=status_code,
        shop=shop,
        city=city,
        can_edit=can_edit_shop(user, shop, ShopArea.HOURS),
        day_names=get_day_names("wide", locale=pick_language(request)),
        status=p.hours_status(shop, city, app_of(request).ctx.clock.now()),
        values=values,
        rows=special_rows(values),
        max_rows=MAX_SPECIAL_DAYS,
        expert=expert,
        preview=preview,
        **{"errors": {}, "dropped": 0, **context},
    )


@router.get("/portal/shops/{shop_id}/hours", response_class=HTMLResponse)
async def hours_page(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """The editor filled with the stored hours, or the expert field when it cannot show them."""
    shop, city = await _shop(request, user, shop_id)
    read, expert = _start(request, shop, city)
    if read is None:
        values = {"opening_hours": shop.opening_hours}
        return await _page(request, user, shop, city, values=values, expert=expert)
    values = plan_fields(read.plan)
    return await _page(request, user, shop, city, values=values, dropped=read.dropped_past)


@router.post("/portal/shops/{shop_id}/hours", response_class=HTMLResponse)
async def hours_submit(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Save the editor's hours; "preview", "copy" and "more" only show the form again."""
    shop, city = await _shop(request, user, shop_id)
    if not can_edit_shop(user, shop, ShopArea.HOURS):
        raise Forbidden("only the owner changes the hours")
    values = form_values(await request.form())
    if values.get("mode") == "expert":
        return await _save_expert(request, user, shop, city, values)
    action = values.pop("action", "")
    if action == "copy":
        return await _page(request, user, shop, city, values=copy_monday(values))
    if action == "more":
        values["special_rows"] = str(min(special_rows(values) + 1, MAX_SPECIAL_DAYS))
        return await _page(request, user, shop, city, values=values)
    try:
        plan = read_fields(values, _today(request, city))
    except HoursInvalid as exc:
        errors = problem_messages(request, exc)
        return await _page(request, user, shop, city, values=values, errors=errors, status_code=422)
    if action == "preview":
        return await _page(request, user, shop, city, values=values, previewed=True)
    await shops.set_opening_hours(app_of(request).ctx, user, shop.id, write_osm(plan))
    return saved(f"/portal/shops/{shop.id}/hours")


async def _save_expert(
    request: Request, user: LoggedIn, shop: Shop, city: City, values: dict[str, str]
) -> Response:
    raw, keep = values.get("opening_hours", ""), bool(values.get("keep_unparsed_hours"))
    try:
        await shops.set_opening_hours(app_of(request).ctx, user, shop.id, raw, keep_unparsed=keep)
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc)
        return await _page(
            request,
            user,
            shop,
            city,
            values=values,
            expert="chosen",
            errors=errors,
            status_code=422,
        )
    return saved(f"/portal/shops/{shop.id}/hours")


@router.post("/portal/shops/{shop_id}/hours/preview", response_class=HTMLResponse)
async def hours_preview(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """The preview fragment for the entered hours; changes nothing (the page's script asks)."""
    shop, city = await _shop(request, user, shop_id)
    values = form_values(await request.form())
    return render(
        request,
        "portal/_hours_preview.html",
        shop=shop,
        city=city,
        preview=_preview(request, shop, city, values),
    )
