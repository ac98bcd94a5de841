"""Registration rules of city events: terms, open or closed, full, participants, CSV."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.registrations import (
    KEEP_DAYS,
    MAX_CAPACITY,
    Audience,
    Registration,
    RegistrationTerms,
    check_change,
    check_open,
    clean_participant,
    clean_terms,
    participants_csv,
    places_left,
    purge_cutoff,
    refusal,
)

EVENT = uuid.uuid4()
START = datetime(2030, 6, 8, 8, 0, tzinfo=UTC)


def test_terms_keep_audience_capacity_and_deadline() -> None:
    closes = START - timedelta(days=1)
    terms = clean_terms(EVENT, "retailers", 12, closes, START)
    assert terms == RegistrationTerms(EVENT, Audience.RETAILERS, 12, closes)


@pytest.mark.parametrize("capacity", [0, -3, MAX_CAPACITY + 1, True, "12", 2.5])
def test_a_capacity_outside_1_to_the_maximum_is_refused(capacity: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_terms(EVENT, "public", capacity, None, START)
    assert caught.value.field == "capacity"


def test_an_unknown_audience_is_refused() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_terms(EVENT, "everybody", None, None, START)
    assert caught.value.field == "audience"


def test_registration_cannot_close_after_the_start() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_terms(EVENT, "public", None, START + timedelta(minutes=1), START)
    assert caught.value.field == "closes_at"


def test_open_until_the_deadline_then_closed() -> None:
    terms = RegistrationTerms(EVENT, Audience.PUBLIC, None, START - timedelta(hours=2))
    assert refusal(terms, START, START - timedelta(hours=3), 0) is None
    assert refusal(terms, START, START - timedelta(hours=2), 0) == (
        "Registration for this event has closed."
    )


def test_without_a_deadline_registration_closes_when_the_event_starts() -> None:
    terms = RegistrationTerms(EVENT, Audience.PUBLIC)
    assert refusal(terms, START, START - timedelta(seconds=1), 500) is None
    assert refusal(terms, START, START, 0) == "Registration for this event has closed."


def test_full_when_every_place_is_taken_no_waiting_list() -> None:
    terms = RegistrationTerms(EVENT, Audience.PUBLIC, capacity=2)
    now = START - timedelta(days=1)
    assert places_left(terms, 1) == 1
    check_open(terms, START, now, 1)
    assert places_left(terms, 2) == 0
    with pytest.raises(InvalidInput) as caught:
        check_open(terms, START, now, 2)
    assert (caught.value.field, caught.value.message) == ("registration", "This event is full.")
    assert places_left(RegistrationTerms(EVENT, Audience.PUBLIC), 99) is None


def test_a_participant_needs_name_address_and_consent() -> None:
    assert clean_participant("  Anna  Muster ", "Anna@Example.org", True) == (
        "Anna Muster",
        "anna@example.org",
    )
    for name, email, consent, field in [
        ("", "a@example.org", True, "name"),
        ("Anna", "not-an-address", True, "email"),
        ("Anna", "a@example.org", False, "consent"),
    ]:
        with pytest.raises(InvalidInput) as caught:
            clean_participant(name, email, consent)
        assert caught.value.field == field


def test_participants_are_purged_keep_days_after_the_event() -> None:
    now = datetime(2030, 8, 1, tzinfo=UTC)
    assert purge_cutoff(now) == now - timedelta(days=KEEP_DAYS)


def test_the_csv_opens_in_german_excel_and_keeps_formulas_as_text() -> None:
    shop = uuid.uuid4()
    people = [
        Registration(
            uuid.uuid4(),
            EVENT,
            uuid.uuid4(),
            "Anna Muster",
            "anna@example.org",
            datetime(2030, 6, 1, 8, 30, tzinfo=UTC),
        ),
        Registration(
            uuid.uuid4(),
            EVENT,
            uuid.uuid4(),
            "=HYPERLINK(1)",
            "b@example.org",
            datetime(2030, 6, 2, 9, 0, tzinfo=UTC),
            uuid.uuid4(),
            shop,
        ),
    ]
    data = participants_csv(people, {shop: "Optik A"}, ZoneInfo("Europe/Berlin"))
    assert data.decode("utf-8") == (
        "\ufeffname;email;shop;registered_at\r\n"
        "Anna Muster;anna@example.org;;2030-06-01 10:30\r\n"
        "'=HYPERLINK(1);b@example.org;Optik A;2030-06-02 11:00\r\n"
    )


def test_a_change_keeps_the_places_already_taken() -> None:
    check_change(RegistrationTerms(EVENT, Audience.PUBLIC, capacity=3), 3)
    check_change(None, 0)
    with pytest.raises(InvalidInput) as fewer:
        check_change(RegistrationTerms(EVENT, Audience.PUBLIC, capacity=2), 3)
    assert (fewer.value.field, fewer.value.params) == ("capacity", {"count": 3})
    with pytest.raises(InvalidInput) as ended:
        check_change(None, 1)
    assert ended.value.field == "signup"
