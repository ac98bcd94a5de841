"""decide_for_contact: the content a contact sees, from a compiled index kept per city."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.consent import Purpose, current_consent
from marktplatz.domain.content import Content, ContentKind, ContentStatus, clean_interests
from marktplatz.domain.decision import (
    Contact,
    Decision,
    Exclusion,
    Mode,
    Pick,
    Reason,
    Usage,
    Visitor,
    candidates,
    decide,
    exclusion,
    reasons_from_json,
    reasons_json,
)
from marktplatz.domain.decision_index import (
    CityIndex,
    TouchpointPlace,
    ZonePlace,
    build_index,
    shop_place,
)
from marktplatz.domain.errors import NotFound
from marktplatz.domain.geo import Location
from marktplatz.domain.journey import SCHEMA_VERSION, EventKind, JourneyEvent, check_pseudonym
from marktplatz.domain.rules import CityRules
from marktplatz.domain.shops import Shop
from marktplatz.domain.touchpoints import Touchpoint, TouchpointStatus
from marktplatz.domain.zones import Zone
from marktplatz.services.access import access_content
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

log = logging.getLogger(__name__)

CHECK_EVERY = 1.0  # seconds between two looks at a city's content version, per process
_LOW_64 = 2**64 - 1  # an exposure's id: its decision's id, the low half mixed with the item's
FLUSH_EVERY = 0.05  # seconds exposures wait to be written together
SETTLE_FROM = 100_000  # candidates in an index (over all touchpoints) from which it is frozen
INDEX_DAYS = timedelta(days=6)  # opening spans cover 9 days from yesterday; rebuild well before


@dataclass(frozen=True, slots=True)
class ContactInput:
    """A contact as the edge received it: exactly one of touchpoint, identifier or location."""

    city: str
    language: str
    mode: Mode
    touchpoint_id: UUID | None = None
    identifier: str | None = None  # a beacon's canonical identifier or "code:<code>"
    location: Location | None = None
    visitor: str | None = None
    interests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    decision_id: UUID
    decision: Decision
    touchpoint_id: UUID | None


@dataclass
class _Entry:
    index: CityIndex
    version: int
    identifiers: dict[str, UUID]
    checked: float
    # Per touchpoint: the ids of all its candidates and of those with a coupon (the counters
    # to read), worked out on the first decision there instead of on every one.
    counted: dict[UUID, tuple[list[UUID], list[UUID]]] = field(default_factory=dict)

    def counted_ids(self, contact: Contact) -> tuple[list[UUID], list[UUID]]:
        key = contact.touchpoint_id
        if key is not None and key in self.counted:
            return self.counted[key]
        found = list(candidates(self.index, contact))
        ids = (
            list(dict.fromkeys(m.content.id for m in found)),
            list(dict.fromkeys(m.content.id for m in found if m.content.coupon is not None)),
        )
        if key is not None:
            self.counted[key] = ids
        return ids


class IndexCache:
    """Per process: the compiled index of each city, rebuilt when its content version moves."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refreshing: set[str] = set()

    def forget(self) -> None:
        self._entries.clear()

    async def get(self, ctx: Context, slug: str) -> _Entry:
        """The city's index, checked against the database at most once a second.

        The request that finds it stale does the check (and rebuild, if the content changed);
        requests arriving meanwhile are served the index as it was instead of waiting.
        """
        entry = self._entries.get(slug)
        if entry is None:
            lock = self._locks.setdefault(slug, asyncio.Lock())
            try:
                async with lock:
                    entry = self._entries.get(slug)
                    if entry is None:
                        entry = self._entries[slug] = await self._refresh(ctx, slug, None)
            except NotFound:
                self._locks.pop(slug, None)  # unknown slugs must not pile up locks
                raise
            return entry
        if time.monotonic() - entry.checked < CHECK_EVERY or slug in self._refreshing:
            return entry
        self._refreshing.add(slug)
        try:
            entry = self._entries[slug] = await self._refresh(ctx, slug, entry)
        finally:
            self._refreshing.discard(slug)
        return entry

    async def _refresh(self, ctx: Context, slug: str, entry: _Entry | None) -> _Entry:
        async with ctx.uow() as uow:
            city = await uow.cities.by_slug(slug)
            if city is None:
                raise NotFound("city")
            version = await uow.contents.version(city.id)
            if (
                entry is not None
                and entry.version == version
                and ctx.clock.now() < entry.index.valid_until
            ):
                entry.checked = time.monotonic()
                return entry
            index, identifiers = await _load(ctx, uow, city)
        settle(index)
        return _Entry(index, version, identifiers, time.monotonic())


def settle(index: CityIndex) -> None:
    """Take a large index out of the garbage collector's way.

    It lives until the next change of content, and holds no reference cycles, so the collector
    has nothing to find in it; yet each full collection would walk all its objects and hold up
    every decision meanwhile (about 0.45 s for 10,000 items at 500 touchpoints). A small one
    costs the collector nothing worth the trouble. What is frozen is still freed when unused.
    """
    if sum(map(len, index.merged.values())) >= SETTLE_FROM:
        gc.collect(1)  # the young garbage first, so that little of it is frozen with the index
        gc.freeze()


async def _load(
    ctx: Context, uow: UnitOfWork, city: City, extra: Content | None = None
) -> tuple[CityIndex, dict[str, UUID]]:
    """Build a city's index from the database; `extra` is added as if published (previews)."""
    clock = ctx.clock.now()
    contents = await uow.contents.list_for_city(city.id, frozenset({ContentStatus.PUBLISHED}))
    if extra is not None:
        contents = [c for c in contents if c.id != extra.id]
        contents.append(replace(extra, status=ContentStatus.PUBLISHED, published_at=clock))
    shops = await uow.shops.list_for_city(city.id)
    points = [
        p
        for p in await uow.touchpoints.list_for_city(city.id)
        if p.status is TouchpointStatus.ACTIVE
    ]
    zones = await uow.zones.list_for_city(city.id)
    rules = await uow.contents.rules(city.id)
    # Built in a worker thread: a large city takes seconds, and decisions go on meanwhile.
    index = await asyncio.to_thread(_compile, city, rules, contents, shops, points, zones, clock)
    return index, {p.identifier: p.id for p in points}


def _compile(
    city: City,
    rules: CityRules,
    contents: list[Content],
    shops: list[Shop],
    points: list[Touchpoint],
    zones: list[Zone],
    clock: datetime,
) -> CityIndex:
    today = clock.astimezone(city.tz).date()
    return build_index(
        city_id=city.id,
        tz=city.tz,
        rules=rules,
        contents=contents,
        shops=[
            shop_place(
                s.id,
                s.name,
                s.category,
                s.location,
                s.opening_hours,
                today=today,
                tz=city.tz,
                federal_state=city.federal_state.value,
            )
            for s in shops
        ],
        touchpoints=[TouchpointPlace(p.id, p.zone_id, p.location) for p in points],
        zones=[ZonePlace(z.id, z.name, z.geometry) for z in zones],
        now=clock,
        valid_until=clock + INDEX_DAYS,
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """What a visitor at a touchpoint would see now, and why this item is (not) among it."""

    decision: Decision
    shown: bool
    excluded: Exclusion | None


async def preview_content(
    ctx: Context, actor: User | None, content_id: UUID, touchpoint_id: UUID | None, language: str
) -> Preview:
    """A scan of `touchpoint_id` (None: standing at the shop's door) now by a visitor without
    consent, with the item as if published.

    Nothing is counted or recorded: a preview is not an exposure.
    """
    async with ctx.uow() as uow:
        item = await access_content(uow, actor, content_id)
        city = await uow.cities.get(item.city_id)
        if city is None:
            raise NotFound("city")
        shop = await uow.shops.get(item.shop_id) if item.shop_id else None
        index, _ = await _load(ctx, uow, city, extra=item)
    if touchpoint_id is not None and touchpoint_id not in index.touchpoints:
        raise NotFound("touchpoint")
    door = shop.location if shop else city.center
    where = None if touchpoint_id is not None else door
    contact = Contact(ctx.clock.now(), language, Mode.PULL, touchpoint_id, where)
    # The control group is left out so that the preview shows what the rules allow.
    decision = decide(
        replace(index, rules=replace(index.rules, control_share=0.0)), contact, Usage(), 1
    )
    shown = any(p.content.id == item.id for p in decision.picks)
    as_published = replace(item, status=ContentStatus.PUBLISHED)
    excluded = None if shown else exclusion(index, as_published, contact, Usage(), False)
    return Preview(decision, shown, excluded or (None if shown else Exclusion.RANKED_LOWER))


INDEXES = IndexCache()


async def decide_for_contact(ctx: Context, given: ContactInput) -> Outcome:
    """Decide, count what was shown, and record each pick as a `content.exposed` event.

    NotFound for an unknown city or a touchpoint that is not one of this city's active ones
    (a touchpoint of another city looks exactly as missing as one that never existed).
    """
    entry = await INDEXES.get(ctx, given.city)
    index = entry.index
    touchpoint_id = _touchpoint(entry, given)
    visitor = await _visitor(ctx, given)
    now = ctx.clock.now()
    contact = Contact(now, given.language, given.mode, touchpoint_id, given.location, visitor)
    day = now.astimezone(index.tz).date().isoformat()
    pseudonym = visitor.pseudonym if visitor else None
    all_ids, coupon_ids = entry.counted_ids(contact)
    seen_ids = all_ids if given.mode is Mode.PUSH and visitor else []
    usage = await ctx.decisions.usage(index.city_id, day, pseudonym, seen_ids, coupon_ids)
    decision_id = new_decision_id(now)
    # The server draws the seed (from the random part of the decision id): it decides the
    # control group, which no client may choose.
    seed = decision_id.int & 0xFFFFFFFF
    decision = decide(index, contact, usage, seed)
    admitted = await ctx.decisions.admit(
        index.city_id,
        day,
        pseudonym,
        [(p.content.id, p.content.shop_id) for p in decision.picks],
        # The day's whole budget: the counters subtract today's pushes themselves, atomically.
        push_budget=index.rules.push_budget_per_day
        if given.mode is Mode.PUSH and visitor
        else None,
    )
    # Fewer than picked when another decision for the same visitor used up the budget meanwhile;
    # what is left is told after this decision's own pushes.
    left = None if decision.budget_left is None else max(0, decision.budget_left - admitted)
    if admitted < len(decision.picks) or left != decision.budget_left:
        decision = replace(decision, picks=decision.picks[:admitted], budget_left=left)
    outcome = Outcome(decision_id, decision, touchpoint_id)
    _record(ctx, outcome, index.city_id, given.visitor)
    if decision.control:
        _record(ctx, outcome, index.city_id, given.visitor, _withheld(index, contact, usage, seed))
    return outcome


def _withheld(index: CityIndex, contact: Contact, usage: Usage, seed: int) -> tuple[Pick, ...]:
    """The offers a contact of the control group would have been shown (the group's baseline).

    Decided again without the control group: a second ranking only for that share of contacts.
    """
    free = replace(index, rules=replace(index.rules, control_share=0.0))
    picks = decide(free, contact, usage, seed).picks
    return tuple(p for p in picks if p.content.kind is ContentKind.OFFER)


def new_decision_id(now: datetime) -> UUID:
    """A decision id laid out as a UUIDv7: the time in milliseconds, then 74 random bits.

    Exposures are stored under ids that begin like their decision's, so the event indexes grow
    at their end instead of at random places (about a third of the insert cost). The random
    bits come from the system's CSPRNG, each one of them (not a counter as in UUIDv7 libraries),
    because the id is what lets a device, and only it, ask why it was shown something.
    """
    millis = int(now.timestamp() * 1000) & (2**48 - 1)
    bits = int.from_bytes(os.urandom(10))  # 80; 6 of them give way to the version and variant
    rand_a, rand_b = bits >> 68, bits & (2**62 - 1)
    return UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b)


def _touchpoint(entry: _Entry, given: ContactInput) -> UUID | None:
    if given.touchpoint_id is not None:
        if given.touchpoint_id not in entry.index.touchpoints:
            raise NotFound("touchpoint")
        return given.touchpoint_id
    if given.identifier is not None:
        found = entry.identifiers.get(given.identifier)
        if found is None:
            raise NotFound("touchpoint")
        return found
    return None


async def _visitor(ctx: Context, given: ContactInput) -> Visitor | None:
    """The visitor's pseudonym and interests, only while they consent to personalisation."""
    pseudonym = check_pseudonym(given.visitor)
    if pseudonym is None:
        return None
    interests = clean_interests(list(given.interests))
    async with ctx.uow() as uow:
        consent = current_consent(await uow.consents.for_pseudonym(pseudonym))
    if not consent.get(Purpose.PERSONALISATION, False):
        return None
    return Visitor(pseudonym, interests)


def _record(
    ctx: Context,
    outcome: Outcome,
    city_id: UUID,
    pseudonym: str | None,
    withheld: tuple[Pick, ...] | None = None,
) -> None:
    """Queue the exposures (or the offers held back from the control group); they are written
    after the answer, in one batch per FLUSH_EVERY."""
    picks = outcome.decision.picks if withheld is None else withheld
    if not picks:
        return
    now = ctx.clock.now()
    kept = check_pseudonym(pseudonym)  # the writer keeps it only while analytics consent holds
    decision_id, touchpoint_id = outcome.decision_id, outcome.touchpoint_id
    exposed = EventKind.CONTENT_EXPOSED if withheld is None else EventKind.CONTENT_WITHHELD
    version = SCHEMA_VERSION
    # A held-back offer gets an id of its own: the exposure id of the same pick flipped.
    flip = 0 if withheld is None else _LOW_64 + 1
    _EXPOSURES.add(
        ctx,
        [
            # Positional, in JourneyEvent's order: event id (one per decision and item, so a
            # retried write stores it once), kind, city, occurred, received, touchpoint, content,
            # channel, proximity, rssi, count, path, pseudonym, daily hash, schema, decision,
            # reasons.
            JourneyEvent(
                UUID(int=decision_id.int ^ (pick.content.id.int & _LOW_64) ^ flip),
                exposed,
                city_id,
                now,
                now,
                touchpoint_id,
                str(pick.content.id),
                None,
                None,
                None,
                None,
                None,
                kept,
                None,
                version,
                decision_id,
                reasons_json(pick.reasons),
            )
            for pick in picks
        ],
    )


class _Exposures:
    """Exposure events waiting for the writer: one write per FLUSH_EVERY, not one per decision.

    A crash loses at most that much of them; exposures are counted, never acknowledged to anyone.
    """

    def __init__(self) -> None:
        self._pending: dict[int, tuple[Context, list[JourneyEvent]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def add(self, ctx: Context, events: list[JourneyEvent]) -> None:
        key = id(ctx.events)
        if key in self._pending:
            self._pending[key][1].extend(events)
            return
        self._pending[key] = (ctx, events)
        task = asyncio.create_task(self._flush_later(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_later(self, key: int) -> None:
        await asyncio.sleep(FLUSH_EVERY)
        await self._flush(key)

    async def _flush(self, key: int) -> None:
        found = self._pending.pop(key, None)
        if found is None:
            return
        ctx, events = found
        try:
            await ctx.events.append(events)
        except Exception as exc:
            log.warning("%d exposures not recorded: %s", len(events), type(exc).__name__)

    async def drain(self) -> None:
        for key in list(self._pending):
            await self._flush(key)
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


_EXPOSURES = _Exposures()


@dataclass(frozen=True, slots=True)
class Shown:
    """One item a decision showed, with the reasons recorded when it was shown."""

    content_id: str
    reasons: tuple[Reason, ...]


async def why(ctx: Context, decision_id: UUID) -> list[Shown]:
    """ "Why am I seeing this?": the reasons recorded for each item of a decision.

    The decision id is random and known only to the device that asked; NotFound when nothing
    was recorded under it (or not yet: exposures are written a few milliseconds later).
    """
    async with ctx.uow() as uow:
        found = await uow.contents.exposures(decision_id)
    if not found:
        raise NotFound("decision")
    return [Shown(content_id, reasons_from_json(text)) for content_id, text in found]


async def drain() -> None:
    """Write the exposures still waiting (tests, shutdown)."""
    await _EXPOSURES.drain()
