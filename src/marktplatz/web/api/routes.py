"""JSON API v1: cities, zones, shops, touchpoints, users and the login session."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.cities import City
from marktplatz.domain.hours import OpenState
from marktplatz.services import accounts, cities, shops, touchpoints
from marktplatz.web import presenters as p
from marktplatz.web.api import schemas as s
from marktplatz.web.security import (
    SESSION_COOKIE,
    CurrentUser,
    client_key,
    csrf_guard,
    current_session,
    set_session_cookie,
)
from marktplatz.web.state import app_of

router = APIRouter(prefix="/api/v1", dependencies=[Depends(csrf_guard)])


def _changes(model: s.Strict) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True, mode="json")


async def _city(request: Request, slug: str) -> City:
    return await cities.city_by_slug(app_of(request).ctx, slug)


def _need_login(user: object) -> None:
    if user is None:
        raise HTTPException(status_code=401, detail="login required")


@router.post("/session", response_model=s.SessionPublic, tags=["session"])
async def login(request: Request, response: Response, body: s.LoginRequest) -> s.SessionPublic:
    """Log in with e-mail and password; sets the session cookie and returns the CSRF token.

    With two-factor login on, `code` (the current 6-digit code or a recovery code) is needed
    too: without it 401 "second factor required", a wrong one 401 "second factor wrong".
    """
    app = app_of(request)
    started = await accounts.login(
        app.ctx, body.email, body.password, client_key(request), code=body.code or ""
    )
    if not isinstance(started, accounts.StartedSession):  # the code is always given here
        raise HTTPException(status_code=401, detail="second factor required")
    set_session_cookie(response, request, started.token)
    return s.SessionPublic(
        user=p.user_public(started.user),
        csrf_token=started.session.csrf_token,
        expires_at=started.session.expires_at,
    )


@router.delete("/session", status_code=204, tags=["session"])
async def logout(request: Request, response: Response) -> None:
    """End the current session."""
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await accounts.logout(app_of(request).ctx, token)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me", response_model=s.SessionPublic, tags=["session"])
async def me(request: Request) -> s.SessionPublic:
    """The logged-in user, their roles and the CSRF token for state changes."""
    found = await current_session(request)
    if found is None:
        raise HTTPException(status_code=401, detail="login required")
    session, user = found
    return s.SessionPublic(
        user=p.user_public(user), csrf_token=session.csrf_token, expires_at=session.expires_at
    )


@router.get("/cities", response_model=list[s.CityPublic], tags=["cities"])
async def list_cities(request: Request) -> list[s.CityPublic]:
    return [p.city_public(c) for c in await cities.list_cities(app_of(request).ctx)]


@router.get("/cities/{city}", response_model=s.CityPublic, tags=["cities"])
async def get_city(request: Request, city: str) -> s.CityPublic:
    return p.city_public(await _city(request, city))


@router.patch("/cities/{city}", response_model=s.CityPublic, tags=["cities"])
async def update_city(
    request: Request, city: str, body: s.CityUpdate, user: CurrentUser
) -> s.CityPublic:
    _need_login(user)
    found = await _city(request, city)
    updated = await cities.update_city(app_of(request).ctx, user, found.id, _changes(body))
    return p.city_public(updated)


@router.get("/cities/{city}/zones", response_model=list[s.ZonePublic], tags=["zones"])
async def list_zones(request: Request, city: str) -> list[s.ZonePublic]:
    found = await _city(request, city)
    return [p.zone_public(z) for z in await cities.list_zones(app_of(request).ctx, found.id)]


@router.post("/cities/{city}/zones", response_model=s.ZonePublic, status_code=201, tags=["zones"])
async def create_zone(
    request: Request, city: str, body: s.ZoneCreate, user: CurrentUser
) -> s.ZonePublic:
    _need_login(user)
    found = await _city(request, city)
    zone = await cities.create_zone(app_of(request).ctx, user, found.id, _changes(body))
    return p.zone_public(zone)


@router.get("/zones/{zone_id}", response_model=s.ZonePublic, tags=["zones"])
async def get_zone(request: Request, zone_id: UUID) -> s.ZonePublic:
    return p.zone_public(await cities.get_zone(app_of(request).ctx, zone_id))


@router.patch("/zones/{zone_id}", response_model=s.ZonePublic, tags=["zones"])
async def update_zone(
    request: Request, zone_id: UUID, body: s.ZoneUpdate, user: CurrentUser
) -> s.ZonePublic:
    _need_login(user)
    zone = await cities.update_zone(app_of(request).ctx, user, zone_id, _changes(body))
    return p.zone_public(zone)


@router.delete("/zones/{zone_id}", status_code=204, tags=["zones"])
async def delete_zone(request: Request, zone_id: UUID, user: CurrentUser) -> None:
    _need_login(user)
    await cities.delete_zone(app_of(request).ctx, user, zone_id)


@router.get("/cities/{city}/shops", response_model=list[s.ShopPublic], tags=["shops"])
async def list_shops(
    request: Request,
    city: str,
    category: ShopCategory | None = None,
    open_now: Annotated[bool, Query()] = False,
) -> list[s.ShopPublic]:
    """The shops of a city (public); filter by category and by open now."""
    ctx = app_of(request).ctx
    found = await _city(request, city)
    now = ctx.clock.now()
    images = await shops.city_images(ctx, found.id)
    result = [
        p.shop_public(shop, found, images.get(shop.id, []), now)
        for shop in await shops.list_shops(ctx, found.id, category)
    ]
    if open_now:
        result = [r for r in result if r.hours.state == OpenState.OPEN.value]
    return result


@router.post("/cities/{city}/shops", response_model=s.ShopPublic, status_code=201, tags=["shops"])
async def create_shop(
    request: Request, city: str, body: s.ShopCreate, user: CurrentUser
) -> s.ShopPublic:
    _need_login(user)
    ctx = app_of(request).ctx
    found = await _city(request, city)
    shop = await shops.create_shop(ctx, user, found.id, _changes(body))
    return p.shop_public(shop, found, [], ctx.clock.now())


@router.get("/shops/{shop_id}", response_model=s.ShopPublic, tags=["shops"])
async def get_shop(request: Request, shop_id: UUID) -> s.ShopPublic:
    """A shop's public profile."""
    ctx = app_of(request).ctx
    shop, images, city = await shops.public_shop_by_id(ctx, shop_id)
    return p.shop_public(shop, city, images, ctx.clock.now())


@router.patch("/shops/{shop_id}", response_model=s.ShopPublic, tags=["shops"])
async def update_shop(
    request: Request, shop_id: UUID, body: s.ShopUpdate, user: CurrentUser
) -> s.ShopPublic:
    """Change the profile, story or opening hours (the shop's owner or city staff).

    A story (Markdown or HTML) is saved as the portal's story editor saves it: sanitised, only
    the shop's own pictures with a description, and kept as a version that can be restored.
    """
    _need_login(user)
    ctx = app_of(request).ctx
    await shops.update_shop(ctx, user, shop_id, _changes(body))
    shop, images, city = await shops.public_shop_by_id(ctx, shop_id)
    return p.shop_public(shop, city, images, ctx.clock.now())


@router.post(
    "/shops/{shop_id}/images", response_model=s.ImagePublic, status_code=201, tags=["shops"]
)
async def upload_image(
    request: Request,
    shop_id: UUID,
    user: CurrentUser,
    image: Annotated[UploadFile, File()],
    alt_text: Annotated[str, Form(max_length=200)],
) -> s.ImagePublic:
    """Upload a picture (JPEG, PNG or WebP); it is re-encoded and stripped of metadata."""
    _need_login(user)
    ctx = app_of(request).ctx
    data = await image.read(ctx.max_upload_bytes + 1)
    stored = await shops.add_shop_image(ctx, user, shop_id, data, alt_text)
    return s.ImagePublic(
        id=stored.id,
        url=p.image_url(stored),
        alt_text=stored.alt_text,
        width=stored.width,
        height=stored.height,
    )


@router.delete("/shops/{shop_id}/images/{image_id}", status_code=204, tags=["shops"])
async def delete_image(request: Request, shop_id: UUID, image_id: UUID, user: CurrentUser) -> None:
    _need_login(user)
    await shops.delete_shop_image(app_of(request).ctx, user, shop_id, image_id)


@router.get(
    "/cities/{city}/touchpoints", response_model=list[s.TouchpointPublic], tags=["touchpoints"]
)
async def list_touchpoints(
    request: Request, city: str, user: CurrentUser
) -> list[s.TouchpointPublic]:
    """City staff see the fleet; retailers the touchpoints of their own shops."""
    _need_login(user)
    app = app_of(request)
    found = await _city(request, city)
    points = await touchpoints.list_touchpoints(app.ctx, user, found.id)
    return [p.touchpoint_public(t, app.settings.base_url) for t in points]


@router.post(
    "/cities/{city}/touchpoints",
    response_model=s.TouchpointPublic,
    status_code=201,
    tags=["touchpoints"],
)
async def create_touchpoint(
    request: Request, city: str, body: s.TouchpointCreate, user: CurrentUser
) -> s.TouchpointPublic:
    _need_login(user)
    app = app_of(request)
    found = await _city(request, city)
    created = await touchpoints.create_touchpoint(app.ctx, user, found.id, _changes(body))
    return p.touchpoint_public(created, app.settings.base_url)


@router.get("/touchpoints/{touchpoint_id}", response_model=s.TouchpointPublic, tags=["touchpoints"])
async def get_touchpoint(
    request: Request, touchpoint_id: UUID, user: CurrentUser
) -> s.TouchpointPublic:
    _need_login(user)
    app = app_of(request)
    found = await touchpoints.get_touchpoint(app.ctx, user, touchpoint_id)
    return p.touchpoint_public(found, app.settings.base_url)


@router.patch(
    "/touchpoints/{touchpoint_id}", response_model=s.TouchpointPublic, tags=["touchpoints"]
)
async def update_touchpoint(
    request: Request, touchpoint_id: UUID, body: s.TouchpointUpdate, user: CurrentUser
) -> s.TouchpointPublic:
    _need_login(user)
    app = app_of(request)
    updated = await touchpoints.update_touchpoint(app.ctx, user, touchpoint_id, _changes(body))
    return p.touchpoint_public(updated, app.settings.base_url)


@router.get("/touchpoints/{touchpoint_id}/qr.{kind}", tags=["touchpoints"], response_class=Response)
async def touchpoint_qr(
    request: Request, touchpoint_id: UUID, kind: s.Kind, user: CurrentUser
) -> Response:
    """The printable QR code (SVG or PDF) of a QR, NFC or URL-beacon touchpoint."""
    _need_login(user)
    try:
        found, data, media_type = await touchpoints.printable_qr(
            app_of(request).ctx, user, touchpoint_id, kind
        )
    except touchpoints.NoQrCode as exc:
        raise HTTPException(status_code=404, detail="this touchpoint has no QR code") from exc
    if kind == "svg":
        return Response(data, media_type=media_type)
    disposition = f'attachment; filename="qr-{found.code}.pdf"'
    return Response(data, media_type=media_type, headers={"content-disposition": disposition})


@router.get("/cities/{city}/users", response_model=list[s.UserPublic], tags=["users"])
async def list_users(request: Request, city: str, user: CurrentUser) -> list[s.UserPublic]:
    """Everyone with a role in the city or its shops (city admins only)."""
    _need_login(user)
    found = await _city(request, city)
    return [
        p.user_public(u)
        for u in await accounts.list_city_users(app_of(request).ctx, user, found.id)
    ]
