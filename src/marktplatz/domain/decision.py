"""The decision engine: what a contact should see now, each pick with its reasons."""

from __future__ import annotations

import hashlib
import random
from array import array
from bisect import bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from uuid import UUID

from marktplatz.domain.content import Content, ContentKind, Interest, LimitPeriod
from marktplatz.domain.decision_index import CityIndex, Match, Part

# Reasons live in decision_reasons; re-exported here for the callers that know them from here.
from marktplatz.domain.decision_reasons import REASON_TEXT as REASON_TEXT
from marktplatz.domain.decision_reasons import Reason as Reason
from marktplatz.domain.decision_reasons import ReasonCode as ReasonCode
from marktplatz.domain.decision_reasons import reasons_for
from marktplatz.domain.decision_reasons import reasons_from_json as reasons_from_json
from marktplatz.domain.decision_reasons import reasons_json as reasons_json
from marktplatz.domain.errors import N_
from marktplatz.domain.geo import Location
from marktplatz.domain.rules import Strategy
from marktplatz.domain.scoring import (
    FAIRNESS_CAP,
    JITTER,
    PLACEMENT_WEIGHT,
    Placement,
    age_days,
    distance_factor,
    draw,
    fairness,
    freshness,
    interest_factor,
)

FRESH_DAYS = 3  # younger content says "It is new."
CONTROL_KEY = -1  # the control group's draw, apart from every item's (keys count from 0)


class Mode(StrEnum):
    PUSH = "push"  # a notification the visitor did not ask for (beacon, geofence)
    PULL = "pull"  # the visitor asked: scanned a code, tapped a tag, opened a page


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


@dataclass(frozen=True, slots=True)
class _Moment:
    """The contact's time, worked out once per decision (every candidate needs it)."""

    at: datetime
    stamp: float
    weekday: int
    local: time


@dataclass(slots=True)
class _Scan:
    """One decision's state: the facts shared by every candidate, and caches."""

    index: CityIndex
    contact: Contact
    usage: Usage
    control: bool
    moment: _Moment
    average: float  # exposures per shop of the city today, for fairness
    opening: dict[UUID, str | None] = field(default_factory=dict)
    # Match.times answers for the window and the shop's hours (else they are checked in full).
    timed: bool = False


def decide(index: CityIndex, contact: Contact, usage: Usage, seed: int) -> Decision:
    """Rank what fits this contact now; deterministic for a given seed."""
    rules = index.rules
    local = contact.at.astimezone(index.tz)
    control = in_control_group(rules.control_share, contact, local.date().isoformat(), seed)
    if contact.mode is Mode.PUSH and rules.in_quiet_hours(local.time()):
        budget = _budget(contact, usage, rules.push_budget_per_day)
        return Decision((), control, rules.strategy, quiet=True, budget_left=budget)
    budget = _budget(contact, usage, rules.push_budget_per_day)
    limit = rules.max_picks if budget is None else min(rules.max_picks, budget)
    if limit <= 0:
        return Decision((), control, rules.strategy, budget_left=budget)
    shown = usage.shop_exposures_today
    stamp = contact.at.timestamp()
    scan = _Scan(
        index,
        contact,
        usage,
        control,
        _Moment(contact.at, stamp, local.weekday(), local.time()),
        # Over all the city's shops: one never shown today counts as shown 0 times.
        sum(shown.values()) / max(1, len(index.shops)),
        timed=index.coverage.covers(stamp),
    )
    if rules.strategy is Strategy.RANDOM:
        winners = _draw(scan, limit, seed)
    else:
        winners = _best(scan, limit, seed)
    picks = tuple(_pick(scan, match, score) for score, match in winners)
    return Decision(picks, control, rules.strategy, budget_left=budget)


def candidates(index: CityIndex, contact: Contact) -> Iterator[Match]:
    """Everything placed where the contact is (touchpoint, zone, radius, whole city), highest
    bound first; an item placed in several ways comes once for each."""
    if contact.touchpoint_id is not None:
        return iter(index.candidates_at(contact.touchpoint_id))
    if contact.location is not None:
        return iter(index.candidates_near(contact.location))
    return iter(())


def _best(scan: _Scan, limit: int, seed: int) -> list[tuple[float, Match]]:
    """The best item of each of the `limit` best owners (shops; city items count alone).

    Candidates come highest bound here first; the scan stops as soon as no later one can beat
    the owners already found, passes over one outside its times with a bisect, and skips one
    cheaply when its shop's fairness today keeps it below them, so a decision checks a few
    dozen items in full, not thousands.
    """
    best: dict[int, tuple[float, Match]] = {}
    floor = 0.0  # the limit-th best owner's score once `limit` owners are found
    fair_of: dict[int, float] = {}
    far_of, stamp, timed = _far(scan), scan.moment.stamp, scan.timed
    for bounds, run in _runs(scan):
        for bound, match in zip(bounds, run, strict=True):
            if bound <= floor:
                break  # this part is done; the next starts again from its best
            times = match.times
            if timed and times is not None and not bisect_right(times, stamp) & 1:
                continue
            owner = match.owner
            fair = fair_of.get(owner)
            if fair is None:
                fair = fair_of[owner] = _fairness(scan, match.content.shop_id)
            # No de-duplication by item: an item placed in several ways is scored for each (its
            # best way wins through the per-owner check), not only for the top bound's way.
            reach = bound / FAIRNESS_CAP * fair
            current = best.get(owner)
            if reach <= floor or (current is not None and current[0] >= reach):
                continue
            if not _may_show(scan, match):
                continue
            score = _score(scan, match, far_of) * fair * (1.0 + draw(seed, match.key) * JITTER)
            if (current is None or score > current[0]) and score > floor:
                best[owner] = (score, match)
                if len(best) >= limit:
                    floor = sorted([entry[0] for entry in best.values()])[-limit]
    return sorted(best.values(), key=_first, reverse=True)[:limit]


def _first(entry: tuple[float, Match]) -> float:
    return entry[0]


def _runs(scan: _Scan) -> list[Part]:
    """The candidates `_best` walks: at a touchpoint only the parts this visitor's interests
    can reach; by position all of them in one part."""
    contact = scan.contact
    if contact.touchpoint_id is None:
        found = tuple(candidates(scan.index, contact))
        return [(array("d", (m.bound for m in found)), found)]
    interests = contact.visitor.interests if contact.visitor else frozenset()
    return scan.index.runs_at(contact.touchpoint_id, interests)


def _far(scan: _Scan) -> tuple[float, ...]:
    """The distance factor from the contact's touchpoint to each shop, by shop key; empty for a
    contact by position, whose matches all carry their distance (None: the shop has none)."""
    touchpoint_id = scan.contact.touchpoint_id
    if touchpoint_id is None:
        return ()
    return scan.index.shop_factors.get(touchpoint_id, ())


def _fairness(scan: _Scan, shop_id: UUID | None) -> float:
    if shop_id is None:
        return 1.0
    return fairness(scan.usage.shop_exposures_today.get(shop_id, 0), scan.average)


def _draw(scan: _Scan, limit: int, seed: int) -> list[tuple[float, Match]]:
    """A fair draw: owners (shops; city items alone) in a random order, then one eligible item
    of each, so a shop with many items is not drawn more often than one with a single item."""
    # Ranking and draws, not secrets: a seeded generator makes every decision reproducible.
    rng = random.Random(seed)  # noqa: S311
    items: dict[int, dict[int, Match]] = {}
    for match in candidates(scan.index, scan.contact):
        items.setdefault(match.owner, {}).setdefault(match.key, match)  # best way of each item
    owners = list(items)
    chosen: list[tuple[float, Match]] = []
    for i in range(len(owners)):
        j = rng.randrange(i, len(owners))
        owners[i], owners[j] = owners[j], owners[i]
        choices = list(items[owners[i]].values())
        rng.shuffle(choices)
        for match in choices:
            if _in_times(scan, match) and _may_show(scan, match):
                chosen.append((round(1.0 - len(chosen) / (limit + 1), 6), match))
                break
        if len(chosen) == limit:
            break
    return chosen


def in_control_group(share: float, contact: Contact, day: str, seed: int) -> bool:
    """A consenting visitor stays in or out for a whole local day; others are drawn per contact."""
    if share <= 0:
        return False
    if contact.visitor is not None:
        key = f"{contact.visitor.pseudonym}:{day}".encode()
        daily = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest()) / 2**64
        return daily < share
    return draw(seed, CONTROL_KEY) < share


def exclusion(
    index: CityIndex, content: Content, contact: Contact, usage: Usage, control: bool
) -> Exclusion | None:
    """The first rule that keeps `content` from this contact, or None when it may be shown."""
    rules = index.rules
    local = contact.at.astimezone(index.tz)
    moment = _Moment(contact.at, contact.at.timestamp(), local.weekday(), local.time())
    if not content.shown.contains_at(contact.at, moment.weekday, moment.local):
        return Exclusion.WINDOW
    if not any(m.content.id == content.id for m in candidates(index, contact)):
        return Exclusion.NOT_HERE
    if contact.mode is Mode.PUSH and rules.in_quiet_hours(moment.local):
        return Exclusion.QUIET_HOURS
    found = _why_not(_Scan(index, contact, usage, control, moment, 0.0), content)
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


def _in_times(scan: _Scan, match: Match) -> bool:
    """Inside its window, its shop open (or opening soon) where needed, by Match.times."""
    times = match.times
    return not scan.timed or times is None or bisect_right(times, scan.moment.stamp) & 1 == 1


def _may_show(scan: _Scan, match: Match) -> bool:
    """Everything but the times (`_in_times`) when Match.times answers for them; in full else."""
    if scan.timed:
        return _why_not_timed(scan, match.content) is None
    return _why_not(scan, match.content) is None


def _why_not_timed(scan: _Scan, content: Content) -> Exclusion | None:
    """`_why_not` without the window and the opening hours (the fast path)."""
    return _not_for_them(scan, content) or _over_a_limit(scan, content)


def _why_not(scan: _Scan, content: Content) -> Exclusion | None:
    """The first rule that keeps `content` from this contact, each checked in full."""
    found = _not_for_them(scan, content)
    if found is not None:
        return found
    moment = scan.moment
    if not content.shown.contains_at(moment.at, moment.weekday, moment.local):
        return Exclusion.WINDOW
    needs_open = content.kind in scan.index.rules.open_required and content.shop_id is not None
    if needs_open and _open_state(scan, content) is None:
        return Exclusion.CLOSED
    return _over_a_limit(scan, content)


def _not_for_them(scan: _Scan, content: Content) -> Exclusion | None:
    """Interests, language and the control group: who the item is for."""
    contact, target, visitor = scan.contact, content.targeting, scan.contact.visitor
    if target.interests and (visitor is None or not target.interests & visitor.interests):
        return Exclusion.INTEREST
    if target.languages and contact.language not in target.languages:
        return Exclusion.LANGUAGE
    if content.kind is ContentKind.OFFER and scan.control:
        return Exclusion.CONTROL
    return None


def _over_a_limit(scan: _Scan, content: Content) -> Exclusion | None:
    """Stock, the visitor's coupon limit and repeats of a pushed item."""
    usage, coupon, visitor = scan.usage, content.coupon, scan.contact.visitor
    stock = coupon.stock if coupon is not None else None
    if stock is not None and usage.stock_used.get(content.id, 0) >= stock:
        return Exclusion.STOCK
    if visitor is None:
        return None
    per_person = coupon.per_person if coupon is not None else None
    if coupon is not None and per_person is not None:
        claimed = usage.claimed.get((content.id, coupon.period), 0)
        if claimed >= per_person:
            return Exclusion.PERSON_LIMIT
    repeats = scan.index.rules.repeats_per_day
    if scan.contact.mode is Mode.PUSH and usage.seen_today.get(content.id, 0) >= repeats:
        return Exclusion.REPEATS
    return None


def _open_state(scan: _Scan, content: Content) -> str | None:
    shop_id = content.shop_id
    if shop_id is None:
        return None
    if shop_id not in scan.opening:
        soon = scan.index.rules.opening_soon_minutes * 60.0
        scan.opening[shop_id] = scan.index.shops[shop_id].open_state(scan.moment.stamp, soon)
    return scan.opening[shop_id]


def _score(scan: _Scan, match: Match, far_of: tuple[float, ...]) -> float:
    """The score before fairness (which `_best` applies per shop)."""
    content, visitor = match.content, scan.contact.visitor
    shared = len(content.targeting.interests & visitor.interests) if visitor else 0
    distance, owner = match.distance_m, match.owner
    if distance is not None:
        near = distance_factor(distance)
    else:
        near = far_of[owner] if 0 <= owner < len(far_of) else 1.0
    return (
        PLACEMENT_WEIGHT[match.placement]
        * near
        * interest_factor(shared)
        * freshness(age_days(content.published_at, scan.moment.at))
    )


def _pick(scan: _Scan, match: Match, score: float) -> Pick:
    """A winner with its reasons (worked out only for the few that are shown)."""
    content, visitor = match.content, scan.contact.visitor
    drawn = scan.index.rules.strategy is Strategy.RANDOM
    shared = () if drawn or visitor is None else content.targeting.interests & visitor.interests
    age = age_days(content.published_at, scan.moment.at)
    reasons = reasons_for(
        *_place(scan, match),
        _open_state(scan, content),
        tuple(sorted(shared)),
        not drawn and age is not None and age < FRESH_DAYS,
        drawn,
    )
    return Pick(content, round(score, 6), reasons)


def _place(scan: _Scan, match: Match) -> tuple[Placement, str]:
    """How the match reached the contact, and what its reason says about that."""
    if match.placement is Placement.ZONE:
        return Placement.ZONE, _zone_name(scan, match)
    if match.placement is Placement.NEARBY:
        # To 50 m: exact distances to several shops would pin down where the visitor stands.
        return Placement.NEARBY, str(round((match.distance_m or 0) / 50) * 50)
    return match.placement, ""


def _zone_name(scan: _Scan, match: Match) -> str:
    zone_id = match.zone_id
    if zone_id is None and scan.contact.touchpoint_id is not None:
        zone_id = scan.index.touchpoints[scan.contact.touchpoint_id].zone_id
    zone = scan.index.zones.get(zone_id) if zone_id else None
    return zone.name if zone else ""
