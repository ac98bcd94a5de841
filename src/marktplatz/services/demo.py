"""Loading the demo city "Musterstadt" (clearly marked as demo data)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.content import Action, ContentKind, JobType
from marktplatz.domain.errors import NotFound
from marktplatz.services import accounts, cities, content, shops, touchpoints
from marktplatz.services.content import ContentInput, CouponInput
from marktplatz.services.context import Context

DEMO_PASSWORD_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # noqa: S105


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: str
    email: str
    password: str
    shop_slug: str | None


@dataclass(frozen=True, slots=True)
class DemoResult:
    created: bool
    city_slug: str
    shops: int
    zones: int
    touchpoints: int
    accounts: tuple[DemoAccount, ...]


def _password() -> str:
    return "-".join(
        "".join(secrets.choice(DEMO_PASSWORD_ALPHABET) for _ in range(5)) for _ in range(3)
    )


async def load_demo(ctx: Context, data: Mapping[str, Any], owner_shop: str) -> DemoResult:
    """Load the demo city once; a second call changes nothing and reports that."""
    city_data = dict(data["city"])
    try:
        existing = await cities.city_by_slug(ctx, city_data["slug"])
        return DemoResult(False, existing.slug, 0, 0, 0, ())
    except NotFound:
        pass
    city_data["tagline"] = city_data.get("tagline_de", "")
    city_data.setdefault("tagline_en", "")
    city = await cities.create_city(ctx, city_data, is_demo=True)
    admin_account = DemoAccount("city-admin", f"admin@{city.slug}.example", _password(), None)
    admin = await _account(ctx, city.slug, admin_account, "Stadtmarketing (Demo-Admin)")
    for zone in data["zones"]:
        await cities.create_zone(ctx, admin, city.id, zone)
    slugs = {}
    for shop in data["shops"]:
        created = await shops.create_shop(
            ctx,
            admin,
            city.id,
            {
                **shop,
                "keep_unparsed_hours": True,
                "story_html": shop.get("story_de", ""),
                "story_html_en": shop.get("story_en", ""),
            },
        )
        slugs[created.slug] = created.id
    for point in data["touchpoints"]:
        await touchpoints.create_touchpoint(ctx, admin, city.id, _touchpoint_input(point, slugs))
    others = (
        (
            DemoAccount("city-editor", f"redaktion@{city.slug}.example", _password(), None),
            "Redaktion (Demo)",
        ),
        (
            DemoAccount("retailer-owner", f"inhaber@{city.slug}.example", _password(), owner_shop),
            "Inhaberin (Demo)",
        ),
        (
            DemoAccount("retailer-staff", f"kasse@{city.slug}.example", _password(), owner_shop),
            "Kasse (Demo)",
        ),
    )
    for account, name in others:
        await _account(ctx, city.slug, account, name)
    zones = {z.slug: z.id for z in await cities.list_zones(ctx, city.id)}
    for item in data.get("content", []):
        await _content(ctx, admin, city, item, slugs, zones)
    return DemoResult(
        True,
        city.slug,
        len(data["shops"]),
        len(data["zones"]),
        len(data["touchpoints"]),
        (admin_account, *(a for a, _ in others)),
    )


async def _account(ctx: Context, city_slug: str, account: DemoAccount, name: str) -> User:
    return await accounts.create_user(
        ctx,
        email=account.email,
        password=account.password,
        display_name=name,
        role=account.role,
        city_slug=city_slug,
        shop_slug=account.shop_slug,
    )


def _touchpoint_input(point: Mapping[str, Any], shop_ids: Mapping[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "kind": point["kind"],
        "name": point["name"],
        "lat": point["lat"],
        "lon": point["lon"],
        "placement": point.get("placement", ""),
        "shop_id": str(shop_ids[point["owner_shop"]]) if point.get("owner_shop") else None,
    }
    for key in ("ibeacon", "eddystone", "altbeacon"):
        if key in point:
            result[key] = point[key]
    target = (point.get("qr") or point.get("nfc") or {}).get("target")
    if target:
        result["target"] = target
    return result


async def _content(
    ctx: Context,
    admin: User,
    city: City,
    item: Mapping[str, Any],
    shop_ids: Mapping[str, UUID],
    zone_ids: Mapping[str, UUID],
) -> None:
    """One demo item, submitted like a retailer would: most go live, the pharmacy's waits for
    the city's approval (so the demo's approval queue has something in it)."""
    today = ctx.clock.now().astimezone(city.tz).date()

    def at(offset: list[Any] | None) -> datetime | None:
        if offset is None:
            return None
        day = today + timedelta(days=int(offset[0]))
        return datetime.combine(day, time.fromisoformat(offset[1]), tzinfo=city.tz)

    coupon = item.get("coupon")
    data = ContentInput(
        kind=ContentKind(item["kind"]),
        title=item["title"],
        body_html=item.get("body", ""),
        starts_at=at(item.get("starts")),
        ends_at=at(item.get("ends")),
        day_start=time.fromisoformat(item["day_start"]) if "day_start" in item else None,
        day_end=time.fromisoformat(item["day_end"]) if "day_end" in item else None,
        zone_ids=[zone_ids[z] for z in item.get("zones", [])],
        radius_m=item.get("radius_m"),
        interests=list(item.get("interests", [])),
        coupon=CouponInput(**coupon) if coupon else None,
        place=item.get("place", ""),
        registration=item.get("registration", ""),
        job_type=JobType(item["job_type"]) if "job_type" in item else None,
    )
    shop = shop_ids[item["shop"]] if item.get("shop") else None
    created = await content.create_content(ctx, admin, city.id, shop, data)
    await content.act_on_content(ctx, admin, created.id, Action.SUBMIT)
