"""Retention: pseudonymous events (and coupons' visitor links) leave after the city's period,
daily salts after 48 hours, event participants KEEP_DAYS after their event."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.services.access import access_city
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.registrations import purge_registrations

BATCH = 5_000  # rows per transaction: each one holds the write lock for milliseconds only
MAX_DAYS = 3650
PURGE_INTERVAL = timedelta(hours=1)
log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Purged:
    events: int
    salts: int
    coupons: int = 0  # coupons whose visitor link expired (the coupon stays: a sale record)
    registrations: int = 0  # participants of events that ended KEEP_DAYS ago


def salt_cutoff(now: datetime, tz: ZoneInfo) -> str:
    """The oldest day whose salt is kept: yesterday in the city's time.

    A salt serves the visits of its own day; yesterday's is kept as a margin for workers whose
    clock is a little behind at midnight. Every older salt goes, so after a purge no salt's day
    began more than 48 hours ago; the hourly purge lets one live at most an hour past that.
    """
    return (now.astimezone(tz).date() - timedelta(days=1)).isoformat()


async def purge(ctx: Context, *, batch: int = BATCH) -> Purged:
    """Delete expired pseudonymous events in short batches, and salts older than 48 hours."""
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        policies = await uow.retention.policies()
    events = salts = coupons = 0
    for city_id, timezone, days in policies:
        before = now - timedelta(days=days or ctx.retention_days)
        events += await _purge_events(ctx, city_id, before, batch)
        await ctx.funnels.purge(city_id, before)  # the extract keeps no more than the store
        salts += await _purge_salts(ctx, city_id, salt_cutoff(now, ZoneInfo(timezone)))
        coupons += await _purge_coupon_visitors(ctx, city_id, before)
    registrations = await purge_registrations(ctx)
    async with ctx.uow(write=True) as uow:
        salts += await uow.retention.delete_orphan_salts()
        if events or salts or coupons or registrations:
            detail = [f"events={events}", f"salts={salts}", f"coupons={coupons}"]
            detail.append(f"registrations={registrations}")
            await audit(uow, ctx, None, None, "retention.purged", "events", "-", detail)
        await uow.commit()
    return Purged(events, salts, coupons, registrations)


async def _purge_events(ctx: Context, city_id: UUID, before: datetime, batch: int) -> int:
    total = 0
    while True:
        # One short transaction per batch: ingestion's writer gets the lock in between.
        async with ctx.uow(write=True) as uow:
            deleted = await uow.retention.delete_events(city_id, before, batch)
            await uow.commit()
        total += deleted
        if deleted < batch:
            return total
        await asyncio.sleep(0)


async def _purge_coupon_visitors(ctx: Context, city_id: UUID, before: datetime) -> int:
    """Coupons saved before the period keep no pseudonym, nor the path that led to them."""
    async with ctx.uow(write=True) as uow:
        cleared = await uow.retention.forget_coupon_visitors(city_id, before)
        await uow.commit()
    return cleared


async def _purge_salts(ctx: Context, city_id: UUID, keep_from: str) -> int:
    async with ctx.uow(write=True) as uow:
        deleted = await uow.retention.delete_salts(city_id, keep_from)
        await uow.commit()
    return deleted


async def purge_forever(ctx: Context, interval: timedelta = PURGE_INTERVAL) -> None:
    """Run the purge now and then every `interval` until cancelled (`marktplatz serve`)."""
    while True:
        try:
            result = await purge(ctx)
            log.info("purge: %d events, %d salts deleted", result.events, result.salts)
        except Exception:  # a failed run must not end the schedule; the next one retries
            log.exception("purge failed")
        await asyncio.sleep(interval.total_seconds())


def clean_retention_days(value: object) -> int | None:
    """Days between 1 and 3650, or None for the installation's default."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DAYS:
        raise InvalidInput(
            "retention_days", N_("Keep events between 1 and 3650 days, or leave it empty.")
        )
    return value


async def set_retention_days(ctx: Context, actor: User | None, city_id: UUID, days: object) -> None:
    """How long the city keeps raw events with a pseudonym (city admins)."""
    wanted = clean_retention_days(days)
    async with ctx.uow(write=True) as uow:
        await access_city(uow, actor, city_id, admin=True)
        await uow.retention.set_days(city_id, wanted)
        detail = [f"retention_days={wanted if wanted is not None else 'default'}"]
        await audit(uow, ctx, actor, city_id, "city.retention", "city", city_id, detail)
        await uow.commit()
