"""Offers, stories, events and jobs; the city's rules and its content version."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.content import (
    EVENT_LENGTH,
    Content,
    ContentKind,
    ContentStatus,
    CouponTerms,
    Interest,
    JobType,
    LimitPeriod,
    Targeting,
    Window,
)
from marktplatz.domain.rules import CityRules, rules_from_dict, rules_to_dict
from marktplatz.store import tables as t
from marktplatz.store.repositories import bump_content_version


def _time(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


def _content(row: RowMapping) -> Content:
    coupon = None
    if row["coupon_period"] is not None:
        coupon = CouponTerms(
            row["coupon_stock"], row["coupon_per_person"], LimitPeriod(row["coupon_period"])
        )
    return Content(
        id=row["id"],
        city_id=row["city_id"],
        shop_id=row["shop_id"],
        kind=ContentKind(row["kind"]),
        status=ContentStatus(row["status"]),
        title=row["title"],
        body_html=row["body_html"],
        body_source=row["body_source"],
        language=row["language"],
        window=Window(
            row["starts_at"],
            row["ends_at"],
            frozenset(row["weekdays"]),
            _time(row["day_start"]),
            _time(row["day_end"]),
        ),
        targeting=Targeting(
            frozenset(UUID(z) for z in row["zone_ids"]),
            frozenset(UUID(tp) for tp in row["touchpoint_ids"]),
            row["radius_m"],
            frozenset(row["languages"]),
            frozenset(Interest(i) for i in row["interests"]),
        ),
        coupon=coupon,
        image_id=row["image_id"],
        place=row["place"],
        registration=row["registration"],
        job_type=JobType(row["job_type"]) if row["job_type"] else None,
        prescription_only=row["prescription_only"],
        flags=tuple(row["flags"]),
        review_note=row["review_note"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        published_at=row["published_at"],
        sequence=row["sequence"],
    )


def _row(content: Content) -> dict[str, Any]:
    window, target, coupon = content.window, content.targeting, content.coupon
    return {
        "id": content.id,
        "city_id": content.city_id,
        "shop_id": content.shop_id,
        "kind": content.kind.value,
        "status": content.status.value,
        "title": content.title,
        "body_html": content.body_html,
        "body_source": content.body_source,
        "language": content.language,
        "starts_at": window.starts_at,
        "ends_at": window.ends_at,
        "weekdays": sorted(window.weekdays),
        "day_start": window.day_start.isoformat("minutes") if window.day_start else None,
        "day_end": window.day_end.isoformat("minutes") if window.day_end else None,
        "zone_ids": sorted(str(z) for z in target.zone_ids),
        "touchpoint_ids": sorted(str(tp) for tp in target.touchpoint_ids),
        "radius_m": target.radius_m,
        "languages": sorted(target.languages),
        "interests": sorted(i.value for i in target.interests),
        "coupon_period": coupon.period.value if coupon else None,
        "coupon_stock": coupon.stock if coupon else None,
        "coupon_per_person": coupon.per_person if coupon else None,
        "image_id": content.image_id,
        "place": content.place,
        "registration": content.registration,
        "job_type": content.job_type.value if content.job_type else None,
        "prescription_only": content.prescription_only,
        "flags": list(content.flags),
        "review_note": content.review_note,
        "created_at": content.created_at,
        "updated_at": content.updated_at,
        "published_at": content.published_at,
        "sequence": content.sequence,
    }


class SqlContents:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, content_id: UUID) -> Content | None:
        query = select(t.contents).where(t.contents.c.id == content_id)
        row = (await self.conn.execute(query)).first()
        return _content(row._mapping) if row else None

    async def list_for_city(
        self, city_id: UUID, statuses: frozenset[ContentStatus] | None = None
    ) -> list[Content]:
        query = select(t.contents).where(t.contents.c.city_id == city_id)
        if statuses is not None:
            query = query.where(t.contents.c.status.in_([s.value for s in statuses]))
        query = query.order_by(t.contents.c.updated_at.desc(), t.contents.c.id)
        return [_content(r._mapping) for r in await self.conn.execute(query)]

    async def list_for_shop(self, shop_id: UUID) -> list[Content]:
        query = (
            select(t.contents)
            .where(t.contents.c.shop_id == shop_id)
            .order_by(t.contents.c.updated_at.desc(), t.contents.c.id)
        )
        return [_content(r._mapping) for r in await self.conn.execute(query)]

    async def upcoming_events(self, city_id: UUID, after: datetime) -> list[Content]:
        """Published events of the city (its shops' and its own) not over at `after`, by start."""
        c = t.contents.c
        not_over = or_(
            c.ends_at > after, and_(c.ends_at.is_(None), c.starts_at > after - EVENT_LENGTH)
        )
        query = (
            select(t.contents)
            .where(
                c.city_id == city_id,
                c.kind == ContentKind.EVENT.value,
                c.status == ContentStatus.PUBLISHED.value,
                c.starts_at.is_not(None),
                not_over,
            )
            .order_by(c.starts_at, c.id)
        )
        return [_content(r._mapping) for r in await self.conn.execute(query)]

    async def add(self, content: Content) -> None:
        await self.conn.execute(t.contents.insert().values(**_row(content)))
        await bump_content_version(self.conn, content.city_id)

    async def update(self, content: Content) -> None:
        await self.conn.execute(
            update(t.contents).where(t.contents.c.id == content.id).values(**_row(content))
        )
        await bump_content_version(self.conn, content.city_id)

    async def rules(self, city_id: UUID) -> CityRules:
        query = select(t.cities.c.rules).where(t.cities.c.id == city_id)
        return rules_from_dict((await self.conn.execute(query)).scalar())

    async def set_rules(self, city_id: UUID, rules: CityRules) -> None:
        await self.conn.execute(
            update(t.cities).where(t.cities.c.id == city_id).values(rules=rules_to_dict(rules))
        )
        await bump_content_version(self.conn, city_id)

    async def exposures(self, decision_id: UUID) -> list[tuple[str, str]]:
        """(content id, reasons) of the exposures recorded for a decision."""
        query = (
            select(t.events.c.content_id, t.events.c.reasons)
            .where(t.events.c.decision_id == decision_id, t.events.c.reasons.is_not(None))
            .order_by(t.events.c.event_id)
        )
        return [(row.content_id, row.reasons) for row in await self.conn.execute(query)]

    async def version(self, city_id: UUID) -> int:
        query = select(t.cities.c.content_version).where(t.cities.c.id == city_id)
        return int((await self.conn.execute(query)).scalar() or 0)
