"""The engine's shortcuts (precomputed times, audience parts, pruning) against a plain oracle."""

from __future__ import annotations

import gc
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import event, given, settings
from hypothesis import strategies as st
from test_decision import (
    BASE,
    BERLIN,
    HOURS,
    TP,
    ZONE,
    ZONE_ID,
    ages,
    contacts,
    content,
    coupons,
    index,
    kinds,
    shop,
    targetings,
    touchpoint,
    usages,
    windows,
    worlds,
)

from marktplatz.domain import scoring
from marktplatz.domain.content import SPECIAL_INTERESTS, ContentKind, Interest, Window
from marktplatz.domain.decision import (
    Contact,
    Mode,
    Usage,
    Visitor,
    candidates,
    decide,
    exclusion,
)
from marktplatz.domain.decision_index import CityIndex, Match, ZonePlace, distance_m
from marktplatz.domain.decision_times import (
    ALWAYS,
    coverage,
    open_spans,
    shown_in,
    window_spans,
)
from marktplatz.domain.rules import CityRules, Strategy
from marktplatz.services.decisions import SETTLE_FROM, new_decision_id, settle

# Around both clock changes of 2026 in Berlin (29 March, 25 October), and ordinary days.
DST_DAYS = [datetime(2026, 3, 28, tzinfo=UTC), datetime(2026, 10, 24, tzinfo=UTC)]
TIMES = [time(0), time(1), time(2), time(2, 30), time(3), time(8), time(12), time(23, 30)]


def oracle(world: CityIndex, contact: Contact, usage: Usage, seed: int) -> list[tuple[str, float]]:
    """Every candidate checked in full by `exclusion` and scored; the best of each owner."""
    decision = decide(world, contact, usage, seed)
    if decision.quiet or decision.budget_left == 0:
        return []
    limit = world.rules.max_picks
    if decision.budget_left is not None:
        limit = min(limit, decision.budget_left)
    shown = usage.shop_exposures_today
    average = sum(shown.values()) / max(1, len(world.shops))
    best: dict[object, tuple[float, str]] = {}
    for match in candidates(world, contact):
        item = match.content
        if exclusion(world, item, contact, usage, decision.control) is not None:
            continue
        score = plain_score(world, match, contact, shown, average) * (
            1.0 + scoring.draw(seed, match.key) * scoring.JITTER
        )
        owner = item.shop_id or item.id
        if owner not in best or best[owner][0] < score:
            best[owner] = (score, str(item.id))
    top = sorted(best.values(), reverse=True)[:limit]
    return [(content_id, round(score, 6)) for score, content_id in top]


def plain_score(
    world: CityIndex, match: Match, contact: Contact, shown: dict, average: float
) -> float:
    item, visitor = match.content, contact.visitor
    distance = match.distance_m
    shop_place = world.shops.get(item.shop_id) if item.shop_id else None
    if distance is None and shop_place is not None and shop_place.location is not None:
        here = contact.location
        if contact.touchpoint_id is not None:
            here = world.touchpoints[contact.touchpoint_id].location
        distance = distance_m(here, shop_place.location) if here else None
    shared = len(item.targeting.interests & visitor.interests) if visitor else 0
    fair = 1.0 if item.shop_id is None else scoring.fairness(shown.get(item.shop_id, 0), average)
    return (
        scoring.PLACEMENT_WEIGHT[match.placement]
        * scoring.distance_factor(distance)
        * scoring.interest_factor(shared)
        * scoring.freshness(scoring.age_days(item.published_at, contact.at))
        * fair
    )


@st.composite
def busy_worlds(draw_: st.DrawFn) -> CityIndex:
    """Cities ranked by score where much is published and open: most contacts get picks."""
    hours = draw_(st.lists(st.sampled_from(["24/7", "24/7", *HOURS]), min_size=1, max_size=6))
    shops = [shop(i, h) for i, h in enumerate(hours)]
    tps = [touchpoint(i, draw_(st.sampled_from([None, ZONE_ID]))) for i in range(3)]
    owners = st.one_of(st.none(), st.sampled_from([s.id for s in shops]))
    items = [
        content(
            i,
            draw_(owners),
            kind=draw_(kinds),
            window=draw_(st.one_of(st.just(Window()), windows())),
            targeting=draw_(targetings(tps)),
            coupon=draw_(coupons),
            published_at=BASE - timedelta(days=draw_(ages)),
        )
        for i in range(draw_(st.integers(1, 40)))
    ]
    rules = CityRules(
        control_share=draw_(st.sampled_from([0.0, 0.3])),
        max_picks=draw_(st.integers(1, 5)),
        opening_soon_minutes=draw_(st.sampled_from([0, 30, 120])),
    )
    return index(items, shops, tps, rules, [ZonePlace(ZONE_ID, "Altstadt", ZONE)])


@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_the_engine_picks_what_checking_every_candidate_picks(data: st.DataObject) -> None:
    # given a random city ranked by score, a contact (inside and outside the index's exact
    # times) and counters
    world = data.draw(st.one_of(busy_worlds(), worlds().map(lambda w: w[0])))
    if world.rules.strategy is not Strategy.SCORE:
        return
    contact = data.draw(contacts(world))
    if data.draw(st.booleans()):
        contact = replace(contact, mode=Mode.PULL)
    usage = data.draw(usages(world))
    seed = data.draw(st.integers(0, 2**32))
    # when the engine decides
    picks = decide(world, contact, usage, seed).picks
    event(f"picks: {len(picks)}")
    # then it shows exactly the best of what a check of every candidate allows
    assert [(str(p.content.id), p.score) for p in picks] == oracle(world, contact, usage, seed)


@settings(max_examples=300, deadline=None)
@given(
    day=st.sampled_from(DST_DAYS),
    starts=st.one_of(st.none(), st.integers(0, 96 * 4)),
    length=st.one_of(st.none(), st.integers(1, 96 * 4)),
    weekdays=st.frozensets(st.integers(0, 6), min_size=1),
    day_start=st.one_of(st.none(), st.sampled_from(TIMES[:-1])),
    minutes=st.lists(st.integers(-2 * 24 * 60, 4 * 24 * 60), min_size=1, max_size=30),
)
def test_window_spans_agree_with_the_window_across_clock_changes(
    day: datetime,
    starts: int | None,
    length: int | None,
    weekdays: frozenset[int],
    day_start: time | None,
    minutes: list[int],
) -> None:
    # given a window with weekdays and times of day (some in the skipped or doubled hour)
    day_end = None if day_start is None else next(t for t in TIMES if t > day_start)
    begin = None if starts is None else day + timedelta(minutes=15 * starts)
    window = Window(
        begin,
        None if length is None else (begin or day) + timedelta(minutes=15 * length),
        weekdays,
        day_start,
        day_end,
    )
    cover = coverage(BERLIN, day - timedelta(days=1), day + timedelta(days=3))
    # when its spans are worked out
    spans = window_spans(window, cover)
    # then they answer as the window does at every covered instant, to the second
    for minute in minutes:
        for second in (0, 1, 59):
            at = day + timedelta(minutes=minute, seconds=second)
            if cover.covers(at.timestamp()):
                assert shown_in(spans, at.timestamp()) == window.contains(at, BERLIN), at


@given(
    hours=st.sampled_from(["", "24/7", "Mo-Fr 09:00-13:00,14:30-18:30", "Mo-Su 00:00-24:00"]),
    soon=st.sampled_from([0, 30 * 60, 120 * 60]),
    minutes=st.lists(st.integers(-2 * 24 * 60, 10 * 24 * 60), min_size=1, max_size=40),
)
def test_open_spans_agree_with_the_shop(hours: str, soon: float, minutes: list[int]) -> None:
    place = shop(0, hours)
    spans = open_spans(place.open_spans, place.open_state, soon)
    base = datetime(2026, 6, 1, tzinfo=ZoneInfo("Europe/Berlin")).timestamp()
    for minute in minutes:
        for stamp in (base + minute * 60, base + minute * 60 - 1e-6):
            assert shown_in(spans, stamp) == (place.open_state(stamp, soon) is not None)


def test_a_plain_window_is_always_shown() -> None:
    cover = coverage(BERLIN, datetime(2026, 6, 1, tzinfo=UTC), datetime(2026, 6, 7, tzinfo=UTC))
    assert window_spans(Window(), cover) == ALWAYS


def test_an_offer_shows_from_the_instant_its_shop_opens_soon_to_the_instant_it_closes() -> None:
    # given a shop open 09:00–18:00 on weekdays, its offer valid until Wednesday 17:00, and an
    # event of the city at 19:00 on Monday (announced until three hours after its start)
    place = shop(0, "Mo-Fr 09:00-18:00")
    offer = content(1, place.id, window=Window(ends_at=local(3, 17, 0)))
    event = content(2, None, kind=ContentKind.EVENT, window=Window(starts_at=local(1, 19, 0)))
    world = index([offer, event], [place], [TP])

    def shown(at: datetime) -> set[int]:
        picks = decide(world, Contact(at, "de", Mode.PULL, TP.id), Usage(), 1).picks
        return {p.content.id.int - 3000 for p in picks}

    # then each edge holds to the microsecond: opening soon (08:30), closing, the window's end
    just = timedelta(microseconds=1)
    assert shown(local(1, 8, 30) - just) == {2}
    assert shown(local(1, 8, 30)) == {1, 2}
    assert shown(local(1, 18, 0) - just) == {1, 2}
    assert shown(local(1, 18, 0)) == {2}
    assert shown(local(1, 22, 0) - just) == {2}
    assert shown(local(1, 22, 0)) == set()
    assert shown(local(3, 16, 59)) == {1}
    assert shown(local(3, 17, 0)) == set()


def test_outside_its_exact_times_the_engine_checks_in_full() -> None:
    # given an index whose precomputed times cover only up to a day after BASE
    place = shop(0, "Mo-Fr 09:00-18:00")
    world = index([content(1, place.id)], [place], [TP])
    saturday = local(6, 10, 0)
    assert not world.coverage.covers(saturday.timestamp())
    # then a contact after that still sees the offer only while the shop is open
    friday = local(5, 10, 0)
    assert not world.coverage.covers(friday.timestamp())
    assert decide(world, Contact(friday, "de", Mode.PULL, TP.id), Usage(), 1).picks
    assert not decide(world, Contact(saturday, "de", Mode.PULL, TP.id), Usage(), 1).picks


def local(day: int, hour: int, minute: int) -> datetime:
    """June 2026 in Berlin (Monday is the 1st)."""
    return datetime(2026, 6, day, hour, minute, tzinfo=BERLIN)


def test_decision_ids_sort_by_time_and_are_never_alike() -> None:
    # given decisions a millisecond apart, and many in the same millisecond
    first = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    later = first + timedelta(milliseconds=1)
    same = [new_decision_id(first) for _ in range(2000)]
    # then the later one sorts after all earlier ones (the exposures' indexes grow at the end),
    # and each id is a UUIDv7 whose random part is different every time
    assert all(a.int < new_decision_id(later).int for a in same)
    assert len(set(same)) == len(same)
    assert {a.version for a in same} == {7}
    assert len({a.int & (2**62 - 1) for a in same}) == len(same)


def test_only_a_large_index_is_taken_out_of_the_collectors_way() -> None:
    # given a small index, and the same index as if it held SETTLE_FROM candidates
    small = index([content(i, None) for i in range(3)], [], [TP])
    large = replace(small, merged={TP.id: small.merged[TP.id] * (SETTLE_FROM // 3 + 1)})
    frozen = gc.get_freeze_count()
    try:
        # when each is settled
        settle(small)
        after_small = gc.get_freeze_count()
        settle(large)
        # then only the large one froze what lives now
        assert after_small == frozen
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()


@settings(max_examples=150, deadline=None)
@given(world=busy_worlds())
def test_no_match_can_score_above_its_bound_at_a_touchpoint(world: CityIndex) -> None:
    # given a visitor with every interest at the moment the index was built (the freshest
    # moment), and a shop with the highest fairness
    visitor = Visitor("v", frozenset(Interest) - SPECIAL_INTERESTS)
    for touchpoint_id in world.touchpoints:
        contact = Contact(world.built_at, "de", Mode.PULL, touchpoint_id, visitor=visitor)
        # then no match's score reaches above the bound the walk stops by
        for part in world.runs[touchpoint_id].some(visitor.interests):
            for bound, match in zip(*part, strict=True):
                # (with no exposures at all every shop's fairness is 1; the cap is at most 2)
                best = plain_score(world, match, contact, {}, 0.0)
                assert best * scoring.FAIRNESS_CAP * (1 + scoring.JITTER) <= bound * (1 + 1e-12)
