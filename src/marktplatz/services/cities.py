"""Use cases for cities and their zones."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import (
    City,
    clean_city_slug,
    clean_federal_state,
    clean_languages,
    clean_timezone,
)
from marktplatz.domain.errors import N_, Conflict, NotFound
from marktplatz.domain.geo import make_location, polygon_contains
from marktplatz.domain.text import clean_slug, clean_text
from marktplatz.domain.zones import Zone, clean_zone_shape
from marktplatz.services.access import access_city, access_zone
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork
from marktplatz.services.touchpoints import rezone_touchpoints


async def city_by_slug(ctx: Context, slug: str) -> City:
    """A city for public pages; NotFound if unknown."""
    async with ctx.uow() as uow:
        city = await uow.cities.by_slug(slug)
    if city is None:
        raise NotFound("city")
    return city


async def list_cities(ctx: Context) -> list[City]:
    """All cities, for the public start page."""
    async with ctx.uow() as uow:
        return await uow.cities.list()


async def create_city(ctx: Context, data: Mapping[str, object], *, is_demo: bool = False) -> City:
    """Register a city (operators only: the CLI and the demo loader call this)."""
    center = make_location(data.get("lat"), data.get("lon"), "center")
    city = City(
        id=uuid.uuid4(),
        slug=clean_city_slug(data.get("slug")),
        name=clean_text(data.get("name"), "name", max_len=120),
        timezone=clean_timezone(data.get("timezone", "Europe/Berlin")),
        federal_state=clean_federal_state(data.get("federal_state")),
        languages=clean_languages(data.get("languages", ["de", "en"])),
        center=center,
        tagline=clean_text(data.get("tagline", ""), "tagline", max_len=200, required=False),
        tagline_en=clean_text(
            data.get("tagline_en", ""), "tagline_en", max_len=200, required=False
        ),
        is_demo=is_demo,
        created_at=ctx.clock.now(),
    )
    async with ctx.uow(write=True) as uow:
        if await uow.cities.by_slug(city.slug) is not None:
            raise Conflict("slug", N_("A city with this short name already exists."))
        await uow.cities.add(city)
        await uow.commit()
    return city


async def update_city(
    ctx: Context, actor: User | None, city_id: UUID, data: Mapping[str, object]
) -> City:
    """Change a city's name, tagline, timezone, federal state or languages (city admins)."""
    async with ctx.uow(write=True) as uow:
        city = await access_city(uow, actor, city_id, admin=True)
        changes: dict[str, object] = {}
        if "name" in data:
            changes["name"] = clean_text(data["name"], "name", max_len=120)
        if "tagline" in data:
            changes["tagline"] = clean_text(data["tagline"], "tagline", max_len=200, required=False)
        if "tagline_en" in data:
            changes["tagline_en"] = clean_text(
                data["tagline_en"], "tagline_en", max_len=200, required=False
            )
        if "timezone" in data:
            changes["timezone"] = clean_timezone(data["timezone"])
        if "federal_state" in data:
            changes["federal_state"] = clean_federal_state(data["federal_state"])
        if "languages" in data:
            changes["languages"] = clean_languages(data["languages"])
        updated = replace(city, **changes)  # type: ignore[arg-type]
        await uow.cities.update(updated)
        await audit(uow, ctx, actor, city.id, "city.updated", "city", city.id, sorted(changes))
        await uow.commit()
    return updated


async def list_zones(ctx: Context, city_id: UUID) -> list[Zone]:
    """The zones of a city (public: zones are shown on the visitor map)."""
    async with ctx.uow() as uow:
        return await uow.zones.list_for_city(city_id)


async def get_zone(ctx: Context, zone_id: UUID) -> Zone:
    """One zone (public, like the map)."""
    async with ctx.uow() as uow:
        zone = await uow.zones.get(zone_id)
    if zone is None:
        raise NotFound("zone")
    return zone


async def create_zone(
    ctx: Context, actor: User | None, city_id: UUID, data: Mapping[str, object]
) -> Zone:
    """Draw a new zone in a city (city staff)."""
    async with ctx.uow(write=True) as uow:
        city = await access_city(uow, actor, city_id)
        zone = Zone(
            id=uuid.uuid4(),
            city_id=city_id,
            slug=clean_slug(data.get("slug")),
            name=clean_text(data.get("name"), "name", max_len=120),
            description=clean_text(
                data.get("description", ""), "description", max_len=500, required=False
            ),
            geometry=clean_zone_shape(data.get("geometry"), city.center),
            created_at=ctx.clock.now(),
        )
        await _check_zone_slug(uow, zone, None)
        await uow.zones.add(zone)
        await rezone_touchpoints(ctx, uow, zone)
        await audit(uow, ctx, actor, city_id, "zone.created", "zone", zone.id, [zone.slug])
        await uow.commit()
    return zone


async def update_zone(
    ctx: Context, actor: User | None, zone_id: UUID, data: Mapping[str, object]
) -> Zone:
    """Rename or redraw a zone (city staff)."""
    async with ctx.uow(write=True) as uow:
        zone = await access_zone(uow, actor, zone_id)
        changes: dict[str, object] = {}
        if "slug" in data:
            changes["slug"] = clean_slug(data["slug"])
        if "name" in data:
            changes["name"] = clean_text(data["name"], "name", max_len=120)
        if "description" in data:
            changes["description"] = clean_text(
                data["description"], "description", max_len=500, required=False
            )
        if "geometry" in data:
            city = await access_city(uow, actor, zone.city_id)
            changes["geometry"] = clean_zone_shape(data["geometry"], city.center)
        updated = replace(zone, **changes)  # type: ignore[arg-type]
        await _check_zone_slug(uow, updated, zone.id)
        await uow.zones.update(updated)
        if "geometry" in changes:
            await rezone_touchpoints(ctx, uow, updated)
        await audit(uow, ctx, actor, zone.city_id, "zone.updated", "zone", zone.id, sorted(changes))
        await uow.commit()
    return updated


async def delete_zone(ctx: Context, actor: User | None, zone_id: UUID) -> None:
    """Remove a zone; touchpoints in it keep their position and fall to the zone that still
    contains them, or to none."""
    async with ctx.uow(write=True) as uow:
        zone = await access_zone(uow, actor, zone_id)
        await rezone_touchpoints(ctx, uow, zone, removed=True)
        await uow.zones.delete(zone.id)
        await audit(uow, ctx, actor, zone.city_id, "zone.deleted", "zone", zone.id, [zone.slug])
        await uow.commit()


@dataclass(frozen=True, slots=True)
class ZoneMembers:
    """What lies in a zone: touchpoints by the zone they are assigned to, shops by position."""

    touchpoints: int = 0
    shops: int = 0


async def zone_members(ctx: Context, actor: User | None, city_id: UUID) -> dict[UUID, ZoneMembers]:
    """How many touchpoints and shops each zone of the city holds (city staff). Shops carry no
    zone of their own: one lies in every zone that covers its position."""
    async with ctx.uow() as uow:
        await access_city(uow, actor, city_id)
        zones = await uow.zones.list_for_city(city_id)
        points = Counter(t.zone_id for t in await uow.touchpoints.list_for_city(city_id))
        places = [s.location for s in await uow.shops.list_for_city(city_id)]
    return {
        z.id: ZoneMembers(
            points[z.id], sum(polygon_contains(z.geometry, place) for place in places)
        )
        for z in zones
    }


async def _check_zone_slug(uow: UnitOfWork, zone: Zone, except_id: UUID | None) -> None:
    if await uow.zones.slug_taken(zone.city_id, zone.slug, except_id):
        raise Conflict("slug", N_("Another zone already uses this short name."))
