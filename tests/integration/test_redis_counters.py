"""The DecisionCounters contract on a real Redis at 127.0.0.1:6379, plus what only Redis does."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from marktplatz.adapters.decision_counters import (
    CLAIM_TTL_DAYS,
    DAY_TTL_DAYS,
    EXPOSURES_MAX_AGE_S,
    RedisDecisionCounters,
)
from marktplatz.domain.decision import Usage
from unit.test_decision_counters import (
    ANNA,
    COUPON,
    DAY,
    ITEM_1,
    ITEM_2,
    SHOP_A,
    SHOP_B,
    CounterContract,
    Counters,
    period_keys,
)

REDIS_URL = os.environ.get("MARKTPLATZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DAY_S = 86_400


@dataclass
class Server:
    """A client for looking at the keys, and the random prefix of this test's keys."""

    redis: Redis
    prefix: str

    def counters(self, monotonic: Callable[[], float] = time.monotonic) -> RedisDecisionCounters:
        return RedisDecisionCounters(REDIS_URL, prefix=self.prefix, monotonic=monotonic)

    async def keys(self) -> list[str]:
        return sorted([k.decode() async for k in self.redis.scan_iter(f"{self.prefix}*")])


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    """Fail in CI, skip elsewhere, when Redis does not answer; the test's keys are removed after."""
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except (RedisConnectionError, OSError) as exc:
        await redis.aclose()
        reason = f"Redis is not running at {REDIS_URL} (redis-server --daemonize yes): {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    found = Server(redis, f"mp:test-{uuid.uuid4().hex[:12]}:")
    yield found
    names = [k async for k in redis.scan_iter(f"{found.prefix}*")]
    if names:
        await redis.delete(*names)
    await redis.aclose()


class TestRedisDecisionCounters(CounterContract):
    @pytest.fixture
    async def counters(self, server: Server) -> AsyncIterator[Counters]:
        counters = server.counters()
        yield counters
        await counters.aclose()


async def test_the_budget_holds_for_8_workers_with_50_pushes_each(server: Server) -> None:
    # given eight workers (one client each) pushing to Anna at the same time
    workers = [server.counters() for _ in range(8)]
    city = uuid.uuid4()
    picks = [(ITEM_1, SHOP_A), (ITEM_2, SHOP_B)]

    # when each runs 50 decisions at once
    shown = await asyncio.gather(
        *(
            w.admit(city, DAY, ANNA, picks[: 1 + i % 2], push_budget=7)
            for w in workers
            for i in range(50)
        )
    )
    usage = await workers[0].usage(city, DAY, ANNA, [], [])
    await asyncio.gather(*(w.aclose() for w in workers))

    # then exactly the budget was pushed, no more
    assert sum(shown) == 7
    assert usage.pushed_today == 7


async def test_no_key_holds_a_pseudonym_in_clear(server: Server) -> None:
    # given Anna was pushed an item and took a coupon
    counters = server.counters()
    await counters.admit(uuid.uuid4(), DAY, ANNA, [(ITEM_1, SHOP_A)], push_budget=3)
    await counters.claim(COUPON, ANNA, period_keys(DAY))
    await counters.aclose()

    # when
    keys = await server.keys()

    # then
    assert len(keys) == 7  # push, seen, shops; stock and three per-person counters
    assert [k for k in keys if ANNA in k] == []


async def test_day_counters_expire_after_two_days_and_stock_never(server: Server) -> None:
    # given
    counters = server.counters()
    city = uuid.uuid4()
    await counters.admit(city, DAY, ANNA, [(ITEM_1, SHOP_A)], push_budget=3)
    await counters.claim(COUPON, ANNA, period_keys(DAY))
    await counters.aclose()

    # when the time to live of every key is read
    ttl = {k: await server.redis.ttl(k) for k in await server.keys()}

    # then day keys live two days, claims their period plus a margin, the stock for ever
    def expected(key: str) -> int:
        if key.endswith(":stock"):
            return -1
        if ":coupon:" in key:
            return CLAIM_TTL_DAYS[key.rsplit(":", 1)[1][0]] * DAY_S
        return DAY_TTL_DAYS * DAY_S

    # a key set just before a second ticked over reads one second less
    assert {k: expected(k) - t for k, t in ttl.items()} == {
        k: 0 if t == expected(k) else 1 for k, t in ttl.items()
    }
    assert sorted(expected(k) for k in ttl) == sorted(
        [-1, 2 * DAY_S, 2 * DAY_S, 2 * DAY_S, 2 * DAY_S, 9 * DAY_S, 400 * DAY_S]
    )


async def test_other_workers_exposures_show_within_a_second(server: Server) -> None:
    # given this worker read the exposures, then another worker showed an item of shop A
    ticks = Ticks()
    here, there = server.counters(monotonic=ticks), server.counters()
    city = uuid.uuid4()
    await here.usage(city, DAY, None, [], [])
    await there.admit(city, DAY, None, [(ITEM_1, SHOP_A)], push_budget=None)

    # when this worker reads again at once, and a second later
    at_once = await here.usage(city, DAY, None, [], [])
    ticks.now += EXPOSURES_MAX_AGE_S
    later = await here.usage(city, DAY, None, [], [])
    await asyncio.gather(here.aclose(), there.aclose())

    # then
    assert (at_once, later) == (Usage(), Usage(shop_exposures_today={SHOP_A: 1}))


async def test_own_exposures_show_at_once(server: Server) -> None:
    # given this worker read the exposures a moment ago
    counters = server.counters(monotonic=Ticks())
    city = uuid.uuid4()
    await counters.usage(city, DAY, None, [], [])

    # when it shows an item and reads again within the second
    await counters.admit(city, DAY, None, [(ITEM_1, SHOP_A)], push_budget=None)
    usage = await counters.usage(city, DAY, None, [], [])
    await counters.aclose()

    # then
    assert usage == Usage(shop_exposures_today={SHOP_A: 1})


async def test_admit_loads_its_script_again_after_a_script_flush(server: Server) -> None:
    # given Redis forgot its scripts (a restart or a failover)
    counters = server.counters()
    city = uuid.uuid4()
    await counters.admit(city, DAY, ANNA, [(ITEM_1, SHOP_A)], push_budget=3)
    await server.redis.script_flush()

    # when
    shown = await counters.admit(city, DAY, ANNA, [(ITEM_2, SHOP_B)], push_budget=3)
    usage = await counters.usage(city, DAY, ANNA, [], [])
    await counters.aclose()

    # then
    assert (shown, usage.pushed_today) == (1, 2)
