"""Content checks and the city's rules: each bad input gets its own specific error."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.content import (
    Action,
    Content,
    ContentKind,
    ContentStatus,
    CouponTerms,
    Interest,
    LimitPeriod,
    Targeting,
    Window,
    clean_coupon,
    clean_interests,
    clean_targeting,
    clean_window,
    next_status,
)
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.rules import (
    CategoryRule,
    CityRules,
    Strategy,
    approval_flags,
    check_content_rules,
    rules_from_dict,
    rules_to_dict,
)

NOW = datetime(2026, 6, 1, 10, tzinfo=UTC)
ZONE, TP = UUID(int=1), UUID(int=2)


def offer(**changes: object) -> Content:
    item = Content(
        id=UUID(int=9),
        city_id=UUID(int=8),
        shop_id=UUID(int=7),
        kind=ContentKind.OFFER,
        status=ContentStatus.DRAFT,
        title="Sonnenbrillen -20 %",
        body_html="<p>Nur diese Woche.</p>",
        language="de",
        window=Window(),
        targeting=Targeting(),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def field_of(exc: pytest.ExceptionInfo[InvalidInput]) -> str:
    return exc.value.field


def test_a_window_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        clean_window(NOW, NOW - timedelta(hours=1))
    assert field_of(exc) == "ends_at"
    assert exc.value.message == "The end lies before the start."


@pytest.mark.parametrize(
    ("args", "field", "message"),
    [
        ((NOW, NOW, None), "ends_at", "The end lies before the start."),
        ((None, None, []), "weekdays", "Choose at least one weekday."),
        ((None, None, [7]), "weekdays", "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        ((None, None, "Mo"), "weekdays", "Weekdays are numbers from 0 (Monday) to 6 (Sunday)."),
        ((None, None, None, time(9)), "day_end", "Give both times of day, or neither."),
        (
            (None, None, None, time(18), time(9)),
            "day_end",
            "The end of the day's time lies before its start.",
        ),
    ],
)
def test_window_errors_name_the_field(args: tuple[object, ...], field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        clean_window(*args)  # type: ignore[arg-type]
    assert (exc.value.field, exc.value.message) == (field, message)


def test_a_daily_window_holds_in_local_time() -> None:
    window = clean_window(None, None, [0, 1, 2, 3, 4], time(9), time(12))
    berlin = __import__("zoneinfo").ZoneInfo("Europe/Berlin")
    assert window.contains(datetime(2026, 6, 1, 9, 30, tzinfo=berlin), berlin)
    assert not window.contains(datetime(2026, 6, 1, 12, 0, tzinfo=berlin), berlin)
    assert not window.contains(datetime(2026, 6, 6, 10, 0, tzinfo=berlin), berlin)  # Saturday


@pytest.mark.parametrize(
    ("stock", "per_person", "period", "field", "message"),
    [
        (-1, None, "day", "coupon.stock", "This cannot be negative."),
        (0, None, "day", "coupon.stock", "Enter a number from 1 to %(max)s."),
        (1.5, None, "day", "coupon.stock", "Enter a whole number."),
        (True, None, "day", "coupon.stock", "Enter a whole number."),
        (5, -2, "day", "coupon.per_person", "This cannot be negative."),
        (5, 1, "year", "coupon.period", "The limit applies per day, per week or per campaign."),
    ],
)
def test_coupon_errors(
    stock: object, per_person: object, period: object, field: str, message: str
) -> None:
    with pytest.raises(InvalidInput) as exc:
        clean_coupon(stock, per_person, period)
    assert (exc.value.field, exc.value.message) == (field, message)


def test_good_coupon_terms() -> None:
    assert clean_coupon(100, 1, "week") == CouponTerms(100, 1, LimitPeriod.WEEK)
    assert clean_coupon(None, None, None) == CouponTerms(None, None, LimitPeriod.CAMPAIGN)


def targeting(**changes: object) -> Targeting:
    args: dict[str, object] = {
        "zone_ids": frozenset(),
        "touchpoint_ids": frozenset(),
        "radius_m": None,
        "languages": frozenset(),
        "interests": None,
    }
    args.update(changes)
    return clean_targeting(
        **args,  # type: ignore[arg-type]
        known_zones=frozenset({ZONE}),
        known_touchpoints=frozenset({TP}),
        city_languages=("de", "en"),
    )


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"zone_ids": frozenset({UUID(int=99)})}, "zone_ids", "Unknown zone: %(value)s"),
        (
            {"touchpoint_ids": frozenset({UUID(int=98)})},
            "touchpoint_ids",
            "Unknown touchpoint: %(value)s",
        ),
        (
            {"languages": frozenset({"fr"})},
            "languages",
            "This city does not offer the language %(value)s.",
        ),
        ({"radius_m": 5}, "radius_m", "The radius is from 10 to %(max)s metres."),
        ({"radius_m": "100"}, "radius_m", "Enter a whole number."),
        ({"interests": ["knitting"]}, "interests", "Unknown interest: %(value)s"),
    ],
)
def test_targeting_errors(changes: dict[str, object], field: str, message: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        targeting(**changes)
    assert (exc.value.field, exc.value.message) == (field, message)


@pytest.mark.parametrize("interest", ["health", "religion", "politics"])
def test_no_special_category_may_ever_be_targeted(interest: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        targeting(interests=["fashion", interest])
    assert exc.value.field == "interests"
    assert exc.value.params == {"value": interest}
    assert "Art. 9 GDPR" in exc.value.message


@given(st.sets(st.sampled_from(list(Interest))))
def test_interests_are_clean_or_refused_never_special(chosen: set[Interest]) -> None:
    try:
        kept = clean_interests(sorted(chosen))
    except InvalidInput:
        assert chosen & {Interest.HEALTH, Interest.RELIGION, Interest.POLITICS}
    else:
        assert kept == frozenset(chosen)


def test_a_good_targeting() -> None:
    assert targeting(zone_ids=frozenset({ZONE}), radius_m=200, interests=["books"]) == Targeting(
        frozenset({ZONE}), frozenset(), 200, frozenset(), frozenset({Interest.BOOKS})
    )


def test_a_pharmacy_may_not_offer_prescription_medicines() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_content_rules(CityRules(), ShopCategory.PHARMACY, offer(prescription_only=True))
    assert exc.value.field == "prescription_only"
    assert "HWG" in exc.value.message
    # a fashion shop has no such rule, a pharmacy's story is not an offer
    check_content_rules(CityRules(), ShopCategory.CLOTHES, offer(prescription_only=True))
    check_content_rules(
        CityRules(), ShopCategory.PHARMACY, offer(kind=ContentKind.STORY, prescription_only=True)
    )


def test_health_targeting_is_refused_by_the_rules_too() -> None:
    item = offer(targeting=Targeting(interests=frozenset({Interest.HEALTH})))
    with pytest.raises(InvalidInput) as exc:
        check_content_rules(CityRules(category_rules=()), ShopCategory.BOOKS, item)
    assert exc.value.field == "interests"


def test_a_city_can_forbid_more_interests_per_category() -> None:
    rules = rules_from_dict(
        {"category_rules": [{"category": "tobacco", "forbidden_interests": ["family", "health"]}]}
    )
    item = offer(targeting=Targeting(interests=frozenset({Interest.FAMILY})))
    with pytest.raises(InvalidInput) as exc:
        check_content_rules(rules, ShopCategory.TOBACCO, item)
    assert exc.value.params == {"category": "tobacco", "value": "family"}


def test_approval_flags_name_the_rules_that_asked() -> None:
    item = offer(body_html="<p>Auch verschreibungspflichtige Arzneimittel</p>")
    assert approval_flags(CityRules(), ShopCategory.PHARMACY, item) == (
        "category:pharmacy",
        "term:verschreibungspflichtig",
        "term:arzneimittel",
    )
    assert approval_flags(CityRules(), ShopCategory.CLOTHES, item) == ()
    assert approval_flags(CityRules(approve_everything=True), ShopCategory.CLOTHES, item) == (
        "city:approve-everything",
    )
    rx = offer(title="Rx-Beratung")
    assert approval_flags(CityRules(), ShopCategory.PHARMACY, rx) == (
        "category:pharmacy",
        "term:rx",
    )


@pytest.mark.parametrize(
    ("status", "action", "approval", "expected"),
    [
        (ContentStatus.DRAFT, Action.SUBMIT, False, ContentStatus.PUBLISHED),
        (ContentStatus.DRAFT, Action.SUBMIT, True, ContentStatus.SUBMITTED),
        (ContentStatus.SUBMITTED, Action.APPROVE, True, ContentStatus.PUBLISHED),
        (ContentStatus.SUBMITTED, Action.REJECT, True, ContentStatus.REJECTED),
        (ContentStatus.REJECTED, Action.SUBMIT, True, ContentStatus.SUBMITTED),
        (ContentStatus.PUBLISHED, Action.WITHDRAW, True, ContentStatus.DRAFT),
        (ContentStatus.PUBLISHED, Action.EXPIRE, True, ContentStatus.EXPIRED),
    ],
)
def test_lifecycle(
    status: ContentStatus, action: Action, approval: bool, expected: ContentStatus
) -> None:
    assert next_status(status, action, needs_approval=approval) is expected


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (ContentStatus.DRAFT, Action.APPROVE),
        (ContentStatus.PUBLISHED, Action.APPROVE),
        (ContentStatus.EXPIRED, Action.SUBMIT),
        (ContentStatus.DRAFT, Action.REJECT),
    ],
)
def test_impossible_steps_are_refused(status: ContentStatus, action: Action) -> None:
    with pytest.raises(InvalidInput) as exc:
        next_status(status, action, needs_approval=True)
    assert exc.value.params == {"status": status.value}


def test_rules_round_trip_and_defaults() -> None:
    rules = CityRules(
        push_budget_per_day=5,
        quiet_start=time(21, 30),
        quiet_end=time(6),
        strategy=Strategy.RANDOM,
        control_share=0.2,
        category_rules=(
            CategoryRule(ShopCategory.WINE, requires_approval=True, flagged_terms=("gratis",)),
        ),
    )
    assert rules_from_dict(rules_to_dict(rules)) == rules
    assert rules_from_dict({}) == CityRules()
    assert rules_from_dict(None) == CityRules()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"push_budget_per_day": -1}, "push_budget_per_day"),
        ({"push_budget_per_day": 99}, "push_budget_per_day"),
        ({"quiet_start": "late"}, "quiet_start"),
        ({"quiet_start": "21:00", "quiet_end": None}, "quiet_end"),
        ({"strategy": "loudest"}, "strategy"),
        ({"control_share": 0.9}, "control_share"),
        ({"approve_everything": "yes"}, "approve_everything"),
        ({"category_rules": [{"category": "spaceships"}]}, "category_rules.category"),
        ({"category_rules": [{"category": "wine"}, {"category": "wine"}]}, "category_rules"),
        ({"open_required": ["offer", "poem"]}, "open_required"),
    ],
)
def test_bad_rules_are_refused(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        rules_from_dict(data)
    assert exc.value.field == field


def test_quiet_hours_across_midnight() -> None:
    rules = CityRules(quiet_start=time(20), quiet_end=time(8))
    assert rules.in_quiet_hours(time(23))
    assert rules.in_quiet_hours(time(7, 59))
    assert not rules.in_quiet_hours(time(8))
    assert not CityRules(quiet_start=None).in_quiet_hours(time(23))
    assert CityRules(quiet_start=time(12), quiet_end=time(14)).in_quiet_hours(time(13))
