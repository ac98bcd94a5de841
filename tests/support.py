"""Test helpers shared by the suites: tenants, users and logins made through the services."""

from __future__ import annotations

import io
import ipaddress
import itertools
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from PIL import Image

from marktplatz.bootstrap import App
from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.content import Action, Content, ContentKind, ContentStatus
from marktplatz.domain.shops import Shop
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import accounts, cities, content, coupons, shops, touchpoints
from marktplatz.services.content import ContentInput, CouponInput

PASSWORD = "Sonnenblume-42-Markt"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class Tenant:
    """A city with two shops and one user per role; every test gets its own."""

    city: City
    shop_a: Shop
    shop_b: Shop
    users: dict[str, User]


SQUARE = {
    "type": "Polygon",
    "coordinates": [[[8.74, 52.10], [8.76, 52.10], [8.76, 52.11], [8.74, 52.11], [8.74, 52.10]]],
}


async def make_user(composed: App, role: str, city: City, shop: Shop | None = None) -> User:
    return await accounts.create_user(
        composed.ctx,
        email=f"{unique(role)}@example.org",
        password=PASSWORD,
        display_name=role,
        role=role,
        city_slug=city.slug,
        shop_slug=shop.slug if shop else None,
    )


async def make_tenant(composed: App) -> Tenant:
    ctx = composed.ctx
    city = await cities.create_city(
        ctx,
        {
            "slug": unique("stadt"),
            "name": "Teststadt",
            "timezone": "Europe/Berlin",
            "federal_state": "NW",
            "languages": ["de", "en"],
            "lat": 52.105,
            "lon": 8.75,
        },
    )
    admin = await make_user(composed, "city-admin", city)
    shop_data = {
        "category": "optician",
        "lat": 52.105,
        "lon": 8.75,
        "street": "Lange Straße 1",
        "opening_hours": "Mo-Fr 09:00-18:00; Sa 09:00-14:00",
    }
    shop_a = await shops.create_shop(
        ctx, admin, city.id, {**shop_data, "slug": unique("shop-a"), "name": "Optik A"}
    )
    shop_b = await shops.create_shop(
        ctx,
        admin,
        city.id,
        {**shop_data, "slug": unique("shop-b"), "name": "Mode B", "category": "clothes"},
    )
    users = {
        "city-admin": admin,
        "city-editor": await make_user(composed, "city-editor", city),
        "retailer-owner": await make_user(composed, "retailer-owner", city, shop_a),
        "retailer-staff": await make_user(composed, "retailer-staff", city, shop_a),
    }
    return Tenant(city, shop_a, shop_b, users)


async def open_all_day(composed: App, tenant: Tenant) -> None:
    """Shop A always open, no quiet hours, no control group: every decision may pick."""
    admin = tenant.users["city-admin"]
    await shops.update_shop(composed.ctx, admin, tenant.shop_a.id, {"opening_hours": "24/7"})
    await content.set_rules(
        composed.ctx,
        admin,
        tenant.city.id,
        {"quiet_start": None, "quiet_end": None, "control_share": 0},
    )


async def login(client: httpx.AsyncClient, user: User) -> str:
    """Log in through the API; returns the CSRF token for state changes."""
    response = await client.post(
        "/api/v1/session", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


async def qr_point(
    composed: App, tenant: Tenant, name: str = "Marktplatz", target: str = "/"
) -> Touchpoint:
    """A QR code of the city (no shop) in the pavement, pointing at one of our pages."""
    return await touchpoints.create_touchpoint(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"kind": "qr", "name": name, "lat": 52.105, "lon": 8.75, "target": target},
    )


def page_view_row(city_id: Any, at: datetime, pseudonym: str | None) -> dict[str, Any]:
    """A stored page view, written past the API (for tests that need many or old events)."""
    return {
        "event_id": uuid.uuid4(),
        "kind": "page.view",
        "city_id": city_id,
        "occurred_at": at,
        "received_at": at,
        "path": "/",
        "pseudonym": pseudonym,
        "schema_version": 1,
    }


_HOSTS = itertools.count(1)


def new_client(web: Any) -> httpx.AsyncClient:
    """A client with an address of its own: limits per client (saving coupons) stay apart."""
    host = str(ipaddress.IPv4Address(0x0A000000 + next(_HOSTS)))
    transport = httpx.ASGITransport(app=web, client=(host, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def published_offer(
    composed: App,
    tenant: Tenant,
    shop: Shop | None,
    title: str,
    coupon: CouponInput | None = None,
    **changes: Any,
) -> Content:
    """A published offer with coupon terms, of a shop or (shop None) of the city itself."""
    data = ContentInput(
        kind=ContentKind.OFFER, title=title, coupon=coupon or CouponInput(), **changes
    )
    return await published(composed, tenant, shop, data)


async def published_event(
    composed: App,
    tenant: Tenant,
    shop: Shop | None,
    title: str,
    starts_at: datetime,
    **changes: Any,
) -> Content:
    """A published event of a shop or (shop None) of the city itself."""
    changes.setdefault("place", "Marktplatz")
    data = ContentInput(kind=ContentKind.EVENT, title=title, starts_at=starts_at, **changes)
    return await published(composed, tenant, shop, data)


async def published(
    composed: App, tenant: Tenant, shop: Shop | None, data: ContentInput
) -> Content:
    """Content written, submitted and (where the city asks for it) approved by the city admin."""
    ctx, admin = composed.ctx, tenant.users["city-admin"]
    item = await content.create_content(ctx, admin, tenant.city.id, shop.id if shop else None, data)
    done = await content.act_on_content(ctx, admin, item.id, Action.SUBMIT)
    if done.status is ContentStatus.SUBMITTED:  # the city approves everything itself
        done = await content.act_on_content(ctx, admin, item.id, Action.APPROVE)
    assert done.status is ContentStatus.PUBLISHED, done.status
    return done


async def saved_coupon(
    composed: App, offer: Content, visitor: str | None = None, **source: Any
) -> coupons.Saved:
    """A coupon saved through the service, from a phone of its own (no save limit shared)."""
    data = coupons.SaveInput(offer.id, visitor, **source)
    return await coupons.save_coupon(composed.ctx, data, unique("phone"))


def tiny_png(size: tuple[int, int] = (40, 30)) -> bytes:
    """A small real PNG, as a shop picture upload."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()
