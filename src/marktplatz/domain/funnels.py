"""Funnels: ordered steps from the sofa to the counter, their spec, reference count and safety."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.journey import EventKind
from marktplatz.domain.kanon import K

MIN_STEPS = 2
MAX_STEPS = 6
MAX_SPEC_CHARS = 400
DEFAULT_SPEC = "web,contact,contact:shop,redeemed"
DEFAULT_WINDOW = timedelta(days=7)
MAX_WINDOW_DAYS = 31
MAX_PERIOD = timedelta(days=366)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,59}$")
_CONTENT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class StepKind(StrEnum):
    """What a visitor did at a step; each is one kind of journey event."""

    WEB = "web"
    CONTACT = "contact"
    EXPOSED = "exposed"
    VIEWED = "viewed"
    SAVED = "saved"
    REDEEMED = "redeemed"


EVENT_OF_STEP: Mapping[StepKind, EventKind] = {
    StepKind.WEB: EventKind.PAGE_VIEW,
    StepKind.CONTACT: EventKind.TOUCHPOINT_CONTACT,
    StepKind.EXPOSED: EventKind.CONTENT_EXPOSED,
    StepKind.VIEWED: EventKind.CONTENT_VIEWED,
    StepKind.SAVED: EventKind.CONTENT_SAVED,
    StepKind.REDEEMED: EventKind.COUPON_REDEEMED,
}
CONTENT_STEPS = frozenset({StepKind.EXPOSED, StepKind.VIEWED, StepKind.SAVED, StepKind.REDEEMED})


@dataclass(frozen=True, slots=True)
class Step:
    """One step as written: a kind and at most one qualifier.

    `zone`/`shop` hold a slug, or "*" for any zone or shop (`contact:zone`, `contact:shop`);
    `content` an item id. A contact is placed by its touchpoint, content by its shop or id.
    """

    kind: StepKind
    zone: str | None = None
    shop: str | None = None
    content: str | None = None

    def text(self) -> str:
        """The step in the compact form it was parsed from."""
        for name, value in (("zone", self.zone), ("shop", self.shop), ("content", self.content)):
            if value == "*":
                return f"{self.kind.value}:{name}"
            if value is not None:
                return f"{self.kind.value}:{name}={value}"
        return self.kind.value


@dataclass(frozen=True, slots=True)
class FunnelSpec:
    """2–6 steps and the window in which all steps after the first must follow it."""

    steps: tuple[Step, ...]
    window: timedelta = DEFAULT_WINDOW

    def text(self) -> str:
        return ",".join(step.text() for step in self.steps)

    def shops(self) -> set[str]:
        """Slugs of the shops the steps name ("*": any shop)."""
        return {step.shop for step in self.steps if step.shop is not None}


def parse_funnel(text: object, window_days: object = None) -> FunnelSpec:
    """The spec of a compact text such as `web,contact:zone=markt,contact:shop,redeemed`."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInput("steps", N_("Name the steps of the funnel, separated by commas."))
    if len(text) > MAX_SPEC_CHARS:
        raise InvalidInput("steps", N_("The steps are too long: at most 400 characters."))
    parts = [part.strip() for part in text.split(",")]
    if not MIN_STEPS <= len(parts) <= MAX_STEPS:
        raise InvalidInput("steps", N_("A funnel has between 2 and 6 steps."))
    steps = tuple(parse_step(part, number) for number, part in enumerate(parts, start=1))
    return FunnelSpec(steps, _window(window_days))


def _window(value: object) -> timedelta:
    if value is None or value == "":
        return DEFAULT_WINDOW
    days = value
    if isinstance(value, str) and value.strip().isdigit():
        days = int(value.strip())
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_WINDOW_DAYS:
        raise InvalidInput("window", N_("The window is between 1 and 31 days."))
    return timedelta(days=days)


def parse_step(text: str, number: int) -> Step:
    """One step: `kind`, `kind:zone`, `kind:shop`, or `kind:<zone|shop|content>=<value>`."""
    name, _, qualifier = text.partition(":")
    try:
        kind = StepKind(name.strip().lower())
    except ValueError:
        raise InvalidInput(
            "steps",
            N_(
                "Step %(number)s: “%(step)s” is not a step. Use web, contact, exposed, viewed, "
                "saved or redeemed."
            ),
            number=number,
            step=name.strip()[:40],
        ) from None
    if not qualifier:
        return Step(kind)
    key, has_value, value = qualifier.partition("=")
    return _qualified(kind, key.strip().lower(), value.strip() if has_value else "*", number)


def _qualified(kind: StepKind, key: str, value: str, number: int) -> Step:
    allowed = {"zone", "shop"} if kind is StepKind.CONTACT else {"shop", "content"}
    if kind is StepKind.WEB or key not in allowed:
        raise InvalidInput(
            "steps",
            N_(
                "Step %(number)s: a contact is narrowed by zone or shop, content steps by shop "
                "or content, a web visit by nothing."
            ),
            number=number,
        )
    pattern = _CONTENT_ID if key == "content" else _SLUG
    if (value != "*" and not pattern.match(value)) or (value == "*" and key == "content"):
        raise InvalidInput(
            "steps",
            N_("Step %(number)s: “%(value)s” is not a valid name."),
            number=number,
            value=value[:40],
        )
    return Step(kind, **{key: value})


@dataclass(frozen=True, slots=True)
class Period:
    """Where step 1 must fall: [start, end), both timezone-aware."""

    start: datetime
    end: datetime


def check_period(start: datetime, end: datetime) -> Period:
    """A period of at most a year that ends after it starts."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("period", N_("The period needs times with a timezone."))
    if not start < end:
        raise InvalidInput("period", N_("The period must end after it starts."))
    if end - start > MAX_PERIOD:
        raise InvalidInput("period", N_("A period is at most a year long."))
    return Period(start, end)


@dataclass(frozen=True, slots=True)
class Matcher:
    """A step resolved against the city: the event kind and, where narrowed, the touchpoints
    (by hex id) or content ids an event must name. An empty set matches nothing."""

    kind: EventKind
    touchpoints: frozenset[str] | None = None
    contents: frozenset[str] | None = None

    def matches(self, kind: str, touchpoint: str | None, content: str | None) -> bool:
        if kind != self.kind.value:
            return False
        if self.touchpoints is not None and touchpoint not in self.touchpoints:
            return False
        return self.contents is None or content in self.contents


@dataclass(frozen=True, slots=True)
class Visit:
    """One consented visitor's event as a funnel sees it (touchpoint as 32 hex digits)."""

    pseudonym: str
    kind: str
    at: datetime
    touchpoint: str | None
    content: str | None


def reference_counts(
    visits: Iterable[Visit],
    matchers: Sequence[Matcher],
    window: timedelta,
    start: datetime,
    end: datetime,
) -> list[int]:
    """Visitors reaching each step: the oracle the engines are tested against.

    A visitor reaches step k when some event of step 1 falls in [start, end) and events of
    steps 2..k follow, each strictly later than the one before, all within `window` of the
    first. For one first event the earliest match of each next step is the best choice, so
    every first event is tried with that greedy walk and the furthest step counts.
    """
    by_visitor: dict[str, list[Visit]] = {}
    for visit in visits:
        by_visitor.setdefault(visit.pseudonym, []).append(visit)
    counts = [0] * len(matchers)
    for events in by_visitor.values():
        events.sort(key=lambda visit: visit.at)
        for step in range(_reached(events, matchers, window, start, end)):
            counts[step] += 1
    return counts


def _reached(
    events: list[Visit],
    matchers: Sequence[Matcher],
    window: timedelta,
    start: datetime,
    end: datetime,
) -> int:
    best = 0
    for first in events:
        if not start <= first.at < end or not _hit(matchers[0], first):
            continue
        level, last = 1, first.at
        for event in events:
            if level == len(matchers):
                break
            if last < event.at <= first.at + window and _hit(matchers[level], event):
                level, last = level + 1, event.at
        best = max(best, level)
    return best


def _hit(matcher: Matcher, visit: Visit) -> bool:
    return matcher.matches(visit.kind, visit.touchpoint, visit.content)


def suppress_steps(counts: Sequence[int]) -> list[int | None]:
    """The counts to show: a step reached by fewer than K visitors is hidden, and so is every
    later one (it can only be smaller, and would tell about the same few people). A step nobody
    reached shows 0 (an empty step is no one's secret), unless one before it is hidden."""
    shown: list[int | None] = []
    for count in counts:
        if (shown and shown[-1] is None) or 0 < count < K:
            shown.append(None)
        else:
            shown.append(count)
    return shown
