"""Domain rules of the events calendar and the scanner: periods, what is upcoming, days,
search, plain text of rich text, and the code a visitor types off a sticker."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marktplatz.domain.content import (
    EVENT_LENGTH,
    Content,
    ContentKind,
    ContentStatus,
    Targeting,
    Window,
)
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.event_calendar import (
    Period,
    by_day,
    is_upcoming,
    matches,
    overlaps,
    parse_period,
    period_span,
)
from marktplatz.domain.richtext import plain_text
from marktplatz.domain.touchpoints import clean_typed_code

BERLIN = ZoneInfo("Europe/Berlin")


def local(day: int, hour: int = 0, minute: int = 0, month: int = 6) -> datetime:
    return datetime(2030, month, day, hour, minute, tzinfo=BERLIN)


def event(
    title: str,
    starts: datetime,
    ends: datetime | None = None,
    status: ContentStatus = ContentStatus.PUBLISHED,
    **changes: object,
) -> Content:
    item = Content(
        id=uuid.uuid4(),
        city_id=uuid.uuid4(),
        shop_id=None,
        kind=ContentKind.EVENT,
        status=status,
        title=title,
        body_html="",
        language="de",
        window=Window(starts, ends),
        targeting=Targeting(),
        place="Marktplatz",
    )
    return replace(item, **changes)  # type: ignore[arg-type]


# --- periods -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "period", "start", "end"),
    [
        # Wednesday 5 June 2030, 10:00
        (local(5, 10), Period.TODAY, local(5, 10), local(6)),
        (local(5, 10), Period.WEEKEND, local(8), local(10)),
        (local(5, 10), Period.WEEK, local(5, 10), local(12, 10)),
        (local(5, 10), Period.MONTH, local(5, 10), local(1, month=7)),
        # on Saturday and on Sunday the weekend is the one running, from now on
        (local(8, 15), Period.WEEKEND, local(8, 15), local(10)),
        (local(9, 23, 30), Period.WEEKEND, local(9, 23, 30), local(10)),
        # late on the last day of a month with 31 days
        (
            local(31, 22, month=12),
            Period.MONTH,
            local(31, 22, month=12),
            datetime(2031, 1, 1, tzinfo=BERLIN),
        ),
    ],
)
def test_a_period_is_a_span_from_now_in_the_citys_time(
    now: datetime, period: Period, start: datetime, end: datetime
) -> None:
    assert period_span(period, now.astimezone(UTC), BERLIN) == (start, end)


def test_all_upcoming_has_no_end() -> None:
    now = local(5, 10)
    assert period_span(Period.ALL, now, BERLIN) == (now, None)


def test_today_ends_at_local_midnight_across_the_clock_change() -> None:
    # the night summer time ends: the local day has 25 hours
    now = datetime(2030, 10, 27, 0, 30, tzinfo=BERLIN)
    _, end = period_span(Period.TODAY, now, BERLIN)
    assert end is not None
    assert end.astimezone(UTC) == datetime(2030, 10, 27, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "period"),
    [("today", Period.TODAY), ("weekend", Period.WEEKEND), ("", Period.ALL), ("x", Period.ALL)],
)
def test_an_unknown_period_means_all_upcoming(value: str, period: Period) -> None:
    assert parse_period(value) is period


# --- upcoming and overlapping ------------------------------------------------------


def test_only_published_events_that_have_not_ended_are_upcoming() -> None:
    now = local(5, 10)
    assert is_upcoming(event("Später", local(5, 18)), now)
    assert is_upcoming(event("Läuft", local(5, 9), local(5, 11)), now)
    assert not is_upcoming(event("Vorbei", local(5, 7), local(5, 10)), now)
    assert not is_upcoming(event("Entwurf", local(5, 18), status=ContentStatus.DRAFT), now)
    assert not is_upcoming(event("Abgelaufen", local(5, 18), status=ContentStatus.EXPIRED), now)
    assert not is_upcoming(event("Angebot", local(5, 18), kind=ContentKind.OFFER), now)


def test_an_event_without_end_counts_for_its_assumed_length() -> None:
    start = local(5, 8)
    item = event("Ohne Ende", start)
    assert is_upcoming(item, start + EVENT_LENGTH - timedelta(minutes=1))
    assert not is_upcoming(item, start + EVENT_LENGTH)


def test_overlapping_a_span_is_half_open() -> None:
    item = event("Markt", local(8, 8), local(8, 13))
    assert overlaps(item, local(8), local(9))
    assert overlaps(item, local(8, 12), None)
    assert not overlaps(item, local(8, 13), local(9))
    assert not overlaps(item, local(7), local(8, 8))


# --- by day --------------------------------------------------------------------------


def test_events_are_grouped_by_local_day_in_order_of_start() -> None:
    late = event("Spät", local(6, 23, 30))  # 21:30 UTC: still the 6th in Berlin
    early = event("Früh", local(6, 8))
    running = event("Ausstellung", local(3, 10), local(9, 18))
    later = event("Lesung", local(2, 19, month=7))
    days = by_day([later, late, running, early], local(5, 10), BERLIN)
    assert [(day.isoformat(), [e.title for e in items]) for day, items in days] == [
        ("2030-06-05", ["Ausstellung"]),  # began before the span shown: under its first day
        ("2030-06-06", ["Früh", "Spät"]),
        ("2030-07-02", ["Lesung"]),
    ]


def test_same_start_is_ordered_by_title() -> None:
    a, b = event("B-Markt", local(8, 8)), event("A-Markt", local(8, 8))
    [(_, items)] = by_day([a, b], local(5, 10), BERLIN)
    assert [e.title for e in items] == ["A-Markt", "B-Markt"]


# --- search --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("", True),
        ("   ", True),
        ("LESUNG", True),
        ("lesung buchhandlung", True),  # title and organiser
        ("kaffee", True),  # the text, without its tags
        ("rathaus", True),  # the place
        ("lesung konzert", False),  # every word must occur
        ("<p>", False),
    ],
)
def test_search_looks_at_title_place_text_and_organiser(query: str, found: bool) -> None:
    item = event(
        "Lesung am Abend",
        local(5, 19),
        place="Vor dem Rathaus",
        body_html="<p>Mit <strong>Kaffee</strong> &amp; Kuchen</p>",
    )
    assert matches(item, query, "Buchhandlung Eselsohr") is found


def test_plain_text_keeps_paragraphs_and_reads_entities() -> None:
    html = "<p>Kaffee &amp; Kuchen,<br>frisch</p><ul><li>eins</li><li>zwei</li></ul><p> </p>"
    assert plain_text(html) == "Kaffee & Kuchen,\nfrisch\neins\nzwei"


# --- a typed code --------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "k7qf9m2x",
        " K7QF9M2X ",
        "k7qf-9m2x",
        "k7qf 9m2x",
        "https://marktplatz.example/q/k7qf9m2x",
        "marktplatz.example/q/K7QF9M2X/",
        "/q/k7qf9m2x?via=x#oben",
    ],
)
def test_a_typed_code_is_read_like_the_printed_one(typed: str) -> None:
    assert clean_typed_code(typed) == "k7qf9m2x"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "k7qf9m2",
        "k7qf9m2xx",
        "k7qf9m20",
        "k7qf9m2l",
        "https://example.org/k7qf9m2x",
        42,
        None,
        "a" * 201,
    ],
)
def test_a_malformed_code_is_refused_with_the_example(typed: object) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_typed_code(typed)
    assert refused.value.field == "code"
    assert refused.value.params == {"length": 8, "example": "k7qf9m2x"}
