"""Retention: the purge deletes expired pseudonymous events in batches and salts after 48 hours."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.errors import Forbidden, InvalidInput
from marktplatz.services import retention
from marktplatz.store import tables as t
from support import Tenant, make_tenant, page_view_row, published_offer


def raw_event(city_id: UUID, age: timedelta, pseudonym: str | None) -> dict[str, Any]:
    return page_view_row(city_id, datetime.now(UTC) - age, pseudonym)


async def insert(composed: App, table: Any, rows: list[dict[str, Any]]) -> None:
    async with composed.engine.begin() as conn:
        await conn.execute(table.insert(), rows)


async def event_ids(composed: App, city_id: UUID) -> set[UUID]:
    async with composed.engine.connect() as conn:
        query = select(t.events.c.event_id).where(t.events.c.city_id == city_id)
        return set((await conn.execute(query)).scalars())


async def test_expired_pseudonymous_events_go_in_batches_and_others_stay(
    composed: App, tenant: Tenant
) -> None:
    # given a city keeping 30 days and one on the default (180 days)
    admin = tenant.users["city-admin"]
    await retention.set_retention_days(composed.ctx, admin, tenant.city.id, 30)
    other = await make_tenant(composed)
    old, fresh = timedelta(days=31), timedelta(days=29)
    expired = [raw_event(tenant.city.id, old, uuid.uuid4().hex) for _ in range(7)]
    kept = [
        raw_event(tenant.city.id, fresh, uuid.uuid4().hex),
        raw_event(tenant.city.id, old, None),  # anonymous: only feeds aggregate counts
    ]
    elsewhere = [raw_event(other.city.id, old, uuid.uuid4().hex)]
    await insert(composed, t.events, expired + kept + elsewhere)
    # when
    result = await retention.purge(composed.ctx, batch=3)
    # then
    assert result.events >= 7
    assert await event_ids(composed, tenant.city.id) == {e["event_id"] for e in kept}
    assert await event_ids(composed, other.city.id) == {elsewhere[0]["event_id"]}


async def test_no_salt_older_than_48_hours_survives_a_purge(composed: App, tenant: Tenant) -> None:
    # given salts of today and of the three days before, in the city's time
    tz = ZoneInfo(tenant.city.timezone)
    today = datetime.now(UTC).astimezone(tz).date()
    days = [(today - timedelta(days=n)).isoformat() for n in range(4)]
    now = datetime.now(UTC)
    await insert(
        composed,
        t.daily_salts,
        [{"city_id": tenant.city.id, "day": d, "salt": d * 4, "created_at": now} for d in days],
    )
    # when
    await retention.purge(composed.ctx)
    # then only today's and yesterday's are left, and their days began less than 48 h ago
    async with composed.engine.connect() as conn:
        query = select(t.daily_salts.c.day).where(t.daily_salts.c.city_id == tenant.city.id)
        left = sorted((await conn.execute(query)).scalars())
    assert left == sorted(days[:2])
    for day in left:
        began = datetime.fromisoformat(day).replace(tzinfo=tz)
        assert datetime.now(UTC) - began < timedelta(hours=48)


async def test_salts_of_a_city_that_no_longer_exists_are_deleted(composed: App) -> None:
    # given
    ghost = uuid.uuid4()
    day = datetime.now(UTC).date().isoformat()
    row = {"city_id": ghost, "day": day, "salt": "x" * 64, "created_at": datetime.now(UTC)}
    await insert(composed, t.daily_salts, [row])
    # when
    await retention.purge(composed.ctx)
    # then
    async with composed.engine.connect() as conn:
        query = select(t.daily_salts).where(t.daily_salts.c.city_id == ghost)
        assert (await conn.execute(query)).all() == []


async def retention_of(composed: App, city_id: UUID) -> int | None:
    async with composed.engine.connect() as conn:
        query = select(t.cities.c.retention_days).where(t.cities.c.id == city_id)
        value: int | None = (await conn.execute(query)).scalar_one()
        return value


async def test_only_a_city_admin_sets_the_retention_and_only_to_a_sane_value(
    composed: App, tenant: Tenant
) -> None:
    # given
    editor, admin = tenant.users["city-editor"], tenant.users["city-admin"]
    # when / then
    with pytest.raises(Forbidden):
        await retention.set_retention_days(composed.ctx, editor, tenant.city.id, 7)
    for wrong in (0, 3651, "30", True):
        with pytest.raises(InvalidInput):
            await retention.set_retention_days(composed.ctx, admin, tenant.city.id, wrong)
    assert await retention_of(composed, tenant.city.id) is None
    await retention.set_retention_days(composed.ctx, admin, tenant.city.id, 90)
    assert await retention_of(composed, tenant.city.id) == 90


def test_the_purge_command_prints_what_it_deleted(tmp_path: Path) -> None:
    # given an installation with an empty database
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKTPLATZ_")}
    env["MARKTPLATZ_VAR_DIR"] = str(tmp_path)
    # when
    done = subprocess.run(
        [sys.executable, "-m", "marktplatz", "purge"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # then
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Purged 0 events and 0 daily salts; unlinked 0 coupons from their visitors."
    )


async def test_expired_coupons_keep_no_visitor_nor_the_path_to_them(
    composed: App, tenant: Tenant
) -> None:
    # given a city keeping 30 days, a coupon saved 31 days ago with a pseudonym and a touch,
    # and one saved yesterday
    admin = tenant.users["city-admin"]
    await retention.set_retention_days(composed.ctx, admin, tenant.city.id, 30)
    offer = (await published_offer(composed, tenant, tenant.shop_a, "Gratis-Sehtest")).id
    now = datetime.now(UTC)
    old, fresh, who = uuid.uuid4(), uuid.uuid4(), uuid.uuid4().hex
    rows = [
        coupon_row(tenant, offer, old, now - timedelta(days=31), who),
        coupon_row(tenant, offer, fresh, now - timedelta(days=1), who),
    ]
    await insert(composed, t.coupons, rows)
    touch = {
        "coupon_id": old,
        "content_id": offer,
        "touchpoint_id": uuid.uuid4(),
        "kind": "touchpoint.contact",
        "occurred_at": now - timedelta(days=32),
        "pseudonym": who,
    }
    await insert(composed, t.coupon_touches, [touch])
    # when
    result = await retention.purge(composed.ctx)
    # then the old coupon stays, linked to no one, and its touch is gone; the fresh one is kept
    assert result.coupons >= 1
    async with composed.engine.connect() as conn:
        kept = dict(
            (
                await conn.execute(
                    select(t.coupons.c.id, t.coupons.c.pseudonym).where(
                        t.coupons.c.id.in_([old, fresh])
                    )
                )
            ).all()
        )
        touches = (
            await conn.execute(
                select(t.coupon_touches.c.id).where(t.coupon_touches.c.coupon_id == old)
            )
        ).all()
    assert kept == {old: None, fresh: who}
    assert touches == []


def coupon_row(
    tenant: Tenant, offer: UUID, coupon_id: UUID, saved_at: datetime, who: str
) -> dict[str, Any]:
    return {
        "id": coupon_id,
        "city_id": tenant.city.id,
        "shop_id": tenant.shop_a.id,
        "content_id": offer,
        "code_hash": uuid.uuid4().hex * 2,
        "code_tail": "AB12",
        "status": "saved",
        "saved_at": saved_at,
        "pseudonym": who,
        "touchpoint_id": None,
        "decision_id": None,
    }
