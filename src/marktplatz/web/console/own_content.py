"""City console: the city's own offers, stories and job postings, in the portal's editor."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.content import Content, ContentKind
from marktplatz.domain.errors import NotFound
from marktplatz.services import content as content_service
from marktplatz.services import story
from marktplatz.web.console.routes import Staff, StaffOf, console_page
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
from marktplatz.web.portal.routes import form_text
from marktplatz.web.portal.story import Language, Source
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])
# The city's events have pages of their own (registration, participants): not edited here.
KINDS = (ContentKind.OFFER, ContentKind.STORY, ContentKind.JOB)


def _owner(staff: Staff) -> Owner:
    base = f"{staff.base}/content"
    return Owner(staff.city, None, base, base, f"{base}/preview")


def _kind(raw: str) -> ContentKind:
    kind = kind_of(raw)
    if kind not in KINDS:
        raise NotFound("kind")
    return kind


async def _editor(request: Request, staff: Staff, kind: ContentKind, **given: Any) -> Response:
    status_code = given.pop("status_code", 200)
    shown_values = await editor_context(request, staff.user, _owner(staff), kind, **given)
    return console_page(
        request, "console/content_edit.html", staff, "content", status_code, **shown_values
    )


def _page(request: Request, staff: Staff, kind: ContentKind) -> Page:
    async def page(**given: Any) -> Response:
        return await _editor(request, staff, kind, **given)

    return page


async def _item(request: Request, staff: Staff, content_id: UUID) -> Content:
    """One of this city's own items; a shop's item, an event or another city's looks missing."""
    item = await content_service.get_content(app_of(request).ctx, staff.user, content_id)
    if item.city_id != staff.city.id or item.shop_id is not None or item.kind not in KINDS:
        raise NotFound("content")
    return item


@router.get("/{city}/content", response_class=HTMLResponse)
async def content_list(request: Request, staff: StaffOf) -> Response:
    """The city's own items, newest first, with their state and window."""
    found = await content_service.city_contents(app_of(request).ctx, staff.user, staff.city.id)
    items = [c for c in found if c.shop_id is None and c.kind in KINDS]
    return console_page(request, "console/content.html", staff, "content", items=items, kinds=KINDS)


@router.get("/{city}/content/new", response_class=HTMLResponse)
async def content_new(request: Request, staff: StaffOf) -> Response:
    kind = _kind(request.query_params.get("kind", "offer"))
    return await _editor(request, staff, kind, values=dict(NEW_VALUES))


@router.post("/{city}/content", response_class=HTMLResponse)
async def content_create(request: Request, staff: StaffOf) -> Response:
    """A new item of the city; "save and publish" goes through the city's approval rules."""
    kind = _kind(form_text(await request.form(), "kind"))
    page = _page(request, staff, kind)
    return await save_item(request, staff.user, _owner(staff), kind, item=None, page=page)


@router.post("/{city}/content/preview", response_class=HTMLResponse)
async def content_text_preview(
    request: Request, staff: StaffOf, source: Source = "", language: Language = "de"
) -> Response:
    """The live preview of an item's text as visitors will see it; changes nothing."""
    ctx = app_of(request).ctx
    preview = await story.preview_city_text(ctx, staff.user, staff.city.id, source)
    return text_preview_page(request, preview, language)


@router.get("/{city}/content/{content_id}", response_class=HTMLResponse)
async def content_edit(request: Request, content_id: UUID, staff: StaffOf) -> Response:
    """The editor with the item's state and what a visitor at a touchpoint would see now."""
    item = await _item(request, staff, content_id)
    return await _editor(request, staff, item.kind, item=item)


@router.post("/{city}/content/{content_id}", response_class=HTMLResponse)
async def content_update(request: Request, content_id: UUID, staff: StaffOf) -> Response:
    item = await _item(request, staff, content_id)
    page = _page(request, staff, item.kind)
    return await save_item(request, staff.user, _owner(staff), item.kind, item=item, page=page)


@router.post("/{city}/content/{content_id}/withdraw")
async def content_withdraw(request: Request, content_id: UUID, staff: StaffOf) -> Response:
    """Take an item off the site (back to a draft)."""
    item = await _item(request, staff, content_id)
    return await withdraw_item(request, staff.user, _owner(staff), item)


@router.get("/{city}/content/{content_id}/versions/{version_id}", response_class=HTMLResponse)
async def content_version_page(
    request: Request, content_id: UUID, version_id: int, staff: StaffOf
) -> Response:
    """One saved version of an item's title and text, as visitors saw it."""
    item = await _item(request, staff, content_id)
    _, version = await content_service.content_version(
        app_of(request).ctx, staff.user, item.id, version_id
    )
    return console_page(
        request,
        "console/content_version.html",
        staff,
        "content",
        item=item,
        version=version,
        current=shown(item, version),
        owner=_owner(staff),
    )


@router.post("/{city}/content/{content_id}/versions/{version_id}/restore")
async def content_restore(
    request: Request, content_id: UUID, version_id: int, staff: StaffOf
) -> Response:
    """Bring back an older title and text as a new version, with the status rules of an edit."""
    item = await _item(request, staff, content_id)
    page = _page(request, staff, item.kind)
    return await restore_item(request, staff.user, _owner(staff), item, version_id, page)
