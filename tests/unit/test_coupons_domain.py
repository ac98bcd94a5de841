"""Coupon codes, the till's verdicts on an offer, periods of the limit per person, k-anonymity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marktplatz.domain.content import (
    Content,
    ContentKind,
    ContentStatus,
    CouponTerms,
    LimitPeriod,
    Targeting,
    Window,
)
from marktplatz.domain.coupons import (
    CODE_ALPHABET,
    CODE_LENGTH,
    UNDO_WINDOW,
    Coupon,
    CouponStatus,
    Refusal,
    check_savable,
    clean_code,
    clean_reason,
    grouped,
    hash_code,
    new_code,
    refusal_at,
    use_period,
)
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.kanon import Cell, K, suppressed

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Berlin


def offer(
    window: Window | None = None,
    status: ContentStatus = ContentStatus.PUBLISHED,
    terms: CouponTerms | None = None,
) -> Content:
    return Content(
        id=uuid.uuid4(),
        city_id=uuid.uuid4(),
        shop_id=uuid.uuid4(),
        kind=ContentKind.OFFER,
        status=status,
        title="Zwei zum Preis von einem",
        body_html="",
        language="de",
        window=window or Window(),
        targeting=Targeting(),
        coupon=terms or CouponTerms(),
    )


def test_codes_use_only_unmistakable_signs_and_are_not_repeated() -> None:
    codes = {new_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert not set("ILOU") & set(CODE_ALPHABET)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("K7QF-9M2X-PA3T", "K7QF9M2XPA3T"),
        ("k7qf 9m2x pa3t", "K7QF9M2XPA3T"),
        ("K7QF9M2XPA3O", "K7QF9M2XPA30"),  # O read as zero
        ("K7QF9M2XPA3I", "K7QF9M2XPA31"),  # I and L read as one
        ("K7QF9M2XPA3L", "K7QF9M2XPA31"),
    ],
)
def test_a_code_is_read_as_the_cashier_means_it(typed: str, meant: str) -> None:
    assert clean_code(typed) == meant
    assert grouped(meant) == f"{meant[:4]}-{meant[4:8]}-{meant[8:]}"


@pytest.mark.parametrize(
    "typed", ["", "K7QF-9M2X", "K7QF-9M2X-PA3T-X", "K7QF-9M2X-PA3!", None, 12, "x" * 65]
)
def test_a_malformed_code_is_refused_with_the_field(typed: object) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_code(typed)
    assert caught.value.field == "code"


def test_only_the_hash_of_a_code_is_what_the_store_compares() -> None:
    code = new_code()
    assert hash_code(code) == hash_code(clean_code(grouped(code).lower()))
    assert code not in hash_code(code)


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        (offer(), None),
        (offer(status=ContentStatus.EXPIRED), Refusal.ENDED),  # ended by hand, no date
        (offer(Window(ends_at=NOW + timedelta(days=9)), ContentStatus.EXPIRED), Refusal.ENDED),
        (offer(Window(ends_at=NOW), ContentStatus.EXPIRED), Refusal.EXPIRED),
        (offer(status=ContentStatus.DRAFT), Refusal.WITHDRAWN),
        (offer(Window(ends_at=NOW)), Refusal.EXPIRED),
        (offer(Window(starts_at=NOW + timedelta(minutes=1))), Refusal.NOT_YET),
        (offer(Window(weekdays=frozenset({0, 1}))), Refusal.NOT_NOW),  # Mon, Tue only
        (offer(Window(day_start=time(14, 0))), Refusal.NOT_NOW),
        (offer(Window(day_end=time(12, 1))), None),
    ],
)
def test_the_till_refuses_what_the_offer_does_not_allow_now(
    content: Content, refusal: Refusal | None
) -> None:
    assert refusal_at(content, NOW, BERLIN) is refusal


def test_an_offer_whose_coupon_was_taken_off_redeems_nothing() -> None:
    without = Content(**{**{f: getattr(offer(), f) for f in Content.__slots__}, "coupon": None})
    assert refusal_at(without, NOW, BERLIN) is Refusal.WITHDRAWN


def test_a_coupon_can_be_saved_only_from_a_live_offer_with_coupon_terms() -> None:
    check_savable(offer(), NOW, BERLIN)
    for bad in (
        offer(status=ContentStatus.SUBMITTED),
        offer(Window(ends_at=NOW - timedelta(seconds=1))),
        Content(**{**{f: getattr(offer(), f) for f in Content.__slots__}, "coupon": None}),
    ):
        with pytest.raises(InvalidInput):
            check_savable(bad, NOW, BERLIN)


def test_the_limit_counts_per_local_day_per_iso_week_or_for_the_campaign() -> None:
    day = use_period(offer(terms=CouponTerms(per_person=1, period=LimitPeriod.DAY)), NOW, BERLIN)
    week = use_period(offer(terms=CouponTerms(per_person=1, period=LimitPeriod.WEEK)), NOW, BERLIN)
    assert day == (
        datetime(2026, 11, 25, tzinfo=BERLIN),
        datetime(2026, 11, 26, tzinfo=BERLIN),
    )
    assert week == (
        datetime(2026, 11, 23, tzinfo=BERLIN),
        datetime(2026, 11, 30, tzinfo=BERLIN),
    )
    assert use_period(offer(), NOW, BERLIN) is None
    # the local day, not the UTC day: 00:30 in Berlin is still 23:30 UTC of the day before
    late = datetime(2026, 11, 25, 23, 30, tzinfo=UTC)
    assert use_period(
        offer(terms=CouponTerms(per_person=1, period=LimitPeriod.DAY)), late, BERLIN
    ) == (datetime(2026, 11, 26, tzinfo=BERLIN), datetime(2026, 11, 27, tzinfo=BERLIN))


def test_a_redemption_can_be_undone_only_inside_the_window() -> None:
    coupon = Coupon(
        id=uuid.uuid4(),
        city_id=uuid.uuid4(),
        shop_id=uuid.uuid4(),
        content_id=uuid.uuid4(),
        code_hash="h",
        code_tail="PA3T",
        status=CouponStatus.REDEEMED,
        saved_at=NOW - timedelta(hours=1),
        pseudonym=None,
        touchpoint_id=None,
        decision_id=None,
        redeemed_at=NOW,
    )
    assert coupon.can_undo(NOW + UNDO_WINDOW)
    assert not coupon.can_undo(NOW + UNDO_WINDOW + timedelta(seconds=1))


@pytest.mark.parametrize("reason", ["", "  ab ", "x" * 301, None])
def test_an_undo_needs_a_reason_of_sensible_length(reason: object) -> None:
    with pytest.raises(InvalidInput):
        clean_reason(reason)
    assert clean_reason("  Falscher Gutschein gescannt ") == "Falscher Gutschein gescannt"


cells = st.dictionaries(
    st.integers(0, 12),
    st.integers(0, 12).flatmap(lambda v: st.builds(Cell, st.integers(v, v * 3), st.just(v))),
    max_size=8,
)


@given(cells)
def test_no_shown_cell_or_total_rests_on_fewer_than_k_visitors(found: dict[int, Cell]) -> None:
    shown, total = suppressed(found)
    for key, count in shown.items():
        if count is not None:
            assert found[key].visitors >= K or found[key].visitors == 0
            assert count == found[key].count
    if total is not None:
        # cells may share visitors: only the largest cell's number is sure
        visitors = max((c.visitors for c in found.values()), default=0)
        assert visitors == 0 or visitors >= K
        assert total == sum(c.count for c in found.values())


@given(cells)
def test_the_total_never_gives_a_suppressed_cell_away(found: dict[int, Cell]) -> None:
    shown, total = suppressed(found)
    hidden = [key for key, count in shown.items() if count is None]
    if total is None or not hidden:
        return
    # total − shown is the sum of the hidden cells: it must cover several cells and surely K
    # visitors, even if they all shared the same ones
    assert len(hidden) >= 2
    assert max(found[key].visitors for key in hidden) >= K


def test_suppression_examples() -> None:
    four = {"a": Cell(4, 4), "b": Cell(9, 9)}
    assert suppressed(four) == ({"a": None, "b": None}, 13)
    assert suppressed({"a": Cell(5, 5)}) == ({"a": 5}, 5)
    assert suppressed({"a": Cell(4, 4)}) == ({"a": None}, None)
    assert suppressed({"a": Cell(0, 0), "b": Cell(0, 0)}) == ({"a": 0, "b": 0}, 0)
    assert suppressed({"a": Cell(0, 0), "b": Cell(2, 2)}) == ({"a": 0, "b": None}, None)
    # a and b may be the same three visitors: c goes too, or 26 - 20 would tell their sum
    assert suppressed({"a": Cell(3, 3), "b": Cell(3, 3), "c": Cell(20, 20)}) == (
        {"a": None, "b": None, "c": None},
        26,
    )
    assert suppressed({"a": Cell(3, 3), "b": Cell(8, 6), "c": Cell(20, 20)}) == (
        {"a": None, "b": None, "c": 20},
        31,
    )
