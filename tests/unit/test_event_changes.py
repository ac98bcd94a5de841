"""What participants are told: a new time or place, a withdrawn event; nothing for a new text."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from marktplatz.domain.content import (
    Content,
    ContentKind,
    ContentStatus,
    Targeting,
    Window,
)
from marktplatz.domain.event_changes import (
    ChangeNotice,
    EventFacts,
    change_notice,
    facts_of,
    next_sequence,
    significant,
)
from marktplatz.domain.registrations import Registration

START = datetime(2030, 6, 8, 8, 0, tzinfo=UTC)
END = START + timedelta(hours=2)


def event(**changes: object) -> Content:
    base = Content(
        id=uuid.uuid4(),
        city_id=uuid.uuid4(),
        shop_id=None,
        kind=ContentKind.EVENT,
        status=ContentStatus.PUBLISHED,
        title="Digital-Werkstatt",
        body_html="<p>Alles über Websites.</p>",
        language="de",
        window=Window(START, END),
        targeting=Targeting(),
        place="Rathaus, Saal 2",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


SEEN = EventFacts(START, END, "Rathaus, Saal 2")


def test_the_same_time_and_place_need_no_notice() -> None:
    assert change_notice(SEEN, event()) is None


def test_a_new_title_or_text_needs_no_notice() -> None:
    changed = event(title="Digital-Werkstatt für alle", body_html="<p>Neu.</p>", sequence=0)
    assert change_notice(SEEN, changed) is None
    assert not significant(event(), changed)


def test_a_new_start_is_told_with_the_old_and_the_new_time() -> None:
    moved = event(window=Window(START + timedelta(days=1), END + timedelta(days=1)))
    notice = change_notice(SEEN, moved)
    assert notice == ChangeNotice(False, SEEN, facts_of(moved))
    assert notice is not None
    assert (notice.time_changed, notice.place_changed) == (True, False)


def test_a_new_end_alone_is_a_change_of_time() -> None:
    notice = change_notice(SEEN, event(window=Window(START, END + timedelta(hours=1))))
    assert notice is not None
    assert (notice.time_changed, notice.place_changed) == (True, False)


def test_a_new_place_is_told_with_the_old_and_the_new_place() -> None:
    notice = change_notice(SEEN, event(place="Stadtbibliothek"))
    assert notice is not None
    assert (notice.time_changed, notice.place_changed, notice.cancelled) == (False, True, False)
    assert (notice.before.place, notice.now.place) == ("Rathaus, Saal 2", "Stadtbibliothek")


def test_spaces_around_the_place_are_no_change() -> None:
    assert change_notice(SEEN, event(place="  Rathaus, Saal 2 ")) is None


@pytest.mark.parametrize("status", [ContentStatus.DRAFT, ContentStatus.REJECTED])
def test_a_withdrawn_or_rejected_event_is_told_as_cancelled(status: ContentStatus) -> None:
    notice = change_notice(SEEN, event(status=status))
    assert notice is not None
    assert notice.cancelled


@pytest.mark.parametrize("status", [ContentStatus.EXPIRED, ContentStatus.SUBMITTED])
def test_an_ended_or_resubmitted_event_is_not_cancelled(status: ContentStatus) -> None:
    assert change_notice(SEEN, event(status=status)) is None


def test_a_registration_remembers_the_event_as_it_was() -> None:
    registration = Registration(
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        "Anna",
        "anna@example.org",
        START - timedelta(days=3),
        event_starts_at=START,
        event_ends_at=END,
        event_place="Rathaus, Saal 2",
    )
    assert registration.seen == SEEN


@pytest.mark.parametrize(
    ("after", "expected"),
    [
        ({"title": "Neu"}, 4),
        ({"place": "Markt"}, 5),
        ({"window": Window(START, END + timedelta(minutes=30))}, 5),
        ({"status": ContentStatus.DRAFT}, 5),
        ({"status": ContentStatus.SUBMITTED}, 4),
    ],
)
def test_the_sequence_rises_on_time_place_or_withdrawal_only(
    after: dict[str, object], expected: int
) -> None:
    before = event(sequence=4, published_at=START - timedelta(days=9))
    assert next_sequence(before, replace(before, **after)) == expected  # type: ignore[arg-type]


def test_the_first_publication_keeps_the_sequence() -> None:
    draft = event(status=ContentStatus.DRAFT)
    assert next_sequence(draft, replace(draft, status=ContentStatus.PUBLISHED)) == 0
