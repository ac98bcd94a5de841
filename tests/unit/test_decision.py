"""The decision engine: properties over random content, times and contacts, and worked examples."""

from __future__ import annotations

import functools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.content import (
    SPECIAL_INTERESTS,
    WEEKDAYS,
    Content,
    ContentKind,
    ContentStatus,
    CouponTerms,
    Interest,
    LimitPeriod,
    Targeting,
    Window,
)
from marktplatz.domain.decision import (
    Contact,
    Decision,
    Exclusion,
    Mode,
    Reason,
    ReasonCode,
    Usage,
    Visitor,
    decide,
    exclusion,
    reasons_from_json,
    reasons_json,
)
from marktplatz.domain.decision_index import (
    CityIndex,
    ShopPlace,
    TouchpointPlace,
    ZonePlace,
    build_index,
    distance_m,
    shop_place,
)
from marktplatz.domain.geo import Location
from marktplatz.domain.hours import OpenState, evaluate_hours
from marktplatz.domain.rules import CityRules, Strategy

BERLIN = ZoneInfo("Europe/Berlin")
STATE = "NW"
CITY = UUID(int=1)
BASE = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)  # a Monday
CENTRE = Location(52.2890, 8.9140)
HOURS = ["", "24/7", "Mo-Fr 09:00-18:00", "Mo-Sa 10:00-20:00", "Mo-Fr 09:00-13:00,14:30-18:30"]
ZONE = {
    "type": "Polygon",
    "coordinates": [[[8.90, 52.28], [8.93, 52.28], [8.93, 52.30], [8.90, 52.30], [8.90, 52.28]]],
}


@functools.cache
def shop(i: int, hours: str, *, today: datetime = BASE) -> ShopPlace:
    return shop_place(
        UUID(int=1000 + i),
        f"Shop {i}",
        ShopCategory.CLOTHES,
        Location(CENTRE.lat + i * 0.0005, CENTRE.lon),
        hours,
        today=today.astimezone(BERLIN).date(),
        tz=BERLIN,
        federal_state=STATE,
    )


def touchpoint(i: int, zone: UUID | None) -> TouchpointPlace:
    return TouchpointPlace(UUID(int=2000 + i), zone, Location(CENTRE.lat, CENTRE.lon + i * 0.0005))


def content(i: int, shop_id: UUID | None, **changes: object) -> Content:
    item = Content(
        id=UUID(int=3000 + i),
        city_id=CITY,
        shop_id=shop_id,
        kind=ContentKind.OFFER,
        status=ContentStatus.PUBLISHED,
        title=f"Angebot {i}",
        body_html="",
        language="de",
        window=Window(),
        targeting=Targeting(),
        published_at=BASE - timedelta(days=1),
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def index(
    contents: list[Content],
    shops: list[ShopPlace],
    tps: list[TouchpointPlace],
    rules: CityRules | None = None,
    zones: list[ZonePlace] | None = None,
) -> CityIndex:
    return build_index(
        city_id=CITY,
        tz=BERLIN,
        rules=rules or CityRules(control_share=0.0),
        contents=contents,
        shops=shops,
        touchpoints=tps,
        zones=zones or [],
        now=BASE - timedelta(days=30),
        valid_until=BASE + timedelta(days=1),
    )


# --- random worlds -------------------------------------------------------------------------

ZONE_ID = UUID(int=500)
DAY_TIMES = (time(8), time(10), time(12), time(18), time(22))
starts = st.one_of(st.none(), st.integers(-240, 240).map(lambda h: BASE + timedelta(hours=h)))
lengths = st.one_of(st.none(), st.integers(1, 400))
day_starts = st.one_of(st.none(), st.sampled_from(DAY_TIMES))
day_ends = {
    t: st.sampled_from([e for e in (time(9), time(13), time(19), time(23)) if e > t])
    for t in DAY_TIMES
}
weekday_sets = st.frozensets(st.sampled_from(sorted(WEEKDAYS)), min_size=1)
coupons = st.one_of(
    st.none(),
    st.builds(
        CouponTerms,
        stock=st.one_of(st.none(), st.integers(1, 3)),
        per_person=st.one_of(st.none(), st.integers(1, 2)),
        period=st.sampled_from(list(LimitPeriod)),
    ),
)
zone_sets = st.frozensets(st.just(ZONE_ID), max_size=1)
radii = st.one_of(st.none(), st.integers(10, 300))
language_sets = st.frozensets(st.sampled_from(["de", "en"]), max_size=1)
# Special categories included on purpose: the engine must never act on them.
interest_sets = st.frozensets(st.sampled_from(list(Interest)), max_size=2)
kinds = st.sampled_from(list(ContentKind))
statuses = st.sampled_from(list(ContentStatus))
ages = st.integers(0, 20)


@st.composite
def windows(draw: st.DrawFn) -> Window:
    start, length, day_start = draw(starts), draw(lengths), draw(day_starts)
    return Window(
        starts_at=start,
        ends_at=None if length is None or start is None else start + timedelta(hours=length),
        weekdays=draw(weekday_sets),
        day_start=day_start,
        day_end=None if day_start is None else draw(day_ends[day_start]),
    )


def targetings(tps: list[TouchpointPlace]) -> st.SearchStrategy[Targeting]:
    return st.builds(
        Targeting,
        zone_sets,
        st.frozensets(st.sampled_from([t.id for t in tps]), max_size=2),
        radii,
        language_sets,
        interest_sets,
    )


@st.composite
def worlds(draw: st.DrawFn) -> tuple[CityIndex, list[str]]:
    hours = draw(st.lists(st.sampled_from(HOURS), min_size=1, max_size=6))
    shops = [shop(i, h) for i, h in enumerate(hours)]
    tps = [
        touchpoint(i, z)
        for i, z in enumerate(
            draw(st.lists(st.sampled_from([None, ZONE_ID]), min_size=1, max_size=4))
        )
    ]
    owners = st.one_of(st.none(), st.sampled_from([s.id for s in shops]))
    contents = [
        content(
            i,
            draw(owners),
            kind=draw(kinds),
            status=draw(statuses),
            window=draw(windows()),
            targeting=draw(targetings(tps)),
            coupon=draw(coupons),
            published_at=BASE - timedelta(days=draw(ages)),
        )
        for i in range(draw(st.integers(0, 25)))
    ]
    rules = CityRules(
        push_budget_per_day=draw(st.integers(0, 4)),
        control_share=draw(st.sampled_from([0.0, 0.3, 0.5])),
        strategy=draw(st.sampled_from(list(Strategy))),
        max_picks=draw(st.integers(1, 5)),
        repeats_per_day=draw(st.integers(1, 3)),
        opening_soon_minutes=draw(st.sampled_from([0, 30, 120])),
        quiet_start=draw(st.sampled_from([None, time(20)])),
        quiet_end=time(8),
    )
    zones = [ZonePlace(ZONE_ID, "Altstadt", ZONE)]
    return index(contents, shops, tps, rules, zones), hours


@st.composite
def contacts(draw: st.DrawFn, world: CityIndex) -> Contact:
    visitor = draw(
        st.one_of(
            st.none(),
            st.builds(
                Visitor,
                pseudonym=st.sampled_from(["v1", "v2", "v3"]),
                interests=st.frozensets(st.sampled_from(list(Interest)), max_size=3),
            ),
        )
    )
    where = draw(st.sampled_from(["touchpoint", "location"]))
    tp = draw(st.sampled_from(sorted(world.touchpoints)))
    return Contact(
        at=BASE + timedelta(minutes=draw(st.integers(-14 * 60, 7 * 24 * 60))),
        language=draw(st.sampled_from(["de", "en"])),
        mode=draw(st.sampled_from(list(Mode))),
        touchpoint_id=tp if where == "touchpoint" else None,
        location=world.touchpoints[tp].location if where == "location" else None,
        visitor=visitor,
    )


def usages(world: CityIndex) -> st.SearchStrategy[Usage]:
    ids = [m.content.id for m in world.everywhere] + [
        m.content.id for ms in world.merged.values() for m in ms
    ]
    ids += [m.content.id for ms in world.by_zone.values() for m in ms]
    ids += [c.id for c in world.nearby]
    some = st.sampled_from(ids or [UUID(int=1)])
    return st.builds(
        Usage,
        pushed_today=st.integers(0, 5),
        seen_today=st.dictionaries(some, st.integers(0, 3)),
        claimed=st.dictionaries(
            st.tuples(some, st.sampled_from(list(LimitPeriod))), st.integers(0, 3)
        ),
        stock_used=st.dictionaries(some, st.integers(0, 4)),
        shop_exposures_today=st.dictionaries(
            st.sampled_from(sorted(world.shops)), st.integers(0, 50)
        ),
    )


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_no_pick_ever_breaks_a_rule(data: st.DataObject) -> None:
    # given a random city, contact and counters
    world, hours = data.draw(worlds())
    contact = data.draw(contacts(world))
    usage = data.draw(usages(world))
    seed = data.draw(st.integers(0, 2**32))
    # when
    decision = decide(world, contact, usage, seed)
    # then every pick holds every rule, checked against independent oracles
    rules = world.rules
    assert decision == decide(world, contact, usage, seed)  # deterministic for a seed
    assert len(decision.picks) <= rules.max_picks
    owners = [p.content.shop_id or p.content.id for p in decision.picks]
    assert len(owners) == len(set(owners))
    local = contact.at.astimezone(BERLIN)
    if contact.mode is Mode.PUSH:
        quiet = rules.quiet_start is not None and (
            local.time() >= time(20) or local.time() < time(8)
        )
        left = (
            0 if contact.visitor is None else max(0, rules.push_budget_per_day - usage.pushed_today)
        )
        assert len(decision.picks) <= (0 if quiet else left)
    for pick in decision.picks:
        item = pick.content
        assert item.status is ContentStatus.PUBLISHED
        assert_in_window(item.shown, contact.at)
        assert not item.targeting.interests & SPECIAL_INTERESTS
        if item.targeting.languages:
            assert contact.language in item.targeting.languages
        if item.targeting.interests:
            assert contact.visitor is not None
            assert item.targeting.interests & contact.visitor.interests
        if item.kind is ContentKind.OFFER:
            assert not decision.control
        if item.kind in rules.open_required and item.shop_id is not None:
            raw = hours[item.shop_id.int - 1000]
            assert_open_or_soon(raw, contact.at, rules.opening_soon_minutes)
        if item.coupon and item.coupon.stock is not None:
            assert usage.stock_used.get(item.id, 0) < item.coupon.stock
        if contact.visitor and item.coupon and item.coupon.per_person is not None:
            assert usage.claimed.get((item.id, item.coupon.period), 0) < item.coupon.per_person
        if contact.visitor and contact.mode is Mode.PUSH:
            assert usage.seen_today.get(item.id, 0) < rules.repeats_per_day
        assert_placed_here(world, item, contact)
        assert exclusion(world, item, contact, usage, decision.control) is None
        assert pick.reasons


def assert_in_window(window: Window, at: datetime) -> None:
    local = at.astimezone(BERLIN)
    assert window.starts_at is None or window.starts_at <= at
    assert window.ends_at is None or at < window.ends_at
    assert local.weekday() in window.weekdays
    if window.day_start is not None and window.day_end is not None:
        assert window.day_start <= local.time() < window.day_end


def assert_open_or_soon(raw: str, at: datetime, soon_minutes: int) -> None:
    status = evaluate_hours(raw, at, BERLIN, STATE)
    if status.state is OpenState.OPEN:
        return
    assert status.state in (OpenState.CLOSED, OpenState.HOLIDAY), status
    assert status.next_change is not None
    assert status.next_change - at <= timedelta(minutes=soon_minutes)


def assert_placed_here(world: CityIndex, item: Content, contact: Contact) -> None:
    target = item.targeting
    if target.everywhere:
        return
    if contact.touchpoint_id is not None:
        tp = world.touchpoints[contact.touchpoint_id]
        here = tp.location
        hits = tp.id in target.touchpoint_ids or (tp.zone_id in target.zone_ids)
    else:
        assert contact.location is not None
        here = contact.location
        hits = bool(target.zone_ids)  # the test zone covers every generated position
    if not hits:
        assert target.radius_m is not None
        assert item.shop_id is not None
        shop_location = world.shops[item.shop_id].location
        assert shop_location is not None
        assert distance_m(shop_location, here) <= target.radius_m


# --- worked examples -----------------------------------------------------------------------

TP = touchpoint(0, None)


def test_a_health_targeted_item_is_never_indexed() -> None:
    # given a published offer targeted by health, stored before any rule refused it
    item = content(1, None, targeting=Targeting(interests=frozenset({Interest.HEALTH})))
    visitor = Visitor("v1", frozenset({Interest.HEALTH}))
    # when a visitor who (wrongly) carries a health interest meets the touchpoint
    decision = decide(
        index([item], [], [TP]), Contact(BASE, "de", Mode.PULL, TP.id, visitor=visitor), Usage(), 1
    )
    # then it is not shown
    assert decision.picks == ()


def test_the_control_group_sees_no_offer_but_still_a_story() -> None:
    offer = content(1, None)
    story = content(2, None, kind=ContentKind.STORY)
    world = index([offer, story], [], [TP], CityRules(control_share=0.5))
    outcomes = [
        decide(world, Contact(BASE, "de", Mode.PULL, TP.id), Usage(), seed) for seed in range(400)
    ]
    control = [d for d in outcomes if d.control]
    assert 150 < len(control) < 250  # about half, drawn per contact
    assert all([p.content.kind for p in d.picks] == [ContentKind.STORY] for d in control)
    assert all(len(d.picks) == 2 for d in outcomes if not d.control)


def test_a_consenting_visitor_stays_in_one_group_all_day() -> None:
    world = index([content(1, None)], [], [TP], CityRules(control_share=0.5))
    visitor = Visitor("stable")
    groups = {
        decide(
            world,
            Contact(BASE + timedelta(minutes=m), "de", Mode.PULL, TP.id, visitor=visitor),
            Usage(),
            m,
        ).control
        for m in range(0, 600, 7)
    }
    assert len(groups) == 1


def test_the_budget_caps_pushes_across_all_retailers() -> None:
    # given five shops with an offer each, and a visitor pushed twice today with a budget of 3
    shops = [shop(i, "24/7") for i in range(5)]
    items = [content(i, s.id) for i, s in enumerate(shops)]
    world = index(
        items, shops, [TP], CityRules(control_share=0.0, max_picks=5, push_budget_per_day=3)
    )
    visitor = Visitor("v1")
    # when the beacon pushes
    decision = decide(
        world, Contact(BASE, "de", Mode.PUSH, TP.id, visitor=visitor), Usage(pushed_today=2), 7
    )
    # then only one more item is pushed, while a scan (pull) shows five
    assert len(decision.picks) == 1
    assert decision.budget_left == 1
    pulled = decide(
        world, Contact(BASE, "de", Mode.PULL, TP.id, visitor=visitor), Usage(pushed_today=3), 7
    )
    assert len(pulled.picks) == 5


def test_nothing_is_pushed_without_consent_or_in_quiet_hours() -> None:
    world = index([content(1, None)], [], [TP])
    anonymous = decide(world, Contact(BASE, "de", Mode.PUSH, TP.id), Usage(), 1)
    late = datetime(2026, 6, 1, 21, 30, tzinfo=BERLIN)
    quiet = decide(world, Contact(late, "de", Mode.PUSH, TP.id, visitor=Visitor("v1")), Usage(), 1)
    assert anonymous.picks == ()
    assert anonymous.budget_left == 0
    assert quiet.picks == ()
    assert quiet.quiet
    assert (
        exclusion(
            world,
            content(1, None),
            Contact(late, "de", Mode.PUSH, TP.id, visitor=Visitor("v1")),
            Usage(),
            False,
        )
        is Exclusion.QUIET_HOURS
    )


def test_a_closed_shop_shows_its_offer_only_when_it_opens_soon() -> None:
    # given a shop opening at 09:00 Berlin time and its offer
    shops = [shop(0, "Mo-Fr 09:00-18:00")]
    world = index(
        [content(1, shops[0].id)],
        shops,
        [TP],
        CityRules(control_share=0.0, opening_soon_minutes=30),
    )

    def at(hh: int, mm: int) -> datetime:
        return datetime(2026, 6, 1, hh, mm, tzinfo=BERLIN)

    def contact(when: datetime) -> Contact:
        return Contact(when, "de", Mode.PULL, TP.id)

    # then at 08:00 it is hidden, at 08:40 it shows as opening soon, at 10:00 as open
    assert decide(world, contact(at(8, 0)), Usage(), 1).picks == ()
    soon = decide(world, contact(at(8, 40)), Usage(), 1).picks
    assert [r.code for r in soon[0].reasons] == [
        ReasonCode.CITY,
        ReasonCode.OPENS_SOON,
        ReasonCode.FRESH,
    ]
    open_now = decide(world, contact(at(10, 0)), Usage(), 1).picks
    assert ReasonCode.OPEN_NOW in [r.code for r in open_now[0].reasons]
    assert (
        exclusion(world, content(1, shops[0].id), contact(at(8, 0)), Usage(), False)
        is Exclusion.CLOSED
    )


def test_no_shop_crowds_out_the_others_over_a_day() -> None:
    # given five always-open shops at different distances, one offer each, one pick per contact
    shops = [shop(i, "24/7") for i in range(5)]
    items = [content(i, s.id) for i, s in enumerate(shops)]
    world = index(items, shops, [TP], CityRules(control_share=0.0, max_picks=1))
    shown: dict[UUID, int] = {}
    # when 1,000 visitors scan the same code in a day
    for n in range(1000):
        decision = decide(
            world, Contact(BASE, "de", Mode.PULL, TP.id), Usage(shop_exposures_today=dict(shown)), n
        )
        owner = decision.picks[0].content.shop_id
        assert owner is not None
        shown[owner] = shown.get(owner, 0) + 1
    # then every shop was shown, and the nearest did not take the lion's share
    assert sorted(shown) == sorted(s.id for s in shops)
    assert max(shown.values()) <= 1.25 * min(shown.values())


def test_closer_content_ranks_first_and_says_why() -> None:
    near, far = shop(0, "24/7"), shop(8, "24/7")
    zone = ZonePlace(UUID(int=500), "Altstadt", ZONE)
    tp = touchpoint(0, zone.id)
    items = [
        content(1, near.id, targeting=Targeting(radius_m=300)),
        content(2, far.id, targeting=Targeting(zone_ids=frozenset({zone.id}))),
        content(3, None, targeting=Targeting(touchpoint_ids=frozenset({tp.id}))),
    ]
    world = index(items, [near, far], [tp], zones=[zone])
    picks = decide(world, Contact(BASE, "de", Mode.PULL, tp.id), Usage(), 3).picks
    assert [p.content.id for p in picks] == [UUID(int=3003), UUID(int=3001), UUID(int=3002)]
    assert picks[0].reasons[0].code is ReasonCode.TOUCHPOINT
    assert picks[1].reasons[0].code is ReasonCode.NEARBY
    assert picks[2].reasons[0].params == (("zone", "Altstadt"),)


def test_a_contact_by_position_finds_zone_and_radius_content() -> None:
    near = shop(0, "24/7")
    zone = ZonePlace(UUID(int=500), "Altstadt", ZONE)
    items = [
        content(1, near.id, targeting=Targeting(radius_m=100)),
        content(2, None, targeting=Targeting(zone_ids=frozenset({zone.id}))),
    ]
    world = index(items, [near], [TP], zones=[zone])
    inside = decide(world, Contact(BASE, "de", Mode.PULL, location=near.location), Usage(), 1)
    outside = decide(
        world, Contact(BASE, "de", Mode.PULL, location=Location(52.0, 8.0)), Usage(), 1
    )
    assert {p.content.id for p in inside.picks} == {UUID(int=3001), UUID(int=3002)}
    assert outside.picks == ()


def test_random_strategy_is_reproducible_and_varies_with_the_seed() -> None:
    items = [content(i, None) for i in range(6)]
    world = index(
        items, [], [TP], CityRules(control_share=0.0, max_picks=1, strategy=Strategy.RANDOM)
    )
    first = [
        decide(world, Contact(BASE, "de", Mode.PULL, TP.id), Usage(), s).picks[0].content.id
        for s in range(60)
    ]
    again = [
        decide(world, Contact(BASE, "de", Mode.PULL, TP.id), Usage(), s).picks[0].content.id
        for s in range(60)
    ]
    assert first == again
    assert len(set(first)) == 6
    assert isinstance(decide(world, Contact(BASE, "de", Mode.PULL, TP.id), Usage(), 1), Decision)


def test_an_unknown_touchpoint_has_no_candidates() -> None:
    world = index(
        [content(1, None, targeting=Targeting(touchpoint_ids=frozenset({TP.id})))], [], [TP]
    )
    assert decide(world, Contact(BASE, "de", Mode.PULL, uuid.uuid4()), Usage(), 1).picks == ()


def test_reasons_are_stored_and_read_back_unchanged() -> None:
    reasons = (
        Reason(ReasonCode.ZONE, (("zone", 'Lange Straße; "West"'),)),
        Reason(ReasonCode.OPEN_NOW),
        Reason(ReasonCode.INTEREST, (("interest", "books"),)),
    )
    stored = reasons_json(reasons)
    # which interest matched is not stored (it belongs to the personalisation consent)
    assert reasons_from_json(stored) == (*reasons[:2], Reason(ReasonCode.SHARED_INTEREST))
    assert "books" not in stored
    # a code from a newer version is skipped, the rest still read
    assert reasons_from_json('[["teleported", {}], ["fresh", {}]]') == (Reason(ReasonCode.FRESH),)


def test_an_event_is_announced_until_it_is_over() -> None:
    # given an event at 19:30 in five days, without an end
    evening = datetime(2026, 6, 6, 19, 30, tzinfo=BERLIN)
    event = content(1, None, kind=ContentKind.EVENT, window=Window(starts_at=evening))
    world = index([event], [], [TP])

    def shown(at: datetime) -> bool:
        return bool(decide(world, Contact(at, "de", Mode.PULL, TP.id), Usage(), 1).picks)

    # then it is shown from now until three hours after it began, not after
    assert shown(BASE)
    assert shown(evening + timedelta(hours=2, minutes=59))
    assert not shown(evening + timedelta(hours=3))


def test_random_draws_shops_not_items() -> None:
    # given one shop with ten items and one with a single item
    many, one = shop(0, "24/7"), shop(1, "24/7")
    items = [content(i, many.id) for i in range(10)] + [content(10, one.id)]
    rules = CityRules(control_share=0.0, max_picks=1, strategy=Strategy.RANDOM)
    world = index(items, [many, one], [TP], rules)
    # when 400 visitors scan
    owners = [
        decide(world, Contact(BASE, "de", Mode.PULL, TP.id), Usage(), seed).picks[0].content.shop_id
        for seed in range(400)
    ]
    # then each shop is drawn about half the time
    assert 150 < owners.count(one.id) < 250
