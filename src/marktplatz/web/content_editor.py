"""The offers-and-stories editor of the portal (a shop's items) and the console (the city's)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
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
from marktplatz.domain.shops import Shop, ShopImage
from marktplatz.domain.story import RenderedStory, picture_of
from marktplatz.services import attribution, decisions, story
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput, CouponInput
from marktplatz.web.i18n import pick_language, translations
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import form_errors, form_text, form_whole, saved
from marktplatz.web.portal.story import explained, rendered_preview
from marktplatz.web.state import app_of
from marktplatz.web.uploads import form_values

SUBMITTABLE = frozenset({ContentStatus.DRAFT, ContentStatus.REJECTED})
TARGET_INTERESTS = [i for i in Interest if i not in SPECIAL_INTERESTS]
ALIASES = {
    "coupon.stock": "coupon_stock",
    "coupon.per_person": "coupon_per_person",
    "source": "body_html",
}
DOOR_LABELS = {  # msgids: where a preview without a touchpoint stands
    "shop": N_("In front of the shop"),
    "city": N_("In the city centre"),
}


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose items an editor writes (a shop, or the city itself when `shop` is None) and where
    its pages are: an item at `items`/<id>, a new one posted to `create`."""

    city: City
    shop: Shop | None
    items: str
    create: str
    text_preview: str

    def item(self, content_id: UUID) -> str:
        return f"{self.items}/{content_id}"


Page = Callable[..., Awaitable[Response]]  # the editor page of one side, with keyword overrides


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


NEW_VALUES = {"language": "de", "coupon_period": "campaign"}  # a new item's form


def form_state(form: FormData) -> dict[str, Any]:
    """The submitted form as values to show again, the multiple choices as lists."""
    values: dict[str, Any] = form_values(form)
    for name in ("weekdays", "zone_ids", "touchpoint_ids", "interests"):
        values[name] = [str(v) for v in form.getlist(name)]
    return values


def text_preview_page(request: Request, preview: RenderedStory, language: str) -> Response:
    """The live preview of an item's text, as the visitor pages show it."""
    return render(
        request, "portal/_story_preview.html", preview=preview, language=language, item_text=True
    )


def kind_of(raw: str) -> ContentKind:
    try:
        return ContentKind(raw)
    except ValueError:
        raise NotFound("kind") from None


async def editor_context(
    request: Request,
    user: User,
    owner: Owner,
    kind: ContentKind,
    *,
    item: Content | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    can_edit: bool = True,
    images: Sequence[ShopImage] = (),
) -> dict[str, Any]:
    """What the editor template shows: the form, the live text, versions, the preview at a
    touchpoint (a saved item) and a coupon offer's results."""
    ctx = app_of(request).ctx
    shop_id = owner.shop.id if owner.shop else None
    places = await content_service.places(ctx, user, owner.city.id, shop_id)
    shown = values if values is not None else (content_values(item, owner.city.tz) if item else {})
    versions: list[ContentVersion] = []
    if item is not None and can_edit:
        versions = await content_service.content_versions(ctx, user, item.id)
    # Only those who may write the text see it rendered as they write.
    text = str(shown.get("body_html", ""))
    return {
        "owner": owner,
        "kind": kind,
        "item": item,
        "places": places,
        "values": shown,
        "errors": errors or {},
        "can_edit": can_edit,
        "text_preview": await _text_preview(request, user, owner, text) if can_edit else None,
        "images": images,
        "image_options": [(str(i.id), i.alt_text) for i in images],
        "pictures": [picture_of(image) for image in images],
        "interests": TARGET_INTERESTS,
        "job_types": list(JobType),
        "max_length": MAX_RICH_TEXT,
        "versions": versions,
        "shown_version": _shown_version(item, versions),
        "versions_kept": CONTENT_VERSIONS_KEPT,
        "restored": bool(request.query_params.get("restored")),
        "k": K,
        **await _preview(request, user, owner, item, places.touchpoints),
    }


async def _text_preview(request: Request, user: User, owner: Owner, text: str) -> RenderedStory:
    ctx = app_of(request).ctx
    if owner.shop is None:
        return await explained(story.preview_city_text(ctx, user, owner.city.id, text))
    return await rendered_preview(ctx, user, owner.shop.id, text, None)


async def _preview(
    request: Request,
    user: User,
    owner: Owner,
    item: Content | None,
    touchpoints: list[tuple[UUID, str]],
) -> dict[str, Any]:
    """What a visitor at the chosen touchpoint (or at the door) would see now, and a coupon
    offer's results; nothing for an item not saved yet."""
    ctx = app_of(request).ctx
    chosen = request.query_params.get("touchpoint", "")
    preview = results = None
    if item is not None:
        target = _chosen(chosen, touchpoints)
        chosen = str(target or "")
        preview = await decisions.preview_content(ctx, user, item.id, target, item.language)
        if item.coupon is not None:
            results = await attribution.offer_results(ctx, user, item.id)
    trans = translations(pick_language(request))
    door = trans.gettext(DOOR_LABELS["city" if owner.shop is None else "shop"])
    return {
        "preview": preview,
        "preview_rows": _preview_rows(request, preview, item),
        "excluded_text": _excluded(request, preview),
        "preview_options": [("", door)] + [(str(i), n) for i, n in touchpoints],
        "chosen": chosen,
        "results": results,
    }


def _shown_version(item: Content | None, versions: list[ContentVersion]) -> int | None:
    """The id of the newest version if visitors see its title and text now."""
    if item is None or not versions:
        return None
    return versions[0].id if shown(item, versions[0]) else None


def shown(item: Content, version: ContentVersion) -> bool:
    """Whether the version is what the published item shows."""
    same = (version.title, version.html) == (item.title, item.body_html)
    return same and item.status is ContentStatus.PUBLISHED


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
    """The chosen touchpoint of the preview, or None for the door (or the city centre)."""
    try:
        wanted = UUID(raw)
    except ValueError:
        return None
    return wanted if wanted in {tp for tp, _ in touchpoints} else None


# --- saving -------------------------------------------------------------------------------


async def save_item(
    request: Request,
    user: User,
    owner: Owner,
    kind: ContentKind,
    *,
    item: Content | None,
    page: Page,
) -> Response:
    """Create (`item` None) or change an item from the posted form; "then=submit" submits a
    draft, through the city's approval rules. A refused form comes back with its error."""
    ctx = app_of(request).ctx
    form = await request.form()
    try:
        data = content_input(form, kind, owner.city.tz)
        if item is None:
            shop_id = owner.shop.id if owner.shop else None
            done = await content_service.create_content(ctx, user, owner.city.id, shop_id, data)
        else:
            done = await content_service.update_content(ctx, user, item.id, data)
        # Published or waiting items stay so (or go back to the city): submitting is for drafts.
        if form_text(form, "then") == "submit" and done.status in SUBMITTABLE:
            await content_service.act_on_content(ctx, user, done.id, Action.SUBMIT)
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc, ALIASES)
        return await page(item=item, values=form_state(form), errors=errors, status_code=422)
    return saved(owner.item(done.id))


async def withdraw_item(request: Request, user: User, owner: Owner, item: Content) -> Response:
    """Take an item off the site (back to a draft)."""
    await content_service.act_on_content(app_of(request).ctx, user, item.id, Action.WITHDRAW)
    return saved(owner.item(item.id))


async def restore_item(
    request: Request, user: User, owner: Owner, item: Content, version_id: int, page: Page
) -> Response:
    """Bring back an older title and text as a new version, with the status rules of an edit."""
    try:
        await content_service.restore_content(app_of(request).ctx, user, item.id, version_id)
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc, ALIASES)
        return await page(item=item, errors=errors, status_code=422)
    return RedirectResponse(f"{owner.item(item.id)}?restored=1", status_code=303)
