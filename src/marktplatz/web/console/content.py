"""City console: the approval queue (items and shops' own stories) and the city's rules."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.categories import CATEGORIES
from marktplatz.domain.content import Action, ContentKind, ContentStatus
from marktplatz.domain.errors import N_, InvalidInput, NotFound
from marktplatz.domain.rules import MAX_TERMS, CityRules, rules_to_dict
from marktplatz.services import content as content_service
from marktplatz.services import shops, story
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
        stories=await story.waiting_stories(ctx, staff.user, staff.city.id),
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


@router.post("/{city}/story/{version_id}/review")
async def review_story(request: Request, version_id: int, staff: StaffOf) -> Response:
    """Approve a shop's changed story, publishing it, or send it back with a message."""
    form = await request.form()
    action = Action.APPROVE if form_text(form, "verdict") == "approve" else Action.REJECT
    try:
        await story.review_story(
            app_of(request).ctx,
            staff.user,
            staff.city.id,
            version_id,
            action,
            form_text(form, "note"),
        )
    except InvalidInput as exc:
        errors = form_errors(request, exc, {"note": f"note-story-{version_id}"})
        return await _queue(request, staff, errors, 422)
    return saved(f"{staff.base}/moderation")


def _category_values(rules: CityRules) -> dict[str, str]:
    """One row per category on the form: approval, no prescription offers, flagged words."""
    values = {"category_rules_shown": "1"}
    for rule in rules.category_rules:
        key = f"cat_{rule.category.value}"
        values[f"{key}_approval"] = "1" if rule.requires_approval else ""
        values[f"{key}_no_rx"] = "1" if rule.no_prescription_offers else ""
        values[f"{key}_terms"] = ", ".join(rule.flagged_terms)
    return values


def _category_rules(form: FormData, current: CityRules) -> list[dict[str, Any]]:
    """The category rules as the form sets them; a category with nothing set has no rule.
    Interests a rule forbids are not on the form and are kept as they are."""
    found = []
    for category in CATEGORIES:
        key = f"cat_{category.value}"
        terms = [t.strip() for t in form_text(form, f"{key}_terms").split(",") if t.strip()]
        if len(terms) > MAX_TERMS:
            raise InvalidInput(f"{key}_terms", N_("At most %(max)s words, please."), max=MAX_TERMS)
        old = current.rule_for(category)
        rule = {
            "category": category.value,
            "requires_approval": bool(form_text(form, f"{key}_approval")),
            "no_prescription_offers": bool(form_text(form, f"{key}_no_rx")),
            "flagged_terms": terms,
            "forbidden_interests": sorted(i.value for i in old.forbidden_interests) if old else [],
        }
        if any(value for name, value in rule.items() if name != "category"):
            found.append(rule)
    return found


def _rules_values(rules: CityRules) -> dict[str, Any]:
    data = rules_to_dict(rules)
    return _category_values(rules) | {
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
    data = rules_to_dict(current)
    if form_text(form, "category_rules_shown"):  # else (an older form) they stay as they are
        data["category_rules"] = _category_rules(form, current)
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
