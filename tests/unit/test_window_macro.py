"""Unit tests for the shared macro that writes a content item's window, in German and English."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from marktplatz.domain.content import Window
from marktplatz.web.i18n import translations
from marktplatz.web.pages import _formatters, env

TZ = "Europe/Berlin"
START = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # Saturday 10:00 in Berlin
END = datetime(2026, 12, 24, 13, 30, tzinfo=UTC)  # Thursday 14:30 in Berlin
START_TAG = '<time datetime="2026-12-05T09:00:00+00:00">'
END_TAG = '<time datetime="2026-12-24T13:30:00+00:00">'


def when(window: Window, lang: str, tz: str = TZ) -> str:
    trans = translations(lang)
    values = {"_": trans.gettext, "gettext": trans.gettext, **_formatters(lang)}
    return str(env.get_template("_window.html").make_module(values).when(window, tz))


@pytest.mark.parametrize(
    ("window", "lang", "expected"),
    [
        (
            Window(START, END),
            "de",
            f"ab {START_TAG}Samstag, 5. Dezember, 10:00</time> "
            f"bis {END_TAG}Donnerstag, 24. Dezember, 14:30</time>",
        ),
        (
            Window(START, END),
            "en",
            f"from {START_TAG}Saturday, 5 December, 10:00 AM</time> "
            f"until {END_TAG}Thursday, 24 December, 2:30 PM</time>",
        ),
        (Window(START), "de", f"ab {START_TAG}Samstag, 5. Dezember, 10:00</time>"),
        (Window(START), "en", f"from {START_TAG}Saturday, 5 December, 10:00 AM</time>"),
        (Window(None, END), "de", f"bis {END_TAG}Donnerstag, 24. Dezember, 14:30</time>"),
        (Window(None, END), "en", f"until {END_TAG}Thursday, 24 December, 2:30 PM</time>"),
        (Window(), "de", translations("de").gettext("always")),
        (Window(), "en", "always"),
    ],
    ids=["both-de", "both-en", "start-de", "start-en", "end-de", "end-en", "none-de", "none-en"],
)
def test_the_four_shapes_of_a_window(window: Window, lang: str, expected: str) -> None:
    # given a window with both ends, only a start, only an end or none
    # when the macro writes it
    html = when(window, lang)

    # then it reads so in the page's language, each date a <time> in the city's timezone
    assert html == f'<span class="window">{expected}</span>'


def test_weekdays_and_hours_follow_the_dates() -> None:
    # given an offer for Saturdays and Sundays, 10:00 to 14:00, until Christmas Eve
    window = Window(None, END, frozenset({5, 6}), time(10), time(14))

    # when it is written in German and in English
    german, english = when(window, "de"), when(window, "en")

    # then the days and the time of day come after the end, in each language
    assert german.endswith("14:30</time> · Sa, So · 10:00–14:00</span>")
    assert english.endswith("2:30 PM</time> · Sat, Sun · 10:00–14:00</span>")


def test_a_window_of_only_weekdays_or_hours_is_not_always() -> None:
    # given windows limited to Mondays, and to mornings from 9:00
    mondays = Window(weekdays=frozenset({0}))
    mornings = Window(day_start=time(9))

    # when they are written
    # then they name the limit instead of "always"
    assert when(mondays, "de") == '<span class="window">Mo</span>'
    assert when(mornings, "de") == '<span class="window">ab 09:00</span>'
    assert when(mornings, "en") == '<span class="window">from 09:00</span>'


def test_dates_are_written_in_the_city_timezone() -> None:
    # given a city whose clocks are an hour behind Berlin's
    # when a window is written for it
    html = when(Window(START), "de", "Europe/London")

    # then the time is that city's, and the machine-readable one stays exact
    assert html == f'<span class="window">ab {START_TAG}Samstag, 5. Dezember, 09:00</time></span>'


def test_an_end_on_the_starts_day_is_written_as_its_time() -> None:
    # given an event on one afternoon
    end = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)

    # when it is written
    german, english = when(Window(START, end), "de"), when(Window(START, end), "en")

    # then the day is named once
    tag = '<time datetime="2026-12-05T17:00:00+00:00">'
    assert german.endswith(f"bis {tag}18:00</time></span>")
    assert english.endswith(f"until {tag}6:00\u202fPM</time></span>")
