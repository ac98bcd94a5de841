"""Use cases for shops: listing for visitors, creating, editing, pictures."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.cities import City
from marktplatz.domain.errors import N_, Conflict, InvalidInput, NotFound
from marktplatz.domain.geo import Location, make_location
from marktplatz.domain.hours import check_hours
from marktplatz.domain.shops import (
    MAX_IMAGES_PER_SHOP,
    Shop,
    ShopArea,
    ShopImage,
    clean_category,
    clean_opening_hours,
    clean_postcode,
)
from marktplatz.domain.story import picture_of
from marktplatz.domain.text import clean_email, clean_phone, clean_slug, clean_text, clean_url
from marktplatz.services.access import access_city, access_shop
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork
from marktplatz.services.story import store_story

_FIELDS: dict[str, Callable[[object], object]] = {
    "name": lambda v: clean_text(v, "name", max_len=120),
    "category": clean_category,
    "street": lambda v: clean_text(v, "street", max_len=120, required=False),
    "postcode": clean_postcode,
    "town": lambda v: clean_text(v, "town", max_len=80, required=False),
    "phone": clean_phone,
    "email": clean_email,
    "website": clean_url,
    "opening_hours": clean_opening_hours,
}
# The story in each language, as the JSON API names it: saved the way the story editor saves.
_STORIES = {"story_html": "de", "story_html_en": "en"}


def moved_location(current: Location, data: Mapping[str, object]) -> Location | None:
    """The new position of a change, or None if it moves nothing.

    A change may send only `lat` or only `lon`; the other half is the stored one, which is why
    callers pass the row read in their write transaction.
    """
    if "lat" not in data and "lon" not in data:
        return None
    return make_location(data.get("lat", current.lat), data.get("lon", current.lon))


async def _store_stories(
    uow: UnitOfWork, ctx: Context, actor: User | None, shop: Shop, data: Mapping[str, object]
) -> Shop:
    """Save each story the change sends as a new version; the shop as now stored."""
    for field, language in _STORIES.items():
        if field not in data:
            continue
        source = data[field]
        try:
            shop, _ = await store_story(uow, ctx, actor, shop, language, source or "")
        except InvalidInput as exc:  # named as the caller named it
            raise InvalidInput(field, exc.message, **exc.params) from exc
    return shop


def _clean_changes(data: Mapping[str, object], *, keep_unparsed_hours: bool) -> dict[str, object]:
    changes = {key: clean(data[key]) for key, clean in _FIELDS.items() if key in data}
    hours = changes.get("opening_hours")
    if isinstance(hours, str) and hours and not keep_unparsed_hours:
        # Rejected by default so a typo is noticed; the retailer may keep it on purpose,
        # and then every page shows it flagged instead of guessing.
        check = check_hours(hours)
        if not check.valid:
            raise InvalidInput(
                "opening_hours",
                N_("These opening hours cannot be read: %(reason)s"),
                reason=check.error or "",
            )
    return changes


async def list_shops(
    ctx: Context, city_id: UUID, category: ShopCategory | None = None
) -> list[Shop]:
    """The shops of a city, by name (public)."""
    async with ctx.uow() as uow:
        return await uow.shops.list_for_city(city_id, category)


async def public_shop(ctx: Context, city_id: UUID, slug: str) -> tuple[Shop, list[ShopImage]]:
    """A shop and its pictures for the visitor page; NotFound if unknown in this city."""
    async with ctx.uow() as uow:
        shop = await uow.shops.by_slug(city_id, slug)
        if shop is None:
            raise NotFound("shop")
        return shop, await uow.shops.images(shop.id)


async def public_shop_by_id(ctx: Context, shop_id: UUID) -> tuple[Shop, list[ShopImage], City]:
    """A shop's public profile with its pictures and city; NotFound if unknown."""
    async with ctx.uow() as uow:
        shop = await uow.shops.get(shop_id)
        city = await uow.cities.get(shop.city_id) if shop else None
        if shop is None or city is None:
            raise NotFound("shop")
        return shop, await uow.shops.images(shop.id), city


async def city_images(ctx: Context, city_id: UUID) -> dict[UUID, list[ShopImage]]:
    """The pictures of every shop of a city, keyed by shop id (for shop cards)."""
    async with ctx.uow() as uow:
        return await uow.shops.images_for_city(city_id)


async def get_shop(ctx: Context, actor: User | None, shop_id: UUID) -> Shop:
    """A shop for its retailer or the city's staff."""
    async with ctx.uow() as uow:
        return await access_shop(uow, actor, shop_id)


async def shop_images(ctx: Context, actor: User | None, shop_id: UUID) -> list[ShopImage]:
    """A shop's pictures for its retailer or the city's staff."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        return await uow.shops.images(shop.id)


async def create_shop(
    ctx: Context, actor: User | None, city_id: UUID, data: Mapping[str, object]
) -> Shop:
    """Add a shop to a city (city staff)."""
    changes = _clean_changes(data, keep_unparsed_hours=bool(data.get("keep_unparsed_hours")))
    if "lat" not in data and "lon" not in data:
        raise InvalidInput("location", N_("Please give the shop's position."))
    location = make_location(data.get("lat"), data.get("lon"))
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        await access_city(uow, actor, city_id)
        shop = Shop(
            id=uuid.uuid4(),
            city_id=city_id,
            slug=clean_slug(data.get("slug")),
            name=str(changes.get("name") or clean_text(None, "name", max_len=120)),
            category=clean_category(data.get("category")),
            street="",
            postcode="",
            town="",
            location=location,
            phone="",
            email="",
            website="",
            story_html="",
            story_html_en="",
            opening_hours="",
            created_at=now,
            updated_at=now,
        )
        shop = replace(shop, **changes)  # type: ignore[arg-type]
        if await uow.shops.by_slug(city_id, shop.slug) is not None:
            raise Conflict("slug", N_("Another shop already uses this short name."))
        await uow.shops.add(shop)
        await audit(uow, ctx, actor, city_id, "shop.created", "shop", shop.id, [shop.slug])
        shop = await _store_stories(uow, ctx, actor, shop, data)
        await uow.commit()
    return shop


async def update_shop(
    ctx: Context, actor: User | None, shop_id: UUID, data: Mapping[str, object]
) -> Shop:
    """Change a shop's profile, story or hours (its owner or city staff).

    A story is saved as the story editor saves it: sanitised, and kept as a new version.
    """
    changes = _clean_changes(data, keep_unparsed_hours=bool(data.get("keep_unparsed_hours")))
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True)
        location = moved_location(shop.location, data)
        if location is not None:
            changes["location"] = location
        updated = replace(shop, **changes, updated_at=ctx.clock.now())  # type: ignore[arg-type]
        stories = _STORIES.keys() & data.keys()
        if changes or not stories:  # a story alone is logged as the story's own change
            await uow.shops.update(updated)
            detail = sorted(changes)
            await audit(uow, ctx, actor, shop.city_id, "shop.updated", "shop", shop.id, detail)
        updated = await _store_stories(uow, ctx, actor, updated, data)
        await uow.commit()
    return updated


async def set_opening_hours(
    ctx: Context, actor: User | None, shop_id: UUID, hours: str, *, keep_unparsed: bool = False
) -> Shop:
    """Replace a shop's opening hours (its owner or city staff); nothing else changes."""
    changes = _clean_changes({"opening_hours": hours}, keep_unparsed_hours=keep_unparsed)
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True, area=ShopArea.HOURS)
        updated = replace(shop, **changes, updated_at=ctx.clock.now())  # type: ignore[arg-type]
        await uow.shops.update(updated)
        await audit(uow, ctx, actor, shop.city_id, "shop.hours_updated", "shop", shop.id)
        await uow.commit()
    return updated


async def add_shop_image(
    ctx: Context,
    actor: User | None,
    shop_id: UUID,
    data: bytes,
    alt_text: object,
    area: ShopArea | None = None,
) -> ShopImage:
    """Store an uploaded picture, re-encoded without metadata under a server-made name.

    `area`: the part of the shop the picture is added for (the story editor's uploads), so
    staff the owner opened it to may add one there.
    """
    alt = clean_text(alt_text, "alt_text", max_len=200)
    if len(data) > ctx.max_upload_bytes:
        raise InvalidInput(
            "image",
            N_("The file is too large (at most %(mb)s MB)."),
            mb=ctx.max_upload_bytes // (1024 * 1024),
        )
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True, area=area)
        existing = await uow.shops.images(shop.id)
        if len(existing) >= MAX_IMAGES_PER_SHOP:
            raise InvalidInput(
                "image", N_("A shop can show at most %(max)s pictures."), max=MAX_IMAGES_PER_SHOP
            )
        processed = ctx.images.process(data)
        image_id = uuid.uuid4()
        image = ShopImage(
            id=image_id,
            shop_id=shop.id,
            filename=f"{image_id.hex}.{processed.extension}",
            alt_text=alt,
            width=processed.width,
            height=processed.height,
            position=len(existing),
            created_at=ctx.clock.now(),
        )
        ctx.media.save(image.filename, processed.data)
        await uow.shops.add_image(image)
        await audit(uow, ctx, actor, shop.city_id, "shop.image_added", "shop", shop.id)
        await uow.commit()
    return image


async def _refuse_if_in_an_item(uow: UnitOfWork, shop_id: UUID, src: str) -> None:
    """A picture in an item's text stays: the item would show a broken picture."""
    for item in await uow.contents.list_for_shop(shop_id):
        if src in item.body_html:
            raise Conflict(
                "image",
                N_("This picture is shown in “%(title)s”. Please take it out of that text first."),
                title=item.title,
            )


async def delete_shop_image(
    ctx: Context, actor: User | None, shop_id: UUID, image_id: UUID
) -> None:
    """Remove a picture of a shop (its owner or city staff)."""
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True)
        image = await uow.shops.image(image_id)
        if image is None or image.shop_id != shop.id:
            raise NotFound("image")
        if picture_of(image).src in shop.story_html + shop.story_html_en:
            # Its file would go, and the published story would show a broken picture.
            raise Conflict(
                "image",
                N_("This picture is shown in your story. Please take it out of the story first."),
            )
        await _refuse_if_in_an_item(uow, shop.id, picture_of(image).src)
        await uow.shops.delete_image(image.id)
        await audit(uow, ctx, actor, shop.city_id, "shop.image_deleted", "shop", shop.id)
        await uow.commit()
    ctx.media.delete(image.filename)
