"""Content a shop or the city publishes: offers, stories, events and job postings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.errors import N_, InvalidInput

MAX_TITLE = 120
MAX_TARGETS = 200
MAX_RADIUS_M = 5_000
MAX_STOCK = 1_000_000
MAX_PER_PERSON = 100
# Every change of an item's title or text is a version; older ones than this many are dropped.
CONTENT_VERSIONS_KEPT = 50
EVENT_LENGTH = timedelta(hours=3)  # how long an event without an end is announced past its start
WEEKDAYS = frozenset(range(7))  # 0 = Monday, as date.weekday()


class ContentKind(StrEnum):
    OFFER = "offer"
    STORY = "story"
    EVENT = "event"
    JOB = "job"


class ContentStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # waits for the city's approval
    PUBLISHED = "published"
    REJECTED = "rejected"  # the city said no, with a message; editing makes it a draft again
    EXPIRED = "expired"


class Interest(StrEnum):
    """What a visitor may say they like (with consent for personalisation), and content targets."""

    FASHION = "fashion"
    FOOD = "food"
    BOOKS = "books"
    CULTURE = "culture"
    FAMILY = "family"
    SPORTS = "sports"
    BEAUTY = "beauty"
    HOME = "home"
    TECH = "tech"
    GIFTS = "gifts"
    CRAFTS = "crafts"
    OUTDOOR = "outdoor"
    # Special categories of personal data (Art. 9 GDPR). They are named so that a request to
    # target by them gets its own clear refusal, but nothing may ever be targeted by them and
    # no visitor profile may hold them.
    HEALTH = "health"
    RELIGION = "religion"
    POLITICS = "politics"


SPECIAL_INTERESTS = frozenset({Interest.HEALTH, Interest.RELIGION, Interest.POLITICS})

# How an interest is named to people (msgids; the special categories are never shown).
INTEREST_LABELS: dict[Interest, str] = {
    Interest.FASHION: N_("Fashion"),
    Interest.FOOD: N_("Food and drink"),
    Interest.BOOKS: N_("Books"),
    Interest.CULTURE: N_("Culture"),
    Interest.FAMILY: N_("Family"),
    Interest.SPORTS: N_("Sports"),
    Interest.BEAUTY: N_("Beauty"),
    Interest.HOME: N_("Home and living"),
    Interest.TECH: N_("Technology"),
    Interest.GIFTS: N_("Gifts"),
    Interest.CRAFTS: N_("Crafts"),
    Interest.OUTDOOR: N_("Outdoors"),
}


class LimitPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    CAMPAIGN = "campaign"


def period_key(period: LimitPeriod, day: date) -> str:
    """The counter key of the period `day` falls in: the day, its ISO week, or the campaign."""
    if period is LimitPeriod.DAY:
        return f"d{day.isoformat()}"
    if period is LimitPeriod.WEEK:
        year, week, _ = day.isocalendar()
        return f"w{year}-{week:02d}"
    return "c"


class JobType(StrEnum):
    FULL_TIME = "full-time"
    PART_TIME = "part-time"
    MINI_JOB = "mini-job"
    APPRENTICESHIP = "apprenticeship"
    INTERNSHIP = "internship"


@dataclass(frozen=True, slots=True)
class Window:
    """When content may be shown: an overall span, weekdays and a daily time range (local)."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    weekdays: frozenset[int] = WEEKDAYS
    day_start: time | None = None
    day_end: time | None = None

    def contains(self, at: datetime, tz: ZoneInfo) -> bool:
        local = at.astimezone(tz)
        return self.contains_at(at, local.weekday(), local.time())

    def contains_at(self, at: datetime, weekday: int, local: time) -> bool:
        """The same, with the local weekday and (naive) time of `at` worked out already."""
        if self.starts_at is not None and at < self.starts_at:
            return False
        if self.ends_at is not None and at >= self.ends_at:
            return False
        if weekday not in self.weekdays:
            return False
        if self.day_start is not None and local < self.day_start:
            return False
        return not (self.day_end is not None and local >= self.day_end)


@dataclass(frozen=True, slots=True)
class CouponTerms:
    """A coupon that comes with an offer: how many there are and how many one person may use."""

    stock: int | None = None  # None: unlimited
    per_person: int | None = None  # None: no limit per person
    period: LimitPeriod = LimitPeriod.CAMPAIGN


@dataclass(frozen=True, slots=True)
class ContentVersion:
    """One saved state of an item's title and text: its Markdown source and its HTML."""

    id: int
    content_id: UUID
    title: str
    source: str
    html: str
    author_id: UUID | None
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Targeting:
    """Where and for whom; no place given means everywhere in the city."""

    zone_ids: frozenset[UUID] = frozenset()
    touchpoint_ids: frozenset[UUID] = frozenset()
    radius_m: int | None = None  # around the shop
    languages: frozenset[str] = frozenset()  # empty: every language
    interests: frozenset[Interest] = frozenset()  # empty: everybody

    @property
    def everywhere(self) -> bool:
        return not (self.zone_ids or self.touchpoint_ids or self.radius_m)


@dataclass(frozen=True, slots=True)
class Content:
    """One offer, story, event or job posting; `shop_id` None means the city publishes it."""

    id: UUID
    city_id: UUID
    shop_id: UUID | None
    kind: ContentKind
    status: ContentStatus
    title: str
    body_html: str
    language: str
    window: Window
    targeting: Targeting
    coupon: CouponTerms | None = None
    image_id: UUID | None = None
    place: str = ""  # events: where
    registration: str = ""  # events: a web address or e-mail for registration
    job_type: JobType | None = None
    prescription_only: bool = False  # an offer about prescription-only medicines
    # The Markdown the text was written in; empty for items from before the editor kept it.
    body_source: str = ""
    flags: tuple[str, ...] = ()  # the rules that asked for approval (for the moderation queue)
    review_note: str = ""  # the city's message when it rejects
    created_at: datetime | None = None
    updated_at: datetime | None = None
    published_at: datetime | None = None
    sequence: int = 0  # raised on each change of time, place or status (iCalendar's SEQUENCE)

    @property
    def source(self) -> str:
        """What the editor shows: the Markdown, or the HTML of an item written before it was
        kept (HTML renders unchanged)."""
        return self.body_source or self.body_html

    @property
    def shown(self) -> Window:
        """When it may be shown. For an event the window's start is the event's own time: it is
        announced from publication until it ends (its end, or EVENT_LENGTH after the start)."""
        window = self.window
        if self.kind is not ContentKind.EVENT:
            return window
        end = window.ends_at
        if end is None and window.starts_at is not None:
            end = window.starts_at + EVENT_LENGTH
        return Window(None, end, window.weekdays, window.day_start, window.day_end)


class Action(StrEnum):
    SUBMIT = "submit"  # the retailer is done; publish now or ask the city
    APPROVE = "approve"
    REJECT = "reject"
    WITHDRAW = "withdraw"  # back to draft
    EXPIRE = "expire"


_TRANSITIONS: dict[tuple[ContentStatus, Action], ContentStatus] = {
    (ContentStatus.DRAFT, Action.SUBMIT): ContentStatus.SUBMITTED,
    (ContentStatus.REJECTED, Action.SUBMIT): ContentStatus.SUBMITTED,
    (ContentStatus.SUBMITTED, Action.APPROVE): ContentStatus.PUBLISHED,
    (ContentStatus.SUBMITTED, Action.REJECT): ContentStatus.REJECTED,
    (ContentStatus.SUBMITTED, Action.WITHDRAW): ContentStatus.DRAFT,
    (ContentStatus.PUBLISHED, Action.WITHDRAW): ContentStatus.DRAFT,
    (ContentStatus.PUBLISHED, Action.EXPIRE): ContentStatus.EXPIRED,
    (ContentStatus.EXPIRED, Action.WITHDRAW): ContentStatus.DRAFT,
}


def next_status(current: ContentStatus, action: Action, *, needs_approval: bool) -> ContentStatus:
    """The status after `action`; submitting publishes at once unless the city approves first."""
    status = _TRANSITIONS.get((current, action))
    if status is None:
        raise InvalidInput(
            "status",
            N_("This cannot be done now: the content is %(status)s."),
            status=current.value,
        )
    if status is ContentStatus.SUBMITTED and not needs_approval:
        return ContentStatus.PUBLISHED
    return status


def clean_window(
    starts_at: datetime | None,
    ends_at: datetime | None,
    weekdays: object = None,
    day_start: time | None = None,
    day_end: time | None = None,
) -> Window:
    """A checked window: ends after it starts, on known weekdays, times in order."""
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        raise InvalidInput("ends_at", N_("The end lies before the start."))
    days = WEEKDAYS if weekdays is None else frozenset(_weekday(d) for d in _items(weekdays))
    if not days:
        raise InvalidInput("weekdays", N_("Choose at least one weekday."))
    if (day_start is None) != (day_end is None):
        raise InvalidInput("day_end", N_("Give both times of day, or neither."))
    if day_start is not None and day_end is not None and day_end <= day_start:
        raise InvalidInput("day_end", N_("The end of the day's time lies before its start."))
    return Window(starts_at, ends_at, days, day_start, day_end)


def _weekday(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in WEEKDAYS:
        raise InvalidInput("weekdays", N_("Weekdays are numbers from 0 (Monday) to 6 (Sunday)."))
    return value


def _items(value: object) -> list[object]:
    if not isinstance(value, list | tuple | set | frozenset):
        raise InvalidInput("weekdays", N_("Weekdays are numbers from 0 (Monday) to 6 (Sunday)."))
    return list(value)


def clean_coupon(stock: object, per_person: object, period: object) -> CouponTerms:
    """Coupon terms: stock and per-person limit are whole numbers ≥ 1 (or none)."""
    return CouponTerms(
        stock=_bounded(stock, "coupon.stock", MAX_STOCK),
        per_person=_bounded(per_person, "coupon.per_person", MAX_PER_PERSON),
        period=_period(period),
    )


def _bounded(value: object, field: str, maximum: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, N_("Enter a whole number."))
    if value < 0:
        raise InvalidInput(field, N_("This cannot be negative."))
    if not 1 <= value <= maximum:
        raise InvalidInput(field, N_("Enter a number from 1 to %(max)s."), max=maximum)
    return value


def _period(value: object) -> LimitPeriod:
    try:
        return LimitPeriod(str(value if value is not None else LimitPeriod.CAMPAIGN))
    except ValueError as exc:
        raise InvalidInput(
            "coupon.period", N_("The limit applies per day, per week or per campaign.")
        ) from exc


def clean_interests(values: object, field: str = "interests") -> frozenset[Interest]:
    """Known interests, never a special category of personal data."""
    if values is None:
        return frozenset()
    if not isinstance(values, list | tuple | set | frozenset) or len(values) > len(Interest):
        raise InvalidInput(field, N_("Choose interests from the list."))
    interests: set[Interest] = set()
    for value in values:
        try:
            interest = Interest(str(value))
        except ValueError as exc:
            raise InvalidInput(
                field, N_("Unknown interest: %(value)s"), value=str(value)[:40]
            ) from exc
        if interest in SPECIAL_INTERESTS:
            raise InvalidInput(
                field,
                N_(
                    "Nothing may be targeted by %(value)s: it is a special category of "
                    "personal data (Art. 9 GDPR)."
                ),
                value=interest.value,
            )
        interests.add(interest)
    return frozenset(interests)


def clean_targeting(
    zone_ids: frozenset[UUID],
    touchpoint_ids: frozenset[UUID],
    radius_m: object,
    languages: frozenset[str],
    interests: object,
    *,
    known_zones: frozenset[UUID],
    known_touchpoints: frozenset[UUID],
    city_languages: tuple[str, ...],
) -> Targeting:
    """Targets that exist in this city; `known_*` are the city's own zones and touchpoints."""
    if len(zone_ids) + len(touchpoint_ids) > MAX_TARGETS:
        raise InvalidInput("targeting", N_("At most %(max)s places, please."), max=MAX_TARGETS)
    unknown_zone = next(iter(sorted(zone_ids - known_zones, key=str)), None)
    if unknown_zone is not None:
        raise InvalidInput("zone_ids", N_("Unknown zone: %(value)s"), value=str(unknown_zone))
    unknown_tp = next(iter(sorted(touchpoint_ids - known_touchpoints, key=str)), None)
    if unknown_tp is not None:
        raise InvalidInput(
            "touchpoint_ids", N_("Unknown touchpoint: %(value)s"), value=str(unknown_tp)
        )
    unknown_language = next(iter(sorted(languages - set(city_languages))), None)
    if unknown_language is not None:
        raise InvalidInput(
            "languages",
            N_("This city does not offer the language %(value)s."),
            value=unknown_language[:10],
        )
    radius = None
    if radius_m is not None:
        if isinstance(radius_m, bool) or not isinstance(radius_m, int):
            raise InvalidInput("radius_m", N_("Enter a whole number."))
        if not 10 <= radius_m <= MAX_RADIUS_M:
            raise InvalidInput(
                "radius_m", N_("The radius is from 10 to %(max)s metres."), max=MAX_RADIUS_M
            )
        radius = radius_m
    return Targeting(zone_ids, touchpoint_ids, radius, languages, clean_interests(interests))
