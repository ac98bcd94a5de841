"""A shop's story: preview, save and restore versions, and the city's approval where it asks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.content import Action, ContentStatus, next_status
from marktplatz.domain.errors import N_, InvalidInput, NotFound
from marktplatz.domain.rules import text_approval_flags
from marktplatz.domain.shops import Shop, ShopArea, ShopImage
from marktplatz.domain.story import (
    VERSIONS_KEPT,
    Picture,
    RenderedStory,
    StoryVersion,
    clean_language,
    clean_source,
    current_source,
    html_text,
    line_changes,
    picture_of,
    publishable_html,
    render_story,
    shown_version,
)
from marktplatz.domain.text import clean_text
from marktplatz.services.access import access_shop, can_manage_city, check_city_staff
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


async def _show(uow: UnitOfWork, ctx: Context, shop: Shop, language: str, html: str) -> Shop:
    """Make `html` the story the visitor pages show in that language."""
    field = "story_html_en" if language == "en" else "story_html"
    updated = replace(shop, **{field: html}, updated_at=ctx.clock.now())  # type: ignore[arg-type]
    await uow.shops.update(updated)
    return updated


@dataclass(frozen=True, slots=True)
class Kept:
    """A story saved as a new version: the shop as now stored, and whether it waits."""

    shop: Shop
    version_id: int
    status: ContentStatus
    flags: tuple[str, ...]

    @property
    def detail(self) -> list[str]:
        """What the audit line says of it, after the language; a waiting one says why."""
        waits = [self.status.value, *self.flags] if self.flags else []
        return [f"version {self.version_id}", *waits]


async def _keep(
    uow: UnitOfWork, ctx: Context, actor: User | None, shop: Shop, language: str, source: str
) -> Kept:
    """Render, refuse on the first problem, keep the version, and publish it at once unless
    the city's rules ask to approve a retailer's story first: then the visitor pages keep the
    last approved story, and an older version still waiting is set aside (the city decides on
    the newest)."""
    html = publishable_html(source, await shop_pictures(uow, shop.id))
    flags = await _approval_flags(uow, actor, shop, html)
    status = next_status(ContentStatus.DRAFT, Action.SUBMIT, needs_approval=bool(flags))
    stored = shop if flags else await _show(uow, ctx, shop, language, html)
    await uow.story_versions.set_aside(shop.id, language)
    author = actor.id if actor else None
    version_id = await uow.story_versions.add(
        shop.id, language, source, html, author, ctx.clock.now(), status, flags
    )
    await uow.story_versions.keep_newest(shop.id, language, VERSIONS_KEPT)
    return Kept(stored, version_id, status, flags)


async def _approval_flags(
    uow: UnitOfWork, actor: User | None, shop: Shop, html: str
) -> tuple[str, ...]:
    """Why the city has to approve this story first; none when its own staff wrote it (they
    are the ones who approve, e.g. the story given when the city adds a shop)."""
    if can_manage_city(actor, shop.city_id):
        return ()
    return text_approval_flags(await uow.contents.rules(shop.city_id), shop.category, html)


async def store_story(
    uow: UnitOfWork,
    ctx: Context,
    actor: User | None,
    shop: Shop,
    language: object,
    source: object,
) -> tuple[Shop, int]:
    """Save the story in one language as a new version, inside the caller's transaction.

    The one way a story is changed (the editor, the JSON API): its Markdown or HTML rendered
    and sanitised, any picture not the shop's own or without a description refused, the
    version kept, published at once or submitted to the city as its rules say, and the change
    logged. Returns the shop as now stored and the version's id.
    The caller has checked that the actor may change this shop's story.
    """
    lang, text = clean_language(language), clean_source(source)
    kept = await _keep(uow, ctx, actor, shop, lang, text)
    action = (
        "shop.story_updated" if kept.status is ContentStatus.PUBLISHED else "shop.story_submitted"
    )
    await audit(uow, ctx, actor, shop.city_id, action, "shop", shop.id, [lang, *kept.detail])
    return kept.shop, kept.version_id


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
        kept = await _keep(uow, ctx, actor, shop, old.language, old.source)
        detail = [old.language, f"from version {old.id}", *kept.detail]
        await audit(uow, ctx, actor, shop.city_id, "shop.story_restored", "shop", shop.id, detail)
        await uow.commit()
    return kept.version_id


@dataclass(frozen=True, slots=True)
class StoryReview:
    """A story version waiting for the city, next to the text the visitor pages show now."""

    shop: Shop
    version: StoryVersion
    shown_source: str  # the Markdown of the story shown now (its HTML's text if none is kept)

    @property
    def published(self) -> str:
        """The HTML the visitor pages show now, until the city approves."""
        return published(self.shop, self.version.language)

    @property
    def changes(self) -> list[tuple[str, str]]:
        return line_changes(self.shown_source, self.version.source)


async def waiting_stories(ctx: Context, actor: User | None, city_id: UUID) -> list[StoryReview]:
    """The shops' story versions waiting for the city's approval, oldest first (city staff)."""
    check_city_staff(actor, city_id)
    found = []
    async with ctx.uow() as uow:
        shops = {shop.id: shop for shop in await uow.shops.list_for_city(city_id)}
        for version in await uow.story_versions.waiting(list(shops)):
            shop, lang = shops[version.shop_id], version.language
            kept = await uow.story_versions.newest(shop.id, lang, VERSIONS_KEPT)
            now = published(shop, lang)
            shown = shown_version(now, kept)
            found.append(StoryReview(shop, version, shown.source if shown else html_text(now)))
    return found


async def review_story(
    ctx: Context, actor: User | None, city_id: UUID, version_id: int, action: Action, note: str = ""
) -> StoryVersion:
    """Approve a waiting story version, publishing it, or reject it with a message the
    retailer reads (city staff of the shop's city), with an audit entry."""
    # Checked before the input: someone without the right learns nothing from the answer.
    check_city_staff(actor, city_id)
    if action not in (Action.APPROVE, Action.REJECT):
        raise InvalidInput("verdict", N_("Approve or send back."))
    message = clean_text(note, "note", max_len=500, required=action is Action.REJECT)
    async with ctx.uow(write=True) as uow:
        version = await uow.story_versions.get(version_id)
        shop = await uow.shops.get(version.shop_id) if version else None
        # Another city's version looks nonexistent, as does a missing one.
        if version is None or shop is None or shop.city_id != city_id:
            raise NotFound("story version")
        status = next_status(version.status, action, needs_approval=True)
        if status is ContentStatus.PUBLISHED:
            # Checked anew: a picture deleted since refuses the approval with its message.
            publishable_html(version.source, await shop_pictures(uow, shop.id))
            await _show(uow, ctx, shop, version.language, version.html)
        kept_note = message if action is Action.REJECT else ""
        await uow.story_versions.set_status(version.id, status, kept_note)
        detail = [version.language, f"version {version.id}", status.value, *version.flags]
        action_name = f"shop.story_{action.value}"
        await audit(uow, ctx, actor, city_id, action_name, "shop", shop.id, detail)
        await uow.commit()
    return replace(version, status=status, review_note=kept_note)
