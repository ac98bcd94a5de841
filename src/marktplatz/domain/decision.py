"""The decision engine: what a contact should see now, each pick with its reasons."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from marktplatz.domain.content import Content, ContentKind, Interest, LimitPeriod
from marktplatz.domain.decision_index import CityIndex, Match, Placement, distance_m
from marktplatz.domain.errors import N_
from marktplatz.domain.geo import Location
from marktplatz.domain.rules import Strategy

FRESH_HALF_LIFE_DAYS = 7.0
FAIRNESS_POWER = 3
PLACEMENT_WEIGHT = {
    Placement.TOUCHPOINT: 1.0,
    Placement.ZONE: 0.8,
    Placement.NEARBY: 0.7,
    Placement.CITY: 0.5,
}


class Mode(StrEnum):
    PUSH = "push"  # a notification the visitor did not ask for (beacon, geofence)
    PULL = "pull"  # the visitor asked: scanned a code, tapped a tag, opened a page


class ReasonCode(StrEnum):
    TOUCHPOINT = "touchpoint"
    ZONE = "zone"
    NEARBY = "nearby"
    CITY = "city"
    OPEN_NOW = "open-now"
    OPENS_SOON = "opens-soon"
    INTEREST = "interest"
    FRESH = "fresh"
    DRAW = "draw"


# "Why am I seeing this?" — one sentence per recorded reason, translated at the edge.
REASON_TEXT: dict[ReasonCode, str] = {
    ReasonCode.TOUCHPOINT: N_("It was placed at this very spot."),
    ReasonCode.ZONE: N_("It is meant for the area you are in: %(zone)s."),
    ReasonCode.NEARBY: N_("The shop is %(metres)s m from here."),
    ReasonCode.CITY: N_("It is shown everywhere in the city centre."),
    ReasonCode.OPEN_NOW: N_("The shop is open now."),
    ReasonCode.OPENS_SOON: N_("The shop opens soon."),
    ReasonCode.INTEREST: N_("You said you are interested in %(interest)s."),
    ReasonCode.FRESH: N_("It is new."),
    ReasonCode.DRAW: N_(
        "It was drawn at random among everything that fits, to be fair to all shops."
    ),
}


class Exclusion(StrEnum):
    """Why a candidate was left out (for previews and "why is my offer not shown?")."""

    WINDOW = "window"
    LANGUAGE = "language"
    INTEREST = "interest"
    CLOSED = "closed"
    STOCK = "stock"
    PERSON_LIMIT = "person-limit"
    REPEATS = "repeats"
    CONTROL = "control"
    QUIET_HOURS = "quiet-hours"
    BUDGET = "budget"
    NOT_HERE = "not-here"
    RANKED_LOWER = "ranked-lower"


# For previews: why an item is not among what a visitor here would see now.
EXCLUSION_TEXT: dict[Exclusion, str] = {
    Exclusion.WINDOW: N_("It is outside its validity window (dates, weekdays or times of day)."),
    Exclusion.LANGUAGE: N_("It is meant for another language."),
    Exclusion.INTEREST: N_(
        "It targets interests; only visitors who shared a matching interest see it."
    ),
    Exclusion.CLOSED: N_("The shop is closed and does not open soon (or its hours are missing)."),
    Exclusion.STOCK: N_("Its coupons are used up."),
    Exclusion.PERSON_LIMIT: N_("This visitor has used the coupon as often as allowed."),
    Exclusion.REPEATS: N_("This visitor was already shown it often enough today."),
    Exclusion.CONTROL: N_("This contact is in the control group, which sees no offers."),
    Exclusion.QUIET_HOURS: N_("Nothing is pushed during the city's quiet hours."),
    Exclusion.BUDGET: N_("This visitor's notifications for today are used up."),
    Exclusion.NOT_HERE: N_("It is not placed at this touchpoint, its zone or near it."),
    Exclusion.RANKED_LOWER: N_("Other items fit better here now; only the best few are shown."),
}


@dataclass(frozen=True, slots=True)
class Reason:
    code: ReasonCode
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Visitor:
    """A visitor who consented to personalisation: pseudonym and the interests they chose."""

    pseudonym: str
    interests: frozenset[Interest] = frozenset()


@dataclass(frozen=True, slots=True)
class Contact:
    """A phone meeting a touchpoint (resolved from beacon ids or a code) or a position."""

    at: datetime
    language: str
    mode: Mode
    touchpoint_id: UUID | None = None
    location: Location | None = None
    visitor: Visitor | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Counters read before deciding: the visitor's own (only with consent) and the city's."""

    pushed_today: int = 0
    seen_today: Mapping[UUID, int] = field(default_factory=dict)
    claimed: Mapping[tuple[UUID, LimitPeriod], int] = field(default_factory=dict)
    stock_used: Mapping[UUID, int] = field(default_factory=dict)
    shop_exposures_today: Mapping[UUID, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Pick:
    content: Content
    score: float
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class Decision:
    picks: tuple[Pick, ...]
    control: bool  # this contact belongs to the control group: no offer was shown
    strategy: Strategy
    quiet: bool = False  # a push in quiet hours: nothing is pushed
    budget_left: int | None = None  # pushes the visitor may still get today (None: pull)


def decide(index: CityIndex, contact: Contact, usage: Usage, seed: int) -> Decision:
    """Rank what fits this contact now; deterministic for a given seed."""
    rules = index.rules
    # Ranking and draws, not secrets: a seeded generator makes every decision reproducible.
    rng = random.Random(seed)  # noqa: S311
    local = contact.at.astimezone(index.tz)
    control = in_control_group(rules.control_share, contact, local.date().isoformat(), seed)
    if contact.mode is Mode.PUSH and rules.in_quiet_hours(local.time().replace(tzinfo=None)):
        return Decision((), control, rules.strategy, quiet=True, budget_left=0)
    budget = _budget(contact, usage, rules.push_budget_per_day)
    eligible = [
        (match, state)
        for match in candidates(index, contact)
        if (state := _check(index, match.content, contact, usage, control)) is not None
    ]
    ranked = _rank(index, contact, usage, eligible, rng)
    limit = rules.max_picks if budget is None else min(rules.max_picks, budget)
    return Decision(
        tuple(_one_per_shop(ranked, limit)), control, rules.strategy, budget_left=budget
    )


def candidates(index: CityIndex, contact: Contact) -> list[Match]:
    """Everything placed where the contact is (touchpoint, zone, radius, whole city)."""
    if contact.touchpoint_id is not None:
        if contact.touchpoint_id not in index.touchpoints:
            return []
        matches = list(index.candidates_at(contact.touchpoint_id))
        seen = {m.content.id for m in matches}
        matches += [Match(c, Placement.CITY, None) for c in index.everywhere if c.id not in seen]
        return matches
    if contact.location is not None:
        return index.candidates_near(contact.location)
    return []


def in_control_group(share: float, contact: Contact, day: str, seed: int) -> bool:
    """A consenting visitor stays in or out for a whole local day; others are drawn per contact."""
    if share <= 0:
        return False
    if contact.visitor is not None:
        key = f"{contact.visitor.pseudonym}:{day}".encode()
        draw = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest()) / 2**64
        return draw < share
    return random.Random(seed ^ 0x5EED).random() < share  # noqa: S311


def exclusion(
    index: CityIndex, content: Content, contact: Contact, usage: Usage, control: bool
) -> Exclusion | None:
    """The first rule that keeps `content` from this contact, or None when it may be shown."""
    rules = index.rules
    if not content.window.contains(contact.at, index.tz):
        return Exclusion.WINDOW
    if not any(m.content.id == content.id for m in candidates(index, contact)):
        return Exclusion.NOT_HERE
    if contact.mode is Mode.PUSH and rules.in_quiet_hours(contact.at.astimezone(index.tz).time()):
        return Exclusion.QUIET_HOURS
    found = _why_not(index, content, contact, usage, control)
    if found is None and _budget(contact, usage, rules.push_budget_per_day) == 0:
        return Exclusion.BUDGET
    return found


def _budget(contact: Contact, usage: Usage, per_day: int) -> int | None:
    if contact.mode is not Mode.PUSH:
        return None
    # Without consent to personalisation nobody can count a visitor's pushes, so nothing is
    # pushed to them at all: the budget cannot be kept otherwise.
    if contact.visitor is None:
        return 0
    return max(0, per_day - usage.pushed_today)


def _check(
    index: CityIndex, content: Content, contact: Contact, usage: Usage, control: bool
) -> str | None:
    """ "open"/"soon"/"" when the content may be shown, None when not (the fast path)."""
    if _why_not(index, content, contact, usage, control) is not None:
        return None
    return _open_state(index, content, contact) or ""


def _why_not(
    index: CityIndex, content: Content, contact: Contact, usage: Usage, control: bool
) -> Exclusion | None:
    rules = index.rules
    if not content.window.contains(contact.at, index.tz):
        return Exclusion.WINDOW
    target = content.targeting
    if target.languages and contact.language not in target.languages:
        return Exclusion.LANGUAGE
    if target.interests and (
        contact.visitor is None or not target.interests & contact.visitor.interests
    ):
        return Exclusion.INTEREST
    if content.kind is ContentKind.OFFER and control:
        return Exclusion.CONTROL
    if (
        content.kind in rules.open_required
        and content.shop_id is not None
        and _open_state(index, content, contact) is None
    ):
        return Exclusion.CLOSED
    coupon = content.coupon
    if (
        coupon is not None
        and coupon.stock is not None
        and usage.stock_used.get(content.id, 0) >= coupon.stock
    ):
        return Exclusion.STOCK
    if contact.visitor is None:
        return None
    if (
        coupon is not None
        and coupon.per_person is not None
        and usage.claimed.get((content.id, coupon.period), 0) >= coupon.per_person
    ):
        return Exclusion.PERSON_LIMIT
    if contact.mode is Mode.PUSH and usage.seen_today.get(content.id, 0) >= rules.repeats_per_day:
        return Exclusion.REPEATS
    return None


def _open_state(index: CityIndex, content: Content, contact: Contact) -> str | None:
    if content.shop_id is None:
        return None
    shop = index.shops[content.shop_id]
    return shop.open_state(contact.at.timestamp(), index.rules.opening_soon_minutes * 60.0)


def _rank(
    index: CityIndex,
    contact: Contact,
    usage: Usage,
    eligible: list[tuple[Match, str]],
    rng: random.Random,
) -> list[Pick]:
    if index.rules.strategy is Strategy.RANDOM:
        order = [(rng.random(), match, state) for match, state in eligible]
        order.sort(key=lambda item: item[0], reverse=True)
        return [
            Pick(
                m.content,
                round(s, 6),
                (Reason(ReasonCode.DRAW), *_place_reasons(index, contact, m), *_open_reasons(st)),
            )
            for s, m, st in order
        ]
    shown = usage.shop_exposures_today
    fair = (sum(shown.values()) / len(shown)) if shown else 0.0
    picks = [_scored(index, contact, usage, match, state, fair, rng) for match, state in eligible]
    picks.sort(key=lambda p: p.score, reverse=True)
    return picks


def _scored(
    index: CityIndex,
    contact: Contact,
    usage: Usage,
    match: Match,
    state: str,
    fair: float,
    rng: random.Random,
) -> Pick:
    content = match.content
    score = PLACEMENT_WEIGHT[match.placement]
    reasons = [*_place_reasons(index, contact, match), *_open_reasons(state)]
    distance = _distance(index, contact, match)
    if distance is not None:
        score *= 1.0 / (1.0 + distance / 500.0)
    shared = (
        content.targeting.interests & contact.visitor.interests if contact.visitor else frozenset()
    )
    if shared:
        score *= 1.0 + 0.5 * len(shared)
        reasons += [Reason(ReasonCode.INTEREST, (("interest", i.value),)) for i in sorted(shared)]
    if content.published_at is not None:
        age_days = max(0.0, (contact.at - content.published_at).total_seconds() / 86_400)
        freshness = 2.0 ** (-age_days / FRESH_HALF_LIFE_DAYS)
        score *= 0.5 + 0.5 * freshness
        if age_days < 3:
            reasons.append(Reason(ReasonCode.FRESH))
    if content.shop_id is not None:
        # Fairness: a shop shown more often than the average today gives way steeply (cubed),
        # so that over a day relevance and distance only tilt the shares, never decide them.
        own = usage.shop_exposures_today.get(content.shop_id, 0)
        score *= ((fair + 1.0) / (own + 1.0)) ** FAIRNESS_POWER
    score *= 1.0 + rng.random() * 1e-6  # breaks ties without favouring anyone
    return Pick(content, round(score, 6), tuple(reasons))


def _distance(index: CityIndex, contact: Contact, match: Match) -> float | None:
    if match.distance_m is not None:
        return match.distance_m
    shop = index.shops.get(match.content.shop_id) if match.content.shop_id else None
    if shop is None or shop.location is None:
        return None
    here = contact.location
    if contact.touchpoint_id is not None:
        here = index.touchpoints[contact.touchpoint_id].location
    return None if here is None else distance_m(here, shop.location)


def _place_reasons(index: CityIndex, contact: Contact, match: Match) -> tuple[Reason, ...]:
    if match.placement is Placement.TOUCHPOINT:
        return (Reason(ReasonCode.TOUCHPOINT),)
    if match.placement is Placement.ZONE:
        return (Reason(ReasonCode.ZONE, (("zone", _zone_name(index, contact, match)),)),)
    if match.placement is Placement.NEARBY:
        return (Reason(ReasonCode.NEARBY, (("metres", str(round(match.distance_m or 0))),)),)
    return (Reason(ReasonCode.CITY),)


def _zone_name(index: CityIndex, contact: Contact, match: Match) -> str:
    zone_id = match.zone_id
    if zone_id is None and contact.touchpoint_id is not None:
        zone_id = index.touchpoints[contact.touchpoint_id].zone_id
    zone = index.zones.get(zone_id) if zone_id else None
    return zone.name if zone else ""


def _open_reasons(state: str) -> tuple[Reason, ...]:
    if state == "open":
        return (Reason(ReasonCode.OPEN_NOW),)
    if state == "soon":
        return (Reason(ReasonCode.OPENS_SOON),)
    return ()


def _one_per_shop(ranked: Iterable[Pick], limit: int) -> list[Pick]:
    """At most one item per shop in a decision, so that no shop fills the screen."""
    picks: list[Pick] = []
    shops: set[UUID] = set()
    for pick in ranked:
        if len(picks) >= limit:
            break
        owner = pick.content.shop_id or pick.content.id
        if owner in shops:
            continue
        shops.add(owner)
        picks.append(pick)
    return picks
