"""Recording journey events: validated, pseudonymous only with consent, committed before the ack."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.journey import (
    Channel,
    EventKind,
    JourneyEvent,
    Proximity,
    check_no_device_address,
    check_pseudonym,
    check_references,
    check_times,
    clean_path,
)
from marktplatz.services.context import Context


@dataclass(frozen=True, slots=True)
class EventInput:
    """One event as the client sent it, already type-checked at the edge."""

    event_id: UUID
    kind: EventKind
    city: str
    occurred_at: datetime
    touchpoint_id: UUID | None = None
    content_id: str | None = None
    channel: Channel | None = None
    proximity: Proximity | None = None
    rssi: int | None = None
    count: int | None = None
    path: str | None = None
    visitor: str | None = None


@dataclass(frozen=True, slots=True)
class Rejected:
    index: int
    field: str
    message: str
    params: dict[str, object]


@dataclass(frozen=True, slots=True)
class Recorded:
    accepted: int
    rejected: list[Rejected]


class CityIds:
    """City slug → (id, timezone), kept in the process: cities are few and never renamed."""

    def __init__(self) -> None:
        self._ids: dict[str, tuple[UUID, ZoneInfo]] = {}

    def known(self, slug: str) -> tuple[UUID, ZoneInfo] | None:
        """The cached city, without touching the database."""
        return self._ids.get(slug)

    async def load(self, ctx: Context, slugs: Iterable[str]) -> None:
        """Look up the cities not yet cached (unknown slugs stay unknown)."""
        missing = [slug for slug in slugs if slug not in self._ids]
        if not missing:
            return
        async with ctx.uow() as uow:
            for slug in missing:
                city = await uow.cities.by_slug(slug)
                if city is not None:
                    self._ids[slug] = (city.id, city.tz)


class DailySalts:
    """Today's salt per city, from the database (shared by all workers), cached for the day."""

    def __init__(self) -> None:
        self._salts: dict[tuple[UUID, str], str] = {}

    async def get(self, ctx: Context, city_id: UUID, day: str) -> str:
        key = (city_id, day)
        salt = self._salts.get(key)
        if salt is None:
            async with ctx.uow(write=True) as uow:
                salt = await uow.salts.get_or_create(
                    city_id, day, secrets.token_hex(32), ctx.clock.now()
                )
                await uow.commit()
            self._salts = {k: v for k, v in self._salts.items() if k[1] >= day}
            self._salts[key] = salt
        return salt


CITY_IDS = CityIds()
SALTS = DailySalts()


async def record_events(
    ctx: Context, items: Sequence[tuple[int, EventInput]], fingerprint: str | None
) -> Recorded:
    """Store the valid events (once each) and say which were rejected and why.

    `fingerprint` (address and browser of the request) is used only to count daily unique
    visitors without consent: hashed with a salt that changes every day, never stored itself.
    The events are checked in one pass; the database is asked only for a city or a day's salt
    that this process has not cached yet.
    """
    now = ctx.clock.now()
    await CITY_IDS.load(ctx, {item.city for _, item in items})
    hashes = _DailyHashes(ctx, now)
    accepted: list[JourneyEvent] = []
    rejected: list[Rejected] = []
    for index, item in items:
        try:
            city_id, tz, path, pseudonym = _checked(item, now)
            daily = None
            if pseudonym is None and item.kind is EventKind.PAGE_VIEW and fingerprint:
                daily = hashes.known(city_id) or await hashes.make(city_id, tz, fingerprint)
        except InvalidInput as exc:
            rejected.append(Rejected(index, exc.field, exc.message, dict(exc.params)))
            continue
        accepted.append(
            JourneyEvent(
                event_id=item.event_id,
                kind=item.kind,
                city_id=city_id,
                occurred_at=item.occurred_at,
                received_at=now,
                touchpoint_id=item.touchpoint_id,
                content_id=item.content_id,
                channel=item.channel,
                proximity=item.proximity,
                rssi=item.rssi,
                count=item.count,
                path=path,
                pseudonym=pseudonym,
                daily_hash=daily,
            )
        )
    await ctx.events.append(accepted)
    return Recorded(len(accepted), rejected)


def _checked(item: EventInput, now: datetime) -> tuple[UUID, ZoneInfo, str | None, str | None]:
    """The city, cleaned path and pseudonym of a valid event; InvalidInput for a bad one."""
    check_times(item.occurred_at, now)
    check_references(item.kind, item.touchpoint_id, item.content_id, item.count)
    check_no_device_address(item.content_id, "content_id")
    path = clean_path(item.path)
    pseudonym = check_pseudonym(item.visitor)
    city = CITY_IDS.known(item.city)
    if city is None:
        raise InvalidInput("city", N_("Unknown city: %(value)s"), value=item.city[:60])
    return city[0], city[1], path, pseudonym


class _DailyHashes:
    """The salted daily hash of one request's fingerprint, per city (computed once each)."""

    def __init__(self, ctx: Context, now: datetime) -> None:
        self.ctx, self.now = ctx, now
        self._by_city: dict[UUID, str] = {}

    def known(self, city_id: UUID) -> str | None:
        return self._by_city.get(city_id)

    async def make(self, city_id: UUID, tz: ZoneInfo, fingerprint: str) -> str:
        # The day in the city's time: the salt, and every link between two visits, ends at
        # local midnight.
        salt = await SALTS.get(self.ctx, city_id, self.now.astimezone(tz).date().isoformat())
        daily = hashlib.sha256(f"{salt}:{fingerprint}".encode()).hexdigest()
        self._by_city[city_id] = daily
        return daily
