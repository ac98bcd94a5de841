"""Retailer portal: a shop's offers, stories, events and jobs, with a live preview."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.content import Content, ContentKind
from marktplatz.domain.errors import NotFound
from marktplatz.domain.shops import Shop
from marktplatz.services import content as content_service
from marktplatz.services import shops, story
from marktplatz.web.content_editor import (
    NEW_VALUES,
    Owner,
    Page,
    editor_context,
    kind_of,
    restore_item,
    save_item,
    shown,
    text_preview_page,
    withdraw_item,
)
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import LoggedIn, can_edit_shop, form_text
from marktplatz.web.portal.story import Language, Source
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])


async def _owner(request: Request, user: Any, shop_id: UUID) -> Owner:
    """The shop (if the user may see it) as the owner of the items in the editor."""
    ctx = app_of(request).ctx
    shop = await shops.get_shop(ctx, user, shop_id)
    _, _, city = await shops.public_shop_by_id(ctx, shop.id)
    base = f"/portal/shops/{shop.id}/content"
    return Owner(city, shop, "/portal/content", base, f"{base}/preview")


def _shop(owner: Owner) -> Shop:
    assert owner.shop is not None  # a portal owner is always a shop
    return owner.shop


async def _editor(
    request: Request, user: Any, owner: Owner, kind: ContentKind, **given: Any
) -> Response:
    ctx = app_of(request).ctx
    shop = _shop(owner)
    _, images, _ = await shops.public_shop_by_id(ctx, shop.id)
    status_code = given.pop("status_code", 200)
    shown_values = await editor_context(
        request, user, owner, kind, can_edit=can_edit_shop(user, shop), images=images, **given
    )
    return render(
        request,
        "portal/content_edit.html",
        status_code=status_code,
        shop=shop,
        city=owner.city,
        pharmacy=shop.category.value == "pharmacy",
        **shown_values,
    )


async def _item(request: Request, user: Any, content_id: UUID) -> tuple[Owner, Content]:
    """A shop's item with its owner; the city's own items are edited in the console."""
    item = await content_service.get_content(app_of(request).ctx, user, content_id)
    if item.shop_id is None:
        raise NotFound("content")
    return await _owner(request, user, item.shop_id), item


def _page(request: Request, user: Any, owner: Owner, kind: ContentKind) -> Page:
    async def page(**given: Any) -> Response:
        return await _editor(request, user, owner, kind, **given)

    return page


@router.get("/portal/shops/{shop_id}/content", response_class=HTMLResponse)
async def content_list(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Everything the shop wrote, with its state, and buttons to write something new."""
    owner = await _owner(request, user, shop_id)
    shop = _shop(owner)
    items = await content_service.shop_contents(app_of(request).ctx, user, shop_id)
    return render(
        request,
        "portal/content.html",
        shop=shop,
        city=owner.city,
        items=items,
        can_edit=can_edit_shop(user, shop),
    )


@router.get("/portal/shops/{shop_id}/content/new", response_class=HTMLResponse)
async def content_new(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    kind = kind_of(request.query_params.get("kind", "offer"))
    owner = await _owner(request, user, shop_id)
    return await _editor(request, user, owner, kind, values=dict(NEW_VALUES))


@router.post("/portal/shops/{shop_id}/content", response_class=HTMLResponse)
async def content_create(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    form = await request.form()
    kind = kind_of(form_text(form, "kind"))
    owner = await _owner(request, user, shop_id)
    page = _page(request, user, owner, kind)
    return await save_item(request, user, owner, kind, item=None, page=page)


@router.post("/portal/shops/{shop_id}/content/preview", response_class=HTMLResponse)
async def content_text_preview(
    request: Request, shop_id: UUID, user: LoggedIn, source: Source = "", language: Language = "de"
) -> Response:
    """The live preview of an item's text as the shop page shows it; changes nothing."""
    ctx = app_of(request).ctx
    preview = await story.preview_story(ctx, user, shop_id, source, area=None)
    return text_preview_page(request, preview, language)


@router.get("/portal/content/{content_id}", response_class=HTMLResponse)
async def content_edit(request: Request, content_id: UUID, user: LoggedIn) -> Response:
    """The editor with the item's state and what a visitor at a touchpoint would see now."""
    owner, item = await _item(request, user, content_id)
    return await _editor(request, user, owner, item.kind, item=item)


@router.post("/portal/content/{content_id}", response_class=HTMLResponse)
async def content_update(request: Request, content_id: UUID, user: LoggedIn) -> Response:
    owner, item = await _item(request, user, content_id)
    page = _page(request, user, owner, item.kind)
    return await save_item(request, user, owner, item.kind, item=item, page=page)


@router.post("/portal/content/{content_id}/withdraw")
async def content_withdraw(request: Request, content_id: UUID, user: LoggedIn) -> Response:
    """Take an item off the site (back to a draft)."""
    owner, item = await _item(request, user, content_id)
    return await withdraw_item(request, user, owner, item)


@router.get("/portal/content/{content_id}/versions/{version_id}", response_class=HTMLResponse)
async def content_version_page(
    request: Request, content_id: UUID, version_id: int, user: LoggedIn
) -> Response:
    """One saved version of an item's title and text, as visitors saw it."""
    owner, item = await _item(request, user, content_id)
    _, version = await content_service.content_version(
        app_of(request).ctx, user, item.id, version_id
    )
    return render(
        request,
        "portal/content_version.html",
        shop=owner.shop,
        item=item,
        version=version,
        current=shown(item, version),
    )


@router.post("/portal/content/{content_id}/versions/{version_id}/restore")
async def content_restore(
    request: Request, content_id: UUID, version_id: int, user: LoggedIn
) -> Response:
    """Bring back an older title and text as a new version, with the status rules of an edit."""
    owner, item = await _item(request, user, content_id)
    page = _page(request, user, owner, item.kind)
    return await restore_item(request, user, owner, item, version_id, page)
