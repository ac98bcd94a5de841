"""The authorization matrix: every route × every role × own / other shop / foreign / missing.

MATRIX holds one spec per registered (method, path): how to build the concrete request for a
target and which status each role must get. Every cell is its own test; each one also checks
that no foreign tenant's data is in the answer and, for state changes that are refused, that
nothing changed. test_every_route_is_in_the_matrix fails for any route added without an entry.

Targets:
  none     the route has no object in its path
  own      the logged-in user's tenant (for retailers: their own shop, shop_a)
  other    another shop of the same city (shop_b), which the retailers do not belong to
  cross    an own path parent with a foreign or other-shop child (or a foreign shop in the body)
  foreign  the objects of a second tenant (city, shops, zone, touchpoints, pictures)
  missing  a random uuid / an unknown slug (a random coupon code)
  city     a coupon of the own city's own offer (no shop): redeemed by city staff

Expected semantics: anonymous on a protected API route → 401, on a portal or console page → 303
to /login?next=…; a foreign tenant's object → 404 (it must look nonexistent); nonexistent → 404;
own tenant but insufficient role → 403. Retailers belong to their city's tenant without being its
staff: the city-level resources of their own city (zones, the console, city settings, users,
creating shops and touchpoints) answer 403 to them, those of another city 404. Another shop of
their own city is still a foreign object to them → 404.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote

import fastapi.routing
import httpx
import pytest
from fastapi.routing import APIRoute
from PIL import Image
from sqlalchemy import select
from starlette.routing import Route

from marktplatz.bootstrap import App
from marktplatz.domain.accounts import User
from marktplatz.domain.content import Action, Content, ContentKind
from marktplatz.domain.coupons import REFUSAL_TEXT, Refusal, grouped
from marktplatz.domain.coupons import new_code as new_coupon_code
from marktplatz.domain.decision import Mode
from marktplatz.domain.fitness import QUESTIONS
from marktplatz.domain.shops import Shop, ShopImage
from marktplatz.domain.touchpoints import Touchpoint, new_code
from marktplatz.domain.zones import Zone
from marktplatz.services import cities, coupons, invitations, shops, touchpoints, visitors
from marktplatz.services import content as content_service
from marktplatz.services import decisions as decision_service
from marktplatz.services import registrations as registration_service
from marktplatz.services import story as story_service
from marktplatz.services.content import ContentInput
from marktplatz.services.decisions import ContactInput
from marktplatz.store import tables
from marktplatz.web.console.footfall import pack as pack_footfall
from marktplatz.web.i18n import gettext
from marktplatz.web.security import SESSION_COOKIE
from marktplatz.web.static import has_asset
from support import (
    PASSWORD,
    SQUARE,
    Tenant,
    login,
    make_tenant,
    make_user,
    new_client,
    published_event,
    published_offer,
    saved_coupon,
    unique,
)

ANON, ADMIN, EDITOR, OWNER, STAFF = (
    "anonymous",
    "city-admin",
    "city-editor",
    "retailer-owner",
    "retailer-staff",
)
ROLES = (ANON, ADMIN, EDITOR, OWNER, STAFF)
CITY_STAFF = (ADMIN, EDITOR)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Categories of the foreign tenant's identifiers. "private" ones must never show up; the others
# only on public routes that were asked for that foreign object (or list every city).
PUBLIC = frozenset({"city", "shop", "zone", "image", "link"})
NOTHING: frozenset[str] = frozenset()
LAT, LON = 52.105, 8.75


# --- the world: two tenants, one session per role ------------------------------------------


@dataclass
class World:
    web: Any
    app: App
    own: Tenant
    foreign: Tenant
    zones: dict[str, Zone]  # own, foreign
    points: dict[str, Touchpoint]  # own (shop_a), other (shop_b), city (no shop), foreign, …
    images: dict[str, ShopImage]  # own (shop_a), other (shop_b), foreign (foreign shop_a)
    contents: dict[str, Content]  # own (shop_a), other (shop_b), foreign (foreign shop_a): drafts
    clients: dict[str, httpx.AsyncClient]
    sessions: dict[str, tuple[str, str]]  # role → (session cookie, CSRF token)
    # Cashiers who redeem the coupons that undo cells take back: target → user.
    cashiers: dict[str, User] = field(default_factory=dict)
    foreign_markers: dict[str, str] = field(default_factory=dict)  # text → category
    # Published coupon offers, made by the first cell that needs one: own, other, city, foreign.
    offers: dict[str, Content] = field(default_factory=dict)

    @property
    def ctx(self) -> Any:
        return self.app.ctx


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (6, 4), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


async def add_point(
    app: App, tenant: Tenant, shop: Shop | None, name: str, target: str = ""
) -> Touchpoint:
    data: dict[str, object] = {
        "kind": "qr",
        "name": name,
        "lat": LAT,
        "lon": LON,
        "target": target or f"https://example.org/{unique('ziel')}",
    }
    if shop is not None:
        data["shop_id"] = str(shop.id)
    return await touchpoints.create_touchpoint(app.ctx, tenant.users[ADMIN], tenant.city.id, data)


async def add_zone(app: App, tenant: Tenant, name: str) -> Zone:
    return await cities.create_zone(
        app.ctx,
        tenant.users[ADMIN],
        tenant.city.id,
        {
            "slug": unique("zone"),
            "name": name,
            "description": "",
            "geometry": SQUARE,
        },
    )


async def add_image(app: App, tenant: Tenant, shop: Shop, alt: str) -> ShopImage:
    return await shops.add_shop_image(app.ctx, tenant.users[ADMIN], shop.id, png(), alt)


async def add_content(app: App, tenant: Tenant, shop: Shop, title: str) -> Content:
    data = ContentInput(kind=ContentKind.OFFER, title=title)
    return await content_service.create_content(
        app.ctx, tenant.users[ADMIN], tenant.city.id, shop.id, data
    )


async def make_foreign(app: App) -> Tenant:
    """A second tenant whose city and shops carry distinctive names, to spot them in bodies."""
    tenant = await make_tenant(app)
    admin = tenant.users[ADMIN]
    tag = uuid.uuid4().hex[:8]
    city = await cities.update_city(
        app.ctx,
        admin,
        tenant.city.id,
        {"name": f"Fremdstadt {tag}", "tagline": f"Fremdmotto {tag}"},
    )
    shop_a = await shops.update_shop(
        app.ctx, admin, tenant.shop_a.id, {"name": f"Fremdoptik {tag}"}
    )
    shop_b = await shops.update_shop(app.ctx, admin, tenant.shop_b.id, {"name": f"Fremdmode {tag}"})
    return Tenant(city, shop_a, shop_b, tenant.users)


def markers_of(w: World) -> dict[str, str]:
    f = w.foreign
    found: dict[str, str] = {
        str(f.city.id): "city",
        f.city.slug: "city",
        f.city.name: "city",
        f.city.tagline: "city",
    }
    for shop in (f.shop_a, f.shop_b):
        found |= {str(shop.id): "shop", shop.slug: "shop", shop.name: "shop"}
    zone = w.zones["foreign"]
    found |= {str(zone.id): "zone", zone.slug: "zone", zone.name: "zone"}
    image = w.images["foreign"]
    found |= {str(image.id): "image", image.filename: "image", image.alt_text: "image"}
    item = w.contents["foreign"]
    found |= {str(item.id): "content", item.title: "content"}
    for key in ("foreign", "foreign-city"):
        point = w.points[key]
        found |= {
            str(point.id): "private",
            point.name: "private",
            point.code: "private",
            point.target: "link",
        }
    for user in f.users.values():
        found |= {str(user.id): "private", user.email: "private"}
    return found


def own_private(w: World, role: str) -> dict[str, str]:
    """Identifiers of the own tenant that this role must not see either."""
    found: dict[str, str] = {}
    if role != ADMIN:
        for other_role, user in w.own.users.items():
            if other_role != role:
                found[user.email] = f"e-mail of {other_role}"
                found[str(user.id)] = f"id of {other_role}"
    hidden = {
        ANON: ("own", "other", "city"),
        OWNER: ("other", "city"),
        STAFF: ("other", "city"),
    }.get(role, ())
    for key in hidden:
        point = w.points[key]
        found |= {
            str(point.id): f"{key} touchpoint id",
            point.name: f"{key} touchpoint name",
            point.code: f"{key} touchpoint code",
        }
    return found


@pytest.fixture(scope="module")
async def world(web: Any, composed: App) -> AsyncIterator[World]:
    own = await make_tenant(composed)
    foreign = await make_foreign(composed)
    tag = uuid.uuid4().hex[:8]
    zones = {
        "own": await add_zone(composed, own, f"Eigenzone {tag}"),
        "foreign": await add_zone(composed, foreign, f"Fremdzone {tag}"),
    }
    points = {
        "own": await add_point(composed, own, own.shop_a, f"Punkt A {tag}"),
        "other": await add_point(composed, own, own.shop_b, f"Punkt B {tag}"),
        "city": await add_point(composed, own, None, f"Stadtpunkt {tag}"),
        # A page of our own as the target: the QR redirect adds ?via=<code> to it.
        "foreign": await add_point(
            composed, foreign, foreign.shop_a, f"Fremdpunkt {tag}", f"/?ziel={tag}"
        ),
        "foreign-city": await add_point(composed, foreign, None, f"Fremdstadtpunkt {tag}"),
    }
    images = {
        "own": await add_image(composed, own, own.shop_a, f"Eigenbild {tag}"),
        "other": await add_image(composed, own, own.shop_b, f"Nachbarbild {tag}"),
        "foreign": await add_image(composed, foreign, foreign.shop_a, f"Fremdbild {tag}"),
    }
    clients: dict[str, httpx.AsyncClient] = {}
    sessions: dict[str, tuple[str, str]] = {}
    for role in ROLES:
        client = new_client(web)
        clients[role] = client
        if role != ANON:
            csrf = await login(client, own.users[role])
            sessions[role] = (client.cookies[SESSION_COOKIE], csrf)
    contents = {
        "own": await add_content(composed, own, own.shop_a, f"Eigenangebot {tag}"),
        "other": await add_content(composed, own, own.shop_b, f"Nachbarangebot {tag}"),
        "foreign": await add_content(composed, foreign, foreign.shop_a, f"Fremdangebot {tag}"),
    }
    for tenant in (own, foreign):
        # Every submitted item waits for the city, so review and withdraw cells have work.
        await content_service.set_rules(
            composed.ctx, tenant.users[ADMIN], tenant.city.id, {"approve_everything": True}
        )
    cashiers = {
        "own": own.users[STAFF],
        "other": await make_user(composed, STAFF, own.city, own.shop_b),
        "city": own.users[ADMIN],
        "foreign": foreign.users[STAFF],
    }
    w = World(
        web, composed, own, foreign, zones, points, images, contents, clients, sessions, cashiers
    )
    w.foreign_markers = markers_of(w)
    yield w
    for client in clients.values():
        await client.aclose()


# --- requests for a target -----------------------------------------------------------------


@dataclass
class Req:
    url: str
    json: Any = None
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None
    markers: dict[str, str] = field(default_factory=dict)  # foreign objects made for this cell
    check: Callable[[httpx.Response], Awaitable[None]] | None = None


@dataclass
class Cell:
    w: World
    role: str
    target: str
    client: httpx.AsyncClient


Builder = Callable[[Cell], Awaitable[Req]]
Expect = Callable[[str, str], int]
MISSING_SLUG = "nirgendwo-ohne-stadt"


def city_of(w: World, target: str) -> str:
    if target == "foreign":
        return w.foreign.city.slug
    return MISSING_SLUG if target == "missing" else w.own.city.slug


def shop_of(w: World, target: str) -> Any:
    shop = {
        "own": w.own.shop_a,
        "other": w.own.shop_b,
        "cross": w.own.shop_a,
        "foreign": w.foreign.shop_a,
    }.get(target)
    return shop.id if shop else uuid.uuid4()


def shop_obj(w: World, target: str) -> Shop:
    """The shop whose values a form sends: the target itself if it is ours, else shop_a."""
    return w.own.shop_b if target == "other" else w.own.shop_a


def point_of(w: World, target: str) -> Any:
    key = {"cross": "foreign"}.get(target, target)
    return w.points[key].id if key in w.points else uuid.uuid4()


def zone_of(w: World, target: str) -> Any:
    key = {"cross": "foreign"}.get(target, target)
    return w.zones[key].id if key in w.zones else uuid.uuid4()


def console_city(w: World, target: str) -> str:
    """Console paths with a child: only `foreign` uses the foreign city (cross: a foreign child)."""
    return w.foreign.city.slug if target == "foreign" else w.own.city.slug


def url(make: Callable[[World, str], str]) -> Builder:
    async def build(cell: Cell) -> Req:
        return Req(make(cell.w, cell.target))

    return build


def with_json(make: Callable[[World, str], str], body: Callable[[Cell], Any]) -> Builder:
    async def build(cell: Cell) -> Req:
        return Req(make(cell.w, cell.target), json=body(cell))

    return build


def with_form(make: Callable[[World, str], str], body: Callable[[Cell], dict[str, str]]) -> Builder:
    async def build(cell: Cell) -> Req:
        return Req(make(cell.w, cell.target), data=body(cell))

    return build


def with_upload(make: Callable[[World, str], str]) -> Builder:
    async def build(cell: Cell) -> Req:
        return Req(
            make(cell.w, cell.target),
            data={"alt_text": "Schaufenster"},
            files={"image": ("bild.png", png(), "image/png")},
        )

    return build


FLEET_CSV = "kind;name;lat;lon;target\nqr;Matrix-Pflaster;52,105;8,75;/\n"


def with_fleet_csv(make: Callable[[World, str], str], *, upload: bool = False) -> Builder:
    """A clean fleet CSV: as a file (the dry run) or as the confirm form's field."""

    async def build(cell: Cell) -> Req:
        if upload:
            files = {"file": ("fleet.csv", FLEET_CSV.encode(), "text/csv")}
            return Req(make(cell.w, cell.target), files=files)
        return Req(make(cell.w, cell.target), data={"csv": FLEET_CSV})

    return build


def tenant_of(w: World, target: str) -> Tenant:
    return w.foreign if target in ("foreign", "cross") else w.own


def with_fresh_zone(make: Callable[[World, str, Any], str]) -> Builder:
    """Deleting needs a zone of its own per cell; missing → a random id."""

    async def build(cell: Cell) -> Req:
        if cell.target == "missing":
            return Req(make(cell.w, cell.target, uuid.uuid4()))
        tenant = tenant_of(cell.w, cell.target)
        zone = await add_zone(cell.w.app, tenant, f"Wegwerfzone {uuid.uuid4().hex[:8]}")
        marks = {str(zone.id): "zone", zone.name: "zone", zone.slug: "zone"}
        return Req(
            make(cell.w, cell.target, zone.id), markers=marks if tenant is cell.w.foreign else {}
        )

    return build


def child_shop(w: World, target: str) -> Shop:
    """The shop a fresh child object belongs to; cross: shop_b's, to be named under shop_a."""
    return {
        "own": w.own.shop_a,
        "other": w.own.shop_b,
        "cross": w.own.shop_b,
        "foreign": w.foreign.shop_a,
    }[target]


def with_fresh_image(make: Callable[[Any, Any], str]) -> Builder:
    """Deleting needs a picture of its own per cell; cross → shop_a's path with shop_b's picture."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        if target == "missing":
            return Req(make(uuid.uuid4(), uuid.uuid4()))
        tenant = w.foreign if target == "foreign" else w.own
        shop = child_shop(w, target)
        image = await add_image(w.app, tenant, shop, f"Wegwerfbild {uuid.uuid4().hex[:8]}")
        marks = {str(image.id): "image", image.filename: "image", image.alt_text: "image"}
        return Req(make(shop_of(w, target), image.id), markers=marks if tenant is w.foreign else {})

    return build


async def fresh_cashier(cell: Cell) -> Req:
    """Removing needs a cashier of its own per cell; cross → shop_a's path, shop_b's cashier."""
    w, target = cell.w, cell.target
    if target == "missing":
        return Req(f"/portal/shops/{uuid.uuid4()}/staff/{uuid.uuid4()}/remove")
    tenant = w.foreign if target == "foreign" else w.own
    cashier = await make_user(w.app, STAFF, tenant.city, child_shop(w, target))
    marks = {str(cashier.id): "private", cashier.email: "private"}
    return Req(
        f"/portal/shops/{shop_of(w, target)}/staff/{cashier.id}/remove",
        markers=marks if tenant is w.foreign else {},
    )


async def fresh_invitation(cell: Cell) -> Req:
    """Withdrawing needs an open invitation of its own per cell (cross: one of shop_b's)."""
    w, target = cell.w, cell.target
    if target == "missing":
        return Req(f"/portal/shops/{uuid.uuid4()}/invitations/{secrets.token_hex(32)}/withdraw")
    tenant = w.foreign if target == "foreign" else w.own
    issued = await invitations.invite(
        w.ctx,
        tenant.users[ADMIN],
        tenant.city.id,
        email=f"{unique('kasse')}@example.org",
        role=STAFF,
        shop_id=child_shop(w, target).id,
    )
    item = issued.invitation
    marks = {item.email: "private", item.token_hash: "private"}
    return Req(
        f"/portal/shops/{shop_of(w, target)}/invitations/{item.token_hash}/withdraw",
        markers=marks if tenant is w.foreign else {},
    )


def cashier_form(cell: Cell) -> dict[str, str]:
    return {"email": f"{unique('kasse')}@example.org"}


def content_of(w: World, target: str) -> Any:
    item = w.contents.get({"cross": "other"}.get(target, target))
    return item.id if item else uuid.uuid4()


def with_fresh_content(make: Callable[[World, str, Any], str], body: dict[str, str]) -> Builder:
    """A submitted item of its own per cell (review and withdraw change its state)."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        if target == "missing":
            return Req(make(w, target, uuid.uuid4()), data=body)
        tenant = w.foreign if target in ("foreign", "cross") else w.own
        shop = {"own": w.own.shop_a, "other": w.own.shop_b}.get(target, w.foreign.shop_a)
        item = await add_content(w.app, tenant, shop, f"Wegwerfangebot {stamp()}")
        await content_service.act_on_content(w.ctx, tenant.users[ADMIN], item.id, Action.SUBMIT)
        marks = {str(item.id): "content", item.title: "content"} if tenant is w.foreign else {}
        return Req(make(w, target, item.id), data=body, markers=marks)

    return build


async def with_decision(cell: Cell) -> Req:
    """A decision that showed a fresh city story of the target's city (missing: a random id)."""
    w, target = cell.w, cell.target
    if target == "missing":
        return Req(f"{A}/decisions/{uuid.uuid4()}")
    tenant = w.foreign if target == "foreign" else w.own
    admin = tenant.users[ADMIN]
    data = ContentInput(kind=ContentKind.STORY, title=f"Stadtgeschichte {stamp()}")
    item = await content_service.create_content(w.ctx, admin, tenant.city.id, None, data)
    await content_service.act_on_content(w.ctx, admin, item.id, Action.SUBMIT)
    await content_service.act_on_content(w.ctx, admin, item.id, Action.APPROVE)
    decision_service.INDEXES.forget()
    point = w.points["foreign-city" if target == "foreign" else "city"]
    contact = ContactInput(tenant.city.slug, "de", Mode.PULL, touchpoint_id=point.id)
    outcome = await decision_service.decide_for_contact(w.ctx, contact)
    await decision_service.drain()
    marks = {str(item.id): "content", item.title: "content"} if target == "foreign" else {}
    return Req(f"{A}/decisions/{outcome.decision_id}", markers=marks)


_BUDGETS = itertools.count()


def rules_form(cell: Cell) -> dict[str, str]:
    """Valid rules that differ from the last ones sent, so a success always changes something."""
    return {
        "push_budget_per_day": str(4 + next(_BUDGETS) % 16),  # never the default of 3
        "quiet_start": "20:00",
        "quiet_end": "08:00",
        "approve_everything": "1",
        "strategy": "score",
        "control_share": "10",
        "max_picks": "3",
        "repeats_per_day": "2",
        "opening_soon_minutes": "30",
        "open_offer": "1",
    }


def stamp() -> str:
    return uuid.uuid4().hex[:8]


def hours_form(cell: Cell) -> dict[str, str]:
    """The hours editor's form: Monday 09:00 until a random minute past five."""
    minute = secrets.randbelow(60)
    return {
        "d0_open": "1",
        "d0_0_from": "09:00",
        "d0_0_to": f"17:{minute:02d}",
        "ph_mode": "closed",
    }


def shop_form(cell: Cell) -> dict[str, str]:
    shop = shop_obj(cell.w, cell.target)
    return {
        "name": shop.name,
        "category": shop.category.value,
        "street": shop.street,
        "postcode": "",
        "town": "",
        "phone": "",
        "email": "",
        "website": f"https://example.org/{stamp()}",
        "opening_hours": shop.opening_hours,
        "story_html": "",
        "story_html_en": "",
        "lat": str(shop.location.lat),
        "lon": str(shop.location.lon),
    }


def zone_form(cell: Cell) -> dict[str, str]:
    zone = cell.w.zones["own"]
    return {
        "slug": zone.slug,
        "name": zone.name,
        "description": f"Neu {stamp()}",
        "geometry": json.dumps(SQUARE),
    }


def point_form(cell: Cell) -> dict[str, str]:
    key = cell.target if cell.target in ("own", "other") else "own"
    point = cell.w.points[key]
    return {
        "name": point.name,
        "placement": "Schaufenster",
        "status": "active",
        "shop_id": str(point.shop_id or ""),
        "target": f"https://example.org/{stamp()}",
        "lat": str(LAT),
        "lon": str(LON),
    }


def new_point_form(cell: Cell) -> dict[str, str]:
    shop_id = str(cell.w.foreign.shop_a.id) if cell.target == "cross" else ""
    return {
        "kind": "qr",
        "name": f"Neuer Punkt {stamp()}",
        "placement": "",
        "shop_id": shop_id,
        "target": f"https://example.org/{stamp()}",
        "lat": str(LAT),
        "lon": str(LON),
    }


def new_point_json(cell: Cell) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "qr",
        "name": f"Neuer Punkt {stamp()}",
        "lat": LAT,
        "lon": LON,
        "target": f"https://example.org/{stamp()}",
    }
    if cell.target == "cross":
        body["shop_id"] = str(cell.w.foreign.shop_a.id)
    return body


def new_shop_form(cell: Cell) -> dict[str, str]:
    return {
        "slug": unique("neuladen"),
        "name": f"Neuladen {stamp()}",
        "category": "bakery",
        "street": "",
        "postcode": "",
        "opening_hours": "Mo-Fr 09:00-18:00",
        "lat": str(LAT),
        "lon": str(LON),
    }


def new_zone(cell: Cell) -> dict[str, Any]:
    return {
        "slug": unique("neuzone"),
        "name": f"Neuzone {stamp()}",
        "description": "",
        "geometry": SQUARE,
    }


async def api_login(cell: Cell) -> Req:
    user = cell.w.own.users.get(cell.role)
    email = user.email if user else f"{unique('niemand')}@example.org"
    return Req("/api/v1/session", json={"email": email, "password": PASSWORD})


async def api_logout(cell: Cell) -> Req:
    async def session_ended(_: httpx.Response) -> None:
        assert (await cell.client.get("/api/v1/me")).status_code == 401

    return Req("/api/v1/session", check=session_ended)


async def form_login(cell: Cell) -> Req:
    page = await cell.client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    user = cell.w.own.users.get(cell.role)
    email = user.email if user else f"{unique('niemand')}@example.org"
    return Req(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": match[1], "next": "/portal"},
    )


async def form_logout(cell: Cell) -> Req:
    async def session_ended(_: httpx.Response) -> None:
        assert (await cell.client.get("/api/v1/me")).status_code == 401

    return Req("/logout", check=session_ended)


async def portal_home(cell: Cell) -> Req:
    async def lands_on_own_shop(response: httpx.Response) -> None:
        shop = f"/portal/shops/{cell.w.own.shop_a.id}"
        if cell.role == OWNER:  # an owner on the shop's overview
            assert response.headers["location"] == f"{shop}/overview"
        if cell.role == STAFF:  # a cashier lands at the till
            assert response.headers["location"] == f"{shop}/till"

    return Req("/portal", check=lands_on_own_shop)


async def qr_redirect(cell: Cell) -> Req:
    point = cell.w.points.get(cell.target)

    async def goes_to_target(response: httpx.Response) -> None:
        if point is not None:  # the target as it is now: other cells may have changed it
            async with cell.w.ctx.uow() as uow:
                current = await uow.touchpoints.get(point.id)
            assert current is not None
            # Only a page of our own learns the scanned code; another site gets nothing.
            ours = current.target.startswith("/") and not current.target.startswith("//")
            via = f"{'&' if '?' in current.target else '?'}via={current.code}" if ours else ""
            assert response.headers["location"] == current.target + via

    return Req(f"/q/{point.code if point else new_code()}", check=goes_to_target)


def touchpoint_list(make: Callable[[World, str], str]) -> Builder:
    """Retailers get their own shop's touchpoints only."""

    async def build(cell: Cell) -> Req:
        async def only_own(response: httpx.Response) -> None:
            if response.status_code != 200 or cell.role in CITY_STAFF:
                return
            shop_ids = {item["shop_id"] for item in response.json()}
            assert shop_ids == {str(cell.w.own.shop_a.id)}

        return Req(make(cell.w, cell.target), check=only_own)

    return build


def invitation_body(cell: Cell) -> dict[str, str]:
    """Inviting a city editor: only a city admin of that very city may."""
    return {"email": f"{unique('eingeladen')}@example.org", "role": "city-editor"}


async def issue_invitation(w: World) -> str:
    issued = await invitations.invite(
        w.ctx,
        w.own.users[ADMIN],
        w.own.city.id,
        email=f"{unique('gast')}@example.org",
        role="retailer-staff",
        shop_id=w.own.shop_a.id,
    )
    return issued.token


async def invitation_page(cell: Cell) -> Req:
    token = await issue_invitation(cell.w) if cell.target == "own" else new_code()
    return Req(f"/invite/{token}")


async def invitation_accept(cell: Cell) -> Req:
    """Logged in, the form carries the session's token; anonymous, a forged post has none."""
    token = await issue_invitation(cell.w) if cell.target == "own" else new_code()
    form = {"display_name": "Gast", "password": "Holunder-Weg-Neun-9", "csrf_token": ""}
    if cell.role != ANON and cell.target == "own":
        page = await cell.client.get(f"/invite/{token}")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, page.text
        form["csrf_token"] = match[1]
    return Req(f"/invite/{token}", data=form)


async def journey_event(cell: Cell) -> Req:
    """POST /e takes no cookie into account: the same for every role."""
    return Req(
        "/e",
        json={
            "event_id": str(uuid.uuid4()),
            "kind": "page.view",
            "city": cell.w.own.city.slug,
            "occurred_at": datetime.now(UTC).isoformat(),
            "path": "/",
        },
    )


def decision(path: str) -> Builder:
    """A contact names its city and touchpoint; no cookie plays a part. A foreign city's
    touchpoint under our city's name (cross) must look exactly as missing as a random one."""

    async def build(cell: Cell) -> Req:
        w = cell.w
        city = w.foreign.city if cell.target == "foreign" else w.own.city
        point = {"own": "own", "foreign": "foreign", "cross": "foreign"}.get(cell.target)
        tp = str(w.points[point].id) if point else str(uuid.uuid4())
        return Req(path, json={"city": city.slug, "touchpoint_id": tp})

    return build


def visitor_request(action: str) -> Builder:
    """A registered visitor asks with its own secret; the cookie plays no part.

    The check then sends the same request for another registered visitor with a wrong secret,
    from the same client: it must get 403 and leave that visitor's consent as it was.
    """

    async def registered(ctx: Any) -> tuple[str, str]:
        visitor, secret = uuid.uuid4().hex, secrets.token_hex(32)
        await visitors.record_consent(
            ctx, visitor=visitor, secret=secret, purposes={"analytics": True}, text_version="1"
        )
        return visitor, secret

    def body(visitor: str, secret: str) -> dict[str, Any]:
        sent: dict[str, Any] = {"visitor": visitor, "secret": secret}
        if action == "consent":
            sent |= {"purposes": {"analytics": False}, "text_version": "1"}
        return sent

    async def build(cell: Cell) -> Req:
        ctx, path = cell.w.ctx, f"{A}/visitor/{action}"
        own, other = await registered(ctx), await registered(ctx)

        async def wrong_secret_changes_nothing(response: httpx.Response) -> None:
            csrf = response.request.headers.get("x-csrf-token")
            headers = {"x-csrf-token": csrf} if csrf else {}
            refused = await cell.client.post(
                path, json=body(other[0], secrets.token_hex(32)), headers=headers
            )
            assert refused.status_code == 403, refused.text
            kept = await visitors.export_data(ctx, visitor=other[0], secret=other[1])
            assert [(r.purpose.value, r.granted) for r in kept.consents] == [("analytics", True)]

        return Req(path, json=body(*own), check=wrong_secret_changes_nothing)

    return build


# --- coupons: a fresh one per cell (redeeming and undoing use it up) -------------------------


async def offer_of(w: World, target: str) -> Content:
    """The published coupon offer of own (shop_a), other (shop_b), city (no shop) or foreign."""
    if target not in w.offers:
        tenant = w.foreign if target == "foreign" else w.own
        shop = {"own": w.own.shop_a, "other": w.own.shop_b, "foreign": w.foreign.shop_a}.get(target)
        title = f"Gutscheinangebot {target} {stamp()}"
        w.offers[target] = await published_offer(w.app, tenant, shop, title)
    return w.offers[target]


async def event_file(cell: Cell) -> Req:
    """An upcoming event of the city as .ics; cross: the foreign city's event under our city."""
    w, target = cell.w, cell.target
    if target == "missing":
        return Req(f"/{w.own.city.slug}/events/{uuid.uuid4()}.ics")
    tenant = w.foreign if target in ("foreign", "cross") else w.own
    starts = datetime.now(UTC) + timedelta(days=3)
    event = await published_event(w.app, tenant, None, f"Stadtfest {target} {stamp()}", starts)
    marks = {str(event.id): "content", event.title: "content"} if tenant is w.foreign else {}
    return Req(f"/{console_city(w, target)}/events/{event.id}.ics", markers=marks)


async def typed_code(cell: Cell) -> Req:
    """A touchpoint's code typed on a city's scanner page: one of that city (foreign: of the
    foreign city); missing: an unknown city."""
    point = cell.w.points["foreign" if cell.target == "foreign" else "city"]
    return Req(f"/{city_of(cell.w, cell.target)}/scan/code?code={point.code}")


def offer_markers(w: World, target: str, saved: coupons.Saved | None = None) -> dict[str, str]:
    if target != "foreign":
        return {}
    offer = w.offers["foreign"]
    found = {str(offer.id): "content", offer.title: "content"}
    if saved is not None:
        found |= {str(saved.coupon.id): "coupon", saved.code: "coupon"}
    return found


async def fresh_coupon(w: World, target: str, *, redeemed: bool = False) -> coupons.Saved:
    saved = await saved_coupon(w.app, await offer_of(w, target))
    if redeemed:
        await coupons.redeem_coupon(w.ctx, w.cashiers[target], saved.code)
    return saved


def refusal_text(refusal: Refusal, **detail: str) -> str:
    """The cashier's message as the app words it (the matrix sends no language: German)."""
    return gettext("de", REFUSAL_TEXT[refusal]) % detail


def till_api(path: str, done: str) -> Builder:
    """Check or redeem a code by the API; a foreign city's code must look like a random one."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        saved = None if target == "missing" else await fresh_coupon(w, target)
        code = grouped(saved.code if saved else new_coupon_code())
        holder = {"own": w.own.shop_a.name, "other": w.own.shop_b.name, "city": w.own.city.name}

        async def verdict(response: httpx.Response) -> None:
            if response.status_code == 200:
                assert response.json()["status"] == done
                assert response.json()["refusal"] is None
            elif response.status_code == 409:
                if target in ("foreign", "missing"):
                    text = refusal_text(Refusal.UNKNOWN)
                    assert response.json() == {"detail": text, "refusal": "unknown"}
                else:
                    text = refusal_text(Refusal.FOREIGN_SHOP, shop=holder[target])
                    assert response.json() == {"detail": text, "refusal": "foreign-shop"}
            if saved is not None and (response.status_code != 200 or done == "saved"):
                async with w.ctx.uow() as uow:
                    kept = await uow.coupons.get(saved.coupon.id)
                assert kept is not None
                assert kept.status.value == "saved"

        return Req(
            path, json={"code": code}, markers=offer_markers(w, target, saved), check=verdict
        )

    return build


def till_expect(role: str, target: str) -> int:
    """Only the offering shop's staff (city staff for the city's own offers) get a verdict of 200;
    everyone else hears whose coupon it is, and a foreign city's coupon looks unknown."""
    if role == ANON:
        return 401
    if target == "own" and role in (OWNER, STAFF):
        return 200
    if target == "city" and role in CITY_STAFF:
        return 200
    return 409


async def api_save(cell: Cell) -> Req:
    """Saving is public; cross: our offer with a touchpoint of another city → refused."""
    w, target = cell.w, cell.target
    offer = await offer_of(w, "foreign" if target == "foreign" else "own")
    body: dict[str, Any] = {"content_id": str(offer.id)}
    if target == "missing":
        body["content_id"] = str(uuid.uuid4())
    if target == "cross":
        body["touchpoint_id"] = str(w.points["foreign"].id)

    async def hands_out_a_code(response: httpx.Response) -> None:
        if response.status_code == 201:
            assert response.json()["content_id"] == str(offer.id)
            assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", response.json()["code"])
        if response.status_code == 422:
            assert [e["field"] for e in response.json()["errors"]] == ["touchpoint_id"]

    return Req(f"{A}/coupons", json=body, markers=offer_markers(w, target), check=hands_out_a_code)


def save_expect(role: str, target: str) -> int:
    return {"own": 201, "foreign": 201, "cross": 422}.get(target, 404)


async def form_save(cell: Cell) -> Req:
    """The save form of a city's pages; cross: our city's path with another city's offer."""
    w, target = cell.w, cell.target
    offer = await offer_of(w, "foreign" if target in ("foreign", "cross") else "own")
    return Req(
        f"/{city_of(w, target)}/coupons",
        data={"content_id": str(offer.id)},
        markers=offer_markers(w, "foreign" if target == "cross" else target),
    )


async def form_nearby(cell: Cell) -> Req:
    """ "Near me" at the tenant's shops (support.py places them at 52.105, 8.75)."""
    return Req(f"/{city_of(cell.w, cell.target)}/nearby", data={"lat": "52.105", "lon": "8.75"})


async def wallet_states(cell: Cell) -> Req:
    saved = await fresh_coupon(cell.w, "own")
    unknown = new_coupon_code()

    sent = [grouped(saved.code), unknown.lower()]

    async def states(response: httpx.Response) -> None:
        assert response.json() == {"states": {sent[0]: "saved", sent[1]: "unknown"}}

    body = {"codes": sent}
    return Req(f"{A}/coupons/wallet", json=body, check=states)


def undo_request(portal: bool) -> Builder:
    """Undo a fresh redemption of the target (cross: shop_b's coupon at shop_a's till)."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        kind = {"cross": "other", "missing": "own"}.get(target, target)
        saved = await fresh_coupon(w, kind, redeemed=True)
        coupon_id = uuid.uuid4() if target == "missing" else saved.coupon.id
        reason = f"Falsch getippt {stamp()}"
        markers = offer_markers(w, target, saved)
        if not portal:
            return Req(f"{A}/coupons/{coupon_id}/undo", json={"reason": reason}, markers=markers)
        form = {
            "shop_id": str(shop_of(w, "own" if target in ("cross", "missing") else target)),
            "reason": reason,
        }

        async def back_to_till(response: httpx.Response) -> None:
            if response.status_code == 303 and cell.role != ANON:
                assert (
                    response.headers["location"] == f"/portal/shops/{form['shop_id']}/till?undone=1"
                )

        return Req(
            f"/portal/coupons/{coupon_id}/undo", data=form, markers=markers, check=back_to_till
        )

    return build


def api_undo_expect(role: str, target: str) -> int:
    """The shop's owner or the city's staff; the shop's other staff → 403; others → 404."""
    if role == ANON:
        return 401
    if target in ("foreign", "missing"):
        return 404
    if role in CITY_STAFF:
        return 200
    if target == "city":
        return 403
    if target == "own":
        return 200 if role == OWNER else 403
    return 404


def till_page_expect(ok: int) -> Expect:
    """The portal till: only the shop's own staff; city staff know the shop but do not work there.
    cross: a coupon of shop_b at shop_a's till → refused with a message naming shop_b."""

    def expect(role: str, target: str) -> int:
        if role == ANON:
            return 303
        if target in ("foreign", "missing"):
            return 404
        if role in CITY_STAFF:
            return 403
        return {"own": ok, "cross": 409}.get(target, 404)

    return expect


def portal_undo_expect(role: str, target: str) -> int:
    if role == ANON:
        return 303
    if target == "foreign":
        return 404
    if role in CITY_STAFF:
        return 403
    if target == "own":
        return 303 if role == OWNER else 403
    return 404


def till_form(path: str) -> Builder:
    """The portal till's forms: the code of a fresh coupon of the target's shop."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        kind = {"cross": "other", "missing": "own"}.get(target, target)
        saved = await fresh_coupon(w, kind)
        shop = shop_of(w, target)

        async def refusal_names_the_shop(response: httpx.Response) -> None:
            if response.status_code == 409:
                assert w.own.shop_b.name in response.text

        return Req(
            path.format(shop=shop),
            data={"code": grouped(saved.code)},
            markers=offer_markers(w, target, saved),
            check=refusal_names_the_shop,
        )

    return build


def fitness_answers(cell: Cell) -> dict[str, str]:
    """A complete digital-fitness check: the first answer to every question."""
    return {q.key: q.options[0].value for q in QUESTIONS}


def story_form(cell: Cell) -> dict[str, str]:
    return {"source": f"## Geschichte {stamp()}", "language": "de"}


def with_story_version(rest: str) -> Builder:
    """A saved story version of its own per cell; cross → shop_a's path, shop_b's version."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        if target == "missing":
            return Req(f"/portal/shops/{uuid.uuid4()}/story/versions/{2**31 - 1}{rest}")
        tenant = w.foreign if target == "foreign" else w.own
        text = f"Wegwerfgeschichte {stamp()}"
        shop = child_shop(w, target)
        version = await story_service.save_story(w.ctx, tenant.users[ADMIN], shop.id, "de", text)
        marks = {text: "story"} if tenant is w.foreign else {}
        path = f"/portal/shops/{shop_of(w, target)}/story/versions/{version}{rest}"
        return Req(path, markers=marks)

    return build


def with_waiting_story(body: dict[str, str]) -> Builder:
    """A story version of its own per cell that waits for the city (both cities approve
    everything); cross → the own city's path with a version of the foreign city's shop."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        if target == "missing":
            return Req(f"/console/{w.own.city.slug}/story/{2**31 - 1}/review", data=body)
        tenant = w.foreign if target in ("foreign", "cross") else w.own
        text = f"Wartende Geschichte {stamp()}"
        owner = tenant.users[OWNER]
        version = await story_service.save_story(w.ctx, owner, tenant.shop_a.id, "de", text)
        marks = {text: "story"} if tenant is w.foreign else {}
        path = f"/console/{console_city(w, target)}/story/{version}/review"
        return Req(path, data=body, markers=marks)

    return build


async def story_version_rows(w: World) -> list[Any]:
    """Both tenants' saved story versions."""
    shop_ids = [s.id for tenant in (w.own, w.foreign) for s in (tenant.shop_a, tenant.shop_b)]
    c = tables.story_versions.c
    query = select(c.id, c.shop_id, c.language, c.source, c.status, c.review_note).where(
        c.shop_id.in_(shop_ids)
    )
    async with w.app.engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(query.order_by(c.id))]


# --- expected statuses ---------------------------------------------------------------------


def always(status: int) -> Expect:
    return lambda role, target: status


def public(ok: int = 200) -> Expect:
    """Visitor data: the same for everyone; missing (or a foreign child of ours) → 404."""
    return lambda role, target: 404 if target in ("missing", "cross") else ok


def logged_in(ok: int, anon: int = 401) -> Expect:
    return lambda role, target: anon if role == ANON else ok


# Targets whose request names the own city: by its object ("own" zone, "other" shop's
# touchpoint) or, on console paths, by the city slug in the path whatever the child is.
OWN_CITY = ("own", "other")
OWN_CITY_PATH = ("own", "other", "cross", "missing")


def city_scope(
    ok: int, *, admin_only: bool = False, anon: int = 401, own_city: tuple[str, ...] = OWN_CITY
) -> Expect:
    """City settings, zones, users, touchpoint fleet, console: city staff of this city only.

    Another city (or nothing) → 404 for everyone; the own city → 403 for its retailers, who know
    it but may not run it; its staff then get the object, or 404 for a foreign or missing child.
    """

    def expect(role: str, target: str) -> int:
        if role == ANON:
            return anon
        if target not in own_city:
            return 404
        if role not in CITY_STAFF:
            return 403
        if target not in ("own", "other"):
            return 404
        return 403 if admin_only and role == EDITOR else ok

    return expect


def console_child_scope(ok: int) -> Expect:
    """A console page of one object: the city in its path is checked before the object."""
    return city_scope(ok, anon=303, own_city=OWN_CITY_PATH)


def shop_scope(ok: int, *, edit: bool, anon: int = 401) -> Expect:
    """A shop or its touchpoints: city staff, or the shop's retailers (staff may only read)."""

    def expect(role: str, target: str) -> int:
        if role == ANON:
            return anon
        if target in ("foreign", "missing"):
            return 404
        if role == STAFF and edit and target in ("own", "cross"):
            return 403
        if target == "cross":
            return 404  # a child of another shop under our shop's path
        if role in CITY_STAFF or target == "own":
            return ok
        return 404

    return expect


def fleet_list(role: str, target: str) -> int:
    """The touchpoints of a city: all for its staff, the own shop's for its retailers."""
    if role == ANON:
        return 401
    if role in (OWNER, STAFF) and target == "own":
        return 200
    return city_scope(200)(role, target)


def create_in_city(ok: int, *, anon: int = 401) -> Expect:
    """Creating a touchpoint; cross = our city with a foreign shop as the owner → refused."""
    base = city_scope(ok, anon=anon)

    def expect(role: str, target: str) -> int:
        if target == "cross" and role in CITY_STAFF:
            return 422
        return base(role, "own" if target == "cross" else target)

    return expect


# --- the matrix ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    targets: tuple[str, ...]
    expect: Expect
    build: Builder
    allow: Callable[[str], frozenset[str]] = lambda target: NOTHING
    writes: bool = False  # state-changing: refused cells must change nothing
    fresh: bool = False  # needs its own login session (it logs in or out)
    # Cells where the code deliberately differs from the general rule: (role, target) → status.
    overrides: Mapping[tuple[str, str], int] = field(default_factory=dict)
    # Labels of the own tenant's private identifiers (see own_private) this role may see here.
    allow_own: Callable[[str], frozenset[str]] = lambda role: NOTHING


NONE = ("none",)
CITY = ("own", "foreign", "missing")
SHOP = ("own", "other", "foreign", "missing")
SHOP_CHILD = ("own", "other", "cross", "foreign", "missing")
CITY_CHILD = ("own", "foreign", "cross", "missing")


# The staff page names the shop's people to its owner and to the city's staff.
SHOP_PEOPLE = frozenset(f"{kind} of {role}" for kind in ("e-mail", "id") for role in (OWNER, STAFF))


def shop_people(role: str) -> frozenset[str]:
    return SHOP_PEOPLE if role in (OWNER, *CITY_STAFF) else NOTHING


def foreign_public(target: str) -> frozenset[str]:
    return PUBLIC if target == "foreign" else NOTHING


def every_city(target: str) -> frozenset[str]:
    return frozenset({"city"}) | foreign_public(target)


A = "/api/v1"
MATRIX: dict[tuple[str, str], Spec] = {
    # session
    ("POST", f"{A}/session"): Spec(NONE, logged_in(200, anon=401), api_login, fresh=True),
    ("DELETE", f"{A}/session"): Spec(NONE, always(204), api_logout, fresh=True),
    ("GET", f"{A}/me"): Spec(NONE, logged_in(200), url(lambda w, t: f"{A}/me")),
    # cities and zones
    ("GET", f"{A}/cities"): Spec(
        NONE, always(200), url(lambda w, t: f"{A}/cities"), allow=every_city
    ),
    ("GET", f"{A}/cities/{{city}}"): Spec(
        CITY, public(), url(lambda w, t: f"{A}/cities/{city_of(w, t)}"), allow=foreign_public
    ),
    ("PATCH", f"{A}/cities/{{city}}"): Spec(
        CITY,
        city_scope(200, admin_only=True),
        with_json(
            lambda w, t: f"{A}/cities/{city_of(w, t)}",
            lambda c: {"tagline": f"Neues Motto {stamp()}"},
        ),
        writes=True,
    ),
    ("GET", f"{A}/cities/{{city}}/zones"): Spec(
        CITY, public(), url(lambda w, t: f"{A}/cities/{city_of(w, t)}/zones"), allow=foreign_public
    ),
    ("POST", f"{A}/cities/{{city}}/zones"): Spec(
        CITY,
        city_scope(201),
        with_json(lambda w, t: f"{A}/cities/{city_of(w, t)}/zones", new_zone),
        writes=True,
    ),
    ("GET", f"{A}/zones/{{zone_id}}"): Spec(
        CITY, public(), url(lambda w, t: f"{A}/zones/{zone_of(w, t)}"), allow=foreign_public
    ),
    ("PATCH", f"{A}/zones/{{zone_id}}"): Spec(
        CITY,
        city_scope(200),
        with_json(
            lambda w, t: f"{A}/zones/{zone_of(w, t)}", lambda c: {"description": f"Neu {stamp()}"}
        ),
        writes=True,
    ),
    ("DELETE", f"{A}/zones/{{zone_id}}"): Spec(
        CITY, city_scope(204), with_fresh_zone(lambda w, t, z: f"{A}/zones/{z}"), writes=True
    ),
    # shops
    ("GET", f"{A}/cities/{{city}}/shops"): Spec(
        CITY, public(), url(lambda w, t: f"{A}/cities/{city_of(w, t)}/shops"), allow=foreign_public
    ),
    ("POST", f"{A}/cities/{{city}}/shops"): Spec(
        CITY,
        city_scope(201),
        with_json(
            lambda w, t: f"{A}/cities/{city_of(w, t)}/shops",
            lambda c: {
                "slug": unique("neuladen"),
                "name": f"Neuladen {stamp()}",
                "category": "bakery",
                "lat": LAT,
                "lon": LON,
            },
        ),
        writes=True,
    ),
    ("GET", f"{A}/shops/{{shop_id}}"): Spec(
        SHOP, public(), url(lambda w, t: f"{A}/shops/{shop_of(w, t)}"), allow=foreign_public
    ),
    ("PATCH", f"{A}/shops/{{shop_id}}"): Spec(
        SHOP,
        shop_scope(200, edit=True),
        with_json(
            lambda w, t: f"{A}/shops/{shop_of(w, t)}",
            lambda c: {"website": f"https://example.org/{stamp()}"},
        ),
        writes=True,
    ),
    ("POST", f"{A}/shops/{{shop_id}}/images"): Spec(
        SHOP,
        shop_scope(201, edit=True),
        with_upload(lambda w, t: f"{A}/shops/{shop_of(w, t)}/images"),
        writes=True,
    ),
    ("DELETE", f"{A}/shops/{{shop_id}}/images/{{image_id}}"): Spec(
        SHOP_CHILD,
        shop_scope(204, edit=True),
        with_fresh_image(lambda s, i: f"{A}/shops/{s}/images/{i}"),
        writes=True,
    ),
    # touchpoints
    ("GET", f"{A}/cities/{{city}}/touchpoints"): Spec(
        CITY,
        fleet_list,
        touchpoint_list(lambda w, t: f"{A}/cities/{city_of(w, t)}/touchpoints"),
    ),
    ("POST", f"{A}/cities/{{city}}/touchpoints"): Spec(
        (*CITY, "cross"),
        create_in_city(201),
        with_json(lambda w, t: f"{A}/cities/{city_of(w, t)}/touchpoints", new_point_json),
        writes=True,
    ),
    ("GET", f"{A}/touchpoints/{{touchpoint_id}}"): Spec(
        SHOP, shop_scope(200, edit=False), url(lambda w, t: f"{A}/touchpoints/{point_of(w, t)}")
    ),
    ("PATCH", f"{A}/touchpoints/{{touchpoint_id}}"): Spec(
        SHOP,
        shop_scope(200, edit=True),
        with_json(
            lambda w, t: f"{A}/touchpoints/{point_of(w, t)}",
            lambda c: {"target": f"https://example.org/{stamp()}"},
        ),
        writes=True,
    ),
    ("GET", f"{A}/touchpoints/{{touchpoint_id}}/qr.{{kind}}"): Spec(
        SHOP,
        shop_scope(200, edit=False),
        url(lambda w, t: f"{A}/touchpoints/{point_of(w, t)}/qr.svg"),
    ),
    # users
    ("GET", f"{A}/cities/{{city}}/users"): Spec(
        CITY,
        city_scope(200, admin_only=True),
        url(lambda w, t: f"{A}/cities/{city_of(w, t)}/users"),
    ),
    # documentation, static files, media, the QR redirect
    ("GET", "/api/openapi.json"): Spec(NONE, always(200), url(lambda w, t: "/api/openapi.json")),
    ("GET", "/api/docs"): Spec(NONE, always(200), url(lambda w, t: "/api/docs")),
    ("GET", "/static/{path:path}"): Spec(
        ("own", "missing"),
        public(),
        url(lambda w, t: "/static/css/site.css" if t == "own" else "/static/css/nope.css"),
    ),
    # built from npm by `make node`; without npm there is none (and the wallet needs a network)
    ("GET", "/sw.js"): Spec(
        NONE, always(200 if has_asset("vendor/sw.js") else 404), url(lambda w, t: "/sw.js")
    ),
    ("GET", "/media/{name}"): Spec(
        CITY,
        public(),
        url(lambda w, t: f"/media/{w.images[t].filename if t in w.images else 'f00d.png'}"),
        allow=foreign_public,
    ),
    ("GET", "/q/{code}"): Spec(CITY, public(307), qr_redirect, allow=foreign_public),
    # visitor pages, login and account
    ("GET", "/"): Spec(NONE, always(200), url(lambda w, t: "/"), allow=every_city),
    ("GET", "/lang/{code}"): Spec(
        ("own", "missing"), always(303), url(lambda w, t: "/lang/en" if t == "own" else "/lang/xx")
    ),
    ("GET", "/login"): Spec(NONE, always(200), url(lambda w, t: "/login")),
    ("POST", "/login"): Spec(NONE, logged_in(303, anon=401), form_login, fresh=True),
    ("POST", "/logout"): Spec(NONE, always(303), form_logout, fresh=True),
    ("GET", "/account/password"): Spec(
        NONE, logged_in(200, anon=303), url(lambda w, t: "/account/password")
    ),
    # A wrong current password: a right one would end the role's shared session.
    ("POST", "/account/password"): Spec(
        NONE,
        logged_in(422, anon=303),
        with_form(
            lambda w, t: "/account/password",
            lambda c: {
                "current_password": "nicht-das-passwort",
                "new_password": "Ganz-neues-Kennwort-77",
            },
        ),
        writes=True,
    ),
    # A second step that was never opened: everyone is sent back to the password.
    ("POST", "/login/code"): Spec(
        NONE,
        always(401),
        with_form(
            lambda w, t: "/login/code",
            lambda c: {"code": "123456", "challenge": "erfunden", "csrf_token": "erfunden"},
        ),
        fresh=True,
    ),
    ("GET", "/account/two-factor"): Spec(
        NONE, logged_in(200, anon=303), url(lambda w, t: "/account/two-factor")
    ),
    # Starting the set-up only stores a pending secret: two-factor login stays off.
    ("POST", "/account/two-factor/start"): Spec(
        NONE,
        logged_in(303, anon=303),
        with_form(lambda w, t: "/account/two-factor/start", lambda c: {}),
        writes=True,
    ),
    # Wrong codes and a wrong password: right ones would change the role's shared account.
    ("POST", "/account/two-factor/confirm"): Spec(
        NONE,
        logged_in(422, anon=303),
        with_form(lambda w, t: "/account/two-factor/confirm", lambda c: {"code": "kein-code"}),
        writes=True,
    ),
    ("POST", "/account/two-factor/recovery-codes"): Spec(
        NONE,
        logged_in(422, anon=303),
        with_form(
            lambda w, t: "/account/two-factor/recovery-codes", lambda c: {"code": "kein-code"}
        ),
        writes=True,
    ),
    ("POST", "/account/two-factor/disable"): Spec(
        NONE,
        logged_in(422, anon=303),
        with_form(
            lambda w, t: "/account/two-factor/disable",
            lambda c: {"current_password": "nicht-das-passwort", "code": "kein-code"},
        ),
        writes=True,
    ),
    ("GET", "/{city}"): Spec(
        CITY, public(), url(lambda w, t: f"/{city_of(w, t)}"), allow=foreign_public
    ),
    # the map: the city's zones, shops and their published offers (public, like a shop page)
    ("GET", "/{city}/map"): Spec(
        CITY,
        public(),
        url(lambda w, t: f"/{city_of(w, t)}/map"),
        allow=lambda t: foreign_public(t) | ({"content"} if t == "foreign" else NOTHING),
    ),
    ("GET", "/{city}/shops/{slug}"): Spec(
        SHOP_CHILD,
        public(),
        url(
            lambda w, t: {
                "own": f"/{w.own.city.slug}/shops/{w.own.shop_a.slug}",
                "other": f"/{w.own.city.slug}/shops/{w.own.shop_b.slug}",
                "cross": f"/{w.own.city.slug}/shops/{w.foreign.shop_a.slug}",
                "foreign": f"/{w.foreign.city.slug}/shops/{w.foreign.shop_a.slug}",
                "missing": f"/{w.own.city.slug}/shops/{unique('kein-laden')}",
            }[t]
        ),
        allow=foreign_public,
    ),
    # retailer portal
    ("GET", "/portal"): Spec(
        NONE, lambda r, t: {ANON: 303, OWNER: 303, STAFF: 303}.get(r, 200), portal_home
    ),
    ("GET", "/portal/shops/{shop_id}"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}"),
    ),
    ("POST", "/portal/shops/{shop_id}"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}", shop_form),
        writes=True,
    ),
    ("POST", "/portal/shops/{shop_id}/images"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_upload(lambda w, t: f"/portal/shops/{shop_of(w, t)}/images"),
        writes=True,
    ),
    ("POST", "/portal/shops/{shop_id}/images/{image_id}/delete"): Spec(
        SHOP_CHILD,
        shop_scope(303, edit=True, anon=303),
        with_fresh_image(lambda s, i: f"/portal/shops/{s}/images/{i}/delete"),
        writes=True,
    ),
    # the shop's people: its owner and the city's staff; a cashier sees no one else's address
    ("GET", "/portal/shops/{shop_id}/staff"): Spec(
        SHOP,
        shop_scope(200, edit=True, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/staff"),
        allow_own=shop_people,
    ),
    ("POST", "/portal/shops/{shop_id}/staff"): Spec(
        SHOP,
        shop_scope(201, edit=True, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}/staff", cashier_form),
        writes=True,
        allow_own=shop_people,
    ),
    ("POST", "/portal/shops/{shop_id}/staff/rights"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(
            # nothing opened: the shared world's cashiers must stay cashiers for the other cells
            lambda w, t: f"/portal/shops/{shop_of(w, t)}/staff/rights",
            lambda c: {},
        ),
        writes=True,
    ),
    ("POST", "/portal/shops/{shop_id}/staff/{user_id}/remove"): Spec(
        SHOP_CHILD, shop_scope(303, edit=True, anon=303), fresh_cashier, writes=True
    ),
    ("POST", "/portal/shops/{shop_id}/invitations/{invitation_id}/withdraw"): Spec(
        SHOP_CHILD, shop_scope(303, edit=True, anon=303), fresh_invitation, writes=True
    ),
    ("GET", "/portal/shops/{shop_id}/overview"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/overview"),
    ),
    ("GET", "/portal/shops/{shop_id}/touchpoints"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/touchpoints"),
    ),
    ("POST", "/portal/touchpoints/{touchpoint_id}/target"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(
            lambda w, t: f"/portal/touchpoints/{point_of(w, t)}/target",
            lambda c: {"target": f"https://example.org/{stamp()}"},
        ),
        writes=True,
    ),
    ("GET", "/portal/shops/{shop_id}/content"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/content"),
    ),
    ("GET", "/portal/shops/{shop_id}/content/new"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/content/new?kind=story"),
    ),
    ("POST", "/portal/shops/{shop_id}/content"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(
            lambda w, t: f"/portal/shops/{shop_of(w, t)}/content",
            lambda c: {
                "kind": "offer",
                "title": f"Neu {stamp()}",
                "language": "de",
                "then": "draft",
            },
        ),
        writes=True,
    ),
    ("GET", "/portal/content/{content_id}"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/content/{content_of(w, t)}"),
    ),
    ("POST", "/portal/content/{content_id}"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(
            lambda w, t: f"/portal/content/{content_of(w, t)}",
            lambda c: {"title": f"Geändert {stamp()}", "language": "de", "then": "draft"},
        ),
        writes=True,
    ),
    ("POST", "/portal/content/{content_id}/withdraw"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_fresh_content(lambda w, t, i: f"/portal/content/{i}/withdraw", {}),
        writes=True,
    ),
    # city console
    ("GET", "/console/{city}/moderation"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/moderation")
    ),
    ("POST", "/console/{city}/content/{content_id}/review"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_fresh_content(
            lambda w, t, i: f"/console/{console_city(w, t)}/content/{i}/review",
            {"verdict": "approve"},
        ),
        writes=True,
    ),
    # a shop's changed story: only the staff of the shop's own city approve or send it back
    ("POST", "/console/{city}/story/{version_id}/review"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_waiting_story({"verdict": "approve"}),
        writes=True,
    ),
    ("GET", "/console/{city}/rules"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/rules")
    ),
    ("POST", "/console/{city}/rules"): Spec(
        CITY,
        city_scope(303, admin_only=True, anon=303),
        with_form(lambda w, t: f"/console/{city_of(w, t)}/rules", rules_form),
        writes=True,
    ),
    ("GET", "/console/{city}"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}")
    ),
    ("GET", "/console/{city}/zones"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/zones")
    ),
    ("POST", "/console/{city}/zones"): Spec(
        CITY,
        city_scope(303, anon=303),
        with_form(
            lambda w, t: f"/console/{city_of(w, t)}/zones",
            lambda c: {**new_zone(c), "geometry": json.dumps(SQUARE)},
        ),
        writes=True,
    ),
    ("GET", "/console/{city}/zones/{zone_id}"): Spec(
        CITY_CHILD,
        console_child_scope(200),
        url(lambda w, t: f"/console/{console_city(w, t)}/zones/{zone_of(w, t)}"),
    ),
    ("POST", "/console/{city}/zones/{zone_id}"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_form(lambda w, t: f"/console/{console_city(w, t)}/zones/{zone_of(w, t)}", zone_form),
        writes=True,
    ),
    ("POST", "/console/{city}/zones/{zone_id}/delete"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_fresh_zone(lambda w, t, z: f"/console/{console_city(w, t)}/zones/{z}/delete"),
        writes=True,
    ),
    ("GET", "/console/{city}/shops"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/shops")
    ),
    ("POST", "/console/{city}/shops"): Spec(
        CITY,
        city_scope(303, anon=303),
        with_form(lambda w, t: f"/console/{city_of(w, t)}/shops", new_shop_form),
        writes=True,
    ),
    ("GET", "/console/{city}/touchpoints"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/touchpoints")
    ),
    ("POST", "/console/{city}/touchpoints"): Spec(
        (*CITY, "cross"),
        create_in_city(303, anon=303),
        with_form(lambda w, t: f"/console/{city_of(w, t)}/touchpoints", new_point_form),
        writes=True,
    ),
    ("GET", "/console/{city}/touchpoints/{touchpoint_id}"): Spec(
        SHOP_CHILD,
        console_child_scope(200),
        url(lambda w, t: f"/console/{console_city(w, t)}/touchpoints/{point_of(w, t)}"),
    ),
    ("POST", "/console/{city}/touchpoints/{touchpoint_id}"): Spec(
        SHOP_CHILD,
        console_child_scope(303),
        with_form(
            lambda w, t: f"/console/{console_city(w, t)}/touchpoints/{point_of(w, t)}", point_form
        ),
        writes=True,
    ),
    ("GET", "/console/{city}/touchpoints/{touchpoint_id}/print"): Spec(
        SHOP_CHILD,
        console_child_scope(200),
        url(lambda w, t: f"/console/{console_city(w, t)}/touchpoints/{point_of(w, t)}/print"),
    ),
    ("GET", "/console/{city}/users"): Spec(
        CITY,
        city_scope(200, admin_only=True, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/users"),
    ),
    # journey events
    ("POST", "/e"): Spec(NONE, always(200), journey_event),
    ("POST", "/decide"): Spec(
        ("own", "foreign", "cross", "missing"), public(), decision("/decide"), allow=foreign_public
    ),
    ("GET", "/api/v1/decisions/{decision_id}"): Spec(
        CITY,
        public(),
        with_decision,
        allow=lambda t: foreign_public(t) | ({"content"} if t == "foreign" else NOTHING),
    ),
    ("POST", "/api/v1/decide"): Spec(
        ("own", "foreign", "cross", "missing"),
        public(),
        decision("/api/v1/decide"),
        allow=foreign_public,
    ),
    # a visitor's consent and data rights: the same for every role (wrong secret: see check)
    **{
        ("POST", f"{A}/visitor/{action}"): Spec(NONE, always(200), visitor_request(action))
        for action in ("consent", "export", "erase")
    },
    # invitations
    ("POST", f"{A}/cities/{{city}}/invitations"): Spec(
        CITY,
        city_scope(201, admin_only=True),
        with_json(lambda w, t: f"{A}/cities/{city_of(w, t)}/invitations", invitation_body),
        writes=True,
    ),
    ("GET", "/console/{city}/invitations"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/invitations")
    ),
    ("POST", "/console/{city}/invitations"): Spec(
        CITY,
        city_scope(201, admin_only=True, anon=303),
        with_form(lambda w, t: f"/console/{city_of(w, t)}/invitations", invitation_body),
        writes=True,
    ),
    ("GET", "/invite/{token}"): Spec(("own", "missing"), public(), invitation_page),
    ("POST", "/invite/{token}"): Spec(
        ("own", "missing"),
        lambda role, target: 404 if target == "missing" else (403 if role == ANON else 303),
        invitation_accept,
        writes=True,
        fresh=True,
    ),
    # coupons: saving and the wallet are public; the till only for the offering shop's staff
    ("POST", f"{A}/coupons"): Spec(
        ("own", "foreign", "cross", "missing"),
        save_expect,
        api_save,
        allow=lambda t: foreign_public(t) | ({"content"} if t == "foreign" else NOTHING),
        writes=True,
    ),
    ("POST", f"{A}/coupons/wallet"): Spec(NONE, always(200), wallet_states),
    ("POST", f"{A}/coupons/check"): Spec(
        ("own", "other", "city", "foreign", "missing"),
        till_expect,
        till_api(f"{A}/coupons/check", "saved"),
    ),
    ("POST", f"{A}/coupons/redeem"): Spec(
        ("own", "other", "city", "foreign", "missing"),
        till_expect,
        till_api(f"{A}/coupons/redeem", "redeemed"),
        writes=True,
    ),
    ("POST", f"{A}/coupons/{{coupon_id}}/undo"): Spec(
        ("own", "other", "city", "foreign", "missing"),
        api_undo_expect,
        undo_request(portal=False),
        writes=True,
    ),
    ("GET", f"{A}/contents/{{content_id}}/results"): Spec(
        SHOP,
        shop_scope(200, edit=False),
        url(lambda w, t: f"{A}/contents/{content_of(w, t)}/results"),
    ),
    ("POST", "/{city}/coupons"): Spec(
        (*CITY, "cross"),
        public(),
        form_save,
        allow=lambda t: foreign_public(t) | ({"content"} if t == "foreign" else NOTHING),
        writes=True,
    ),
    # "near me": public picks for a position; it records only exposures (aggregate events)
    ("POST", "/{city}/nearby"): Spec(CITY, public(), form_nearby, allow=foreign_public),
    ("GET", "/{city}/wallet"): Spec(
        CITY, public(), url(lambda w, t: f"/{city_of(w, t)}/wallet"), allow=foreign_public
    ),
    # the installable app: a city's manifest, the service worker's offline page
    ("GET", "/{city}/manifest.webmanifest"): Spec(
        CITY,
        public(),
        url(lambda w, t: f"/{city_of(w, t)}/manifest.webmanifest"),
        allow=foreign_public,
    ),
    ("GET", "/offline"): Spec(NONE, always(200), url(lambda w, t: "/offline")),
    # the privacy centre: the same explanation for everyone; the device's data is drawn there
    ("GET", "/{city}/privacy"): Spec(
        CITY, public(), url(lambda w, t: f"/{city_of(w, t)}/privacy"), allow=foreign_public
    ),
    # find: the events calendar, an event for the visitor's calendar, the QR scanner
    ("GET", "/{city}/events"): Spec(
        CITY,
        public(),
        url(lambda w, t: f"/{city_of(w, t)}/events"),
        allow=lambda t: foreign_public(t) | ({"content"} if t == "foreign" else NOTHING),
    ),
    ("GET", "/{city}/events/{event_id}.ics"): Spec(
        CITY_CHILD,
        public(),
        event_file,
        allow=lambda t: foreign_public(t) | ({"content"} if t == "foreign" else NOTHING),
    ),
    ("GET", "/{city}/scan"): Spec(
        CITY, public(), url(lambda w, t: f"/{city_of(w, t)}/scan"), allow=foreign_public
    ),
    ("GET", "/{city}/scan/code"): Spec(CITY, public(303), typed_code, allow=foreign_public),
    ("GET", "/portal/shops/{shop_id}/till"): Spec(
        SHOP, till_page_expect(200), url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/till")
    ),
    ("POST", "/portal/shops/{shop_id}/till/check"): Spec(
        SHOP_CHILD, till_page_expect(200), till_form("/portal/shops/{shop}/till/check")
    ),
    ("POST", "/portal/shops/{shop_id}/till/redeem"): Spec(
        SHOP_CHILD,
        till_page_expect(303),  # redirects to the result: a reload redeems nothing again
        till_form("/portal/shops/{shop}/till/redeem"),
        writes=True,
    ),
    ("POST", "/portal/coupons/{coupon_id}/undo"): Spec(
        SHOP_CHILD, portal_undo_expect, undo_request(portal=True), writes=True
    ),
    # digital fitness: the shop's people read the result; its owner and the city take the check
    ("GET", "/portal/shops/{shop_id}/fitness"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/fitness"),
    ),
    ("GET", "/portal/shops/{shop_id}/fitness/check"): Spec(
        SHOP,
        shop_scope(200, edit=True, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/fitness/check"),
    ),
    ("POST", "/portal/shops/{shop_id}/fitness/check"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}/fitness/check", fitness_answers),
        writes=True,
    ),
    ("GET", "/console/{city}/fitness"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/fitness")
    ),
    # analytics: the city's dashboard for its staff; a shop's results for its people and the city
    ("GET", "/console/{city}/analytics"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/analytics")
    ),
    ("GET", "/console/{city}/analytics/{table}.csv"): Spec(
        CITY,
        city_scope(200, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/analytics/days.csv"),
    ),
    ("GET", "/console/{city}/analytics/funnel"): Spec(
        CITY,
        city_scope(200, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/analytics/funnel"),
    ),
    ("GET", "/console/{city}/analytics/funnel.csv"): Spec(
        CITY,
        city_scope(200, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/analytics/funnel.csv"),
    ),
    ("GET", "/console/{city}/analytics/campaigns"): Spec(
        CITY,
        city_scope(200, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/analytics/campaigns"),
    ),
    ("GET", "/console/{city}/analytics/campaigns.csv"): Spec(
        CITY,
        city_scope(200, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/analytics/campaigns.csv"),
    ),
    ("GET", "/portal/shops/{shop_id}/analytics"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/analytics"),
    ),
    ("GET", "/portal/shops/{shop_id}/analytics/campaigns"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/analytics/campaigns"),
    ),
    ("GET", "/portal/shops/{shop_id}/analytics/campaigns.csv"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/analytics/campaigns.csv"),
    ),
    ("GET", "/portal/shops/{shop_id}/analytics/report.pdf"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/analytics/report.pdf"),
    ),
    ("GET", "/portal/shops/{shop_id}/analytics/{table}.csv"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/analytics/items.csv"),
    ),
    # posters and stickers of a shop's QR codes: printing changes nothing, so cashiers may too
    ("GET", "/portal/shops/{shop_id}/touchpoints/{touchpoint_id}/print"): Spec(
        SHOP_CHILD,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/touchpoints/{point_of(w, t)}/print"),
    ),
    ("GET", "/portal/shops/{shop_id}/touchpoints/{touchpoint_id}/poster.pdf"): Spec(
        SHOP_CHILD,
        shop_scope(200, edit=False, anon=303),
        url(
            lambda w, t: (
                f"/portal/shops/{shop_of(w, t)}/touchpoints/{point_of(w, t)}"
                "/poster.pdf?format=a6&cta=offer&language=both"
            )
        ),
    ),
    # the opening hours editor: everyone of the shop sees it, only its owner (and the city) saves
    ("GET", "/portal/shops/{shop_id}/hours"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/hours"),
    ),
    ("POST", "/portal/shops/{shop_id}/hours"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}/hours", hours_form),
        writes=True,
    ),
    ("POST", "/portal/shops/{shop_id}/hours/preview"): Spec(
        SHOP,
        shop_scope(200, edit=False, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}/hours/preview", hours_form),
    ),
    # the story editor: the shop's owner and the city's staff; a cashier may not write the story
    ("GET", "/portal/shops/{shop_id}/story"): Spec(
        SHOP,
        shop_scope(200, edit=True, anon=303),
        url(lambda w, t: f"/portal/shops/{shop_of(w, t)}/story"),
    ),
    ("POST", "/portal/shops/{shop_id}/story"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}/story", story_form),
        writes=True,
    ),
    # (a POST for its CSRF check, yet it stores nothing: test_portal_story.py shows that)
    ("POST", "/portal/shops/{shop_id}/story/preview"): Spec(
        SHOP,
        shop_scope(200, edit=True, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}/story/preview", story_form),
    ),
    ("POST", "/portal/shops/{shop_id}/story/images"): Spec(
        SHOP,
        shop_scope(303, edit=True, anon=303),
        with_upload(lambda w, t: f"/portal/shops/{shop_of(w, t)}/story/images"),
        writes=True,
    ),
    ("GET", "/portal/shops/{shop_id}/story/versions/{version_id}"): Spec(
        SHOP_CHILD, shop_scope(200, edit=True, anon=303), with_story_version("")
    ),
    ("POST", "/portal/shops/{shop_id}/story/versions/{version_id}/restore"): Spec(
        SHOP_CHILD,
        shop_scope(303, edit=True, anon=303),
        with_story_version("/restore"),
        writes=True,
    ),
    # the live preview of an item's text: those who may write the shop's items; stores nothing
    ("POST", "/portal/shops/{shop_id}/content/preview"): Spec(
        SHOP,
        shop_scope(200, edit=True, anon=303),
        with_form(lambda w, t: f"/portal/shops/{shop_of(w, t)}/content/preview", story_form),
    ),
}


# --- the console's users page: city admins change people of their own city only ------------


def people_of_city(role: str, target: str) -> int:
    """Another city looks missing; in the own city only its admins act (editors too get 403)."""
    if role == ANON:
        return 303
    if target == "foreign":
        return 404
    if role != ADMIN:
        return 403
    return 303 if target == "own" else 404


def fresh_person(rest: str, form: Callable[[Shop], dict[str, str]], active: bool = True) -> Builder:
    """A cashier of their own per cell; cross → the own city's path, a foreign city's cashier."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        if target == "missing":
            return Req(f"/console/{w.own.city.slug}/users/{uuid.uuid4()}{rest}", data={})
        tenant = w.own if target == "own" else w.foreign
        person = await make_user(w.app, STAFF, tenant.city, tenant.shop_b)
        if not active:
            async with w.app.engine.begin() as conn:
                users = tables.users.c
                await conn.execute(
                    tables.users.update().where(users.id == person.id).values(is_active=False)
                )
        city = w.foreign.city.slug if target == "foreign" else w.own.city.slug
        marks = {str(person.id): "private", person.email: "private"}
        return Req(
            f"/console/{city}/users/{person.id}{rest}",
            data=form(tenant.shop_b),
            markers=marks if tenant is w.foreign else {},
        )

    return build


MATRIX |= {
    ("POST", "/console/{city}/users/{user_id}/role"): Spec(
        CITY_CHILD,
        people_of_city,
        fresh_person(
            "/role",
            lambda s: {"role": STAFF, "shop": str(s.id), "to": OWNER},
        ),
        writes=True,
    ),
    ("POST", "/console/{city}/users/{user_id}/role/remove"): Spec(
        CITY_CHILD,
        people_of_city,
        fresh_person("/role/remove", lambda s: {"role": STAFF, "shop": str(s.id)}),
        writes=True,
    ),
    ("POST", "/console/{city}/users/{user_id}/disable"): Spec(
        CITY_CHILD, people_of_city, fresh_person("/disable", lambda s: {}), writes=True
    ),
    ("POST", "/console/{city}/users/{user_id}/enable"): Spec(
        CITY_CHILD,
        people_of_city,
        fresh_person("/enable", lambda s: {}, active=False),
        writes=True,
    ),
    # the touchpoint fleet
    ("GET", "/console/{city}/fleet"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/fleet")
    ),
    ("GET", "/console/{city}/fleet/map"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/fleet/map")
    ),
    ("GET", "/console/{city}/fleet.csv"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/fleet.csv")
    ),
    ("GET", "/console/{city}/fleet/import"): Spec(
        CITY,
        city_scope(200, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/fleet/import"),
    ),
    # (the dry run: a POST for its CSRF check, yet it stores nothing)
    ("POST", "/console/{city}/fleet/import"): Spec(
        CITY,
        city_scope(200, anon=303),
        with_fleet_csv(lambda w, t: f"/console/{city_of(w, t)}/fleet/import", upload=True),
    ),
    ("POST", "/console/{city}/fleet/import/confirm"): Spec(
        CITY,
        city_scope(200, anon=303),
        with_fleet_csv(lambda w, t: f"/console/{city_of(w, t)}/fleet/import/confirm"),
        writes=True,
    ),
    # the audit log: read-only, city admins of the city only
    ("GET", "/console/{city}/audit"): Spec(
        CITY,
        city_scope(200, admin_only=True, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/audit"),
    ),
    ("GET", "/console/{city}/audit.csv"): Spec(
        CITY,
        city_scope(200, admin_only=True, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/audit.csv"),
    ),
}


# --- the city's events with registration: participants for city staff, the form for everyone ---


async def signup_event(w: World, tenant: Tenant) -> Content:
    """A published event of the city that takes registrations in Marktplatz."""
    admin = tenant.users[ADMIN]
    starts = datetime.now(UTC) + timedelta(days=4)
    data = ContentInput(
        kind=ContentKind.EVENT, title=f"Werkstatt {stamp()}", starts_at=starts, place="Rathaus"
    )
    event = await registration_service.create_city_event(
        w.ctx, admin, tenant.city.id, data, ("public", None, None)
    )
    if event.status.value == "submitted":  # the world's cities approve everything themselves
        event = await content_service.act_on_content(w.ctx, admin, event.id, Action.APPROVE)
    return event


async def one_registrant(w: World, tenant: Tenant) -> tuple[Content, str, dict[str, str]]:
    """An event with one participant: the event, the cancel token and the person's markers."""
    event = await signup_event(w, tenant)
    name, email = f"Teilnehmerin {stamp()}", f"{unique('teilnahme')}@example.org"
    done = await registration_service.register(
        w.ctx, None, tenant.city.id, event.id, (name, email, True), unique("matrix")
    )
    return event, done.token, {name: "registrant", email: "registrant"}


def with_participants(rest: str, form: dict[str, str] | None = None) -> Builder:
    """The participants of an event of own or foreign (or a form changing its registration);
    cross: a foreign event under our city."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        tail = f"/{rest}" if rest else ""  # "": the event itself
        if target == "missing":
            return Req(f"/console/{w.own.city.slug}/events/{uuid.uuid4()}{tail}", data=form)
        tenant = w.foreign if target in ("foreign", "cross") else w.own
        event, _, person = await one_registrant(w, tenant)
        marks = {str(event.id): "content", event.title: "content", **person}
        return Req(
            f"/console/{console_city(w, target)}/events/{event.id}{tail}",
            data=form,
            markers=marks if tenant is w.foreign else {},
        )

    return build


def with_signup(cell_data: bool) -> Builder:
    """The registration form of an event of own or foreign (cross: foreign under our city)."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        data = None
        if cell_data:
            data = {"name": "Matrix Person", "email": f"{unique('m')}@example.org", "consent": "1"}
        if target == "missing":
            return Req(f"/{w.own.city.slug}/events/{uuid.uuid4()}/register", data=data)
        tenant = w.foreign if target in ("foreign", "cross") else w.own
        event = await signup_event(w, tenant)
        marks = {str(event.id): "content", event.title: "content"} if tenant is w.foreign else {}
        path = f"/{console_city(w, target)}/events/{event.id}/register"
        return Req(path, data=data, markers=marks)

    return build


def with_cancel_link(rest: str) -> Builder:
    """A participant's cancel link; cross: a foreign city's link under our city."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        if target == "missing":
            return Req(f"/{w.own.city.slug}/registrations/{secrets.token_urlsafe(32)}{rest}")
        tenant = w.foreign if target in ("foreign", "cross") else w.own
        event, token, person = await one_registrant(w, tenant)
        marks = {str(event.id): "content", event.title: "content", **person}
        path = f"/{console_city(w, target)}/registrations/{token}{rest}"
        return Req(path, markers=marks if tenant is w.foreign else {})

    return build


async def registration_rows(w: World) -> list[Any]:
    """Both tenants' event registrations and the terms of their events."""
    r, terms = tables.registrations.c, tables.registration_terms.c
    cities_ = [w.own.city.id, w.foreign.city.id]
    events = select(tables.contents.c.id).where(tables.contents.c.city_id.in_(cities_))
    queries = (
        select(r.id, r.content_id, r.email).where(r.city_id.in_(cities_)),
        select(tables.registration_terms).where(terms.content_id.in_(events)),
    )
    async with w.app.engine.connect() as conn:
        return [
            sorted((tuple(row) for row in await conn.execute(query)), key=str) for query in queries
        ]


def signup_public(target: str) -> frozenset[str]:
    """A foreign city's event page shows that city and event to whoever asked for it."""
    return foreign_public(target) | ({"content"} if target == "foreign" else NOTHING)


def own_link(target: str) -> frozenset[str]:
    """The cancel link's holder sees the event and their own name and address."""
    return signup_public(target) | ({"registrant"} if target == "foreign" else NOTHING)


# An event moved to a day later, under a new title (the matrix's events have no deadline).
EVENT_CHANGE = {
    "title": "Werkstatt verlegt",
    "starts_at": (datetime.now(UTC) + timedelta(days=5)).strftime("%Y-%m-%dT10:00"),
    "place": "Rathaus, Saal 3",
}


def event_form(cell: Cell) -> dict[str, str]:
    day = (datetime.now(UTC) + timedelta(days=6)).strftime("%Y-%m-%d")
    return {
        "title": f"Markt {stamp()}",
        "starts_at": f"{day}T09:00",
        "place": "Marktplatz",
        "signup": "public",
        "capacity": "30",
    }


MATRIX |= {
    ("GET", "/console/{city}/events"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/events")
    ),
    ("POST", "/console/{city}/events"): Spec(
        CITY,
        city_scope(303, anon=303),
        with_form(lambda w, t: f"/console/{city_of(w, t)}/events", event_form),
        writes=True,
    ),
    ("GET", "/console/{city}/events/{event_id}/participants"): Spec(
        CITY_CHILD, console_child_scope(200), with_participants("participants")
    ),
    ("GET", "/console/{city}/events/{event_id}/participants.csv"): Spec(
        CITY_CHILD, console_child_scope(200), with_participants("participants.csv")
    ),
    ("POST", "/console/{city}/events/{event_id}"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_participants("", EVENT_CHANGE),
        writes=True,
    ),
    ("POST", "/console/{city}/events/{event_id}/registration"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_participants("registration", {"signup": "public", "capacity": "40"}),
        writes=True,
    ),
    ("GET", "/{city}/events/{event_id}/register"): Spec(
        CITY_CHILD, public(), with_signup(False), allow=signup_public
    ),
    ("POST", "/{city}/events/{event_id}/register"): Spec(
        CITY_CHILD, public(201), with_signup(True), allow=signup_public, writes=True
    ),
    ("GET", "/{city}/registrations/{token}"): Spec(
        CITY_CHILD, public(), with_cancel_link(""), allow=own_link
    ),
    ("POST", "/{city}/registrations/{token}/cancel"): Spec(
        CITY_CHILD, public(), with_cancel_link("/cancel"), allow=own_link, writes=True
    ),
}


def with_content_version(rest: str) -> Builder:
    """A fresh item with its first version per cell; cross → the own item's path with the
    version of another shop's item."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        if target == "missing":
            return Req(f"/portal/content/{uuid.uuid4()}/versions/{2**31 - 1}{rest}")
        tenant = w.foreign if target == "foreign" else w.own
        item = await add_content(w.app, tenant, child_shop(w, target), f"Wegwerftext {stamp()}")
        admin = tenant.users[ADMIN]
        (version,) = await content_service.content_versions(w.ctx, admin, item.id)
        path_item = w.contents["own"].id if target == "cross" else item.id
        marks = {str(item.id): "content", item.title: "content"} if tenant is w.foreign else {}
        return Req(f"/portal/content/{path_item}/versions/{version.id}{rest}", markers=marks)

    return build


async def content_version_rows(w: World) -> list[Any]:
    """Both tenants' saved versions of items."""
    city_ids = [w.own.city.id, w.foreign.city.id]
    c, items = tables.content_versions.c, tables.contents.c
    query = (
        select(c.id, c.content_id, c.title, c.source)
        .join(tables.contents, items.id == c.content_id)
        .where(items.city_id.in_(city_ids))
    )
    async with w.app.engine.connect() as conn:
        return [tuple(row) for row in await conn.execute(query.order_by(c.id))]


MATRIX |= {
    ("GET", "/portal/content/{content_id}/versions/{version_id}"): Spec(
        SHOP_CHILD, shop_scope(200, edit=True, anon=303), with_content_version("")
    ),
    ("POST", "/portal/content/{content_id}/versions/{version_id}/restore"): Spec(
        SHOP_CHILD,
        shop_scope(303, edit=True, anon=303),
        with_content_version("/restore"),
        writes=True,
    ),
}


# --- people counts imported from counter exports ------------------------------------------


def with_footfall_csv(path: str, *, upload: bool) -> Builder:
    """A clean counter export naming a people counter made for this cell in the target's city:
    as a file (the dry run) or packed as the confirm form's field. A new counter each time, so
    each allowed import stores a new hour."""

    async def build(cell: Cell) -> Req:
        tenant = cell.w.foreign if cell.target == "foreign" else cell.w.own
        name = unique("Zähler")
        place = {"kind": "people-counter", "name": name, "lat": LAT, "lon": LON}
        await touchpoints.create_touchpoint(
            cell.w.app.ctx, tenant.users[ADMIN], tenant.city.id, place
        )
        data = f"Standort;Zeitpunkt;Passanten\n{name};01.05.2024 10:00;42\n".encode()
        target = f"/console/{city_of(cell.w, cell.target)}{path}"
        if upload:
            return Req(target, files={"file": ("zaehler.csv", data, "text/csv")})
        return Req(target, data={"file": pack_footfall(data)})

    return build


async def counter_count_rows(w: World) -> list[Any]:
    """Both tenants' stored people counts."""
    e = tables.events.c
    query = select(e.event_id, e.touchpoint_id, e.count).where(
        e.city_id.in_([w.own.city.id, w.foreign.city.id]), e.kind == "counter.count"
    )
    async with w.app.engine.connect() as conn:
        return sorted(tuple(row) for row in await conn.execute(query))


MATRIX |= {
    ("GET", "/console/{city}/footfall"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/footfall")
    ),
    # (the dry run: a POST for its CSRF check, yet it stores nothing)
    ("POST", "/console/{city}/footfall"): Spec(
        CITY, city_scope(200, anon=303), with_footfall_csv("/footfall", upload=True)
    ),
    ("POST", "/console/{city}/footfall/confirm"): Spec(
        CITY,
        city_scope(200, anon=303),
        with_footfall_csv("/footfall/confirm", upload=False),
        writes=True,
    ),
}


# --- sheets of QR codes from the fleet page ------------------------------------------------


def sheet_pick(w: World, target: str) -> str:
    """The sheet of one ticked code: the target's touchpoint under the console's city."""
    city, point = console_city(w, target), point_of(w, target)
    return f"/console/{city}/fleet/qr-codes.pdf?scope=selected&id={point}"


def sheet_form(w: World, target: str) -> str:
    return f"/console/{console_city(w, target)}/fleet/qr-codes.pdf"


MATRIX |= {
    # (a GET: printing changes nothing; a foreign or missing code looks missing to staff)
    ("GET", "/console/{city}/fleet/qr-codes.pdf"): Spec(
        SHOP_CHILD, console_child_scope(200), url(sheet_pick)
    ),
    # (the fleet page's form: a POST for the length of its ids, yet it changes nothing)
    ("POST", "/console/{city}/fleet/qr-codes.pdf"): Spec(
        SHOP_CHILD,
        console_child_scope(200),
        with_form(sheet_form, lambda c: {"scope": "selected", "id": str(point_of(c.w, c.target))}),
    ),
}


# --- the city's own offers, stories and job postings in the console -------------------------


def with_city_item(rest: str, form: dict[str, str] | None = None) -> Builder:
    """A fresh published offer of the city itself (own or foreign) per cell, under its city's
    console; cross: a foreign city's item under our city. `rest` may name its first version."""

    async def build(cell: Cell) -> Req:
        w, target = cell.w, cell.target
        tail = rest.replace("{version}", str(2**31 - 1))
        if target == "missing":
            return Req(f"/console/{w.own.city.slug}/content/{uuid.uuid4()}{tail}", data=form)
        tenant = w.foreign if target in ("foreign", "cross") else w.own
        admin = tenant.users[ADMIN]
        data = ContentInput(kind=ContentKind.OFFER, title=f"Stadtangebot {stamp()}")
        item = await content_service.create_content(w.ctx, admin, tenant.city.id, None, data)
        await content_service.act_on_content(w.ctx, admin, item.id, Action.SUBMIT)
        (version,) = await content_service.content_versions(w.ctx, admin, item.id)
        tail = rest.replace("{version}", str(version.id))
        marks = {str(item.id): "content", item.title: "content"} if tenant is w.foreign else {}
        path = f"/console/{console_city(w, target)}/content/{item.id}{tail}"
        return Req(path, data=form, markers=marks)

    return build


def city_item_form(cell: Cell) -> dict[str, str]:
    return {"kind": "story", "title": f"Stadtgeschichte {stamp()}", "then": "submit"}


MATRIX |= {
    ("GET", "/console/{city}/content"): Spec(
        CITY, city_scope(200, anon=303), url(lambda w, t: f"/console/{city_of(w, t)}/content")
    ),
    ("GET", "/console/{city}/content/new"): Spec(
        CITY,
        city_scope(200, anon=303),
        url(lambda w, t: f"/console/{city_of(w, t)}/content/new?kind=job"),
    ),
    ("POST", "/console/{city}/content"): Spec(
        CITY,
        city_scope(303, anon=303),
        with_form(lambda w, t: f"/console/{city_of(w, t)}/content", city_item_form),
        writes=True,
    ),
    ("POST", "/console/{city}/content/preview"): Spec(
        CITY,
        city_scope(200, anon=303),
        with_form(
            lambda w, t: f"/console/{city_of(w, t)}/content/preview",
            lambda cell: {"source": "Markt am **Samstag**"},
        ),
    ),
    ("GET", "/console/{city}/content/{content_id}"): Spec(
        CITY_CHILD, console_child_scope(200), with_city_item("")
    ),
    ("POST", "/console/{city}/content/{content_id}"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_city_item("", {"title": "Stadtangebot geändert", "then": "submit"}),
        writes=True,
    ),
    ("POST", "/console/{city}/content/{content_id}/withdraw"): Spec(
        CITY_CHILD, console_child_scope(303), with_city_item("/withdraw", {}), writes=True
    ),
    ("GET", "/console/{city}/content/{content_id}/versions/{version_id}"): Spec(
        CITY_CHILD, console_child_scope(200), with_city_item("/versions/{version}")
    ),
    ("POST", "/console/{city}/content/{content_id}/versions/{version_id}/restore"): Spec(
        CITY_CHILD,
        console_child_scope(303),
        with_city_item("/versions/{version}/restore", {}),
        writes=True,
    ),
}


def expected(spec: Spec, role: str, target: str) -> int:
    return spec.overrides.get((role, target), spec.expect(role, target))


def matrix_cell(key: tuple[str, str], role: str, target: str) -> Any:
    return pytest.param(key, role, target, id=f"{key[0]} {key[1]} | {role} | {target}")


CELLS = [
    matrix_cell(key, role, target)
    for key, spec in MATRIX.items()
    for role in ROLES
    for target in spec.targets
]


# --- checks --------------------------------------------------------------------------------


async def snapshot(w: World) -> list[Any]:
    """Everything both tenants hold, read past the web layer."""
    state: list[Any] = []
    async with w.ctx.uow() as uow:
        for city in (w.own.city, w.foreign.city):
            state.append(
                [
                    await uow.cities.get(city.id),
                    sorted(await uow.zones.list_for_city(city.id), key=lambda z: str(z.id)),
                    sorted(await uow.shops.list_for_city(city.id), key=lambda s: str(s.id)),
                    await uow.shops.images_for_city(city.id),
                    sorted(await uow.touchpoints.list_for_city(city.id), key=lambda t: str(t.id)),
                    sorted(await uow.users.list_for_city(city.id), key=lambda u: str(u.id)),
                    await uow.invitations.list_open(city.id, w.ctx.clock.now()),
                    await uow.contents.list_for_city(city.id),
                    await uow.contents.rules(city.id),
                ]
            )
    state.append(await coupon_rows(w))
    state.append(await two_factor_rows(w))
    state.append(await fitness_rows(w))
    state.append(await story_version_rows(w))
    state.append(await registration_rows(w))
    state.append(await content_version_rows(w))
    state.append(await counter_count_rows(w))
    return state


async def fitness_rows(w: World) -> list[Any]:
    """Both tenants' digital-fitness checks."""
    f = tables.fitness_checks.c
    query = select(f.id, f.shop_id).where(f.city_id.in_([w.own.city.id, w.foreign.city.id]))
    async with w.app.engine.connect() as conn:
        return sorted((tuple(row) for row in await conn.execute(query)), key=str)


async def two_factor_rows(w: World) -> list[Any]:
    """Both tenants' users' two-factor state: a pending secret is sealed anew at every start."""
    users = [u.id for tenant in (w.own, w.foreign) for u in tenant.users.values()]
    query = select(tables.two_factor).where(tables.two_factor.c.user_id.in_(users))
    async with w.app.engine.connect() as conn:
        return sorted((tuple(row) for row in await conn.execute(query)), key=str)


async def coupon_rows(w: World) -> list[Any]:
    """Both tenants' coupons, their offers' tallies and what led to their redemptions."""
    c = tables.coupons.c
    cities_ = [w.own.city.id, w.foreign.city.id]
    offers = select(tables.contents.c.id).where(tables.contents.c.city_id.in_(cities_))
    queries = (
        select(tables.coupons).where(c.city_id.in_(cities_)).order_by(c.id),
        select(tables.coupon_tallies)
        .where(tables.coupon_tallies.c.content_id.in_(offers))
        .order_by(tables.coupon_tallies.c.content_id),
        select(tables.coupon_touches.c.coupon_id, tables.coupon_touches.c.touchpoint_id)
        .where(tables.coupon_touches.c.content_id.in_(offers))
        .order_by(tables.coupon_touches.c.coupon_id),
    )
    async with w.app.engine.connect() as conn:
        return [[tuple(row) for row in await conn.execute(query)] for query in queries]


async def drop_extra_images(w: World) -> None:
    """Pictures made or uploaded by a cell go again, so no shop reaches its picture limit."""
    keep = {image.id for image in w.images.values()}
    for tenant in (w.own, w.foreign):
        async with w.ctx.uow() as uow:
            found = await uow.shops.images_for_city(tenant.city.id)
        for shop_id, images in found.items():
            for image in images:
                if image.id not in keep:
                    await shops.delete_shop_image(w.ctx, tenant.users[ADMIN], shop_id, image.id)


def sent_values(req: Req) -> list[str]:
    """What the client itself sent: echoing it back is no leak."""
    path, _, query = req.url.partition("?")
    # A code or id in the path may come back alone (the QR redirect adds ?via=<code>).
    values = [path, quote(path), *(part for part in path.split("/") if len(part) >= 8)]
    values += [value for _, value in parse_qsl(query) if value]
    if req.data:
        values += [v for v in req.data.values() if v]
    if isinstance(req.json, dict):
        values += [v for v in req.json.values() if isinstance(v, str) and v]
    return sorted(values, key=len, reverse=True)


def leaked(text: str, markers: Mapping[str, str]) -> list[str]:
    return sorted(f"{label}: {marker}" for marker, label in markers.items() if marker in text)


def is_page(path: str) -> bool:
    return path.startswith(("/portal", "/console", "/account"))


async def prepare(w: World, role: str, fresh: bool) -> tuple[httpx.AsyncClient, str, bool]:
    """The role's client with only its session cookie (or a new client with a new session)."""
    if fresh:
        client = new_client(w.web)
        csrf = await login(client, w.own.users[role]) if role != ANON else ""
        return client, csrf, True
    client = w.clients[role]
    for cookie in list(client.cookies.jar):
        if cookie.name != SESSION_COOKIE:  # e.g. a language choice made by an earlier cell
            client.cookies.jar.clear(cookie.domain, cookie.path, cookie.name)
    if role == ANON:
        assert SESSION_COOKIE not in client.cookies
        return client, "", False
    token, csrf = w.sessions[role]
    assert client.cookies[SESSION_COOKIE] == token
    return client, csrf, False


@pytest.mark.parametrize(("key", "role", "target"), CELLS)
async def test_authorization_cell(
    world: World, key: tuple[str, str], role: str, target: str
) -> None:
    method, template = key
    spec = MATRIX[key]
    want = expected(spec, role, target)
    client, csrf, own_client = await prepare(world, role, spec.fresh)
    try:
        req = await spec.build(Cell(world, role, target, client))
        headers = {"x-csrf-token": csrf} if csrf and method not in SAFE_METHODS else {}
        before = await snapshot(world) if spec.writes else None
        response = await client.request(
            method, req.url, json=req.json, data=req.data, files=req.files, headers=headers
        )
        where = f"{method} {req.url} as {role} ({target})"
        assert response.status_code == want, (
            f"{where}: {response.status_code} instead of {want}: {response.text[:400]}"
        )

        # No foreign tenant's identifiers unless a public route was asked for them.
        text = response.content.decode("utf-8", "replace") + response.headers.get("location", "")
        for value in sent_values(req):
            text = text.replace(value, "")
        allowed = spec.allow(target)
        foreign = {
            m: f"foreign {c}"
            for m, c in {**world.foreign_markers, **req.markers}.items()
            if c not in allowed
        }
        seen = spec.allow_own(role)
        private = {m: label for m, label in own_private(world, role).items() if label not in seen}
        leaks = leaked(text, foreign) + leaked(text, private)
        assert not leaks, f"{where} shows data it must not: {leaks}"

        if response.status_code == 404 and template.startswith("/api/"):
            assert response.json() == {"detail": "not found"}, where  # foreign looks missing
        if response.status_code == 303 and role == ANON and is_page(template):
            assert response.headers["location"].startswith("/login?next="), where
        if req.check is not None:
            await req.check(response)

        if before is not None:
            after = await snapshot(world)
            succeeded = want in (200, 201, 204) or (want == 303 and role != ANON)
            if succeeded:
                assert after != before, f"{where} answered {want} but changed nothing"
            else:
                assert after == before, f"{where} was refused ({want}) but changed data"
    finally:
        if own_client:
            await client.aclose()
        if spec.writes:
            await drop_extra_images(world)


# --- CSRF: a session cookie alone changes nothing ------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        pytest.param(
            "PATCH",
            "/api/v1/shops/{shop}",
            {"json": {"website": "https://a.example"}},
            id="api PATCH shop",
        ),
        pytest.param(
            "POST", "/portal/shops/{shop}/images/{image}/delete", {}, id="portal delete picture"
        ),
    ],
)
@pytest.mark.parametrize("token", ["", "falsch"], ids=["no token", "wrong token"])
async def test_state_change_without_csrf_token_is_refused(
    world: World, method: str, path: str, kwargs: dict[str, Any], token: str
) -> None:
    client, _, _ = await prepare(world, OWNER, fresh=False)
    url_ = path.format(shop=world.own.shop_a.id, image=world.images["own"].id)
    headers = {"x-csrf-token": token} if token else {}
    before = await snapshot(world)
    response = await client.request(method, url_, headers=headers, **kwargs)
    assert response.status_code == 403, response.text[:300]
    assert await snapshot(world) == before


# --- the matrix covers every route ---------------------------------------------------------


def registered(web: Any) -> set[tuple[str, str]]:
    """Every (method, path) the app answers; routers included into the app are flattened."""
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    routes = list(flatten(web.routes)) if flatten else list(web.routes)
    found: set[tuple[str, str]] = set()
    for route in routes:
        original = getattr(route, "original_route", route)
        assert isinstance(original, APIRoute | Route), f"unexpected route type {original!r}"
        assert route.path, f"route without a path: {route!r}"
        assert route.methods, f"route without methods: {route!r}"
        found |= {(method, route.path) for method in route.methods if method != "HEAD"}
    return found


def test_every_route_is_in_the_matrix(web: Any) -> None:
    routes = registered(web)
    missing = sorted(routes - MATRIX.keys())
    assert not missing, f"routes without an entry in the authorization matrix: {missing}"
    stale = sorted(MATRIX.keys() - routes)
    assert not stale, f"matrix entries for routes that no longer exist: {stale}"


# Routes without a path parameter that name a tenant's objects in their body instead, and the
# targets each must try. A coupon code names no parent, so the till routes have no "cross".
CONTACT = frozenset({"missing", "foreign", "cross"})
CODE = frozenset({"own", "other", "foreign", "missing"})
BODY_SCOPED: Mapping[tuple[str, str], frozenset[str]] = {
    ("POST", "/decide"): CONTACT,
    ("POST", "/api/v1/decide"): CONTACT,
    ("POST", f"{A}/coupons"): CONTACT,
    ("POST", f"{A}/coupons/check"): CODE,
    ("POST", f"{A}/coupons/redeem"): CODE,
}


def test_matrix_entries_are_complete() -> None:
    for (method, path), spec in MATRIX.items():
        if (method, path) in BODY_SCOPED:
            assert BODY_SCOPED[method, path] <= set(spec.targets), (method, path)
        elif "{" in path:
            assert "missing" in spec.targets, f"{method} {path}: no nonexistent-id target"
        else:
            assert spec.targets == NONE, f"{method} {path}: targets without a path parameter"
        tenant_scoped = any(p in path for p in ("{city}", "_id}", "{name}", "{code}"))
        if tenant_scoped and not path.startswith("/lang/"):
            assert "foreign" in spec.targets, f"{method} {path}: no foreign-tenant target"
        if "{shop_id}" in path or "{touchpoint_id}" in path:
            assert "other" in spec.targets, f"{method} {path}: no other-shop target"
        for role, target in spec.overrides:
            assert role in ROLES, (method, path, role)
            assert target in spec.targets, (method, path, target)
