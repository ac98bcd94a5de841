"""What of an event matters to those who plan to come, and what changed since they registered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marktplatz.domain.content import Content, ContentStatus

# Taken down by its organiser (withdrawn) or by the city (rejected): it will not take place as
# announced. An expired event has simply ended; a submitted one waits for approval of an edit.
TAKEN_DOWN = frozenset({ContentStatus.DRAFT, ContentStatus.REJECTED})


@dataclass(frozen=True, slots=True)
class EventFacts:
    """Where and when an event takes place: what a participant walks by."""

    starts_at: datetime | None
    ends_at: datetime | None
    place: str


@dataclass(frozen=True, slots=True)
class ChangeNotice:
    """What a participant is told: the event is off, or its time or place is not as registered."""

    cancelled: bool
    before: EventFacts
    now: EventFacts

    @property
    def time_changed(self) -> bool:
        return _time_of(self.before) != _time_of(self.now)

    @property
    def place_changed(self) -> bool:
        return self.before.place != self.now.place


def facts_of(event: Content) -> EventFacts:
    return EventFacts(event.window.starts_at, event.window.ends_at, event.place.strip())


def _time_of(facts: EventFacts) -> tuple[datetime | None, datetime | None]:
    return facts.starts_at, facts.ends_at


def change_notice(seen: EventFacts, event: Content) -> ChangeNotice | None:
    """The notice for one registered when the event was as `seen`; None when nothing that
    decides where and when to go changed (a new title or text is no reason to alarm)."""
    now = facts_of(event)
    cancelled = event.status in TAKEN_DOWN
    if not cancelled and _time_of(seen) == _time_of(now) and seen.place.strip() == now.place:
        return None
    return ChangeNotice(
        cancelled, EventFacts(seen.starts_at, seen.ends_at, seen.place.strip()), now
    )


def significant(before: Content, after: Content) -> bool:
    """A change a calendar that holds the event must take over (RFC 5545 SEQUENCE): its time,
    its place, or whether it is taken down (or back up) once it was published: the first
    publication is no revision, as no calendar can hold the event before it."""
    toggled = (before.status in TAKEN_DOWN) != (after.status in TAKEN_DOWN)
    down = toggled and before.published_at is not None
    return down or facts_of(before) != facts_of(after)


def next_sequence(before: Content, after: Content) -> int:
    """The event's sequence after an edit or a change of status."""
    return before.sequence + 1 if significant(before, after) else before.sequence
