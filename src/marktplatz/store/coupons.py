"""Saved coupons, the per-offer tally that serialises redemptions, and what led to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import RowMapping, String, and_, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.coupons import Coupon, CouponStatus
from marktplatz.domain.journey import EventKind
from marktplatz.store import tables as t

_C = t.coupons.c


def _coupon(row: RowMapping | dict[str, Any]) -> Coupon:
    values = {name: row[name] for name in Coupon.__slots__}
    values["status"] = CouponStatus(values["status"])
    return Coupon(**values)


class SqlCoupons:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, coupon: Coupon) -> None:
        values = {f: getattr(coupon, f) for f in Coupon.__slots__}
        values["status"] = coupon.status.value
        await self.conn.execute(t.coupons.insert().values(**values))

    async def count_save(self, content_id: UUID) -> int:
        """Count a save in the offer's tally and return its redemptions so far.

        The UPDATE locks the tally row until commit, so the checks that follow (stock, a coupon
        already held, uses per person) cannot race with another save or redemption of the offer.
        """
        tally = t.coupon_tallies
        bump = (
            update(tally)
            .where(tally.c.content_id == content_id)
            .values(saved=tally.c.saved + 1)
            .returning(tally.c.redeemed)
        )
        found = (await self.conn.execute(bump)).scalar()
        if found is not None:
            return int(found)
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(
                    tally.insert().values(content_id=content_id, saved=1, redeemed=0)
                )
            return 0
        except IntegrityError:  # a concurrent first save made the row: count on it
            return int((await self.conn.execute(bump)).scalar() or 0)

    async def get(self, coupon_id: UUID) -> Coupon | None:
        row = (await self.conn.execute(select(t.coupons).where(_C.id == coupon_id))).first()
        return _coupon(row._mapping) if row else None

    async def by_code_hash(self, code_hash: str) -> Coupon | None:
        row = (await self.conn.execute(select(t.coupons).where(_C.code_hash == code_hash))).first()
        return _coupon(row._mapping) if row else None

    async def by_code_hashes(self, code_hashes: list[str]) -> list[Coupon]:
        rows = await self.conn.execute(select(t.coupons).where(_C.code_hash.in_(code_hashes)))
        return [_coupon(r._mapping) for r in rows]

    async def tally(self, content_id: UUID) -> tuple[int, int]:
        """(saved, redeemed) of an offer."""
        query = select(t.coupon_tallies.c.saved, t.coupon_tallies.c.redeemed).where(
            t.coupon_tallies.c.content_id == content_id
        )
        row = (await self.conn.execute(query)).first()
        return (int(row.saved), int(row.redeemed)) if row else (0, 0)

    async def held(self, content_id: UUID, pseudonym: str) -> Coupon | None:
        """A coupon of the offer the visitor saved and has not used yet."""
        query = select(t.coupons).where(
            _C.content_id == content_id,
            _C.pseudonym == pseudonym,
            _C.status == CouponStatus.SAVED.value,
        )
        row = (await self.conn.execute(query.limit(1))).first()
        return _coupon(row._mapping) if row else None

    async def mark_redeemed(self, coupon_id: UUID, at: datetime, by: UUID) -> bool:
        """Single use: only one of concurrent redemptions finds the coupon still saved."""
        result = await self.conn.execute(
            update(t.coupons)
            .where(_C.id == coupon_id, _C.status == CouponStatus.SAVED.value)
            .values(status=CouponStatus.REDEEMED.value, redeemed_at=at, redeemed_by=by)
        )
        return bool(result.rowcount)

    async def take_stock(self, content_id: UUID, stock: int | None) -> bool:
        """Count one redemption of the offer unless its stock is used up.

        The UPDATE locks the offer's tally row until commit, so concurrent redemptions of one
        offer run one after another from here on (PostgreSQL re-checks the WHERE on the row it
        waited for); SQLite's writer lock does the same for the whole database.
        """
        query = update(t.coupon_tallies).where(t.coupon_tallies.c.content_id == content_id)
        if stock is not None:
            query = query.where(t.coupon_tallies.c.redeemed < stock)
        result = await self.conn.execute(query.values(redeemed=t.coupon_tallies.c.redeemed + 1))
        return bool(result.rowcount)

    async def uses(
        self, content_id: UUID, pseudonym: str, span: tuple[datetime, datetime] | None
    ) -> int:
        """Redemptions of the offer by the visitor in the span (None: ever)."""
        query = select(func.count()).where(
            _C.content_id == content_id,
            _C.pseudonym == pseudonym,
            _C.status == CouponStatus.REDEEMED.value,
        )
        if span is not None:
            query = query.where(_C.redeemed_at >= span[0], _C.redeemed_at < span[1])
        return int((await self.conn.execute(query)).scalar() or 0)

    async def undo(self, coupon: Coupon, since: datetime) -> bool:
        """Take back a redemption still inside the undo window; the coupon is open again."""
        result = await self.conn.execute(
            update(t.coupons)
            .where(
                _C.id == coupon.id,
                _C.status == CouponStatus.REDEEMED.value,
                # this very redemption: a retried undo must not take back a later one
                _C.redeemed_at == coupon.redeemed_at,
                _C.redeemed_at >= since,
            )
            .values(status=CouponStatus.SAVED.value, redeemed_at=None, redeemed_by=None)
        )
        if not result.rowcount:
            return False
        await self.conn.execute(
            update(t.coupon_tallies)
            .where(t.coupon_tallies.c.content_id == coupon.content_id)
            .values(redeemed=t.coupon_tallies.c.redeemed - 1)
        )
        await self.conn.execute(
            delete(t.coupon_touches).where(t.coupon_touches.c.coupon_id == coupon.id)
        )
        return True

    async def forget_visitor(self, pseudonym: str) -> int:
        """Analytics consent withdrawn: the coupons stay, linked to no one; their paths go."""
        await self.conn.execute(
            delete(t.coupon_touches).where(t.coupon_touches.c.pseudonym == pseudonym)
        )
        result = await self.conn.execute(
            update(t.coupons).where(_C.pseudonym == pseudonym).values(pseudonym=None)
        )
        return int(result.rowcount or 0)

    async def touches_for(self, pseudonym: str) -> list[dict[str, Any]]:
        c = t.coupon_touches.c
        query = (
            select(c.coupon_id, c.content_id, c.touchpoint_id, c.kind, c.occurred_at)
            .where(c.pseudonym == pseudonym)
            .order_by(c.occurred_at)
        )
        return [dict(r._mapping) for r in await self.conn.execute(query)]

    async def forget_event(self, event_id: UUID) -> None:
        """Drop the journey event of a redemption that was taken back."""
        await self.conn.execute(delete(t.events).where(t.events.c.event_id == event_id))

    async def journey(
        self, pseudonym: str, content_id: UUID, since: datetime, until: datetime
    ) -> list[tuple[str, UUID, datetime]]:
        """(kind, touchpoint, when) of the visitor's contacts and the offer's exposures, views."""
        kinds = (EventKind.CONTENT_EXPOSED.value, EventKind.CONTENT_VIEWED.value)
        e = t.events.c
        query = (
            select(e.kind, e.touchpoint_id, e.occurred_at)
            .where(
                e.pseudonym == pseudonym,
                e.touchpoint_id.is_not(None),
                e.occurred_at >= since,
                e.occurred_at <= until,
                (e.kind == EventKind.TOUCHPOINT_CONTACT.value)
                | and_(e.kind.in_(kinds), e.content_id == str(content_id)),
            )
            .order_by(e.occurred_at)
        )
        return [(r.kind, r.touchpoint_id, r.occurred_at) for r in await self.conn.execute(query)]

    async def add_touches(
        self, coupon: Coupon, pseudonym: str, touches: list[tuple[str, UUID, datetime]]
    ) -> None:
        if not touches:
            return
        await self.conn.execute(
            t.coupon_touches.insert(),
            [
                {
                    "coupon_id": coupon.id,
                    "content_id": coupon.content_id,
                    "touchpoint_id": touchpoint,
                    "kind": kind,
                    "occurred_at": at,
                    "pseudonym": pseudonym,
                }
                for kind, touchpoint, at in touches
            ],
        )

    async def recent(self, content_id: UUID, limit: int) -> list[Coupon]:
        query = (
            select(t.coupons)
            .where(_C.content_id == content_id, _C.status == CouponStatus.REDEEMED.value)
            .order_by(_C.redeemed_at.desc())
            .limit(limit)
        )
        return [_coupon(r._mapping) for r in await self.conn.execute(query)]

    async def recent_at_shop(
        self, shop_id: UUID, since: datetime, limit: int
    ) -> list[tuple[Coupon, str]]:
        query = (
            select(t.coupons, t.contents.c.title.label("offer_title"))
            .join(t.contents, t.contents.c.id == _C.content_id)
            .where(
                _C.shop_id == shop_id,
                _C.status == CouponStatus.REDEEMED.value,
                _C.redeemed_at >= since,
            )
            .order_by(_C.redeemed_at.desc())
            .limit(limit)
        )
        rows = await self.conn.execute(query)
        return [(_coupon(r._mapping), r.offer_title) for r in rows]

    async def count_redeemed_at_shop(self, shop_id: UUID, since: datetime) -> int:
        query = select(func.count()).where(
            _C.shop_id == shop_id,
            _C.status == CouponStatus.REDEEMED.value,
            _C.redeemed_at >= since,
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def for_pseudonym(self, pseudonym: str) -> list[dict[str, Any]]:
        """The visitor's coupons for an export: what, when, where saved and redeemed."""
        columns = [
            _C.id,
            _C.content_id,
            t.contents.c.title,
            _C.code_tail,
            _C.status,
            _C.saved_at,
            _C.touchpoint_id,
            _C.redeemed_at,
        ]
        query = (
            select(*columns)
            .join(t.contents, t.contents.c.id == _C.content_id)
            .where(_C.pseudonym == pseudonym)
            .order_by(_C.saved_at)
        )
        return [dict(r._mapping) for r in await self.conn.execute(query)]

    async def funnel(self, content_id: UUID) -> dict[str, dict[UUID | None, tuple[int, int]]]:
        """Per step and touchpoint: (count, distinct visitors as far as they can be told apart).

        Without consent an event carries no pseudonym; a cookieless daily hash, where there is
        one, tells visitors apart within a day, otherwise each event counts as its own visitor.
        """
        e = t.events.c
        who = func.coalesce(e.pseudonym, e.daily_hash, func.cast(e.event_id, String))
        steps: dict[str, dict[UUID | None, tuple[int, int]]] = {}
        for step, kind in (
            ("exposed", EventKind.CONTENT_EXPOSED),
            ("viewed", EventKind.CONTENT_VIEWED),
        ):
            query = (
                select(e.touchpoint_id, func.count(), func.count(who.distinct()))
                .where(e.kind == kind.value, e.content_id == str(content_id))
                .group_by(e.touchpoint_id)
            )
            steps[step] = {r[0]: (int(r[1]), int(r[2])) for r in await self.conn.execute(query)}
        holder = func.coalesce(_C.pseudonym, func.cast(_C.id, String))
        for step, only in (("saved", None), ("redeemed", CouponStatus.REDEEMED.value)):
            query = select(_C.touchpoint_id, func.count(), func.count(holder.distinct())).where(
                _C.content_id == content_id
            )
            if only:
                query = query.where(_C.status == only)
            rows = await self.conn.execute(query.group_by(_C.touchpoint_id))
            steps[step] = {r[0]: (int(r[1]), int(r[2])) for r in rows}
        c = t.coupon_touches.c
        query = (
            select(
                c.touchpoint_id,
                func.count(c.coupon_id.distinct()),
                func.count(c.pseudonym.distinct()),
            )
            .where(c.content_id == content_id)
            .group_by(c.touchpoint_id)
        )
        steps["led"] = {r[0]: (int(r[1]), int(r[2])) for r in await self.conn.execute(query)}
        return steps
