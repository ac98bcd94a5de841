"""City console: the approval queue for offers, stories, events and jobs, and the city's rules."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.content import Action, ContentKind, ContentStatus
from marktplatz.domain.errors import InvalidInput, NotFound
from marktplatz.domain.rules import CityRules, rules_to_dict
from marktplatz.services import content as content_service
from marktplatz.services import shops
from marktplatz.web.console.routes import StaffOf, console_page
from marktplatz.web.portal.routes import form_errors, form_text, form_whole, saved
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])


@router.get("/{city}/moderation", response_class=HTMLResponse)
async def moderation(request: Request, staff: StaffOf) -> Response:
    """Everything submitted and waiting, oldest first, with the rule that flagged it."""
    return await _queue(request, staff)


async def _queue(
    request: Request, staff: StaffOf, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    ctx = app_of(request).ctx
    waiting = await content_service.city_contents(
        ctx, staff.user, staff.city.id, ContentStatus.SUBMITTED
    )
    waiting.sort(key=lambda c: str(c.updated_at or ""))
    names = {s.id: s.name for s in await shops.list_shops(ctx, staff.city.id)}
    return console_page(
        request,
        "console/moderation.html",
        staff,
        "moderation",
        status,
        items=waiting,
        shop_names=names,
        errors=errors or {},
    )


@router.post("/{city}/content/{content_id}/review")
async def review(request: Request, content_id: UUID, staff: StaffOf) -> Response:
    """Approve, or reject with a message the retailer reads."""
    ctx = app_of(request).ctx
    item = await content_service.get_content(ctx, staff.user, content_id)
    if item.city_id != staff.city.id:
        raise NotFound("content")
    form = await request.form()
    verdict = form_text(form, "verdict")
    action = Action.APPROVE if verdict == "approve" else Action.REJECT
    try:
        await content_service.act_on_content(
            ctx, staff.user, content_id, action, form_text(form, "note")
        )
    except InvalidInput as exc:
        errors = form_errors(request, exc, {"note": f"note-{content_id}"})
        return await _queue(request, staff, errors, 422)
    return saved(f"{staff.base}/moderation")


def _rules_values(rules: CityRules) -> dict[str, Any]:
    data = rules_to_dict(rules)
    return {
        "push_budget_per_day": str(data["push_budget_per_day"]),
        "quiet_start": data["quiet_start"] or "",
        "quiet_end": data["quiet_end"] or "",
        "approve_everything": "1" if data["approve_everything"] else "",
        "strategy": data["strategy"],
        "control_share": str(round(data["control_share"] * 100)),
        "max_picks": str(data["max_picks"]),
        "repeats_per_day": str(data["repeats_per_day"]),
        "opening_soon_minutes": str(data["opening_soon_minutes"]),
        "open_required": data["open_required"],
    }


@router.get("/{city}/rules", response_class=HTMLResponse)
async def rules_page(request: Request, staff: StaffOf) -> Response:
    """The notification budget, quiet hours, strategy and category rules (admins change them)."""
    rules = await content_service.get_rules(app_of(request).ctx, staff.user, staff.city.id)
    return console_page(
        request,
        "console/rules.html",
        staff,
        "rules",
        rules=rules,
        values=_rules_values(rules),
        errors={},
    )


def _rules_data(form: FormData, current: CityRules) -> dict[str, Any]:
    share = form_whole(form, "control_share")  # in percent on the form
    data = rules_to_dict(current)  # category rules are kept as they are
    data.update(
        push_budget_per_day=form_whole(form, "push_budget_per_day"),
        quiet_start=form_text(form, "quiet_start") or None,
        quiet_end=form_text(form, "quiet_end") or None,
        approve_everything=bool(form_text(form, "approve_everything")),
        strategy=form_text(form, "strategy"),
        control_share=None if share is None else share / 100,
        max_picks=form_whole(form, "max_picks"),
        repeats_per_day=form_whole(form, "repeats_per_day"),
        opening_soon_minutes=form_whole(form, "opening_soon_minutes"),
        open_required=[k.value for k in ContentKind if form_text(form, f"open_{k.value}")],
    )
    return data


@router.post("/{city}/rules", response_class=HTMLResponse)
async def rules_submit(request: Request, staff: StaffOf) -> Response:
    ctx = app_of(request).ctx
    current = await content_service.get_rules(ctx, staff.user, staff.city.id)
    form = await request.form()
    try:
        await content_service.set_rules(ctx, staff.user, staff.city.id, _rules_data(form, current))
    except InvalidInput as exc:
        values: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
        values["open_required"] = [
            k.value for k in ContentKind if form_text(form, f"open_{k.value}")
        ]
        return console_page(
            request,
            "console/rules.html",
            staff,
            "rules",
            422,
            rules=current,
            values=values,
            errors=form_errors(request, exc),
        )
    return saved(f"{staff.base}/rules")
