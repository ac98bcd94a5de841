"""SQL repositories: rows in, frozen domain objects out."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.accounts import Membership, Role, User
from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.cities import City, FederalState
from marktplatz.domain.errors import N_, Conflict
from marktplatz.domain.geo import Location
from marktplatz.domain.shops import Shop, ShopImage, areas_text, parse_areas
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind, TouchpointStatus
from marktplatz.domain.zones import Zone
from marktplatz.store import tables as t


def _flat_location(values: dict[str, Any]) -> dict[str, Any]:
    key = "center" if "center" in values else "location"
    loc = values.pop(key)
    values["lat"], values["lon"] = loc["lat"], loc["lon"]
    return values


_DUPLICATE_MESSAGES = {
    "identifier": N_("Another touchpoint already uses this identifier."),
    "slug": N_("Another shop already uses this short name."),
    "email": N_("A user with this e-mail address already exists."),
}


async def _insert_unique(conn: AsyncConnection, statement: Any, field: str) -> None:
    """Run a write; a lost race on a unique key becomes the same Conflict as the check before."""
    try:
        async with conn.begin_nested():
            await conn.execute(statement)
    except IntegrityError as exc:
        raise Conflict(field, _DUPLICATE_MESSAGES[field]) from exc


async def bump_content_version(conn: AsyncConnection, city_id: UUID) -> None:
    """Tell every worker's decision index that the city changed (content, shops, places)."""
    await conn.execute(
        update(t.cities)
        .where(t.cities.c.id == city_id)
        .values(content_version=t.cities.c.content_version + 1)
    )


def _city(row: RowMapping) -> City:
    return City(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        timezone=row["timezone"],
        federal_state=FederalState(row["federal_state"]),
        languages=tuple(row["languages"]),
        center=Location(row["lat"], row["lon"]),
        tagline=row["tagline"],
        tagline_en=row["tagline_en"],
        is_demo=row["is_demo"],
        created_at=row["created_at"],
    )


def _shop(row: RowMapping) -> Shop:
    skip = ("lat", "lon", "category", "staff_may_edit")
    values = {k: row[k] for k in row.keys() if k not in skip}  # noqa: SIM118
    return Shop(
        **values,
        category=ShopCategory(row["category"]),
        location=Location(row["lat"], row["lon"]),
        staff_may_edit=parse_areas(row["staff_may_edit"]),
    )


def _shop_values(shop: Shop) -> dict[str, Any]:
    values = _flat_location(asdict(shop))
    values["staff_may_edit"] = areas_text(shop.staff_may_edit)
    return values


def _touchpoint(row: RowMapping) -> Touchpoint:
    skip = ("lat", "lon", "kind", "status")
    values = {k: row[k] for k in row.keys() if k not in skip}  # noqa: SIM118
    return Touchpoint(
        **values,
        kind=TouchpointKind(row["kind"]),
        status=TouchpointStatus(row["status"]),
        location=Location(row["lat"], row["lon"]),
    )


class SqlCities:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, city_id: UUID) -> City | None:
        row = (await self.conn.execute(select(t.cities).where(t.cities.c.id == city_id))).first()
        return _city(row._mapping) if row else None

    async def by_slug(self, slug: str) -> City | None:
        row = (await self.conn.execute(select(t.cities).where(t.cities.c.slug == slug))).first()
        return _city(row._mapping) if row else None

    async def list(self) -> list[City]:
        rows = await self.conn.execute(select(t.cities).order_by(t.cities.c.name))
        return [_city(r._mapping) for r in rows]

    async def add(self, city: City) -> None:
        values = _flat_location(asdict(city))
        values["languages"] = list(city.languages)
        await self.conn.execute(t.cities.insert().values(**values))

    async def update(self, city: City) -> None:
        values = _flat_location(asdict(city))
        values["languages"] = list(city.languages)
        await self.conn.execute(update(t.cities).where(t.cities.c.id == city.id).values(**values))

    async def lock(self, city_id: UUID) -> None:
        # FOR UPDATE on PostgreSQL; SQLite ignores it, its write transactions are serial anyway.
        await self.conn.execute(
            select(t.cities.c.id).where(t.cities.c.id == city_id).with_for_update()
        )


class SqlZones:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, zone_id: UUID) -> Zone | None:
        row = (await self.conn.execute(select(t.zones).where(t.zones.c.id == zone_id))).first()
        return Zone(**row._mapping) if row else None

    async def list_for_city(self, city_id: UUID) -> list[Zone]:
        query = select(t.zones).where(t.zones.c.city_id == city_id).order_by(t.zones.c.name)
        return [Zone(**r._mapping) for r in await self.conn.execute(query)]

    async def slug_taken(self, city_id: UUID, slug: str, except_id: UUID | None) -> bool:
        query = select(t.zones.c.id).where(t.zones.c.city_id == city_id, t.zones.c.slug == slug)
        found = (await self.conn.execute(query)).scalar()
        return found is not None and found != except_id

    async def add(self, zone: Zone) -> None:
        await self.conn.execute(t.zones.insert().values(**asdict(zone)))
        await bump_content_version(self.conn, zone.city_id)

    async def update(self, zone: Zone) -> None:
        await self.conn.execute(
            update(t.zones).where(t.zones.c.id == zone.id).values(**asdict(zone))
        )
        await bump_content_version(self.conn, zone.city_id)

    async def delete(self, zone_id: UUID) -> None:
        city_id = (
            await self.conn.execute(select(t.zones.c.city_id).where(t.zones.c.id == zone_id))
        ).scalar()
        await self.conn.execute(
            update(t.touchpoints).where(t.touchpoints.c.zone_id == zone_id).values(zone_id=None)
        )
        await self.conn.execute(delete(t.zones).where(t.zones.c.id == zone_id))
        if city_id is not None:
            await bump_content_version(self.conn, city_id)


class SqlShops:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, shop_id: UUID) -> Shop | None:
        row = (await self.conn.execute(select(t.shops).where(t.shops.c.id == shop_id))).first()
        return _shop(row._mapping) if row else None

    async def by_slug(self, city_id: UUID, slug: str) -> Shop | None:
        query = select(t.shops).where(t.shops.c.city_id == city_id, t.shops.c.slug == slug)
        row = (await self.conn.execute(query)).first()
        return _shop(row._mapping) if row else None

    async def list_for_city(
        self, city_id: UUID, category: ShopCategory | None = None
    ) -> list[Shop]:
        query = select(t.shops).where(t.shops.c.city_id == city_id)
        if category is not None:
            query = query.where(t.shops.c.category == category.value)
        rows = await self.conn.execute(query.order_by(t.shops.c.name))
        return [_shop(r._mapping) for r in rows]

    async def add(self, shop: Shop) -> None:
        statement = t.shops.insert().values(**_shop_values(shop))
        await _insert_unique(self.conn, statement, "slug")
        await bump_content_version(self.conn, shop.city_id)

    async def update(self, shop: Shop) -> None:
        values = _shop_values(shop)
        await self.conn.execute(update(t.shops).where(t.shops.c.id == shop.id).values(**values))
        await bump_content_version(self.conn, shop.city_id)  # hours and position count

    async def images(self, shop_id: UUID) -> list[ShopImage]:
        query = (
            select(t.shop_images)
            .where(t.shop_images.c.shop_id == shop_id)
            .order_by(t.shop_images.c.position, t.shop_images.c.created_at)
        )
        return [ShopImage(**r._mapping) for r in await self.conn.execute(query)]

    async def images_for_city(self, city_id: UUID) -> dict[UUID, list[ShopImage]]:
        query = (
            select(t.shop_images)
            .join(t.shops, t.shops.c.id == t.shop_images.c.shop_id)
            .where(t.shops.c.city_id == city_id)
            .order_by(t.shop_images.c.position)
        )
        result: dict[UUID, list[ShopImage]] = defaultdict(list)
        for row in await self.conn.execute(query):
            image = ShopImage(**row._mapping)
            result[image.shop_id].append(image)
        return dict(result)

    async def image(self, image_id: UUID) -> ShopImage | None:
        query = select(t.shop_images).where(t.shop_images.c.id == image_id)
        row = (await self.conn.execute(query)).first()
        return ShopImage(**row._mapping) if row else None

    async def add_image(self, image: ShopImage) -> None:
        await self.conn.execute(t.shop_images.insert().values(**asdict(image)))

    async def delete_image(self, image_id: UUID) -> None:
        await self.conn.execute(delete(t.shop_images).where(t.shop_images.c.id == image_id))


class SqlTouchpoints:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, touchpoint_id: UUID) -> Touchpoint | None:
        query = select(t.touchpoints).where(t.touchpoints.c.id == touchpoint_id)
        row = (await self.conn.execute(query)).first()
        return _touchpoint(row._mapping) if row else None

    async def by_identifier(self, identifier: str) -> Touchpoint | None:
        query = select(t.touchpoints).where(t.touchpoints.c.identifier == identifier)
        row = (await self.conn.execute(query)).first()
        return _touchpoint(row._mapping) if row else None

    async def list_for_city(self, city_id: UUID, shop_id: UUID | None = None) -> list[Touchpoint]:
        query = select(t.touchpoints).where(t.touchpoints.c.city_id == city_id)
        if shop_id is not None:
            query = query.where(t.touchpoints.c.shop_id == shop_id)
        rows = await self.conn.execute(query.order_by(t.touchpoints.c.kind, t.touchpoints.c.name))
        return [_touchpoint(r._mapping) for r in rows]

    async def add(self, touchpoint: Touchpoint) -> None:
        statement = t.touchpoints.insert().values(**_flat_location(asdict(touchpoint)))
        await _insert_unique(self.conn, statement, "identifier")
        await bump_content_version(self.conn, touchpoint.city_id)

    async def update(self, touchpoint: Touchpoint) -> None:
        values = _flat_location(asdict(touchpoint))
        statement = update(t.touchpoints).where(t.touchpoints.c.id == touchpoint.id)
        await _insert_unique(self.conn, statement.values(**values), "identifier")
        # A beacon switched off (or taken) must stop being served within a second.
        await bump_content_version(self.conn, touchpoint.city_id)


class SqlUsers:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _memberships(self, user_ids: list[UUID]) -> dict[UUID, list[Membership]]:
        query = select(t.memberships).where(t.memberships.c.user_id.in_(user_ids))
        result: dict[UUID, list[Membership]] = defaultdict(list)
        for row in await self.conn.execute(query.order_by(t.memberships.c.id)):
            m = row._mapping
            result[m["user_id"]].append(Membership(Role(m["role"]), m["city_id"], m["shop_id"]))
        return result

    async def _users(self, rows: list[RowMapping]) -> list[User]:
        members = await self._memberships([r["id"] for r in rows])
        return [User(**r, memberships=tuple(members.get(r["id"], ()))) for r in rows]

    async def get(self, user_id: UUID) -> User | None:
        rows = await self.conn.execute(select(t.users).where(t.users.c.id == user_id))
        found = await self._users([r._mapping for r in rows])
        return found[0] if found else None

    async def by_email(self, email: str) -> User | None:
        rows = await self.conn.execute(select(t.users).where(t.users.c.email == email.lower()))
        found = await self._users([r._mapping for r in rows])
        return found[0] if found else None

    async def list_for_city(self, city_id: UUID) -> list[User]:
        ids = select(t.memberships.c.user_id).where(t.memberships.c.city_id == city_id)
        query = select(t.users).where(t.users.c.id.in_(ids)).order_by(t.users.c.email)
        return await self._users([r._mapping for r in await self.conn.execute(query)])

    async def add(self, user: User) -> None:
        values = asdict(user)
        values.pop("memberships")
        await _insert_unique(self.conn, t.users.insert().values(**values), "email")

    async def update(self, user: User) -> None:
        values = asdict(user)
        values.pop("memberships")
        await self.conn.execute(update(t.users).where(t.users.c.id == user.id).values(**values))

    async def add_membership(self, user_id: UUID, membership: Membership) -> None:
        await self.conn.execute(
            t.memberships.insert().values(
                user_id=user_id,
                role=membership.role.value,
                city_id=membership.city_id,
                shop_id=membership.shop_id,
            )
        )

    async def list_for_shop(self, shop_id: UUID) -> list[User]:
        ids = select(t.memberships.c.user_id).where(t.memberships.c.shop_id == shop_id)
        query = select(t.users).where(t.users.c.id.in_(ids)).order_by(t.users.c.email)
        return await self._users([r._mapping for r in await self.conn.execute(query)])

    async def remove_membership(self, user_id: UUID, membership: Membership) -> bool:
        m = t.memberships.c
        shop = (
            m.shop_id.is_(None) if membership.shop_id is None else m.shop_id == membership.shop_id
        )
        result = await self.conn.execute(
            delete(t.memberships).where(
                m.user_id == user_id,
                m.role == membership.role.value,
                m.city_id == membership.city_id,
                shop,
            )
        )
        return result.rowcount > 0
