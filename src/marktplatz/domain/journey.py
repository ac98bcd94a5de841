"""Journey events: the record of a visit from the sofa to the shop counter (schema version 1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from marktplatz.domain.errors import N_, InvalidInput

SCHEMA_VERSION = 1
MAX_BATCH = 100
MAX_AGE = timedelta(days=7)  # the offline queue of the app drops older entries
MAX_FUTURE = timedelta(minutes=5)  # clocks of phones drift; more than this is a wrong clock
MAX_DATA_KEYS = 20
_PSEUDONYM = re.compile(r"^[0-9a-f]{32}$")


class EventKind(StrEnum):
    PAGE_VIEW = "page.view"
    TOUCHPOINT_CONTACT = "touchpoint.contact"
    CONTENT_EXPOSED = "content.exposed"
    CONTENT_VIEWED = "content.viewed"
    CONTENT_SAVED = "content.saved"
    COUPON_REDEEMED = "coupon.redeemed"
    REVIEW_WRITTEN = "review.written"
    TOUR_STEP = "tour.step"
    COUNTER_COUNT = "counter.count"
    # An offer the decision would have shown, held back because the contact is in the control
    # group: what campaign uplift compares the exposed visitors with.
    CONTENT_WITHHELD = "content.withheld"


class Channel(StrEnum):
    """How a touchpoint was met."""

    BEACON = "beacon"
    QR = "qr"
    NFC = "nfc"
    WIFI = "wifi"
    WIDGET = "widget"
    KIOSK = "kiosk"
    WEB = "web"
    VOICE = "voice"
    COUNTER = "counter"


class Proximity(StrEnum):
    IMMEDIATE = "immediate"
    NEAR = "near"
    FAR = "far"
    UNKNOWN = "unknown"


NEEDS_TOUCHPOINT = frozenset({EventKind.TOUCHPOINT_CONTACT, EventKind.COUNTER_COUNT})
NEEDS_CONTENT = frozenset(
    {
        EventKind.CONTENT_EXPOSED,
        EventKind.CONTENT_VIEWED,
        EventKind.CONTENT_SAVED,
        EventKind.COUPON_REDEEMED,
        EventKind.REVIEW_WRITTEN,
        EventKind.TOUR_STEP,
        EventKind.CONTENT_WITHHELD,
    }
)

# Written by the server only: a redemption happens at the till, never on the visitor's word,
# and only the decision knows what it held back.
SERVER_ONLY = frozenset({EventKind.COUPON_REDEEMED, EventKind.CONTENT_WITHHELD})


@dataclass(frozen=True, slots=True)
class JourneyEvent:
    """One event as stored; `pseudonym` is set only when the visitor consented to analytics."""

    event_id: UUID
    kind: EventKind
    city_id: UUID
    occurred_at: datetime
    received_at: datetime
    touchpoint_id: UUID | None
    content_id: str | None
    # What only some kinds carry: events the server writes itself leave them out.
    channel: Channel | None = None
    proximity: Proximity | None = None
    rssi: int | None = None
    count: int | None = None
    path: str | None = None
    pseudonym: str | None = None
    daily_hash: str | None = None
    schema_version: int = SCHEMA_VERSION
    # content.exposed: the decision that showed the item, and why (decision.reasons_json).
    decision_id: UUID | None = None
    reasons: str | None = None


def check_times(occurred_at: datetime, received_at: datetime) -> None:
    """An event from the last week, not from the future of the server's clock."""
    if occurred_at.tzinfo is None:
        raise InvalidInput("occurred_at", N_("The time needs a timezone (e.g. ending in Z)."))
    if occurred_at > received_at + MAX_FUTURE:
        raise InvalidInput("occurred_at", N_("The time lies in the future."))
    if occurred_at < received_at - MAX_AGE:
        raise InvalidInput("occurred_at", N_("The event is older than seven days."))


def check_references(
    kind: EventKind, touchpoint_id: UUID | None, content_id: str | None, count: int | None
) -> None:
    """Each kind names what it is about: a touchpoint, a piece of content, a count."""
    if kind is EventKind.COUPON_REDEEMED:
        raise InvalidInput(
            "kind", N_("Redemptions are recorded by the till; an app cannot send them.")
        )
    if kind in SERVER_ONLY:
        raise InvalidInput("kind", N_("Only the server records this kind of event."))
    if kind in NEEDS_TOUCHPOINT and touchpoint_id is None:
        raise InvalidInput("touchpoint_id", N_("This kind of event needs a touchpoint."))
    if kind in NEEDS_CONTENT and not content_id:
        raise InvalidInput("content_id", N_("This kind of event needs a content id."))
    if kind is EventKind.COUNTER_COUNT and (count is None or count < 0):
        raise InvalidInput("count", N_("A people count needs a number of zero or more."))


def check_pseudonym(value: str | None) -> str | None:
    """A visitor id made on the device: 32 random hex digits, nothing derived from hardware."""
    if value is None:
        return None
    if not _PSEUDONYM.match(value):
        raise InvalidInput("visitor", N_("A visitor id is 32 hexadecimal digits."))
    return value


_DEVICE_ADDRESS = re.compile(r"(?i)\b[0-9a-f]{2}(?:[:-][0-9a-f]{2}){5}\b")


def clean_path(value: str | None) -> str | None:
    """The page path only: query and fragment often carry identifiers, so they are dropped."""
    if value is None:
        return None
    path = value.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        raise InvalidInput("path", N_("A path starts with /."))
    check_no_device_address(path, "path")
    return path


def check_no_device_address(value: str | None, field: str) -> None:
    """Refuse text that carries a MAC address: hardware ids never enter the store."""
    if value and _DEVICE_ADDRESS.search(value):
        raise InvalidInput(field, N_("This looks like a device address, which is never stored."))


def strip_unconsented(events: list[JourneyEvent], consented: set[str]) -> list[JourneyEvent]:
    """Drop the pseudonym of every event whose visitor has not (or no longer) consented."""
    return [e if e.pseudonym is None or e.pseudonym in consented else _anonymous(e) for e in events]


def _anonymous(event: JourneyEvent) -> JourneyEvent:
    return replace(event, pseudonym=None)
