"""Use cases of event registration: the city sets it up, visitors and retailers register and
cancel by a one-time link, city staff read the participant list."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.content import Action, Content, ContentKind
from marktplatz.domain.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from marktplatz.domain.event_calendar import is_upcoming
from marktplatz.domain.event_changes import significant
from marktplatz.domain.registrations import (
    Audience,
    Registration,
    RegistrationTerms,
    check_change,
    check_open,
    clean_participant,
    clean_terms,
    purge_cutoff,
)
from marktplatz.services import content as content_service
from marktplatz.services.access import access_city, require_user
from marktplatz.services.accounts import hash_token
from marktplatz.services.audit import audit
from marktplatz.services.content import ContentInput
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork


class RegisteringThrottled(Exception):
    """Too many registrations from one client in a short time."""


@dataclass(frozen=True, slots=True)
class Open:
    """An event with registration in Marktplatz, and how many have registered."""

    event: Content
    terms: RegistrationTerms
    taken: int


@dataclass(frozen=True, slots=True)
class Registered:
    """A new registration and its raw cancel token: shown once, only its hash is kept."""

    registration: Registration
    token: str
    event: Content


@dataclass(frozen=True, slots=True)
class Participants:
    event: Content
    terms: RegistrationTerms | None
    people: list[Registration]


async def create_city_event(
    ctx: Context,
    actor: User | None,
    city_id: UUID,
    data: ContentInput,
    terms: Terms | None,
) -> Content:
    """A city event (city staff), published at once unless the city approves everything first;
    `terms` (audience, capacity, deadline) opens registration in Marktplatz."""
    if terms is not None:  # checked before anything is written
        clean_terms(uuid.uuid4(), *terms, data.starts_at)
    event = await content_service.create_content(ctx, actor, city_id, None, data)
    if terms is not None:
        async with ctx.uow(write=True) as uow:
            await uow.registrations.set_terms(clean_terms(event.id, *terms, data.starts_at))
            await uow.commit()
    return await content_service.act_on_content(ctx, actor, event.id, Action.SUBMIT)


Terms = tuple[object, object, datetime | None]  # audience, capacity, deadline as entered


@dataclass(frozen=True, slots=True)
class EventUpdated:
    """A saved city event; `told` participants see its new time or place (or that it is off)
    on their registration page, 0 when nothing of that changed."""

    event: Content
    told: int


async def update_city_event(
    ctx: Context, actor: User | None, city_id: UUID, event_id: UUID, data: ContentInput
) -> EventUpdated:
    """Change a city event's title, text, time or place (city staff). An open registration's
    deadline must stay before the start; those registered keep their places and are shown
    what changed when they open their registration."""
    async with ctx.uow() as uow:
        await access_city(uow, actor, city_id)
        event = await _city_event(uow, city_id, event_id)
        terms = await uow.registrations.terms(event.id)
    closes = terms.closes_at if terms is not None else None
    if closes is not None and data.starts_at is not None and closes > data.starts_at:
        raise InvalidInput(
            "starts_at", N_("Registration closes after this start. Change the deadline first.")
        )
    updated = await content_service.update_content(ctx, actor, event.id, data)
    if not significant(event, updated):
        return EventUpdated(updated, 0)
    async with ctx.uow() as uow:
        told = (await uow.registrations.counts([event.id])).get(event.id, 0)
    return EventUpdated(updated, told)


async def change_terms(
    ctx: Context, actor: User | None, city_id: UUID, event_id: UUID, terms: Terms | None
) -> RegistrationTerms | None:
    """Open, change or close registration for a city event (city staff); `None` ends it.
    Places never fall below those taken, and registration cannot end once people registered."""
    async with ctx.uow(write=True) as uow:
        await access_city(uow, actor, city_id)
        event = await _city_event(uow, city_id, event_id)
        await uow.registrations.terms(event.id, lock=True)
        taken = (await uow.registrations.counts([event.id])).get(event.id, 0)
        cleaned = None if terms is None else clean_terms(event.id, *terms, event.window.starts_at)
        check_change(cleaned, taken)
        if cleaned is None:
            await uow.registrations.drop_terms(event.id)
        else:
            await uow.registrations.set_terms(cleaned)
        detail = (
            ["none"]
            if cleaned is None
            else [cleaned.audience.value, f"capacity={cleaned.capacity}"]
        )
        await audit(uow, ctx, actor, city_id, "registration.terms", "event", event.id, detail)
        await uow.commit()
    return cleaned


async def _city_event(uow: UnitOfWork, city_id: UUID, event_id: UUID) -> Content:
    event = await uow.contents.get(event_id)
    if event is None or event.city_id != city_id or event.kind is not ContentKind.EVENT:
        raise NotFound("event")
    return event


async def city_events(
    ctx: Context, actor: User | None, city_id: UUID
) -> list[tuple[Content, RegistrationTerms | None, int]]:
    """The city's own events, latest start first, with their terms and registration counts."""
    async with ctx.uow() as uow:
        await access_city(uow, actor, city_id)
        items = await uow.contents.list_for_city(city_id, None)
        events = [c for c in items if c.kind is ContentKind.EVENT and c.shop_id is None]
        ids = [e.id for e in events]
        terms, counts = await uow.registrations.terms_for(ids), await uow.registrations.counts(ids)
    events.sort(key=lambda e: e.window.starts_at or e.created_at or ctx.clock.now(), reverse=True)
    return [(e, terms.get(e.id), counts.get(e.id, 0)) for e in events]


async def open_for(ctx: Context, city_id: UUID, events: list[Content]) -> dict[UUID, Open]:
    """Of the calendar's events, those with registration in Marktplatz (for the listing)."""
    ids = [e.id for e in events]
    async with ctx.uow() as uow:
        terms, counts = await uow.registrations.terms_for(ids), await uow.registrations.counts(ids)
    return {
        e.id: Open(e, terms[e.id], counts.get(e.id, 0))
        for e in events
        if e.id in terms and e.city_id == city_id
    }


async def registration_page(ctx: Context, city_id: UUID, event_id: UUID) -> Open:
    """An upcoming event of the city that takes registrations; NotFound otherwise."""
    async with ctx.uow() as uow:
        event, terms = await _registrable(uow, ctx, city_id, event_id)
        taken = (await uow.registrations.counts([event.id])).get(event.id, 0)
    return Open(event, terms, taken)


async def own_registration(ctx: Context, actor: User | None, event_id: UUID) -> Registration | None:
    """The logged-in retailer's own registration for the event, if any."""
    if actor is None:
        return None
    async with ctx.uow() as uow:
        return await uow.registrations.for_user(event_id, actor.id)


async def _registrable(
    uow: UnitOfWork, ctx: Context, city_id: UUID, event_id: UUID, *, lock: bool = False
) -> tuple[Content, RegistrationTerms]:
    event = await uow.contents.get(event_id)
    if event is None or event.city_id != city_id or not is_upcoming(event, ctx.clock.now()):
        raise NotFound("event")
    terms = await uow.registrations.terms(event.id, lock=lock)
    if terms is None:
        raise NotFound("event")
    return event, terms


async def register(
    ctx: Context,
    actor: User | None,
    city_id: UUID,
    event_id: UUID,
    person: tuple[object, object, bool],
    key: str,
) -> Registered:
    """Register for an event: visitors with name, e-mail and consent (`person`); retailers'
    workshops only retailers of the city, with their account. No waiting list: full is full."""
    if not ctx.save_limiter.hit(f"register:{key}"):
        raise RegisteringThrottled
    token, now = secrets.token_urlsafe(32), ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        event, terms = await _registrable(uow, ctx, city_id, event_id, lock=True)
        name, email, user_id, shop_id = _who(terms, actor, city_id, person)
        taken = (await uow.registrations.counts([event.id])).get(event.id, 0)
        check_open(terms, event.window.starts_at, now, taken)
        registration = Registration(
            uuid.uuid4(),
            event.id,
            city_id,
            name,
            email,
            now,
            user_id,
            shop_id,
            event.window.starts_at,
            event.window.ends_at,
            event.place.strip(),
        )
        if not await uow.registrations.add(registration, hash_token(token)):
            raise Conflict("email", N_("This e-mail address is registered for this event already."))
        # The audit names the registration only: no e-mail in a log that is never purged.
        await audit(uow, ctx, actor, city_id, "registration.created", "event", event.id)
        await uow.commit()
    return Registered(registration, token, event)


def _who(
    terms: RegistrationTerms,
    actor: User | None,
    city_id: UUID,
    person: tuple[object, object, bool],
) -> tuple[str, str, UUID | None, UUID | None]:
    if terms.audience is Audience.PUBLIC:
        name, email = clean_participant(*person)
        return name, email, None, None
    user = require_user(actor)
    shop_ids = sorted(
        (m.shop_id for m in user.memberships if m.city_id == city_id and m.shop_id),
        key=str,
    )
    if not shop_ids:
        raise Forbidden("retailers of the city only")
    return (user.display_name or user.email)[:120], user.email, user.id, shop_ids[0]


async def _by_token(uow: UnitOfWork, city_id: UUID, token: str) -> tuple[Registration, Content]:
    registration = await uow.registrations.by_token(hash_token(token[:100]))
    event = await uow.contents.get(registration.content_id) if registration else None
    # Another city's link under this city's address looks as unknown as a made-up one.
    if registration is None or event is None or event.city_id != city_id:
        raise NotFound("registration")
    return registration, event


async def registration_by_token(
    ctx: Context, city_id: UUID, token: str
) -> tuple[Registration, Content]:
    """The registration behind a cancel link; NotFound when unknown or cancelled."""
    async with ctx.uow() as uow:
        return await _by_token(uow, city_id, token)


async def cancel_registration(ctx: Context, city_id: UUID, token: str) -> Content:
    """Cancel with the one-time link: the participant's data is deleted, the place is free."""
    async with ctx.uow(write=True) as uow:
        registration, event = await _by_token(uow, city_id, token)
        await uow.registrations.delete(registration.id)
        await audit(uow, ctx, None, city_id, "registration.cancelled", "event", event.id)
        await uow.commit()
    return event


async def participants(
    ctx: Context, actor: User | None, city_id: UUID, event_id: UUID, *, export: bool = False
) -> Participants:
    """The participants of a city event (city staff); an export is written to the audit log."""
    async with ctx.uow(write=export) as uow:
        await access_city(uow, actor, city_id)
        event = await _city_event(uow, city_id, event_id)
        people = await uow.registrations.list_for_event(event.id)
        terms = await uow.registrations.terms(event.id)
        if export:
            rows = [f"rows={len(people)}"]
            await audit(uow, ctx, actor, city_id, "registrations.exported", "event", event.id, rows)
            await uow.commit()
    return Participants(event, terms, people)


async def purge_registrations(ctx: Context) -> int:
    """Delete participants of events that ended more than KEEP_DAYS ago (the hourly purge)."""
    async with ctx.uow(write=True) as uow:
        deleted = await uow.registrations.delete_ended_before(purge_cutoff(ctx.clock.now()))
        await uow.commit()
    return deleted
