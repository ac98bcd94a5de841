"""The console's users page: city admins change roles, disable and enable accounts."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marktplatz.domain.errors import Conflict, InvalidInput, NotFound
from marktplatz.services import city_people, shops
from marktplatz.web.console.routes import Staff, StaffOf, console_page
from marktplatz.web.pages import field_errors
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])
NOTICES = frozenset({"role", "removed", "disabled", "enabled"})
RoleField = Annotated[str, Form(max_length=40)]
ShopField = Annotated[str, Form(max_length=40)]


async def _page(request: Request, staff: Staff, status: int = 200, error: str = "") -> Response:
    ctx = app_of(request).ctx
    people = await city_people.city_people(ctx, staff.user, staff.city.id)
    done = request.query_params.get("done", "")
    who = request.query_params.get("who", "")
    named = next((p.user.display_name for p in people if str(p.user.id) == who), "")
    return console_page(
        request,
        "console/users.html",
        staff,
        "users",
        status,
        people=people,
        shop_names={s.id: s.name for s in await shops.list_shops(ctx, staff.city.id)},
        notice=done if done in NOTICES and named else "",
        notice_name=named,
        error=error,
    )


def _shop_id(value: str) -> UUID | None:
    """The shop of a shop role from the form; empty for a city role."""
    try:
        return UUID(value) if value else None
    except ValueError:
        raise NotFound("role") from None


async def _act(
    request: Request, staff: Staff, person_id: UUID, done: str, change: Awaitable[Any]
) -> Response:
    """Run a change; refused ones re-render the page with the reason, done ones redirect."""
    try:
        await change
    except (InvalidInput, Conflict) as exc:
        (message,) = field_errors(request, exc).values()
        return await _page(request, staff, 422, message)
    url = f"{staff.base}/users?done={done}&who={person_id}"
    return RedirectResponse(url, status_code=303)


@router.get("/{city}/users", response_class=HTMLResponse)
async def users_page(request: Request, staff: StaffOf) -> Response:
    """Everyone with a role in the city or its shops, with what an admin may change (admins)."""
    return await _page(request, staff)


@router.post("/{city}/users/{user_id}/role", response_class=HTMLResponse)
async def user_role_change(
    request: Request,
    user_id: UUID,
    staff: StaffOf,
    role: RoleField = "",
    shop: ShopField = "",
    to: RoleField = "",
) -> Response:
    """Change one role: city admin ↔ city editor, or a shop's owner ↔ its cashier."""
    change = city_people.change_role(
        app_of(request).ctx,
        staff.user,
        staff.city.id,
        user_id,
        role=role,
        shop_id=_shop_id(shop),
        to=to,
    )
    return await _act(request, staff, user_id, "role", change)


@router.post("/{city}/users/{user_id}/role/remove", response_class=HTMLResponse)
async def user_role_remove(
    request: Request, user_id: UUID, staff: StaffOf, role: RoleField = "", shop: ShopField = ""
) -> Response:
    """Take one role in this city away (confirmed on the page before this is sent)."""
    ctx, shop_id = app_of(request).ctx, _shop_id(shop)
    change = city_people.remove_role(
        ctx, staff.user, staff.city.id, user_id, role=role, shop_id=shop_id
    )
    return await _act(request, staff, user_id, "removed", change)


@router.post("/{city}/users/{user_id}/disable", response_class=HTMLResponse)
async def user_disable(request: Request, user_id: UUID, staff: StaffOf) -> Response:
    """Disable an account: its sessions end at once and its logins are refused."""
    ctx = app_of(request).ctx
    change = city_people.set_active(ctx, staff.user, staff.city.id, user_id, active=False)
    return await _act(request, staff, user_id, "disabled", change)


@router.post("/{city}/users/{user_id}/enable", response_class=HTMLResponse)
async def user_enable(request: Request, user_id: UUID, staff: StaffOf) -> Response:
    """Enable a disabled account again: its password logs in as before."""
    ctx = app_of(request).ctx
    change = city_people.set_active(ctx, staff.user, staff.city.id, user_id, active=True)
    return await _act(request, staff, user_id, "enabled", change)
