"""Digital-fitness checks, and the till's count the check reads as a signal."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import RowMapping, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.coupons import CouponStatus
from marktplatz.domain.fitness import FitnessCheck, scores_from_dict, scores_to_dict
from marktplatz.store import tables as t

_F = t.fitness_checks.c


def _check(row: RowMapping) -> FitnessCheck:
    return FitnessCheck(
        id=row["id"],
        shop_id=row["shop_id"],
        city_id=row["city_id"],
        answers=dict(row["answers"]),
        scores=scores_from_dict(row["scores"]),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


class SqlFitness:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, check: FitnessCheck) -> None:
        await self.conn.execute(
            t.fitness_checks.insert().values(
                id=check.id,
                shop_id=check.shop_id,
                city_id=check.city_id,
                answers=dict(check.answers),
                scores=scores_to_dict(check.scores),
                created_by=check.created_by,
                created_at=check.created_at,
            )
        )

    async def list_for_shop(self, shop_id: UUID) -> list[FitnessCheck]:
        """The shop's checks, oldest first (the trend reads left to right)."""
        query = select(t.fitness_checks).where(_F.shop_id == shop_id).order_by(_F.created_at, _F.id)
        return [_check(r._mapping) for r in await self.conn.execute(query)]

    async def latest_for_city(self, city_id: UUID) -> list[FitnessCheck]:
        """Each shop's most recent check in the city (one per shop that took part)."""
        newest = (
            select(_F.shop_id, func.max(_F.created_at).label("at"))
            .where(_F.city_id == city_id)
            .group_by(_F.shop_id)
            .subquery()
        )
        query = (
            select(t.fitness_checks)
            .join(newest, (_F.shop_id == newest.c.shop_id) & (_F.created_at == newest.c.at))
            .order_by(_F.shop_id, _F.id)
        )
        found: dict[UUID, FitnessCheck] = {}
        for row in await self.conn.execute(query):
            check = _check(row._mapping)
            found.setdefault(check.shop_id, check)  # two checks in the same instant: one
        return list(found.values())

    async def redeemed_at_shop(self, shop_id: UUID, since: datetime) -> int:
        """Coupons of the shop's offers redeemed at its till since `since`."""
        c = t.coupons.c
        query = select(func.count()).where(
            c.shop_id == shop_id,
            c.status == CouponStatus.REDEEMED.value,
            c.redeemed_at >= since,
        )
        return int((await self.conn.execute(query)).scalar() or 0)
