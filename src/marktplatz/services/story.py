"""A shop's story in the editor: preview, save as a new version, restore an older one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import NotFound
from marktplatz.domain.shops import Shop, ShopArea, ShopImage
from marktplatz.domain.story import (
    VERSIONS_KEPT,
    Picture,
    RenderedStory,
    StoryVersion,
    clean_language,
    clean_source,
    current_source,
    picture_of,
    publishable_html,
    render_story,
)
from marktplatz.services.access import access_shop, check_city_staff
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class StoryDesk:
    """What the editor shows for one language: the source to edit, the pictures, the versions."""

    shop: Shop
    language: str
    source: str
    pictures: list[ShopImage]
    versions: list[StoryVersion]


def published(shop: Shop, language: str) -> str:
    """The story's HTML the visitor pages show in that language."""
    return shop.story_html_en if language == "en" else shop.story_html


async def story_desk(
    ctx: Context, actor: User | None, shop_id: UUID, language: object
) -> StoryDesk:
    """The editor of a shop's story in one language: its owner, the city's staff, or its staff
    when the owner opened the story to them."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True, area=ShopArea.STORY)
        lang = clean_language(language)
        versions = await uow.story_versions.newest(shop.id, lang, VERSIONS_KEPT)
        pictures = await uow.shops.images(shop.id)
    source = current_source(published(shop, lang), versions[0] if versions else None)
    return StoryDesk(shop, lang, source, pictures, versions)


async def preview_story(
    ctx: Context,
    actor: User | None,
    shop_id: UUID,
    source: object,
    area: ShopArea | None = ShopArea.STORY,
) -> RenderedStory:
    """The story as the visitor would see it, with its problems; nothing is stored.

    Also the text of one of the shop's offers and stories: then `area` is None, as only those
    who may write them may preview them.
    """
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True, area=area)
        pictures = await shop_pictures(uow, shop.id)
    return render_story(clean_source(source), pictures)


async def preview_city_text(
    ctx: Context, actor: User | None, city_id: UUID, source: object
) -> RenderedStory:
    """The text of one of the city's own items as the visitor would see it (city staff); the
    city's items show no pictures. Nothing is stored."""
    check_city_staff(actor, city_id)
    return render_story(clean_source(source), [])


async def shop_pictures(uow: UnitOfWork, shop_id: UUID | None) -> list[Picture]:
    """The pictures a story or an item of the shop may show; the city's own items have none."""
    if shop_id is None:
        return []
    return [picture_of(image) for image in await uow.shops.images(shop_id)]


async def _publish(
    uow: UnitOfWork, ctx: Context, actor: User | None, shop: Shop, language: str, source: str
) -> tuple[Shop, int]:
    """Render, refuse on the first problem, then publish the HTML and keep the version."""
    html = publishable_html(source, await shop_pictures(uow, shop.id))
    field = "story_html_en" if language == "en" else "story_html"
    now = ctx.clock.now()
    updated = replace(shop, **{field: html}, updated_at=now)  # type: ignore[arg-type]
    await uow.shops.update(updated)
    author = actor.id if actor else None
    version_id = await uow.story_versions.add(shop.id, language, source, html, author, now)
    await uow.story_versions.keep_newest(shop.id, language, VERSIONS_KEPT)
    return updated, version_id


async def store_story(
    uow: UnitOfWork,
    ctx: Context,
    actor: User | None,
    shop: Shop,
    language: object,
    source: object,
) -> tuple[Shop, int]:
    """Publish the story in one language as a new version, inside the caller's transaction.

    The one way a story is changed (the editor, the JSON API): its Markdown or HTML rendered
    and sanitised, any picture not the shop's own or without a description refused, the
    version kept and the change logged. Returns the shop as now stored and the version's id.
    The caller has checked that the actor may change this shop's story.
    """
    lang, text = clean_language(language), clean_source(source)
    stored, version_id = await _publish(uow, ctx, actor, shop, lang, text)
    detail = [lang, f"version {version_id}"]
    await audit(uow, ctx, actor, shop.city_id, "shop.story_updated", "shop", shop.id, detail)
    return stored, version_id


async def save_story(
    ctx: Context, actor: User | None, shop_id: UUID, language: object, source: object
) -> int:
    """Publish the story in one language and keep it as a new version; its id is returned.

    Any picture that is not the shop's own or has no description refuses the whole save.
    """
    async with ctx.uow(write=True) as uow:
        # Checked before the input: someone without the right learns nothing from the answer.
        shop = await access_shop(uow, actor, shop_id, edit=True, area=ShopArea.STORY)
        _, version_id = await store_story(uow, ctx, actor, shop, language, source)
        await uow.commit()
    return version_id


async def _own_version(uow: UnitOfWork, shop: Shop, version_id: int) -> StoryVersion:
    found = await uow.story_versions.get(version_id)
    if found is None or found.shop_id != shop.id:
        raise NotFound("story version")
    return found


async def story_version(
    ctx: Context, actor: User | None, shop_id: UUID, version_id: int
) -> tuple[Shop, StoryVersion]:
    """One saved version of the shop's story, to look at before restoring it."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True, area=ShopArea.STORY)
        return shop, await _own_version(uow, shop, version_id)


async def restore_story(ctx: Context, actor: User | None, shop_id: UUID, version_id: int) -> int:
    """Publish an older version again, as a new version: history is never rewritten.

    It is rendered anew, so a picture deleted since refuses the restore with its message.
    """
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True, area=ShopArea.STORY)
        old = await _own_version(uow, shop, version_id)
        _, new_id = await _publish(uow, ctx, actor, shop, old.language, old.source)
        detail = [old.language, f"from version {old.id}", f"version {new_id}"]
        await audit(uow, ctx, actor, shop.city_id, "shop.story_restored", "shop", shop.id, detail)
        await uow.commit()
    return new_id
