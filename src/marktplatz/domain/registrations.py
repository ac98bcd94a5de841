"""Registration for the city's events: who may register, how many, until when."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.event_changes import EventFacts
from marktplatz.domain.text import clean_email, clean_text

MAX_CAPACITY = 10_000
MAX_NAME = 120
# Participants' names and e-mail addresses are kept this long after the event, then purged.
KEEP_DAYS = 30


class Audience(StrEnum):
    PUBLIC = "public"  # visitors of the calendar, with name and e-mail
    RETAILERS = "retailers"  # retailers logged into the portal (workshops for shops)


@dataclass(frozen=True, slots=True)
class RegistrationTerms:
    """Registration in Marktplatz for one event; no waiting list: a full event says so."""

    content_id: UUID
    audience: Audience
    capacity: int | None = None  # None: no limit
    closes_at: datetime | None = None  # None: until the event starts


@dataclass(frozen=True, slots=True)
class Registration:
    """One participant; `user_id` and `shop_id` are set when a retailer registered."""

    id: UUID
    content_id: UUID
    city_id: UUID
    name: str
    email: str
    created_at: datetime
    user_id: UUID | None = None
    shop_id: UUID | None = None
    # The event's time and place as they registered for it (not personal: the event's own).
    event_starts_at: datetime | None = None
    event_ends_at: datetime | None = None
    event_place: str = ""

    @property
    def seen(self) -> EventFacts:
        """The event as it was when they registered, to tell them what changed since."""
        return EventFacts(self.event_starts_at, self.event_ends_at, self.event_place)


def clean_terms(
    content_id: UUID,
    audience: object,
    capacity: object,
    closes_at: datetime | None,
    starts_at: datetime | None,
) -> RegistrationTerms:
    """Checked terms: a known audience, 1 to MAX_CAPACITY places, closing before the start."""
    try:
        chosen = Audience(str(audience))
    except ValueError:
        raise InvalidInput("audience", N_("Choose who may register.")) from None
    if capacity is not None and not _whole_in(capacity, 1, MAX_CAPACITY):
        raise InvalidInput(
            "capacity",
            N_("Enter a number of places from 1 to %(max)s, or leave it empty."),
            max=MAX_CAPACITY,
        )
    if closes_at is not None and starts_at is not None and closes_at > starts_at:
        raise InvalidInput("closes_at", N_("Registration must close before the event starts."))
    return RegistrationTerms(
        content_id, chosen, capacity if isinstance(capacity, int) else None, closes_at
    )


def _whole_in(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def places_left(terms: RegistrationTerms, taken: int) -> int | None:
    """Free places, or None when the event has no limit."""
    return None if terms.capacity is None else max(terms.capacity - taken, 0)


def closing_time(terms: RegistrationTerms, starts_at: datetime | None) -> datetime | None:
    """When registration ends: the deadline, or else the event's start."""
    return terms.closes_at or starts_at


def refusal(
    terms: RegistrationTerms, starts_at: datetime | None, now: datetime, taken: int
) -> str | None:
    """Why nobody can register now (a msgid), or None while registration is open."""
    closes = closing_time(terms, starts_at)
    if closes is not None and now >= closes:
        return N_("Registration for this event has closed.")
    if places_left(terms, taken) == 0:
        return N_("This event is full.")
    return None


def check_open(
    terms: RegistrationTerms, starts_at: datetime | None, now: datetime, taken: int
) -> None:
    reason = refusal(terms, starts_at, now, taken)
    if reason is not None:
        raise InvalidInput("registration", reason)


def check_change(terms: RegistrationTerms | None, taken: int) -> None:
    """New terms for an event `taken` people registered for: they keep their places."""
    if taken and terms is None:
        raise InvalidInput(
            "signup",
            N_(
                "People have registered already: registration cannot be switched off. "
                "Set a deadline instead."
            ),
        )
    if terms is not None and terms.capacity is not None and terms.capacity < taken:
        raise InvalidInput(
            "capacity",
            N_("Registrations so far: %(count)s. Give at least as many places."),
            count=taken,
        )


def clean_participant(name: object, email: object, consent: bool) -> tuple[str, str]:
    """A visitor's name and e-mail, given only with consent to be contacted about this event."""
    cleaned = clean_text(name, "name", max_len=MAX_NAME)
    address = clean_email(email, required=True)
    if not consent:
        raise InvalidInput(
            "consent",
            N_("Please agree that the city may contact you about this event, or do not register."),
        )
    return cleaned, address


def purge_cutoff(now: datetime) -> datetime:
    """Registrations of events that ended before this moment are deleted."""
    return now - timedelta(days=KEEP_DAYS)


CSV_COLUMNS = ("name", "email", "shop", "registered_at")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(text: str) -> str:
    # A name like "=HYPERLINK(…)" must stay text when a spreadsheet opens the file.
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def participants_csv(
    people: Iterable[Registration], shop_names: Mapping[UUID, str], timezone: ZoneInfo
) -> bytes:
    """The participant list as German Excel opens it: UTF-8 with BOM and ";"."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for person in people:
        shop = shop_names.get(person.shop_id, "") if person.shop_id else ""
        at = person.created_at.astimezone(timezone).strftime("%Y-%m-%d %H:%M")
        writer.writerow([_cell(person.name), _cell(person.email), _cell(shop), at])
    return ("\ufeff" + out.getvalue()).encode()
