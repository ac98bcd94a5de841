"""The visitors' events calendar: what a period filter means, what is upcoming, events by day."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from marktplatz.domain.content import Content, ContentKind, ContentStatus
from marktplatz.domain.errors import N_
from marktplatz.domain.richtext import plain_text

MAX_QUERY = 80
SATURDAY = 5


class Period(StrEnum):
    TODAY = "today"
    WEEKEND = "weekend"
    WEEK = "week"  # the next seven days
    MONTH = "month"  # the rest of this calendar month
    ALL = "all"


PERIOD_LABELS: dict[Period, str] = {
    Period.TODAY: N_("Today"),
    Period.WEEKEND: N_("This weekend"),
    Period.WEEK: N_("Next 7 days"),
    Period.MONTH: N_("This month"),
    Period.ALL: N_("All upcoming"),
}


def parse_period(value: str) -> Period:
    """The period a link or form asked for; anything unknown means all upcoming events."""
    return Period(value) if value in Period._value2member_map_ else Period.ALL


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz)


def period_span(period: Period, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime | None]:
    """[start, end) of a period in the city's time; the start is never before `now`."""
    today = now.astimezone(tz).date()
    if period is Period.TODAY:
        return now, _midnight(today + timedelta(days=1), tz)
    if period is Period.WEEKEND:
        # Saturday of this week: on a Sunday that is yesterday, the weekend still running.
        saturday = today + timedelta(days=SATURDAY - today.weekday())
        return max(now, _midnight(saturday, tz)), _midnight(saturday + timedelta(days=2), tz)
    if period is Period.WEEK:
        return now, now + timedelta(days=7)
    if period is Period.MONTH:
        first_next = (today.replace(day=28) + timedelta(days=4)).replace(day=1)
        return now, _midnight(first_next, tz)
    return now, None


def event_end(event: Content) -> datetime | None:
    """When an event is over: its end, or a few hours after a start given alone."""
    return event.shown.ends_at


def is_upcoming(item: Content, now: datetime) -> bool:
    """A published event that has not ended yet (one running now still counts)."""
    end = event_end(item)
    return (
        item.kind is ContentKind.EVENT
        and item.status is ContentStatus.PUBLISHED
        and item.window.starts_at is not None
        and end is not None
        and end > now
    )


def overlaps(event: Content, start: datetime, end: datetime | None) -> bool:
    """Whether the event takes place at some time in [start, end)."""
    event_start, finish = event.window.starts_at, event_end(event)
    if event_start is None or finish is None:
        return False
    return finish > start and (end is None or event_start < end)


def clean_query(value: str) -> str:
    return " ".join(value.split())[:MAX_QUERY]


def matches(event: Content, query: str, organiser: str) -> bool:
    """Whether every word of the search occurs in the title, place, text or organiser."""
    words = clean_query(query).casefold().split()
    if not words:
        return True
    haystack = " ".join((event.title, event.place, plain_text(event.body_html), organiser))
    folded = haystack.casefold()
    return all(word in folded for word in words)


def by_day(
    events: Iterable[Content], since: datetime, tz: ZoneInfo
) -> list[tuple[date, list[Content]]]:
    """Events grouped by the local day they start on, in order; one that started before `since`
    (the start of the period shown) is listed under the day of `since`."""
    first = since.astimezone(tz).date()
    days: dict[date, list[Content]] = {}
    for event in sorted(events, key=lambda e: (_start(e, since), e.title, str(e.id))):
        day = max(_start(event, since).astimezone(tz).date(), first)
        days.setdefault(day, []).append(event)
    return sorted(days.items())


def _start(event: Content, now: datetime) -> datetime:
    return event.window.starts_at or now
