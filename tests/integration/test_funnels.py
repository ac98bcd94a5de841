"""Funnels on the real store: engine equals reference, steps stay k-anonymous, scope holds."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from marktplatz.bootstrap import App
from marktplatz.domain.errors import Forbidden, InvalidInput, NotFound
from marktplatz.domain.funnels import (
    Matcher,
    Visit,
    check_period,
    parse_funnel,
    reference_counts,
    suppress_steps,
)
from marktplatz.domain.journey import EventKind
from marktplatz.domain.kanon import K
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import funnels, retention, touchpoints
from marktplatz.store import tables as t
from marktplatz.store.event_extract import MAX_FILES
from support import Tenant, make_tenant

NOW = datetime.now(UTC).replace(microsecond=0)
BASE = NOW - timedelta(days=20)
SHOP_TP, ZONE_TP = "a" * 32, "b" * 32
OFFER = str(uuid.UUID(int=7))
MATCHERS = [
    Matcher(EventKind.PAGE_VIEW),
    Matcher(EventKind.TOUCHPOINT_CONTACT),
    Matcher(EventKind.TOUCHPOINT_CONTACT, touchpoints=frozenset({SHOP_TP})),
    Matcher(EventKind.COUPON_REDEEMED, contents=frozenset({OFFER})),
]
KINDS = [
    (EventKind.PAGE_VIEW, None, None),
    (EventKind.TOUCHPOINT_CONTACT, ZONE_TP, None),
    (EventKind.TOUCHPOINT_CONTACT, SHOP_TP, None),
    (EventKind.COUPON_REDEEMED, SHOP_TP, OFFER),
    (EventKind.COUPON_REDEEMED, SHOP_TP, str(uuid.UUID(int=8))),
]


def row(city_id: UUID, who: str | None, choice: int, hours: int, late: int) -> dict[str, Any]:
    kind, touchpoint, content = KINDS[choice]
    at = BASE + timedelta(hours=hours)
    return {
        "event_id": uuid.uuid4(),
        "kind": kind.value,
        "city_id": city_id,
        "occurred_at": at,
        # Some arrive days late (the app's offline queue), some only now: the engine must
        # find them in its extract and in the tail alike.
        "received_at": min(at + timedelta(hours=late), NOW),
        "touchpoint_id": UUID(touchpoint) if touchpoint else None,
        "content_id": content,
        "pseudonym": who,
        "schema_version": 1,
    }


def as_visit(r: dict[str, Any]) -> Visit:
    touchpoint = r["touchpoint_id"].hex if r["touchpoint_id"] else None
    return Visit(r["pseudonym"], r["kind"], r["occurred_at"], touchpoint, r["content_id"])


events = st.lists(
    st.tuples(
        st.integers(0, 7),  # visitor (7: no consent, no pseudonym)
        st.integers(0, len(KINDS) - 1),
        st.integers(0, 20 * 24 - 1),  # hour after BASE
        st.sampled_from([0, 0, 1, 50, 160]),  # hours until received (at most a week)
    ),
    max_size=60,
)


async def store(composed: App, rows: list[dict[str, Any]]) -> None:
    if rows:
        async with composed.engine.begin() as conn:
            await conn.execute(t.events.insert(), rows)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(first=events, later=events, window_days=st.integers(1, 5), offset=st.integers(0, 14))
async def test_the_engine_counts_as_the_reference_does(
    composed: App, first: list[Any], later: list[Any], window_days: int, offset: int
) -> None:
    # given events of a fresh city, some already in the extract, some that come later
    city_id = uuid.uuid4()
    pseudonyms = [uuid.UUID(int=i + 1).hex for i in range(7)] + [None]
    batches = [[row(city_id, pseudonyms[w], c, h, lt) for w, c, h, lt in first], []]
    for w, c, h, _ in later:
        # Received after the first run: within the week before now, as ingestion allows.
        arrived = row(city_id, pseudonyms[w], c, 0, 0)
        arrived["occurred_at"] = NOW - timedelta(hours=h % (7 * 24))
        arrived["received_at"] = NOW + timedelta(minutes=7)
        batches[1].append(arrived)
    window = timedelta(days=window_days)
    start = BASE + timedelta(days=offset)
    period = (start, start + timedelta(days=6))
    engine = composed.ctx.funnels
    await store(composed, batches[0])
    await engine.count(city_id, MATCHERS, window, period, NOW)
    await engine.count(city_id, MATCHERS, window, period, NOW + timedelta(minutes=5))
    await store(composed, batches[1])
    # when (on SQLite, past the rowid the first run saw)
    counts = await engine.count(city_id, MATCHERS, window, period, NOW + timedelta(minutes=10))
    # then
    consented = [as_visit(r) for r in batches[0] + batches[1] if r["pseudonym"]]
    assert counts == reference_counts(consented, MATCHERS, window, *period)


async def test_erasure_and_retention_leave_nothing_of_theirs_in_the_extract(
    composed: App, tenant: Tenant
) -> None:
    # given one visitor's events, and an old one of another, copied into the extract
    city_id, gone, other = tenant.city.id, uuid.uuid4().hex, uuid.uuid4().hex
    rows = [row(city_id, gone, 0, 10, 0), row(city_id, gone, 1, 11, 0)]
    old = {**row(city_id, other, 0, 0, 0), "occurred_at": NOW - timedelta(days=400)}
    old["received_at"] = old["occurred_at"]
    await store(composed, [*rows, old])
    engine = composed.ctx.funnels
    whole = (NOW - timedelta(days=500), NOW)
    assert await engine.count(city_id, MATCHERS[:2], timedelta(days=1), whole, NOW) == [2, 1]
    # when the store deletes them and then the engine forgets and purges
    async with composed.engine.begin() as conn:
        await conn.execute(delete(t.events).where(t.events.c.pseudonym == gone))
    assert await engine.forget(gone) == 2
    await retention.purge(composed.ctx)
    # then no file of the extract holds either of them
    files = composed.ctx.funnels.extract.files(city_id)  # type: ignore[attr-defined]
    found = duckdb.execute(
        "SELECT count(*) FROM read_parquet(?) WHERE pseudonym IN (?, ?)", [files, gone, other]
    ).fetchone()
    assert found == (0,)
    assert await engine.count(city_id, MATCHERS[:2], timedelta(days=1), whole, NOW) == [0, 0]


async def shop_point(composed: App, tenant: Tenant, shop: bool) -> Touchpoint:
    data = {"kind": "qr", "name": "Tür", "lat": 52.105, "lon": 8.75, "target": "/"}
    if shop:
        data["shop_id"] = str(tenant.shop_a.id)
    return await touchpoints.create_touchpoint(
        composed.ctx, tenant.users["city-admin"], tenant.city.id, data
    )


async def test_city_staff_see_steps_of_at_least_k_visitors_and_none_after_a_small_one(
    composed: App, tenant: Tenant
) -> None:
    # given 7 visitors who came by web and met the shop's touchpoint; 3 of them redeemed
    door = await shop_point(composed, tenant, shop=True)
    rows = []
    for n in range(7):
        who = "a" + uuid.uuid4().hex[1:]  # all in one bucket, which must merge
        rows += [row(tenant.city.id, who, 0, 1, 0), row(tenant.city.id, who, 2, 2, 0)]
        rows[-1]["touchpoint_id"] = door.id
        if n < 3:
            rows.append(row(tenant.city.id, who, 3, 3, 0))
    await store(composed, rows)
    spec = parse_funnel(f"web,contact:shop={tenant.shop_a.slug},redeemed")
    period = check_period(BASE, BASE + timedelta(days=1))
    # when
    result = await funnels.run_funnel(
        composed.ctx, tenant.users["city-editor"], tenant.city.id, spec, period
    )
    # then
    assert [(s.step, s.visitors) for s in result.steps] == [
        ("web", 7),
        (f"contact:shop={tenant.shop_a.slug}", 7),
        ("redeemed", None),
    ]
    assert all(s.visitors is None or s.visitors >= K for s in result.steps)
    assert [s.visitors for s in result.steps] == suppress_steps([7, 7, 3])


async def test_a_retailer_runs_only_funnels_about_their_own_shop(
    composed: App, tenant: Tenant
) -> None:
    # given
    owner = tenant.users["retailer-owner"]
    period = check_period(BASE, NOW)
    own = parse_funnel(f"contact:shop={tenant.shop_a.slug},redeemed:shop={tenant.shop_a.slug}")
    # when / then: their own shop's steps run (nobody did them: 0, which is about no one)
    result = await funnels.run_funnel(composed.ctx, owner, tenant.city.id, own, period)
    assert [s.visitors for s in result.steps] == [0, 0]
    # a step about the whole city or another shop is refused, naming the step
    for text, number in [
        (f"web,contact:shop={tenant.shop_a.slug}", 1),
        (f"contact:shop={tenant.shop_a.slug},contact:shop={tenant.shop_b.slug}", 2),
        (f"contact:shop={tenant.shop_a.slug},contact:shop", 2),
    ]:
        with pytest.raises(InvalidInput) as caught:
            await funnels.run_funnel(
                composed.ctx, owner, tenant.city.id, parse_funnel(text), period
            )
        assert caught.value.params["number"] == number
    # and another city looks as if it did not exist
    other = await make_tenant(composed)
    with pytest.raises(NotFound):
        await funnels.run_funnel(composed.ctx, owner, other.city.id, own, period)
    with pytest.raises(Forbidden):
        await funnels.run_funnel(composed.ctx, None, tenant.city.id, own, period)


async def test_a_step_naming_nothing_in_the_city_is_refused(composed: App, tenant: Tenant) -> None:
    period = check_period(BASE, NOW)
    editor = tenant.users["city-editor"]
    for text in ("web,contact:zone=nirgendwo", "web,viewed:content=not-an-id", "web,saved:shop=x"):
        with pytest.raises(InvalidInput) as caught:
            await funnels.run_funnel(
                composed.ctx, editor, tenant.city.id, parse_funnel(text), period
            )
        assert (
            caught.value.message
            == "Step %(number)s: there is nothing named “%(name)s” in this city."
        )


async def test_many_catch_ups_merge_their_files_and_count_every_event_once(
    composed: App, tenant: Tenant
) -> None:
    # given one new visitor journey after each of twelve catch-ups, ten minutes apart
    engine, city_id = composed.ctx.funnels, tenant.city.id
    period = (NOW - timedelta(days=2), NOW + timedelta(days=1))
    for n in range(12):
        at = NOW + timedelta(minutes=10 * n)
        who = "a" + uuid.uuid4().hex[1:]  # all in one bucket, which must merge
        journey = [row(city_id, who, choice, 0, 0) for choice in (0, 1)]
        for i, event in enumerate(journey):
            event["occurred_at"] = event["received_at"] = at + timedelta(seconds=i)
        await store(composed, journey)
        await engine.count(city_id, MATCHERS[:2], timedelta(days=1), period, at)
    # when
    counts = await engine.count(
        city_id, MATCHERS[:2], timedelta(days=1), period, NOW + timedelta(hours=3)
    )
    # then every bucket holds at most MAX_FILES files and each journey counts once
    files = engine.extract.files(city_id)  # type: ignore[attr-defined]
    buckets = [f.rsplit("/", 2)[1] for f in files]
    assert buckets == ["b=a"] * len(buckets)
    assert 1 <= len(files) <= MAX_FILES
    assert counts == [12, 12]
