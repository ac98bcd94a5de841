"""Funnel specs: the compact text form, its errors, the reference count and step suppression."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.funnels import (
    DEFAULT_SPEC,
    DEFAULT_WINDOW,
    Matcher,
    Step,
    StepKind,
    Visit,
    check_period,
    parse_funnel,
    reference_counts,
    suppress_steps,
)
from marktplatz.domain.journey import EventKind
from marktplatz.domain.kanon import K

T0 = datetime(2026, 11, 2, 9, tzinfo=UTC)


def test_the_default_funnel_reads_as_web_visit_centre_shop_counter() -> None:
    # when
    spec = parse_funnel(DEFAULT_SPEC)
    # then
    assert spec.steps == (
        Step(StepKind.WEB),
        Step(StepKind.CONTACT),
        Step(StepKind.CONTACT, shop="*"),
        Step(StepKind.REDEEMED),
    )
    assert spec.window == DEFAULT_WINDOW
    assert spec.text() == DEFAULT_SPEC


def test_qualified_steps_and_a_window_parse_and_print_back() -> None:
    # given
    text = "contact:zone=altstadt, viewed:content=abc-123,redeemed:shop=optik-a"
    # when
    spec = parse_funnel(text, "3")
    # then
    assert spec.steps == (
        Step(StepKind.CONTACT, zone="altstadt"),
        Step(StepKind.VIEWED, content="abc-123"),
        Step(StepKind.REDEEMED, shop="optik-a"),
    )
    assert spec.window == timedelta(days=3)
    assert spec.text() == "contact:zone=altstadt,viewed:content=abc-123,redeemed:shop=optik-a"
    assert spec.shops() == {"optik-a"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Name the steps of the funnel, separated by commas."),
        ("web", "A funnel has between 2 and 6 steps."),
        ("web," * 6 + "web", "A funnel has between 2 and 6 steps."),
        (
            "web,walk",
            "Step %(number)s: “%(step)s” is not a step. Use web, contact, exposed, "
            "viewed, saved or redeemed.",
        ),
        (
            "web:shop=a,contact",
            "Step %(number)s: a contact is narrowed by zone or shop, content "
            "steps by shop or content, a web visit by nothing.",
        ),
        (
            "web,contact:content=x",
            "Step %(number)s: a contact is narrowed by zone or shop, "
            "content steps by shop or content, a web visit by nothing.",
        ),
        ("web,contact:zone=Alt Stadt", "Step %(number)s: “%(value)s” is not a valid name."),
        ("web,viewed:content", "Step %(number)s: “%(value)s” is not a valid name."),
        ("web," + "x" * 400, "The steps are too long: at most 400 characters."),
    ],
)
def test_a_bad_spec_is_refused_with_a_message_that_names_the_step(text: str, message: str) -> None:
    # when
    with pytest.raises(InvalidInput) as caught:
        parse_funnel(text)
    # then
    assert caught.value.field == "steps"
    assert caught.value.message == message


def test_the_step_number_and_name_are_given_with_the_error() -> None:
    # when
    with pytest.raises(InvalidInput) as caught:
        parse_funnel("web,contact,shopping")
    # then
    assert dict(caught.value.params) == {"number": 3, "step": "shopping"}


@pytest.mark.parametrize("window", [0, 32, "x", True, 2.5])
def test_a_window_outside_one_to_31_days_is_refused(window: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_funnel(DEFAULT_SPEC, window)
    assert caught.value.message == "The window is between 1 and 31 days."


def test_a_period_must_be_aware_ordered_and_at_most_a_year() -> None:
    with pytest.raises(InvalidInput):
        check_period(T0.replace(tzinfo=None), T0 + timedelta(days=1))
    with pytest.raises(InvalidInput):
        check_period(T0, T0)
    with pytest.raises(InvalidInput):
        check_period(T0, T0 + timedelta(days=367))
    assert check_period(T0, T0 + timedelta(days=1)).end == T0 + timedelta(days=1)


WEB, CONTACT = Matcher(EventKind.PAGE_VIEW), Matcher(EventKind.TOUCHPOINT_CONTACT)
SHOP = Matcher(EventKind.TOUCHPOINT_CONTACT, touchpoints=frozenset({"a" * 32}))


def visit(who: str, kind: EventKind, hours: float, touchpoint: str | None = None) -> Visit:
    return Visit(who, kind.value, T0 + timedelta(hours=hours), touchpoint, None)


def test_steps_count_only_in_order_strictly_later_and_within_the_window() -> None:
    # given
    visits = [
        # in order: reaches all three
        visit("p1", EventKind.PAGE_VIEW, 0),
        visit("p1", EventKind.TOUCHPOINT_CONTACT, 1, "b" * 32),
        visit("p1", EventKind.TOUCHPOINT_CONTACT, 2, "a" * 32),
        # the shop contact comes first: only steps 1 and 2 in order
        visit("p2", EventKind.TOUCHPOINT_CONTACT, 0, "a" * 32),
        visit("p2", EventKind.PAGE_VIEW, 1),
        visit("p2", EventKind.TOUCHPOINT_CONTACT, 2, "b" * 32),
        # at the same moment is not after
        visit("p3", EventKind.PAGE_VIEW, 3),
        visit("p3", EventKind.TOUCHPOINT_CONTACT, 3, "a" * 32),
        # past the window of its web visit, but a later web visit starts a new try
        visit("p4", EventKind.PAGE_VIEW, 0),
        visit("p4", EventKind.TOUCHPOINT_CONTACT, 30, "b" * 32),
        visit("p4", EventKind.PAGE_VIEW, 40),
        visit("p4", EventKind.TOUCHPOINT_CONTACT, 50, "a" * 32),
        visit("p4", EventKind.TOUCHPOINT_CONTACT, 51, "a" * 32),
    ]
    # when
    counts = reference_counts(
        visits, [WEB, CONTACT, SHOP], timedelta(days=1), T0, T0 + timedelta(days=7)
    )
    # then
    assert counts == [4, 3, 2]


def test_a_first_step_outside_the_period_does_not_count() -> None:
    visits = [visit("p1", EventKind.PAGE_VIEW, -1), visit("p1", EventKind.TOUCHPOINT_CONTACT, 1)]
    assert reference_counts(visits, [WEB, CONTACT], DEFAULT_WINDOW, T0, T0 + timedelta(days=1)) == [
        0,
        0,
    ]


@given(st.lists(st.integers(min_value=0, max_value=50), min_size=2, max_size=6))
def test_every_shown_step_has_k_visitors_and_nothing_after_a_hidden_one(counts: list[int]) -> None:
    # when
    shown = suppress_steps(counts)
    # then
    for i, value in enumerate(shown):
        # a step nobody reached may show 0: it is about no one
        assert value is None or (value == counts[i] and (value >= K or value == 0))
        if value is None:
            assert shown[i:] == [None] * (len(counts) - i)


def test_a_step_nobody_reached_shows_zero_unless_one_before_is_hidden() -> None:
    assert suppress_steps([9, 0]) == [9, 0]
    assert suppress_steps([0, 0]) == [0, 0]
    assert suppress_steps([3, 0]) == [None, None]
