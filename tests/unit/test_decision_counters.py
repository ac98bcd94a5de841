"""The DecisionCounters contract, run on the in-process counters (Redis: tests/integration)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID

import pytest

from marktplatz.adapters.decision_counters import (
    InMemoryDecisionCounters,
    RedisDecisionCounters,
    decision_counters,
    visitor_key,
)
from marktplatz.domain.content import LimitPeriod, period_key
from marktplatz.domain.decision import Usage

Counters = InMemoryDecisionCounters | RedisDecisionCounters

DAY = "2026-06-03"  # a Wednesday
NEXT_DAY = "2026-06-04"
NEXT_WEEK = "2026-06-08"
SHOP_A = UUID(int=101)
SHOP_B = UUID(int=102)
ITEM_1 = UUID(int=201)
ITEM_2 = UUID(int=202)
ITEM_3 = UUID(int=203)
COUPON = UUID(int=301)
ANNA = "visitor-anna-7f3a"
BEN = "visitor-ben-91c2"


def period_keys(day: str) -> list[str]:
    return [period_key(period, date.fromisoformat(day)) for period in LimitPeriod]


class CounterContract:
    """What every DecisionCounters must do; a subclass provides the `counters` fixture."""

    @pytest.fixture
    def city(self) -> UUID:
        return uuid.uuid4()

    async def test_a_fresh_day_has_no_usage(self, counters: Counters, city: UUID) -> None:
        # given nothing counted
        # when
        usage = await counters.usage(city, DAY, ANNA, [ITEM_1], [COUPON])

        # then
        assert usage == Usage()

    async def test_a_pull_is_admitted_whole_and_read_back(
        self, counters: Counters, city: UUID
    ) -> None:
        # given Anna pulled two items of two shops and a city item
        picks = [(ITEM_1, SHOP_A), (ITEM_2, SHOP_B), (ITEM_3, None)]

        # when
        shown = await counters.admit(city, DAY, ANNA, picks, push_budget=None)
        usage = await counters.usage(city, DAY, ANNA, [ITEM_1, ITEM_2, ITEM_3], [])

        # then a pull uses no budget, and every item and shop is counted once
        assert shown == 3
        assert usage == Usage(
            pushed_today=0,
            seen_today={ITEM_1: 1, ITEM_2: 1, ITEM_3: 1},
            shop_exposures_today={SHOP_A: 1, SHOP_B: 1},
        )

    async def test_a_push_admits_only_the_remaining_budget(
        self, counters: Counters, city: UUID
    ) -> None:
        # given Anna was pushed two items today, with a budget of three
        await counters.admit(city, DAY, ANNA, [(ITEM_1, SHOP_A), (ITEM_2, SHOP_B)], push_budget=3)

        # when two more are pushed, then one more
        second = await counters.admit(
            city, DAY, ANNA, [(ITEM_3, SHOP_B), (ITEM_1, SHOP_A)], push_budget=3
        )
        third = await counters.admit(city, DAY, ANNA, [(ITEM_2, SHOP_B)], push_budget=3)
        usage = await counters.usage(city, DAY, ANNA, [ITEM_1, ITEM_2, ITEM_3], [])

        # then only the first of the second push fitted, in order, and nothing of the third
        assert (second, third) == (1, 0)
        assert usage == Usage(
            pushed_today=3,
            seen_today={ITEM_1: 1, ITEM_2: 1, ITEM_3: 1},
            shop_exposures_today={SHOP_A: 1, SHOP_B: 2},
        )

    async def test_the_budget_holds_under_200_concurrent_pushes(
        self, counters: Counters, city: UUID
    ) -> None:
        # given 200 decisions for Anna at once, of one to three picks each
        picks = [(ITEM_1, SHOP_A), (ITEM_2, SHOP_B), (ITEM_3, None)]

        # when
        shown = await asyncio.gather(
            *(
                counters.admit(city, DAY, ANNA, picks[: 1 + i % 3], push_budget=5)
                for i in range(200)
            )
        )
        usage = await counters.usage(city, DAY, ANNA, [], [])

        # then exactly the budget was pushed, no more
        assert sum(shown) == 5
        assert usage.pushed_today == 5

    async def test_a_pull_is_admitted_when_the_budget_is_spent(
        self, counters: Counters, city: UUID
    ) -> None:
        # given Anna's push budget is spent
        await counters.admit(city, DAY, ANNA, [(ITEM_1, SHOP_A)], push_budget=1)

        # when she scans a code
        shown = await counters.admit(
            city, DAY, ANNA, [(ITEM_2, SHOP_B), (ITEM_3, SHOP_A)], push_budget=None
        )
        usage = await counters.usage(city, DAY, ANNA, [ITEM_1, ITEM_2, ITEM_3], [])

        # then
        assert shown == 2
        assert usage == Usage(
            pushed_today=1,
            seen_today={ITEM_1: 1, ITEM_2: 1, ITEM_3: 1},
            shop_exposures_today={SHOP_A: 2, SHOP_B: 1},
        )

    async def test_without_a_pseudonym_only_shop_exposures_count(
        self, counters: Counters, city: UUID
    ) -> None:
        # given a visitor without consent pulled two items
        pulled = await counters.admit(
            city, DAY, None, [(ITEM_1, SHOP_A), (ITEM_2, None)], push_budget=None
        )

        # when a push reaches such a visitor, and a consenting visitor asks for her usage
        pushed = await counters.admit(city, DAY, None, [(ITEM_3, SHOP_B)], push_budget=3)
        anonymous = await counters.usage(city, DAY, None, [ITEM_1, ITEM_2], [])
        anna = await counters.usage(city, DAY, ANNA, [ITEM_1, ITEM_2], [])

        # then the shop was counted, nobody's views were, and nothing could be pushed
        assert (pulled, pushed) == (2, 0)
        assert anonymous == anna == Usage(shop_exposures_today={SHOP_A: 1})

    async def test_claims_count_stock_and_each_period_per_person(
        self, counters: Counters, city: UUID
    ) -> None:
        # given Anna took the coupon twice and an anonymous visitor once
        await counters.claim(COUPON, ANNA, period_keys(DAY))
        await counters.claim(COUPON, ANNA, period_keys(DAY))
        await counters.claim(COUPON, None, [])

        # when
        anna = await counters.usage(city, DAY, ANNA, [], [COUPON])
        ben = await counters.usage(city, DAY, BEN, [], [COUPON])
        anonymous = await counters.usage(city, DAY, None, [], [COUPON])

        # then the stock counts everyone, the per-person counters only Anna
        everything = {(COUPON, period): 2 for period in LimitPeriod}
        assert anna == Usage(claimed=everything, stock_used={COUPON: 3})
        assert ben == anonymous == Usage(stock_used={COUPON: 3})

    async def test_a_new_period_starts_its_claims_afresh(
        self, counters: Counters, city: UUID
    ) -> None:
        # given Anna took the coupon on Wednesday
        await counters.claim(COUPON, ANNA, period_keys(DAY))

        # when her usage is read on Thursday and in the next week
        thursday = await counters.usage(city, NEXT_DAY, ANNA, [], [COUPON])
        next_week = await counters.usage(city, NEXT_WEEK, ANNA, [], [COUPON])

        # then
        week, campaign = (COUPON, LimitPeriod.WEEK), (COUPON, LimitPeriod.CAMPAIGN)
        assert thursday == Usage(claimed={week: 1, campaign: 1}, stock_used={COUPON: 1})
        assert next_week == Usage(claimed={campaign: 1}, stock_used={COUPON: 1})

    async def test_days_and_cities_are_counted_apart(self, counters: Counters, city: UUID) -> None:
        # given Anna used her whole budget today in this city
        await counters.admit(city, DAY, ANNA, [(ITEM_1, SHOP_A)], push_budget=1)

        # when she is pushed tomorrow, and today in another city
        tomorrow = await counters.admit(city, NEXT_DAY, ANNA, [(ITEM_2, SHOP_B)], push_budget=1)
        elsewhere = await counters.admit(uuid.uuid4(), DAY, ANNA, [(ITEM_3, None)], push_budget=1)
        usage = await counters.usage(city, NEXT_DAY, ANNA, [ITEM_1, ITEM_2], [])

        # then
        assert (tomorrow, elsewhere) == (1, 1)
        assert usage == Usage(
            pushed_today=1, seen_today={ITEM_2: 1}, shop_exposures_today={SHOP_B: 1}
        )

    async def test_nothing_to_admit_counts_nothing(self, counters: Counters, city: UUID) -> None:
        # when an empty decision is admitted
        shown = await counters.admit(city, DAY, ANNA, [], push_budget=3)
        usage = await counters.usage(city, DAY, ANNA, [ITEM_1], [])

        # then
        assert (shown, usage) == (0, Usage())


class TestInMemoryDecisionCounters(CounterContract):
    @pytest.fixture
    async def counters(self) -> AsyncIterator[Counters]:
        counters = InMemoryDecisionCounters()
        yield counters
        await counters.aclose()


async def test_days_older_than_two_days_are_dropped() -> None:
    # given counts on Monday and Tuesday
    counters = InMemoryDecisionCounters()
    city = uuid.uuid4()
    await counters.admit(city, "2026-06-01", ANNA, [(ITEM_1, SHOP_A)], push_budget=3)
    await counters.admit(city, "2026-06-02", ANNA, [(ITEM_2, SHOP_B)], push_budget=3)
    await counters.claim(COUPON, ANNA, period_keys("2026-06-01"))

    # when Wednesday counts its first item
    await counters.admit(city, "2026-06-03", None, [(ITEM_3, None)], push_budget=None)
    monday = await counters.usage(city, "2026-06-01", ANNA, [ITEM_1], [COUPON])
    tuesday = await counters.usage(city, "2026-06-02", ANNA, [ITEM_2], [])

    # then Monday is gone (its day claim too), Tuesday is kept
    assert monday == Usage(
        claimed={(COUPON, LimitPeriod.WEEK): 1, (COUPON, LimitPeriod.CAMPAIGN): 1},
        stock_used={COUPON: 1},
    )
    assert tuesday == Usage(
        pushed_today=1, seen_today={ITEM_2: 1}, shop_exposures_today={SHOP_B: 1}
    )


async def test_a_usage_read_earlier_keeps_what_it_read() -> None:
    # given a usage read before another item was shown
    counters = InMemoryDecisionCounters()
    city = uuid.uuid4()
    await counters.admit(city, DAY, None, [(ITEM_1, SHOP_A)], push_budget=None)
    before = await counters.usage(city, DAY, None, [], [])

    # when
    await counters.admit(city, DAY, None, [(ITEM_2, SHOP_A)], push_budget=None)

    # then
    assert before.shop_exposures_today == {SHOP_A: 1}


def test_the_pseudonym_is_hashed_to_16_bytes() -> None:
    # when
    key = visitor_key(ANNA)

    # then
    assert (len(key), ANNA in key, key == visitor_key(BEN)) == (32, False, False)


async def test_the_factory_picks_redis_only_with_a_url() -> None:
    # when
    embedded = decision_counters(None)
    shared = decision_counters("redis://127.0.0.1:6379/0")

    # then (no connection is made before the first command)
    assert isinstance(embedded, InMemoryDecisionCounters)
    assert isinstance(shared, RedisDecisionCounters)
    await shared.aclose()
