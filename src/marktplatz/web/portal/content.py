"""Retailer portal: a shop's offers, stories, events and jobs, with a live preview."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.content import (
    CONTENT_VERSIONS_KEPT,
    SPECIAL_INTERESTS,
    Action,
    Content,
    ContentKind,
    ContentStatus,
    ContentVersion,
    Interest,
    JobType,
)
from marktplatz.domain.decision import EXCLUSION_TEXT, REASON_TEXT
from marktplatz.domain.errors import N_, Conflict, InvalidInput, NotFound
from marktplatz.domain.kanon import K
from marktplatz.domain.richtext import MAX_RICH_TEXT
from marktplatz.domain.story import picture_of
from marktplatz.services import attribution, decisions, shops, story
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput, CouponInput
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import (
    LoggedIn,
    can_edit_shop,
    form_errors,
    form_text,
    form_values,
    form_whole,
    saved,
)
from marktplatz.web.portal.story import Language, Source, rendered_preview
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

SUBMITTABLE = frozenset({ContentStatus.DRAFT, ContentStatus.REJECTED})
TARGET_INTERESTS = [i for i in Interest if i not in SPECIAL_INTERESTS]
_ALIASES = {
    "coupon.stock": "coupon_stock",
    "coupon.per_person": "coupon_per_person",
    "source": "body_html",
}


def local_time(value: str, tz: ZoneInfo, field: str) -> datetime | None:
    """A datetime-local input (the city's wall clock) as an aware datetime."""
    text = value.strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=tz)
    except ValueError:
        raise InvalidInput(field, N_("Enter a date and time like 2026-12-24 10:00.")) from None


def _time(value: str, field: str) -> time | None:
    text = value.strip()
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, N_("Enter a time like 20:00.")) from None


def _uuids(form: FormData, name: str) -> list[UUID]:
    values: list[UUID] = []
    for raw in form.getlist(name):
        try:
            values.append(UUID(str(raw)))
        except ValueError:
            raise InvalidInput(name, N_("Choose from the list.")) from None
    return values


def content_input(form: FormData, kind: ContentKind, tz: ZoneInfo) -> ContentInput:
    coupon = None
    if form_text(form, "has_coupon"):
        coupon = CouponInput(
            form_whole(form, "coupon_stock", "coupon.stock"),
            form_whole(form, "coupon_per_person", "coupon.per_person"),
            form_text(form, "coupon_period") or "campaign",
        )
    weekdays: list[int] | None = [int(str(d)) for d in form.getlist("weekdays") if str(d).isdigit()]
    if not weekdays and not form_text(form, "weekdays_shown"):
        weekdays = None  # a form without the weekday boxes: every day
    image = form_text(form, "image_id")
    job = form_text(form, "job_type")
    language = form_text(form, "language") or "de"
    try:
        job_type = JobType(job) if job else None
    except ValueError:
        raise InvalidInput("job_type", N_("Choose from the list.")) from None
    return ContentInput(
        kind=kind,
        title=form_text(form, "title"),
        body_html=form_text(form, "body_html"),
        language=language,
        starts_at=local_time(form_text(form, "starts_at"), tz, "starts_at"),
        ends_at=local_time(form_text(form, "ends_at"), tz, "ends_at"),
        weekdays=weekdays,
        day_start=_time(form_text(form, "day_start"), "day_start"),
        day_end=_time(form_text(form, "day_end"), "day_end"),
        zone_ids=_uuids(form, "zone_ids"),
        touchpoint_ids=_uuids(form, "touchpoint_ids"),
        radius_m=form_whole(form, "radius_m"),
        languages=[language] if form_text(form, "only_language") else [],
        interests=[str(i) for i in form.getlist("interests")],
        coupon=coupon,
        image_id=_uuids(form, "image_id")[0] if image else None,
        place=form_text(form, "place"),
        registration=form_text(form, "registration"),
        job_type=job_type,
        prescription_only=bool(form_text(form, "prescription_only")),
    )


def content_values(item: Content, tz: ZoneInfo) -> dict[str, Any]:
    window, target, coupon = item.window, item.targeting, item.coupon

    def local(at: datetime | None) -> str:
        return at.astimezone(tz).strftime("%Y-%m-%dT%H:%M") if at else ""

    return {
        "title": item.title,
        "body_html": item.source,
        "language": item.language,
        "starts_at": local(window.starts_at),
        "ends_at": local(window.ends_at),
        "weekdays": [str(d) for d in sorted(window.weekdays)],
        "day_start": window.day_start.isoformat("minutes") if window.day_start else "",
        "day_end": window.day_end.isoformat("minutes") if window.day_end else "",
        "zone_ids": [str(z) for z in target.zone_ids],
        "touchpoint_ids": [str(t) for t in target.touchpoint_ids],
        "radius_m": str(target.radius_m or ""),
        "only_language": "1" if target.languages else "",
        "interests": [i.value for i in target.interests],
        "has_coupon": "1" if coupon else "",
        "coupon_stock": str(coupon.stock or "") if coupon else "",
        "coupon_per_person": str(coupon.per_person or "") if coupon else "",
        "coupon_period": coupon.period.value if coupon else "campaign",
        "image_id": str(item.image_id or ""),
        "place": item.place,
        "registration": item.registration,
        "job_type": item.job_type.value if item.job_type else "",
        "prescription_only": "1" if item.prescription_only else "",
    }


def _form_state(form: FormData) -> dict[str, Any]:
    values: dict[str, Any] = form_values(form)
    for name in ("weekdays", "zone_ids", "touchpoint_ids", "interests"):
        values[name] = [str(v) for v in form.getlist(name)]
    return values


async def _editor(
    request: Request,
    user: Any,
    shop_id: UUID,
    kind: ContentKind,
    *,
    item: Content | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = app_of(request).ctx
    shop = await shops.get_shop(ctx, user, shop_id)
    _, images, city = await shops.public_shop_by_id(ctx, shop.id)
    places = await content_service.places(ctx, user, shop.city_id, shop.id)
    preview = None
    chosen = request.query_params.get("touchpoint", "")
    if item is not None:
        target = _chosen(chosen, places.touchpoints)
        chosen = str(target or "")
        preview = await decisions.preview_content(ctx, user, item.id, target, item.language)
    results = None
    if item is not None and item.coupon is not None:
        results = await attribution.offer_results(ctx, user, item.id)
    shown = values if values is not None else (content_values(item, city.tz) if item else {})
    can_edit = can_edit_shop(user, shop)
    # Only those who may write the text see it rendered as they write.
    text = str(shown.get("body_html", ""))
    text_preview = await rendered_preview(ctx, user, shop.id, text, None) if can_edit else None
    versions: list[ContentVersion] = []
    if item is not None and can_edit:
        versions = await content_service.content_versions(ctx, user, item.id)
    return render(
        request,
        "portal/content_edit.html",
        status_code=status_code,
        shop=shop,
        city=city,
        kind=kind,
        item=item,
        images=images,
        places=places,
        preview_options=[("", _door_label(request))] + [(str(i), n) for i, n in places.touchpoints],
        preview=preview,
        preview_rows=_preview_rows(request, preview, item),
        excluded_text=_excluded(request, preview),
        chosen=chosen,
        image_options=[(str(i.id), i.alt_text) for i in images],
        interests=TARGET_INTERESTS,
        job_types=list(JobType),
        values=shown,
        errors=errors or {},
        pharmacy=shop.category.value == "pharmacy",
        can_edit=can_edit,
        text_preview=text_preview,
        pictures=[picture_of(image) for image in images],
        max_length=MAX_RICH_TEXT,
        results=results,
        versions=versions,
        shown_version=_shown_version(item, versions),
        versions_kept=CONTENT_VERSIONS_KEPT,
        restored=bool(request.query_params.get("restored")),
        k=K,
    )


def _shown_version(item: Content | None, versions: list[ContentVersion]) -> int | None:
    """The id of the newest version if visitors see its title and text now."""
    if item is None or not versions:
        return None
    return versions[0].id if _shown(item, versions[0]) else None


def _shown(item: Content, version: ContentVersion) -> bool:
    """Whether the version is what the published item shows."""
    same = (version.title, version.html) == (item.title, item.body_html)
    return same and item.status is ContentStatus.PUBLISHED


def _door_label(request: Request) -> str:
    return translations(pick_language(request)).gettext(N_("In front of the shop"))


def _preview_rows(
    request: Request, preview: decisions.Preview | None, item: Content | None
) -> list[dict[str, Any]]:
    if preview is None or item is None:
        return []
    trans = translations(pick_language(request))
    return [
        {
            "title": pick.content.title,
            "mine": pick.content.id == item.id,
            "reasons": [trans.gettext(REASON_TEXT[r.code]) % dict(r.params) for r in pick.reasons],
        }
        for pick in preview.decision.picks
    ]


def _excluded(request: Request, preview: decisions.Preview | None) -> str:
    if preview is None or preview.excluded is None:
        return ""
    return translations(pick_language(request)).gettext(EXCLUSION_TEXT[preview.excluded])


def _chosen(raw: str, touchpoints: list[tuple[UUID, str]]) -> UUID | None:
    """The chosen touchpoint of the preview, or None for "in front of the shop"."""
    try:
        wanted = UUID(raw)
    except ValueError:
        return None
    return wanted if wanted in {tp for tp, _ in touchpoints} else None


def _kind(raw: str) -> ContentKind:
    try:
        return ContentKind(raw)
    except ValueError:
        raise NotFound("kind") from None


@router.get("/portal/shops/{shop_id}/content", response_class=HTMLResponse)
async def content_list(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Everything the shop wrote, with its state, and buttons to write something new."""
    ctx = app_of(request).ctx
    shop = await shops.get_shop(ctx, user, shop_id)
    items = await content_service.shop_contents(ctx, user, shop_id)
    _, _, city = await shops.public_shop_by_id(ctx, shop.id)
    return render(
        request,
        "portal/content.html",
        shop=shop,
        city=city,
        items=items,
        can_edit=can_edit_shop(user, shop),
    )


@router.get("/portal/shops/{shop_id}/content/new", response_class=HTMLResponse)
async def content_new(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    kind = _kind(request.query_params.get("kind", "offer"))
    return await _editor(
        request, user, shop_id, kind, values={"language": "de", "coupon_period": "campaign"}
    )


@router.post("/portal/shops/{shop_id}/content", response_class=HTMLResponse)
async def content_create(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    ctx = app_of(request).ctx
    form = await request.form()
    kind = _kind(form_text(form, "kind"))
    shop = await shops.get_shop(ctx, user, shop_id)
    _, _, city = await shops.public_shop_by_id(ctx, shop.id)
    try:
        item = await content_service.create_content(
            ctx, user, shop.city_id, shop.id, content_input(form, kind, city.tz)
        )
        if form_text(form, "then") == "submit":
            item = await content_service.act_on_content(ctx, user, item.id, Action.SUBMIT)
    except (InvalidInput, Conflict) as exc:
        return await _editor(
            request,
            user,
            shop_id,
            kind,
            values=_form_state(form),
            errors=form_errors(request, exc, _ALIASES),
            status_code=422,
        )
    return saved(f"/portal/content/{item.id}")


@router.post("/portal/shops/{shop_id}/content/preview", response_class=HTMLResponse)
async def content_text_preview(
    request: Request, shop_id: UUID, user: LoggedIn, source: Source = "", language: Language = "de"
) -> Response:
    """The live preview of an item's text as the shop page shows it; changes nothing."""
    ctx = app_of(request).ctx
    shown = await story.preview_story(ctx, user, shop_id, source, area=None)
    return render(
        request, "portal/_story_preview.html", preview=shown, language=language, item_text=True
    )


@router.get("/portal/content/{content_id}", response_class=HTMLResponse)
async def content_edit(request: Request, content_id: UUID, user: LoggedIn) -> Response:
    """The editor with the item's state and what a visitor at a touchpoint would see now."""
    item = await content_service.get_content(app_of(request).ctx, user, content_id)
    if item.shop_id is None:
        raise NotFound("content")
    return await _editor(request, user, item.shop_id, item.kind, item=item)


@router.post("/portal/content/{content_id}", response_class=HTMLResponse)
async def content_update(request: Request, content_id: UUID, user: LoggedIn) -> Response:
    ctx = app_of(request).ctx
    item = await content_service.get_content(ctx, user, content_id)
    if item.shop_id is None:
        raise NotFound("content")
    form = await request.form()
    _, _, city = await shops.public_shop_by_id(ctx, item.shop_id)
    try:
        updated = await content_service.update_content(
            ctx, user, content_id, content_input(form, item.kind, city.tz)
        )
        # Published or waiting items stay so (or go back to the city): submitting is for drafts.
        if form_text(form, "then") == "submit" and updated.status in SUBMITTABLE:
            await content_service.act_on_content(ctx, user, updated.id, Action.SUBMIT)
    except (InvalidInput, Conflict) as exc:
        return await _editor(
            request,
            user,
            item.shop_id,
            item.kind,
            item=item,
            values=_form_state(form),
            errors=form_errors(request, exc, _ALIASES),
            status_code=422,
        )
    return saved(f"/portal/content/{content_id}")


@router.post("/portal/content/{content_id}/withdraw")
async def content_withdraw(request: Request, content_id: UUID, user: LoggedIn) -> Response:
    """Take an item off the site (back to a draft)."""
    await content_service.act_on_content(app_of(request).ctx, user, content_id, Action.WITHDRAW)
    return saved(f"/portal/content/{content_id}")


async def _version_of(
    request: Request, user: Any, content_id: UUID, version_id: int
) -> tuple[Content, UUID, ContentVersion]:
    """A shop's item with its shop and one of its versions (the city's items have no editor)."""
    ctx = app_of(request).ctx
    item, version = await content_service.content_version(ctx, user, content_id, version_id)
    if item.shop_id is None:
        raise NotFound("content")
    return item, item.shop_id, version


@router.get("/portal/content/{content_id}/versions/{version_id}", response_class=HTMLResponse)
async def content_version_page(
    request: Request, content_id: UUID, version_id: int, user: LoggedIn
) -> Response:
    """One saved version of an item's title and text, as visitors saw it."""
    item, shop_id, version = await _version_of(request, user, content_id, version_id)
    return render(
        request,
        "portal/content_version.html",
        shop=await shops.get_shop(app_of(request).ctx, user, shop_id),
        item=item,
        version=version,
        current=_shown(item, version),
    )


@router.post("/portal/content/{content_id}/versions/{version_id}/restore")
async def content_restore(
    request: Request, content_id: UUID, version_id: int, user: LoggedIn
) -> Response:
    """Bring back an older title and text as a new version, with the status rules of an edit."""
    item, shop_id, version = await _version_of(request, user, content_id, version_id)
    try:
        await content_service.restore_content(app_of(request).ctx, user, item.id, version.id)
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc, _ALIASES)
        return await _editor(
            request, user, shop_id, item.kind, item=item, errors=errors, status_code=422
        )
    return RedirectResponse(f"/portal/content/{item.id}?restored=1", status_code=303)
