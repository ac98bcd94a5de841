"""Recording journey events: validated, pseudonymous only with consent, committed before the ack."""

from __future__ import annotations

import hashlib
import secrets
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

    async def get(self, ctx: Context, slug: str) -> tuple[UUID, ZoneInfo] | None:
        if slug not in self._ids:
            async with ctx.uow() as uow:
                city = await uow.cities.by_slug(slug)
            if city is None:
                return None
            self._ids[slug] = (city.id, city.tz)
        return self._ids[slug]


class DailySalts:
    """Today's salt per city, from the database (shared by all workers), cached for the day."""

    def __init__(self) -> None:
        self._salts: dict[tuple[UUID, str], str] = {}

    async def get(self, ctx: Context, city_id: UUID, day: str) -> str:
        key = (city_id, day)
        if key not in self._salts:
            async with ctx.uow(write=True) as uow:
                salt = await uow.salts.get_or_create(
                    city_id, day, secrets.token_hex(32), ctx.clock.now()
                )
                await uow.commit()
            self._salts = {k: v for k, v in self._salts.items() if k[1] >= day}
            self._salts[key] = salt
        return self._salts[key]


CITY_IDS = CityIds()
SALTS = DailySalts()


async def record_events(
    ctx: Context, items: list[tuple[int, EventInput]], fingerprint: str | None
) -> Recorded:
    """Store the valid events (once each) and say which were rejected and why.

    `fingerprint` (address and browser of the request) is used only to count daily unique
    visitors without consent: hashed with a salt that changes every day, never stored itself.
    """
    now = ctx.clock.now()
    accepted: list[JourneyEvent] = []
    rejected: list[Rejected] = []
    for index, item in items:
        try:
            accepted.append(await _event(ctx, item, now, fingerprint))
        except InvalidInput as exc:
            rejected.append(Rejected(index, exc.field, exc.message, dict(exc.params)))
    await ctx.events.append(accepted)
    return Recorded(len(accepted), rejected)


async def _event(
    ctx: Context, item: EventInput, now: datetime, fingerprint: str | None
) -> JourneyEvent:
    check_times(item.occurred_at, now)
    check_references(item.kind, item.touchpoint_id, item.content_id, item.count)
    check_no_device_address(item.content_id, "content_id")
    path = clean_path(item.path)
    pseudonym = check_pseudonym(item.visitor)
    city = await CITY_IDS.get(ctx, item.city)
    if city is None:
        raise InvalidInput("city", N_("Unknown city: %(value)s"), value=item.city[:60])
    city_id, tz = city
    daily = None
    if pseudonym is None and fingerprint and item.kind is EventKind.PAGE_VIEW:
        # The day in the city's time: the salt, and every link between two visits, ends at
        # local midnight.
        salt = await SALTS.get(ctx, city_id, now.astimezone(tz).date().isoformat())
        daily = hashlib.sha256(f"{salt}:{fingerprint}".encode()).hexdigest()
    return JourneyEvent(
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
