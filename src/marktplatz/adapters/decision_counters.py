"""Counters of the decision engine (caps, push budget, stock, fairness): in process or in Redis."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from redis.asyncio import BlockingConnectionPool, Redis

from marktplatz.domain.content import LimitPeriod, period_key
from marktplatz.domain.decision import Usage

DAY_TTL_DAYS = 2
# How long a per-person coupon counter lives, by the first letter of its period key: a day or
# an ISO week plus a margin of two days; a campaign about as long as any campaign runs.
CLAIM_TTL_DAYS = {"d": 2, "w": 9, "c": 400}
EXPOSURES_MAX_AGE_S = 1.0  # the port allows the shop exposures to lag by up to a second
# Connections per process; a burst of decisions beyond this waits for a free connection
# (up to POOL_TIMEOUT_S) instead of failing.
POOL_SIZE = 64
POOL_TIMEOUT_S = 2.0
_SECONDS_PER_DAY = 86_400


def visitor_key(pseudonym: str) -> str:
    """The pseudonym as it may appear in a counter key: hashed.

    The pseudonym is personal data; counters outlive nothing but themselves (2 days, a coupon
    campaign) and Redis is not reached by the erasure of the database. Once the pseudonym is
    erased there, its hash links to nobody.
    """
    return hashlib.blake2b(pseudonym.encode(), digest_size=16).hexdigest()


def current_period_keys(day: str) -> dict[LimitPeriod, str]:
    """The counter key of each limit period that `day` (ISO date) falls in."""
    today = date.fromisoformat(day)
    return {period: period_key(period, today) for period in LimitPeriod}


def admitted(picks_count: int, pushed: int, push_budget: int | None, has_visitor: bool) -> int:
    """How many of `picks_count` picks may be shown: all for a pull, the remaining budget for
    a push, none for a push without a pseudonym (nobody could count that visitor's pushes)."""
    if push_budget is None:
        return picks_count
    if not has_visitor:
        return 0
    return max(0, min(picks_count, push_budget - pushed))


# --- in process ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Day:
    pushed: dict[str, int] = field(default_factory=dict)  # visitor key → pushes
    seen: dict[tuple[str, UUID], int] = field(default_factory=dict)
    exposures: dict[UUID, int] = field(default_factory=dict)  # shop → items shown


class InMemoryDecisionCounters:
    """Counters of one process (the embedded default).

    No method awaits between reading and writing a counter, so every call is atomic among the
    tasks of the event loop. Days older than two days are dropped when a newer day first counts.
    """

    def __init__(self) -> None:
        self._days: dict[tuple[UUID, str], _Day] = {}
        self._newest: date | None = None
        self._stock: dict[UUID, int] = {}
        self._claims: dict[tuple[UUID, str, str], int] = {}  # (content, visitor, period key)

    async def usage(
        self,
        city_id: UUID,
        day: str,
        pseudonym: str | None,
        seen_ids: Sequence[UUID],
        coupon_ids: Sequence[UUID],
    ) -> Usage:
        counts = self._days.get((city_id, day)) or _Day()
        stock = {c: n for c in coupon_ids if (n := self._stock.get(c, 0))}
        if pseudonym is None:
            return Usage(stock_used=stock, shop_exposures_today=dict(counts.exposures))
        who = visitor_key(pseudonym)
        periods = current_period_keys(day)
        return Usage(
            pushed_today=counts.pushed.get(who, 0),
            seen_today={c: n for c in seen_ids if (n := counts.seen.get((who, c), 0))},
            claimed={
                (c, period): n
                for c in coupon_ids
                for period, key in periods.items()
                if (n := self._claims.get((c, who, key), 0))
            },
            stock_used=stock,
            shop_exposures_today=dict(counts.exposures),
        )

    async def admit(
        self,
        city_id: UUID,
        day: str,
        pseudonym: str | None,
        picks: Sequence[tuple[UUID, UUID | None]],
        *,
        push_budget: int | None,
    ) -> int:
        counts = self._day(city_id, day)
        who = None if pseudonym is None else visitor_key(pseudonym)
        pushed = 0 if who is None else counts.pushed.get(who, 0)
        shown = admitted(len(picks), pushed, push_budget, who is not None)
        if who is not None and push_budget is not None and shown:
            counts.pushed[who] = pushed + shown
        for content_id, shop_id in picks[:shown]:
            if who is not None:
                counts.seen[who, content_id] = counts.seen.get((who, content_id), 0) + 1
            if shop_id is not None:
                counts.exposures[shop_id] = counts.exposures.get(shop_id, 0) + 1
        return shown

    async def claim(
        self, content_id: UUID, pseudonym: str | None, period_keys: Sequence[str]
    ) -> None:
        self._stock[content_id] = self._stock.get(content_id, 0) + 1
        if pseudonym is None:
            return
        who = visitor_key(pseudonym)
        for key in period_keys:
            self._claims[content_id, who, key] = self._claims.get((content_id, who, key), 0) + 1

    async def aclose(self) -> None:
        """Nothing to release; here so that both twins close alike."""

    def _day(self, city_id: UUID, day: str) -> _Day:
        counts = self._days.get((city_id, day))
        if counts is None:
            counts = self._days[city_id, day] = _Day()
            today = date.fromisoformat(day)
            if self._newest is None or today > self._newest:
                self._newest = today
                self._drop_before(today)
        return counts

    def _drop_before(self, today: date) -> None:
        cutoff = (today - timedelta(days=DAY_TTL_DAYS)).isoformat()
        self._days = {k: v for k, v in self._days.items() if k[1] > cutoff}
        self._claims = {
            k: n
            for k, n in self._claims.items()
            if (ends := _claim_expiry(k[2])) is None or ends > today
        }


def _claim_expiry(key: str) -> date | None:
    """The day a per-person counter is forgotten on (None: it lives as long as the process)."""
    if key.startswith("d"):
        return date.fromisoformat(key[1:]) + timedelta(days=CLAIM_TTL_DAYS["d"])
    if key.startswith("w"):
        year, week = key[1:].split("-")
        monday = date.fromisocalendar(int(year), int(week), 1)
        return monday + timedelta(days=CLAIM_TTL_DAYS["w"])
    return None


# --- Redis --------------------------------------------------------------------------------

# KEYS: the visitor's pushes, the visitor's views (hash content → n), the city's exposures
# (hash shop → n), all of one city and day. ARGV: budget ("" for a pull), TTL in seconds,
# "1" with a pseudonym, then content id and shop id ("" for none) of each pick, in order.
# Reading the push count and bumping it in one script is what keeps the budget under
# concurrent decisions for one visitor from several workers.
_ADMIT_LUA = """
local n = (#ARGV - 3) / 2
local budget = tonumber(ARGV[1])
local visitor = ARGV[3] == '1'
local admit = n
if budget then
  if not visitor then return 0 end
  local pushed = tonumber(redis.call('GET', KEYS[1]) or '0')
  admit = math.max(0, math.min(n, budget - pushed))
end
if admit == 0 then return 0 end
local ttl = ARGV[2]
if visitor then
  if budget then
    redis.call('INCRBY', KEYS[1], admit)
    redis.call('EXPIRE', KEYS[1], ttl)
  end
  for i = 1, admit do redis.call('HINCRBY', KEYS[2], ARGV[2 + 2 * i], 1) end
  redis.call('EXPIRE', KEYS[2], ttl)
end
local shops = false
for i = 1, admit do
  local shop = ARGV[3 + 2 * i]
  if shop ~= '' then
    redis.call('HINCRBY', KEYS[3], shop, 1)
    shops = true
  end
end
if shops then redis.call('EXPIRE', KEYS[3], ttl) end
return admit
"""


@dataclass(slots=True)
class _Exposures:
    day: str
    fetched_at: float
    counts: dict[UUID, int]


class RedisDecisionCounters:
    """Counters shared by every worker of a city through Redis; one round trip per call.

    Keys: `mp:{city}:<day>:…` for the day's counters (a hash tag per city, so that the admit
    script's keys share a cluster slot) and `mp:coupon:{content}:…` for coupons. The shop
    exposures are read at most once a second per process; this process's own admits are
    added to its copy at once.
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "mp:",
        monotonic: Callable[[], float] = time.monotonic,
        pool_size: int = POOL_SIZE,
    ) -> None:
        pool = BlockingConnectionPool.from_url(
            url, max_connections=pool_size, timeout=POOL_TIMEOUT_S
        )
        self._redis = Redis.from_pool(pool)  # closing the client closes the pool
        self._prefix = prefix
        self._now = monotonic
        self._admit = self._redis.register_script(_ADMIT_LUA)
        self._exposures: dict[UUID, _Exposures] = {}

    async def usage(
        self,
        city_id: UUID,
        day: str,
        pseudonym: str | None,
        seen_ids: Sequence[UUID],
        coupon_ids: Sequence[UUID],
    ) -> Usage:
        who = None if pseudonym is None else visitor_key(pseudonym)
        periods = current_period_keys(day)
        cached = self._fresh_exposures(city_id, day)
        async with self._redis.pipeline(transaction=False) as pipe:
            if who is not None:
                pipe.get(self._day_key(city_id, day, "push", who))
                if seen_ids:
                    pipe.hmget(self._day_key(city_id, day, "seen", who), [str(c) for c in seen_ids])
            for coupon in coupon_ids:
                keys = [self._coupon_key(coupon, "stock")]
                if who is not None:
                    keys += [self._coupon_key(coupon, who, key) for key in periods.values()]
                pipe.mget(keys)
            if cached is None:
                pipe.hgetall(self._day_key(city_id, day, "shops"))
            replies = iter(await pipe.execute())
        pushed = _int(next(replies)) if who is not None else 0
        seen = next(replies) if who is not None and seen_ids else []
        coupons = [next(replies) for _ in coupon_ids]
        exposures = cached if cached is not None else self._store(city_id, day, next(replies))
        return Usage(
            pushed_today=pushed,
            seen_today={c: n for c, r in zip(seen_ids, seen, strict=False) if (n := _int(r))},
            claimed={
                (c, period): n
                for c, reply in zip(coupon_ids, coupons, strict=True)
                for period, r in zip(periods, reply[1:], strict=False)
                if (n := _int(r))
            },
            stock_used={
                c: n for c, r in zip(coupon_ids, coupons, strict=True) if (n := _int(r[0]))
            },
            shop_exposures_today=exposures,
        )

    async def admit(
        self,
        city_id: UUID,
        day: str,
        pseudonym: str | None,
        picks: Sequence[tuple[UUID, UUID | None]],
        *,
        push_budget: int | None,
    ) -> int:
        if not picks:
            return 0
        who = "-" if pseudonym is None else visitor_key(pseudonym)
        keys = [
            self._day_key(city_id, day, "push", who),
            self._day_key(city_id, day, "seen", who),
            self._day_key(city_id, day, "shops"),
        ]
        args: list[str | int] = [
            "" if push_budget is None else push_budget,
            DAY_TTL_DAYS * _SECONDS_PER_DAY,
            "0" if pseudonym is None else "1",
        ]
        for content_id, shop_id in picks:
            args += [str(content_id), "" if shop_id is None else str(shop_id)]
        shown = int(await self._admit(keys=keys, args=args))
        self._count_locally(city_id, day, picks[:shown])
        return shown

    async def claim(
        self, content_id: UUID, pseudonym: str | None, period_keys: Sequence[str]
    ) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(self._coupon_key(content_id, "stock"))  # stock never expires
            if pseudonym is not None:
                who = visitor_key(pseudonym)
                for key in period_keys:
                    name = self._coupon_key(content_id, who, key)
                    pipe.incr(name)
                    pipe.expire(name, CLAIM_TTL_DAYS.get(key[:1], 400) * _SECONDS_PER_DAY)
            await pipe.execute()

    async def aclose(self) -> None:
        await self._redis.aclose()

    def _day_key(self, city_id: UUID, day: str, *parts: str) -> str:
        return f"{self._prefix}{{{city_id}}}:{day}:{':'.join(parts)}"

    def _coupon_key(self, content_id: UUID, *parts: str) -> str:
        return f"{self._prefix}coupon:{{{content_id}}}:{':'.join(parts)}"

    def _fresh_exposures(self, city_id: UUID, day: str) -> dict[UUID, int] | None:
        cached = self._exposures.get(city_id)
        if cached is None or cached.day != day:
            return None
        now = self._now()
        if now - cached.fetched_at < EXPOSURES_MAX_AGE_S:
            return cached.counts
        # This call refreshes; calls meanwhile keep the old copy, so the hash is read at most
        # once a second however many decisions run at the same time.
        cached.fetched_at = now
        return None

    def _store(self, city_id: UUID, day: str, reply: dict[bytes, bytes]) -> dict[UUID, int]:
        counts = {UUID(k.decode()): int(v) for k, v in reply.items()}
        self._exposures[city_id] = _Exposures(day, self._now(), counts)
        return counts

    def _count_locally(
        self, city_id: UUID, day: str, picks: Sequence[tuple[UUID, UUID | None]]
    ) -> None:
        cached = self._exposures.get(city_id)
        shops = [shop for _, shop in picks if shop is not None]
        if cached is None or cached.day != day or not shops:
            return
        # A new dict, not an update in place: a Usage handed out earlier keeps what it read.
        counts = dict(cached.counts)
        for shop in shops:
            counts[shop] = counts.get(shop, 0) + 1
        cached.counts = counts


def _int(reply: bytes | None) -> int:
    return 0 if reply is None else int(reply)


def decision_counters(url: str | None) -> InMemoryDecisionCounters | RedisDecisionCounters:
    """Redis when a URL is given (several workers), else the counters of this process."""
    return RedisDecisionCounters(url) if url else InMemoryDecisionCounters()
