"""The story editor in the portal: write in Markdown with a toolbar, preview, save, restore."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import asdict
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import N_, Conflict, InvalidInput
from marktplatz.domain.richtext import MAX_RICH_TEXT
from marktplatz.domain.shops import ShopArea
from marktplatz.domain.story import (
    STORY_LANGUAGES,
    VERSIONS_KEPT,
    RenderedStory,
    picture_of,
    shown_version,
)
from marktplatz.services import shops, story
from marktplatz.services.context import Context
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import LoggedIn, form_errors
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import close_form, read_upload

router = APIRouter(include_in_schema=False, dependencies=[Depends(close_form), Depends(csrf_guard)])
NOTICES = {"saved", "restored", "picture"}

Source = Annotated[str, Form(max_length=MAX_RICH_TEXT + 1000)]
Language = Annotated[str, Form(max_length=2)]


def _editor_url(shop_id: UUID, language: str, done: str = "") -> str:
    return f"/portal/shops/{shop_id}/story?language={language}" + (f"&done={done}" if done else "")


async def rendered_preview(
    ctx: Context, user: User, shop_id: UUID, text: str, area: ShopArea | None = ShopArea.STORY
) -> RenderedStory:
    """The story (or an item's text) rendered; a text that cannot be (too long) shows why."""
    return await explained(story.preview_story(ctx, user, shop_id, text, area))


async def explained(rendering: Awaitable[RenderedStory]) -> RenderedStory:
    """A rendered text, or nothing with the reason why it cannot be rendered (too long)."""
    try:
        return await rendering
    except InvalidInput as exc:
        return RenderedStory("", (exc,))


async def _page(
    request: Request,
    user: User,
    shop_id: UUID,
    language: str,
    *,
    status_code: int = 200,
    source: str | None = None,
    **context: Any,
) -> Response:
    ctx = app_of(request).ctx
    language = language if language in STORY_LANGUAGES else "de"
    desk = await story.story_desk(ctx, user, shop_id, language)
    text = desk.source if source is None else source
    done = request.query_params.get("done", "")
    return render(
        request,
        "portal/story.html",
        status_code=status_code,
        shop=desk.shop,
        language=desk.language,
        languages=STORY_LANGUAGES,
        source=text,
        preview=await rendered_preview(ctx, user, shop_id, text),
        pictures=[picture_of(image) for image in desk.pictures],
        versions=desk.versions,
        versions_kept=VERSIONS_KEPT,
        max_length=MAX_RICH_TEXT,
        published=story.published(desk.shop, desk.language),
        shown=shown_version(story.published(desk.shop, desk.language), desk.versions),
        newest=desk.versions[0] if desk.versions else None,
        notice=done if done in NOTICES else "",
        **{"errors": {}, "image_errors": {}, "image_values": {}, **context},
    )


@router.get("/portal/shops/{shop_id}/story", response_class=HTMLResponse)
async def story_page(
    request: Request, shop_id: UUID, user: LoggedIn, language: str = "de"
) -> Response:
    """The editor of the shop's story in German or English, with its preview and versions."""
    return await _page(request, user, shop_id, language)


@router.post("/portal/shops/{shop_id}/story", response_class=HTMLResponse)
async def story_submit(
    request: Request,
    shop_id: UUID,
    user: LoggedIn,
    source: Source = "",
    language: Language = "de",
    action: Annotated[str, Form(max_length=10)] = "save",
) -> Response:
    """Save the story as a new version (published, or sent to the city where its rules ask), or
    (the "Preview" button) only show it rendered."""
    if action == "preview":
        return await _page(request, user, shop_id, language, source=source)
    try:
        await story.save_story(app_of(request).ctx, user, shop_id, language, source)
    except InvalidInput as exc:
        errors = form_errors(request, exc)
        return await _page(
            request, user, shop_id, language, status_code=422, source=source, errors=errors
        )
    return RedirectResponse(_editor_url(shop_id, language, "saved"), status_code=303)


@router.post("/portal/shops/{shop_id}/story/preview", response_class=HTMLResponse)
async def story_preview(
    request: Request, shop_id: UUID, user: LoggedIn, source: Source = "", language: Language = "de"
) -> Response:
    """The live preview: the story rendered as the visitor page shows it; changes nothing."""
    shown = await story.preview_story(app_of(request).ctx, user, shop_id, source)
    return render(request, "portal/_story_preview.html", preview=shown, language=language)


@router.post("/portal/shops/{shop_id}/story/images", response_class=HTMLResponse)
async def story_picture(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Upload a picture with its description from the editor; scripts get it back as JSON."""
    ctx = app_of(request).ctx
    wants_json = "application/json" in request.headers.get("accept", "")
    data, _, values = await read_upload(request, ctx.max_upload_bytes, "image")
    language = values.get("language", "de")
    try:
        if not data:
            raise InvalidInput("image", N_("Please choose a picture to upload."))
        alt = values.get("alt_text", "")
        image = await shops.add_shop_image(ctx, user, shop_id, data, alt, ShopArea.STORY)
    except (InvalidInput, Conflict) as exc:
        errors = form_errors(request, exc)
        if wants_json:
            return JSONResponse({"errors": errors}, status_code=422)
        return await _page(
            request,
            user,
            shop_id,
            language,
            status_code=422,
            image_errors=errors,
            image_values=values,
        )
    if wants_json:
        picture = picture_of(image)
        return JSONResponse({**asdict(picture), "markdown": picture.markdown}, status_code=201)
    return RedirectResponse(
        _editor_url(shop_id, language, "picture") + "#pictures-h", status_code=303
    )


@router.get("/portal/shops/{shop_id}/story/versions/{version_id}", response_class=HTMLResponse)
async def story_version_page(
    request: Request, shop_id: UUID, version_id: int, user: LoggedIn
) -> Response:
    """One saved version: as the visitor saw it, and its text."""
    shop, version = await story.story_version(app_of(request).ctx, user, shop_id, version_id)
    return render(
        request,
        "portal/story_version.html",
        shop=shop,
        version=version,
        current=version.html == story.published(shop, version.language),
    )


@router.post(
    "/portal/shops/{shop_id}/story/versions/{version_id}/restore", response_class=HTMLResponse
)
async def story_restore(
    request: Request, shop_id: UUID, version_id: int, user: LoggedIn
) -> Response:
    """Publish an older version again (as a new version; nothing is deleted)."""
    ctx = app_of(request).ctx
    shop, version = await story.story_version(ctx, user, shop_id, version_id)
    try:
        await story.restore_story(ctx, user, shop.id, version.id)
    except InvalidInput as exc:
        errors = form_errors(request, exc)
        return await _page(request, user, shop.id, version.language, status_code=422, errors=errors)
    return RedirectResponse(_editor_url(shop.id, version.language, "restored"), status_code=303)
