"""Retailer portal: a shop's profile, pictures and its QR/NFC touchpoints."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from marktplatz.domain.accounts import Role, User
from marktplatz.domain.errors import N_, Conflict, InvalidInput
from marktplatz.domain.richtext import plain_text
from marktplatz.domain.shops import Shop, ShopArea
from marktplatz.services import access, cities, shops, touchpoints
from marktplatz.web import presenters as p
from marktplatz.web.pages import field_errors, render
from marktplatz.web.security import CurrentUser, csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import close_form, form_values, read_upload

router = APIRouter(include_in_schema=False, dependencies=[Depends(close_form), Depends(csrf_guard)])

SHOP_FIELDS = (
    "name",
    "category",
    "street",
    "postcode",
    "town",
    "phone",
    "email",
    "website",
)
# Domain field paths that have no input of that name on our forms.
_ALIASES = {"location": "lat", "location.lat": "lat", "location.lon": "lon"}


# --- helpers shared with the console -------------------------------------------------------


async def logged_in(user: CurrentUser) -> User:
    """The logged-in user; anonymous visitors get Forbidden, answered with a 303 to the login."""
    return access.require_user(user)


LoggedIn = Annotated[User, Depends(logged_in)]


def saved(path: str) -> Response:
    """POST-redirect-GET after a successful change, with the success notice."""
    return RedirectResponse(f"{path}?saved=1", status_code=303)


def form_errors(
    request: Request, exc: InvalidInput | Conflict, aliases: Mapping[str, str] | None = None
) -> dict[str, str]:
    """field_errors(), keyed by the name of the form input that caused the error."""
    (message,) = field_errors(request, exc).values()
    field = exc.field
    key = (aliases or {}).get(field) or _ALIASES.get(field) or field.replace(".", "_")
    return {key: message}


def form_text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_number(form: FormData, name: str) -> float:
    """A coordinate typed into a form; a German decimal comma is accepted too."""
    try:
        return float(form_text(form, name).strip().replace(",", "."))
    except ValueError:
        raise InvalidInput(name, N_("Latitude and longitude must be numbers.")) from None


def form_whole(form: FormData, name: str, field: str | None = None) -> int | None:
    """A whole number typed into a form, or None when left empty."""
    text = form_text(form, name).strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(field or name, N_("Enter a whole number.")) from None


# --- pages ---------------------------------------------------------------------------------


def can_edit_shop(user: User, shop: Shop, area: ShopArea | None = None) -> bool:
    """Whether the user may change the shop (or that area of it); see access.may_edit_shop."""
    return access.may_edit_shop(user, shop, area)


def _shop_values(shop: Shop) -> dict[str, str]:
    values = {name: str(getattr(shop, name)) for name in SHOP_FIELDS}
    values["category"] = shop.category.value
    values["lat"], values["lon"] = str(shop.location.lat), str(shop.location.lon)
    return values


def _shop_changes(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {name: form_text(form, name) for name in SHOP_FIELDS}
    data["lat"], data["lon"] = form_number(form, "lat"), form_number(form, "lon")
    return data


@router.get("/portal", response_class=HTMLResponse)
async def portal_home(request: Request, user: LoggedIn) -> Response:
    """The shops of the user, and the consoles of the cities they work for."""
    ctx = app_of(request).ctx
    own = [await shops.get_shop(ctx, user, shop_id) for shop_id in access.shops_of(user)]
    own.sort(key=lambda shop: shop.name.lower())
    consoles = [c for c in await cities.list_cities(ctx) if user.city_role(c.id) is not None]
    if len(own) == 1 and not consoles:
        # A cashier's work is the till: staff land there, owners on their shop's overview.
        page = "till" if user.shop_role(own[0].id) is Role.RETAILER_STAFF else "overview"
        return RedirectResponse(f"/portal/shops/{own[0].id}/{page}", status_code=303)
    return render(request, "portal/index.html", shops=own, consoles=consoles)


async def _shop_page(
    request: Request,
    user: User,
    shop_id: UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    image_errors: dict[str, str] | None = None,
    image_values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    ctx = app_of(request).ctx
    shop = await shops.get_shop(ctx, user, shop_id)
    _, images, city = await shops.public_shop_by_id(ctx, shop.id)
    return render(
        request,
        "portal/shop.html",
        status_code=status_code,
        shop=shop,
        city=city,
        images=images,
        image_url=p.image_url,
        story_excerpt=plain_text(shop.story_html),
        can_edit=can_edit_shop(user, shop),
        can_edit_story=can_edit_shop(user, shop, ShopArea.STORY),
        status=p.hours_status(shop, city, ctx.clock.now()),
        values=values if values is not None else _shop_values(shop),
        errors=errors or {},
        image_errors=image_errors or {},
        image_values=image_values or {},
    )


@router.get("/portal/shops/{shop_id}", response_class=HTMLResponse)
async def shop_page(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """The profile editor, with the opening state now and the shop's pictures."""
    return await _shop_page(request, user, shop_id)


@router.post("/portal/shops/{shop_id}", response_class=HTMLResponse)
async def shop_submit(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    form = await request.form()
    try:
        await shops.update_shop(app_of(request).ctx, user, shop_id, _shop_changes(form))
    except (InvalidInput, Conflict) as exc:
        return await _shop_page(
            request,
            user,
            shop_id,
            values=form_values(form),
            errors=form_errors(request, exc),
            status_code=422,
        )
    return saved(f"/portal/shops/{shop_id}")


@router.post("/portal/shops/{shop_id}/images", response_class=HTMLResponse)
async def image_upload(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Add a picture; the service re-encodes it and drops its metadata."""
    ctx = app_of(request).ctx
    data, _, values = await read_upload(request, ctx.max_upload_bytes, "image")
    try:
        if not data:
            raise InvalidInput("image", N_("Please choose a picture to upload."))
        await shops.add_shop_image(ctx, user, shop_id, data, values.get("alt_text", ""))
    except (InvalidInput, Conflict) as exc:
        return await _shop_page(
            request,
            user,
            shop_id,
            image_values=values,
            image_errors=form_errors(request, exc),
            status_code=422,
        )
    return saved(f"/portal/shops/{shop_id}")


@router.post("/portal/shops/{shop_id}/images/{image_id}/delete")
async def image_delete(request: Request, shop_id: UUID, image_id: UUID, user: LoggedIn) -> Response:
    await shops.delete_shop_image(app_of(request).ctx, user, shop_id, image_id)
    return saved(f"/portal/shops/{shop_id}")


async def _touchpoints_page(
    request: Request,
    user: User,
    shop_id: UUID,
    *,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    app = app_of(request)
    shop = await shops.get_shop(app.ctx, user, shop_id)
    points = await touchpoints.list_touchpoints(app.ctx, user, shop.city_id)
    own = [t for t in points if t.shop_id == shop.id]
    return render(
        request,
        "portal/touchpoints.html",
        status_code=status_code,
        shop=shop,
        touchpoints=own,
        can_edit=can_edit_shop(user, shop),
        errors=errors or {},
        values=values or {},
        short_urls={t.id: t.short_url(app.settings.base_url) for t in own},
    )


@router.get("/portal/shops/{shop_id}/touchpoints", response_class=HTMLResponse)
async def shop_touchpoints(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """The shop's QR codes, NFC tags and beacons, with the QR images to print."""
    return await _touchpoints_page(request, user, shop_id)


@router.post("/portal/touchpoints/{touchpoint_id}/target", response_class=HTMLResponse)
async def touchpoint_target(request: Request, touchpoint_id: UUID, user: LoggedIn) -> Response:
    """Point a printed code at a new address; the code itself never changes."""
    ctx = app_of(request).ctx
    current = await touchpoints.get_touchpoint(ctx, user, touchpoint_id)
    form = await request.form()
    target = form_text(form, "target")
    try:
        updated = await touchpoints.update_touchpoint(ctx, user, touchpoint_id, {"target": target})
    except (InvalidInput, Conflict) as exc:
        if current.shop_id is None:
            raise
        key = f"target-{touchpoint_id}"
        return await _touchpoints_page(
            request,
            user,
            current.shop_id,
            status_code=422,
            errors=form_errors(request, exc, {"target": key}),
            values={key: target},
        )
    if updated.shop_id is None:
        return saved("/portal")
    return saved(f"/portal/shops/{updated.shop_id}/touchpoints")
