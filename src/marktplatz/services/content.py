"""Use cases for offers, stories, events and jobs: write, submit, approve, publish, list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, time
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.content import (
    CONTENT_VERSIONS_KEPT,
    MAX_TITLE,
    Action,
    Content,
    ContentKind,
    ContentStatus,
    ContentVersion,
    CouponTerms,
    JobType,
    Targeting,
    Window,
    clean_coupon,
    clean_targeting,
    clean_window,
    next_status,
)
from marktplatz.domain.errors import N_, Forbidden, InvalidInput, NotFound
from marktplatz.domain.event_calendar import is_upcoming
from marktplatz.domain.event_changes import next_sequence
from marktplatz.domain.rules import CityRules, approval_flags, check_content_rules, rules_from_dict
from marktplatz.domain.story import clean_source, publishable_html
from marktplatz.domain.text import clean_email, clean_text, clean_url
from marktplatz.domain.touchpoints import Touchpoint, TouchpointStatus
from marktplatz.services.access import (
    access_content,
    access_member_city,
    access_shop,
    can_manage_city,
    check_city_staff,
)
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork
from marktplatz.services.story import shop_pictures


@dataclass(frozen=True, slots=True)
class CouponInput:
    stock: int | None = None
    per_person: int | None = None
    period: str = "campaign"


@dataclass(frozen=True, slots=True)
class ContentInput:
    """What the retailer or the city wrote, type-checked at the edge, not yet checked by rules."""

    kind: ContentKind
    title: str
    # The text as written: Markdown (or HTML, which renders unchanged), kept as the source.
    body_html: str = ""
    language: str = "de"
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: list[int] | None = None
    day_start: time | None = None
    day_end: time | None = None
    zone_ids: list[UUID] = field(default_factory=list)
    touchpoint_ids: list[UUID] = field(default_factory=list)
    radius_m: int | None = None
    languages: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    coupon: CouponInput | None = None
    image_id: UUID | None = None
    place: str = ""
    registration: str = ""
    job_type: JobType | None = None
    prescription_only: bool = False


async def create_content(
    ctx: Context, actor: User | None, city_id: UUID, shop_id: UUID | None, data: ContentInput
) -> Content:
    """A new draft of a shop (its owner or city staff) or of the city itself (city staff)."""
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        category = await _owner_scope(uow, actor, city_id, shop_id)
        draft = Content(
            id=uuid.uuid4(),
            city_id=city_id,
            shop_id=shop_id,
            kind=data.kind,
            status=ContentStatus.DRAFT,
            title="",
            body_html="",
            language="de",
            window=Window(),
            targeting=Targeting(),
            created_at=now,
            updated_at=now,
        )
        content = await _apply(uow, draft, data, category)
        await uow.contents.add(content)
        await _keep_version(uow, ctx, actor, content)
        await audit(uow, ctx, actor, city_id, "content.created", content.kind.value, content.id)
        await uow.commit()
    return content


async def update_content(
    ctx: Context, actor: User | None, content_id: UUID, data: ContentInput
) -> Content:
    """Change an item; published or submitted items that need approval go back to the city."""
    async with ctx.uow(write=True) as uow:
        current = await access_content(uow, actor, content_id, edit=True)
        if data.kind is not current.kind:
            raise InvalidInput("kind", N_("The type of an item cannot change."))
        content, _ = await _edit(uow, ctx, actor, current, data)
        await audit(
            uow, ctx, actor, current.city_id, "content.updated", content.kind.value, content.id
        )
        await uow.commit()
    return content


async def _edit(
    uow: UnitOfWork,
    ctx: Context,
    actor: User | None,
    current: Content,
    data: ContentInput,
    *,
    new_version: bool = False,
) -> tuple[Content, int | None]:
    """Store the changed item with its status after an edit; a changed title or text (or
    `new_version`) is kept as a version, whose id is returned."""
    category = await _category(uow, current.shop_id)
    content = await _apply(uow, current, data, category)
    rules = await uow.contents.rules(current.city_id)
    status = _status_after_edit(current, content, rules, category)
    content = replace(content, status=status, flags=approval_flags(rules, category, content))
    content = replace(content, updated_at=ctx.clock.now(), sequence=next_sequence(current, content))
    await uow.contents.update(content)
    return content, await _keep_version(uow, ctx, actor, content, always=new_version)


async def _keep_version(
    uow: UnitOfWork, ctx: Context, actor: User | None, content: Content, *, always: bool = False
) -> int | None:
    """Keep the item's title and text as a new version unless they are the newest one's."""
    versions = uow.content_versions
    newest = next(iter(await versions.newest(content.id, 1)), None)
    kept = (newest.title, newest.source) if newest else None
    if not always and kept == (content.title, content.body_source):
        return None
    author = actor.id if actor else None
    version_id = await versions.add(
        content.id, content.title, content.body_source, content.body_html, author, ctx.clock.now()
    )
    await versions.keep_newest(content.id, CONTENT_VERSIONS_KEPT)
    return version_id


async def content_versions(
    ctx: Context, actor: User | None, content_id: UUID
) -> list[ContentVersion]:
    """The item's saved versions, newest first (those who may edit it)."""
    async with ctx.uow() as uow:
        item = await access_content(uow, actor, content_id, edit=True)
        return await uow.content_versions.newest(item.id, CONTENT_VERSIONS_KEPT)


async def _own_version(uow: UnitOfWork, item: Content, version_id: int) -> ContentVersion:
    found = await uow.content_versions.get(version_id)
    # A version of another item looks nonexistent, whoever may see that item.
    if found is None or found.content_id != item.id:
        raise NotFound("content version")
    return found


async def content_version(
    ctx: Context, actor: User | None, content_id: UUID, version_id: int
) -> tuple[Content, ContentVersion]:
    """One saved version of the item, to look at before restoring it."""
    async with ctx.uow() as uow:
        item = await access_content(uow, actor, content_id, edit=True)
        return item, await _own_version(uow, item, version_id)


async def restore_content(
    ctx: Context, actor: User | None, content_id: UUID, version_id: int
) -> Content:
    """Bring back an older title and text as a new version, through the path of an edit.

    Everything else of the item stays; its status follows the rules of an edit (a published
    item that needs approval goes back to the city), and the text is rendered anew, so a
    picture deleted since refuses the restore with its message.
    """
    async with ctx.uow(write=True) as uow:
        current = await access_content(uow, actor, content_id, edit=True)
        old = await _own_version(uow, current, version_id)
        data = replace(_input_of(current), title=old.title, body_html=old.source)
        content, new_id = await _edit(uow, ctx, actor, current, data, new_version=True)
        detail = [f"from version {old.id}", f"version {new_id}", content.status.value]
        await audit(
            uow,
            ctx,
            actor,
            current.city_id,
            "content.restored",
            content.kind.value,
            content.id,
            detail,
        )
        await uow.commit()
    return content


def _input_of(item: Content) -> ContentInput:
    """The item as it is, as the input of an edit."""
    window, target, coupon = item.window, item.targeting, item.coupon
    return ContentInput(
        kind=item.kind,
        title=item.title,
        body_html=item.source,
        language=item.language,
        starts_at=window.starts_at,
        ends_at=window.ends_at,
        weekdays=sorted(window.weekdays),
        day_start=window.day_start,
        day_end=window.day_end,
        zone_ids=sorted(target.zone_ids, key=str),
        touchpoint_ids=sorted(target.touchpoint_ids, key=str),
        radius_m=target.radius_m,
        languages=sorted(target.languages),
        interests=sorted(i.value for i in target.interests),
        coupon=(
            CouponInput(coupon.stock, coupon.per_person, coupon.period.value) if coupon else None
        ),
        image_id=item.image_id,
        place=item.place,
        registration=item.registration,
        job_type=item.job_type,
        prescription_only=item.prescription_only,
    )


def _status_after_edit(
    before: Content, after: Content, rules: CityRules, category: ShopCategory | None
) -> ContentStatus:
    if before.status is ContentStatus.REJECTED:
        return ContentStatus.DRAFT
    if before.status in (ContentStatus.PUBLISHED, ContentStatus.SUBMITTED) and approval_flags(
        rules, category, after
    ):
        # What the city approved is not what is there now: it has to look again.
        return ContentStatus.SUBMITTED
    return before.status


async def act_on_content(
    ctx: Context, actor: User | None, content_id: UUID, action: Action, note: str = ""
) -> Content:
    """Submit, withdraw (owner or city), approve or reject (city staff), with an audit entry."""
    message = clean_text(note, "note", max_len=500, required=action is Action.REJECT)
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        content = await access_content(uow, actor, content_id, edit=True)
        if action in (Action.APPROVE, Action.REJECT) and not can_manage_city(
            actor, content.city_id
        ):
            raise Forbidden("city staff required")
        rules = await uow.contents.rules(content.city_id)
        category = await _category(uow, content.shop_id)
        if action in (Action.SUBMIT, Action.APPROVE):
            # Taking an item down (withdraw, reject) must work even if a rule changed since.
            check_content_rules(rules, category, content)
        flags = approval_flags(rules, category, content)
        status = next_status(content.status, action, needs_approval=bool(flags))
        published_at = now if status is ContentStatus.PUBLISHED else content.published_at
        note_kept = message if action is Action.REJECT else ""
        updated = replace(
            content,
            status=status,
            flags=flags,
            review_note=note_kept,
            published_at=published_at,
            updated_at=now,
        )
        updated = replace(updated, sequence=next_sequence(content, updated))
        await uow.contents.update(updated)
        await audit(
            uow,
            ctx,
            actor,
            content.city_id,
            f"content.{action.value}",
            content.kind.value,
            content.id,
            [status.value, *flags],
        )
        await uow.commit()
    return updated


async def shop_contents(ctx: Context, actor: User | None, shop_id: UUID) -> list[Content]:
    """Everything a shop wrote, newest first (its retailers and the city's staff)."""
    async with ctx.uow() as uow:
        await access_shop(uow, actor, shop_id)
        return await uow.contents.list_for_shop(shop_id)


async def city_contents(
    ctx: Context, actor: User | None, city_id: UUID, status: ContentStatus | None = None
) -> list[Content]:
    """The city's items, e.g. the approval queue with status SUBMITTED (city staff)."""
    check_city_staff(actor, city_id)
    async with ctx.uow() as uow:
        statuses = None if status is None else frozenset({status})
        return await uow.contents.list_for_city(city_id, statuses)


def shown_now(item: Content, now: datetime) -> bool:
    """Published, and its window has not ended: what a visitor may see."""
    ends = item.shown.ends_at
    return item.status is ContentStatus.PUBLISHED and (ends is None or ends > now)


async def published_for_shop(ctx: Context, shop_id: UUID) -> list[Content]:
    """What a visitor sees on a shop page: published items whose window has not ended."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        items = await uow.contents.list_for_shop(shop_id)
    return [c for c in items if shown_now(c, now)]


async def published_offers_by_shop(ctx: Context, city_id: UUID) -> dict[UUID, list[Content]]:
    """The shops' visible offers, newest first, for a whole city in one query (the map)."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        items = await uow.contents.list_for_city(city_id, frozenset({ContentStatus.PUBLISHED}))
    found: dict[UUID, list[Content]] = {}
    for item in items:
        if item.shop_id is not None and item.kind is ContentKind.OFFER and shown_now(item, now):
            found.setdefault(item.shop_id, []).append(item)
    return found


async def upcoming_events(ctx: Context, city_id: UUID) -> list[Content]:
    """The events calendar: published events of the city and its shops not over yet, by start."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        items = await uow.contents.upcoming_events(city_id, now)
    return [c for c in items if is_upcoming(c, now)]


async def public_event(ctx: Context, city_id: UUID, content_id: UUID) -> Content:
    """One event of the calendar; NotFound for anything the calendar does not show (a draft, an
    ended or another city's event, other content)."""
    async with ctx.uow() as uow:
        item = await uow.contents.get(content_id)
    if item is None or item.city_id != city_id or not is_upcoming(item, ctx.clock.now()):
        raise NotFound("event")
    return item


@dataclass(frozen=True, slots=True)
class Places:
    """The city's zones and active touchpoints by name: what content can be placed at."""

    zones: list[tuple[UUID, str]]
    touchpoints: list[tuple[UUID, str]]


async def places(ctx: Context, actor: User | None, city_id: UUID, shop_id: UUID | None) -> Places:
    """Zones and the active touchpoints an item of `shop_id` (None: the city's) may target.

    A shop targets its own touchpoints (and reaches the city's through zones and its radius);
    other shops' touchpoints stay hidden from its retailers.
    """
    async with ctx.uow() as uow:
        await access_member_city(uow, actor, city_id)
        zones = await uow.zones.list_for_city(city_id)
        points = _targetable(await uow.touchpoints.list_for_city(city_id), shop_id)
    return Places(
        [(z.id, z.name) for z in zones],
        sorted(((tp.id, tp.name) for tp in points), key=lambda pair: pair[1].lower()),
    )


def _targetable(points: list[Touchpoint], shop_id: UUID | None) -> list[Touchpoint]:
    active = [tp for tp in points if tp.status is TouchpointStatus.ACTIVE]
    return active if shop_id is None else [tp for tp in active if tp.shop_id == shop_id]


async def get_content(ctx: Context, actor: User | None, content_id: UUID) -> Content:
    async with ctx.uow() as uow:
        return await access_content(uow, actor, content_id)


async def get_rules(ctx: Context, actor: User | None, city_id: UUID) -> CityRules:
    """The city's rules (city staff)."""
    check_city_staff(actor, city_id)
    async with ctx.uow() as uow:
        return await uow.contents.rules(city_id)


async def set_rules(ctx: Context, actor: User | None, city_id: UUID, data: object) -> CityRules:
    """Replace the city's rules (city admins); the engine follows within a second."""
    check_city_staff(actor, city_id, admin=True)
    rules = rules_from_dict(data)
    async with ctx.uow(write=True) as uow:
        if await uow.cities.get(city_id) is None:
            raise NotFound("city")
        await uow.contents.set_rules(city_id, rules)
        await audit(uow, ctx, actor, city_id, "rules.updated", "city", city_id)
        await uow.commit()
    return rules


async def _owner_scope(
    uow: UnitOfWork, actor: User | None, city_id: UUID, shop_id: UUID | None
) -> ShopCategory | None:
    if shop_id is None:
        check_city_staff(actor, city_id)
        return None
    shop = await access_shop(uow, actor, shop_id, edit=True)
    if shop.city_id != city_id:
        raise NotFound("shop")
    return shop.category


async def _category(uow: UnitOfWork, shop_id: UUID | None) -> ShopCategory | None:
    shop = await uow.shops.get(shop_id) if shop_id else None
    return shop.category if shop else None


async def _apply(
    uow: UnitOfWork, base: Content, data: ContentInput, category: ShopCategory | None
) -> Content:
    """The item with `data` checked against the city's zones, touchpoints, languages and rules."""
    city = await uow.cities.get(base.city_id)
    if city is None:
        raise NotFound("city")
    zones = frozenset(z.id for z in await uow.zones.list_for_city(city.id))
    points = await uow.touchpoints.list_for_city(city.id)
    touchpoints = frozenset(tp.id for tp in _targetable(points, base.shop_id))
    if data.language not in city.languages:
        raise InvalidInput(
            "language",
            N_("This city does not offer the language %(value)s."),
            value=data.language[:10],
        )
    source = clean_source(data.body_html)
    content = replace(
        base,
        title=clean_text(data.title, "title", max_len=MAX_TITLE),
        # Only the shop's own pictures, each described; the city's items can show none.
        body_html=publishable_html(source, await shop_pictures(uow, base.shop_id)),
        body_source=source,
        language=data.language,
        window=clean_window(
            data.starts_at, data.ends_at, data.weekdays, data.day_start, data.day_end
        ),
        targeting=clean_targeting(
            frozenset(data.zone_ids),
            frozenset(data.touchpoint_ids),
            data.radius_m,
            frozenset(data.languages),
            data.interests,
            known_zones=zones,
            known_touchpoints=touchpoints,
            city_languages=city.languages,
        ),
        coupon=_coupon(data),
        image_id=await _image(uow, base.shop_id, data.image_id),
        place=clean_text(data.place, "place", max_len=200, required=data.kind is ContentKind.EVENT),
        registration=_registration(data.registration),
        job_type=data.job_type,
        prescription_only=data.prescription_only,
    )
    _check_kind(content)
    rules = await uow.contents.rules(city.id)
    check_content_rules(rules, category, content)
    return content


def _coupon(data: ContentInput) -> CouponTerms | None:
    if data.coupon is None:
        return None
    if data.kind is not ContentKind.OFFER:
        raise InvalidInput("coupon", N_("Only an offer can come with a coupon."))
    return clean_coupon(data.coupon.stock, data.coupon.per_person, data.coupon.period)


async def _image(uow: UnitOfWork, shop_id: UUID | None, image_id: UUID | None) -> UUID | None:
    if image_id is None:
        return None
    image = await uow.shops.image(image_id)
    # Only a picture of the item's own shop: another shop's picture looks nonexistent.
    if image is None or shop_id is None or image.shop_id != shop_id:
        raise InvalidInput("image_id", N_("Choose one of the shop's own pictures."))
    return image_id


def _registration(value: str) -> str:
    text = value.strip()
    if "@" in text and not text.startswith("http"):
        return clean_email(text, "registration")
    return clean_url(text, "registration")


def _check_kind(content: Content) -> None:
    if content.kind is ContentKind.EVENT and content.window.starts_at is None:
        raise InvalidInput("starts_at", N_("An event needs a start time."))
    if content.kind is ContentKind.JOB and content.job_type is None:
        raise InvalidInput("job_type", N_("Say what kind of job it is."))
    if content.prescription_only and content.kind is not ContentKind.OFFER:
        raise InvalidInput(
            "prescription_only", N_("Only an offer can concern prescription medicines.")
        )
