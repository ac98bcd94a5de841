"""One calendar event as an iCalendar file (RFC 5545), built with the `icalendar` package."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from marktplatz.domain.content import Content
from marktplatz.domain.event_calendar import event_end
from marktplatz.domain.richtext import plain_text

PRODID = "-//Marktplatz//Veranstaltungskalender//DE"
MEDIA_TYPE = "text/calendar; charset=utf-8"


def event_ics(
    event: Content, timezone: str, notes: Sequence[str], page_url: str, stamp: datetime
) -> bytes:
    """A VCALENDAR with the event in the city's own timezone (with its VTIMEZONE), so a phone
    abroad still shows it at the local time of the city; `notes` (organiser, registration)
    follow the text in the description."""
    tz = ZoneInfo(timezone)
    start = event.window.starts_at
    assert start is not None  # the calendar lists only events with a start
    entry = Event()
    entry.add("uid", f"{event.id}@{urlsplit(page_url).hostname or 'marktplatz'}")
    entry.add("dtstamp", stamp)
    # A calendar that imported the file before takes over a new time or place only when this
    # number is higher than the one it holds (RFC 5545, 3.8.7.4).
    entry.add("sequence", event.sequence)
    entry.add("dtstart", start.astimezone(tz))
    end = event_end(event)
    if end is not None:
        entry.add("dtend", end.astimezone(tz))
    entry.add("summary", event.title)
    if event.place:
        entry.add("location", event.place)
    text = "\n\n".join(part for part in (plain_text(event.body_html), *notes) if part)
    if text:
        entry.add("description", text)
    entry.add("url", page_url)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    calendar.add_component(entry)
    # Only the transitions around the event: a VTIMEZONE of decades of rules helps nobody.
    local = start.astimezone(tz).date()
    calendar.add_missing_timezones(
        first_date=date(local.year, 1, 1), last_date=local + timedelta(days=366)
    )
    data: bytes = calendar.to_ical()
    return data
