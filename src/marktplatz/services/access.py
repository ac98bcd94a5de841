"""access_* helpers: check the caller's tenant scope before a row is handed out."""

from __future__ import annotations

from uuid import UUID

from marktplatz.domain.accounts import CITY_ROLES, Role, User
from marktplatz.domain.cities import City
from marktplatz.domain.content import Content
from marktplatz.domain.errors import Forbidden, NotFound
from marktplatz.domain.shops import Shop, ShopArea
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.domain.zones import Zone
from marktplatz.services.ports import UnitOfWork


def require_user(actor: User | None) -> User:
    """The logged-in user, or Forbidden for anonymous callers."""
    if actor is None or not actor.is_active:
        raise Forbidden("login required")
    return actor


def can_manage_city(actor: User | None, city_id: UUID, *, admin: bool = False) -> bool:
    """Whether the actor is city staff (an admin, if `admin`) of that city."""
    if actor is None or not actor.is_active:
        return False
    role = actor.city_role(city_id)
    return role is Role.CITY_ADMIN if admin else role in CITY_ROLES


def belongs_to_city(user: User, city_id: UUID) -> bool:
    """Whether the user has any role in the city: as its staff or in one of its shops."""
    return any(m.city_id == city_id for m in user.memberships)


def check_city_staff(
    actor: User | None, city_id: UUID, *, admin: bool = False, what: str = "city"
) -> User:
    """The actor, if city staff (an admin, if `admin`) of that city.

    Someone with no role in the city gets NotFound: another tenant must look nonexistent.
    The city's own retailers get Forbidden: they know the city, they just may not run it.
    """
    user = require_user(actor)
    if not belongs_to_city(user, city_id):
        raise NotFound(what)
    role = user.city_role(city_id)
    if role is None:
        raise Forbidden("city staff required")
    if admin and role is not Role.CITY_ADMIN:
        raise Forbidden("city admin required")
    return user


async def access_city(
    uow: UnitOfWork, actor: User | None, city_id: UUID, *, admin: bool = False
) -> City:
    """The city, if the actor is its staff (see check_city_staff for who gets 404 or 403)."""
    require_user(actor)
    city = await uow.cities.get(city_id)
    if city is None:
        raise NotFound("city")
    check_city_staff(actor, city_id, admin=admin)
    return city


async def access_member_city(uow: UnitOfWork, actor: User | None, city_id: UUID) -> City:
    """The city, if the actor has any role in it or in one of its shops; else it looks missing."""
    user = require_user(actor)
    city = await uow.cities.get(city_id)
    if city is None or not belongs_to_city(user, city_id):
        raise NotFound("city")
    return city


def may_edit_shop(actor: User | None, shop: Shop, area: ShopArea | None = None) -> bool:
    """Whether the actor may change the shop (or that area of it): its owner, the city's staff,
    or its staff where the owner opened the area to them."""
    if actor is None or not actor.is_active:
        return False
    if can_manage_city(actor, shop.city_id):
        return True
    role = actor.shop_role(shop.id)
    if role is Role.RETAILER_OWNER:
        return True
    return role is Role.RETAILER_STAFF and area is not None and area in shop.staff_may_edit


async def access_shop(
    uow: UnitOfWork,
    actor: User | None,
    shop_id: UUID,
    *,
    edit: bool = False,
    area: ShopArea | None = None,
) -> Shop:
    """The shop, if the actor is its city's staff or its retailer; staff may only read, except
    the `area` of an edit that the owner opened to them."""
    user = require_user(actor)
    shop = await uow.shops.get(shop_id)
    if shop is None:
        raise NotFound("shop")
    if can_manage_city(user, shop.city_id):
        return shop
    if user.shop_role(shop.id) is None:
        raise NotFound("shop")
    if edit and not may_edit_shop(user, shop, area):
        raise Forbidden("shop owner required")
    return shop


async def access_zone(uow: UnitOfWork, actor: User | None, zone_id: UUID) -> Zone:
    """The zone, if the actor is staff of its city (see check_city_staff)."""
    require_user(actor)
    zone = await uow.zones.get(zone_id)
    if zone is None:
        raise NotFound("zone")
    check_city_staff(actor, zone.city_id, what="zone")
    return zone


async def access_touchpoint(
    uow: UnitOfWork, actor: User | None, touchpoint_id: UUID, *, edit: bool = False
) -> Touchpoint:
    """The touchpoint, if the actor is city staff, or its owning shop's retailer."""
    user = require_user(actor)
    touchpoint = await uow.touchpoints.get(touchpoint_id)
    if touchpoint is None:
        raise NotFound("touchpoint")
    if can_manage_city(user, touchpoint.city_id):
        return touchpoint
    role = user.shop_role(touchpoint.shop_id) if touchpoint.shop_id else None
    if role is None:
        raise NotFound("touchpoint")
    if edit and role is not Role.RETAILER_OWNER:
        raise Forbidden("shop owner required")
    return touchpoint


async def access_content(
    uow: UnitOfWork, actor: User | None, content_id: UUID, *, edit: bool = False
) -> Content:
    """The item, if the actor is its city's staff or its shop's retailer (owner to edit)."""
    user = require_user(actor)
    content = await uow.contents.get(content_id)
    if content is None:
        raise NotFound("content")
    if can_manage_city(user, content.city_id):
        return content
    if content.shop_id is None:
        check_city_staff(user, content.city_id, what="content")
    else:
        await access_shop(uow, user, content.shop_id, edit=edit)
    return content


def shops_of(actor: User | None) -> set[UUID]:
    """Ids of the shops the actor belongs to as a retailer."""
    if actor is None:
        return set()
    return {m.shop_id for m in actor.memberships if m.shop_id is not None}
