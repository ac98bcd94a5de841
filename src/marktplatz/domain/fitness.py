"""Digital fitness: a shop's self-assessment and platform signals, scored per dimension."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from marktplatz.domain.errors import N_, InvalidInput

MIN_SHOPS_FOR_MEDIAN = 5  # fewer and a median would all but name the other shops' scores
WEAK_BELOW = 50  # a dimension under this score is one a workshop should take up
BUCKETS = ((0, 24), (25, 49), (50, 74), (75, 100))
GOOD_PICTURES = 3
GOOD_STORY_CHARS = 600
FRESH_DAYS = 30
MAX_STEPS = 6


class Dimension(StrEnum):
    VISIBILITY = "visibility"
    STORYTELLING = "storytelling"
    OFFERS = "offers"
    REVIEWS = "reviews"
    SOCIAL = "social"
    DATA = "data"


DIMENSION_LABELS: dict[Dimension, str] = {
    Dimension.VISIBILITY: N_("Being found"),
    Dimension.STORYTELLING: N_("Telling your story"),
    Dimension.OFFERS: N_("Offers and coupons"),
    Dimension.REVIEWS: N_("Reviews and replies"),
    Dimension.SOCIAL: N_("Social media"),
    Dimension.DATA: N_("Using your figures"),
}

# Share of a dimension's score that comes from the platform's signals; the rest from the
# answers. Reviews and social media have no signal here, so the answers alone count.
SIGNAL_WEIGHT: dict[Dimension, float] = {
    Dimension.VISIBILITY: 0.5,
    Dimension.STORYTELLING: 0.5,
    Dimension.OFFERS: 0.5,
    Dimension.REVIEWS: 0.0,
    Dimension.SOCIAL: 0.0,
    Dimension.DATA: 0.4,
}


class Link(StrEnum):
    """Where in the portal a next step is done."""

    PROFILE = "profile"
    STORY = "story"
    HOURS = "hours"
    CONTENT = "content"
    TOUCHPOINTS = "touchpoints"


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: str  # msgid
    points: int  # 0–100


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    dimension: Dimension
    text: str  # msgid
    options: tuple[Option, ...]
    advice: str  # msgid: the next step when the answer leaves room

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)


def _q(
    key: str, dim: Dimension, text: str, advice: str, *options: tuple[str, str, int]
) -> Question:
    return Question(key, dim, text, tuple(Option(*o) for o in options), advice)


_V, _S, _O = Dimension.VISIBILITY, Dimension.STORYTELLING, Dimension.OFFERS
_R, _M, _D = Dimension.REVIEWS, Dimension.SOCIAL, Dimension.DATA

QUESTIONS: tuple[Question, ...] = (
    _q(
        "hours_current",
        _V,
        N_("How up to date are your opening hours on Google and here?"),
        N_(
            "Check your opening hours on Google and here on the same day, and again before "
            "every holiday: nothing annoys customers more than a locked door."
        ),
        ("always", N_("Always right, also on holidays"), 100),
        ("mostly", N_("Mostly right, holidays are sometimes missing"), 60),
        ("unsure", N_("I am not sure"), 20),
        ("never", N_("I have never checked"), 0),
    ),
    _q(
        "google_profile",
        _V,
        N_("Do you look after your Google business profile?"),
        N_(
            "Claim your free Google business profile and add photos, your phone number and "
            "your website: most customers look for you there first."
        ),
        ("active", N_("Yes, with photos, and I answer questions there"), 100),
        ("claimed", N_("It is claimed, but I rarely look at it"), 50),
        ("unknown", N_("I don't know whether we have one"), 10),
        ("none", N_("No"), 0),
    ),
    _q(
        "website_mobile",
        _V,
        N_("How well does your website work on a phone?"),
        N_(
            "Open your own website on your phone: can you find address, opening hours and "
            "phone number within ten seconds? If not, ask your web designer for exactly that."
        ),
        ("good", N_("Well: address, hours and phone are found at once"), 100),
        ("okay", N_("It works, but it is fiddly"), 50),
        ("bad", N_("Badly, or I don't know"), 20),
        ("none", N_("We have no website"), 0),
    ),
    _q(
        "story_told",
        _S,
        N_("Can a stranger read online what makes your shop special?"),
        N_(
            "Write down in a few sentences who you are, since when you have been here and what "
            "you would recommend to a first-time customer, and put it on your profile."
        ),
        ("yes", N_("Yes, in our own words, with people and history"), 100),
        ("some", N_("A little, mostly the product range"), 50),
        ("no", N_("No, only address and hours"), 0),
    ),
    _q(
        "photos_fresh",
        _S,
        N_("How old are the photos of your shop online?"),
        N_(
            "Take three new photos on a bright morning: the shop window, the counter with you "
            "or your team, and one favourite product."
        ),
        ("recent", N_("Less than a year"), 100),
        ("older", N_("One to three years"), 50),
        ("old", N_("Older, or there are none"), 0),
    ),
    _q(
        "news_rhythm",
        _S,
        N_("How often do you tell something new: new goods, an event, a tip?"),
        N_(
            "Plan one short story a month: a new arrival, a tip from the counter, a look "
            "behind the scenes. Ten minutes are enough."
        ),
        ("weekly", N_("Every week"), 100),
        ("monthly", N_("About once a month"), 70),
        ("rarely", N_("A few times a year"), 30),
        ("never", N_("Hardly ever"), 0),
    ),
    _q(
        "offers_online",
        _O,
        N_("Do you show your offers and promotions online too?"),
        N_(
            "Put your next promotion here as an offer as well: it then reaches people on the "
            "street nearby, not only those already in the shop."
        ),
        ("always", N_("Yes, every promotion"), 100),
        ("sometimes", N_("Now and then"), 50),
        ("never", N_("No, only in the shop"), 0),
    ),
    _q(
        "coupon_till",
        _O,
        N_("Does your team know how to redeem a coupon at the till?"),
        N_(
            "Show everyone at the till once how a coupon is redeemed: scan the code or type it "
            "in. It takes two minutes, and no customer has to wait."
        ),
        ("everyone", N_("Yes, everyone"), 100),
        ("some", N_("Only some of us"), 50),
        ("no", N_("No, not yet"), 0),
    ),
    _q(
        "reviews_read",
        _R,
        N_("How often do you read what customers write about you online?"),
        N_(
            "Set yourself a fixed time every week, for example Monday morning with your "
            "coffee, to read new reviews on Google and here."
        ),
        ("weekly", N_("Every week"), 100),
        ("monthly", N_("Every month or so"), 60),
        ("rarely", N_("Rarely"), 20),
        ("never", N_("Never"), 0),
    ),
    _q(
        "reviews_reply",
        _R,
        N_("Do you reply to reviews?"),
        N_(
            "Answer every review, the critical ones first: thank them, stay friendly and "
            "offer to talk. Others read your replies too."
        ),
        ("all", N_("Yes, to all, including critical ones"), 100),
        ("good", N_("Only to the good ones"), 50),
        ("never", N_("No"), 0),
    ),
    _q(
        "reviews_ask",
        _R,
        N_("Do you ask satisfied customers for a review?"),
        N_(
            "When a customer is happy, ask them for a review. A small card at the till with a "
            "QR code to your profile makes it easy."
        ),
        ("often", N_("Yes, regularly"), 100),
        ("sometimes", N_("Sometimes"), 50),
        ("never", N_("No"), 0),
    ),
    _q(
        "social_channels",
        _M,
        N_("Is your shop on Instagram, Facebook or a similar channel?"),
        N_(
            "Pick one channel your customers use, for example Instagram, and start with a "
            "photo a week. One channel looked after beats three left alone."
        ),
        ("active", N_("Yes, and we post regularly"), 100),
        ("dormant", N_("Yes, but it has been quiet for a while"), 40),
        ("none", N_("No"), 0),
    ),
    _q(
        "social_plan",
        _M,
        N_("Who looks after your social media, and when?"),
        N_(
            "Agree who posts and on which day, for example every Thursday after closing. "
            "A fixed slot is what keeps a channel alive."
        ),
        ("planned", N_("Someone is in charge, at fixed times"), 100),
        ("whoever", N_("Whoever has time"), 40),
        ("nobody", N_("Nobody"), 0),
    ),
    _q(
        "figures_read",
        _D,
        N_("Do you look at figures about your customers, such as visits or redeemed coupons?"),
        N_(
            "Look at the results of your offers once a month: which offer was saved and "
            "redeemed, and which touchpoint led to it. Keep what works."
        ),
        ("monthly", N_("Yes, at least once a month"), 100),
        ("sometimes", N_("Now and then"), 50),
        ("never", N_("No"), 0),
    ),
    _q(
        "figures_decide",
        _D,
        N_("Have figures ever changed a decision of yours, such as opening hours or an offer?"),
        N_(
            "Try one small experiment: the same offer for two weeks with and without a coupon, "
            "and compare what the results page shows."
        ),
        ("often", N_("Yes, several times"), 100),
        ("once", N_("Once"), 60),
        ("never", N_("Not yet"), 0),
    ),
)
QUESTION_BY_KEY: dict[str, Question] = {q.key: q for q in QUESTIONS}


@dataclass(frozen=True, slots=True)
class Signals:
    """What the platform knows about the shop; None where it cannot know."""

    has_address: bool
    has_phone: bool
    has_website: bool
    hours_valid: bool
    pictures: int
    story_chars: int
    has_english_story: bool
    days_since_change: int  # since the profile or any of its content last changed
    offers_30d: int  # offers published in the last 30 days
    last_offer_days: int | None  # days since the last offer was published; None: never
    redeemed_30d: int  # coupons redeemed at the till in the last 30 days
    touchpoints: int  # active QR codes and NFC tags of the shop


@dataclass(frozen=True, slots=True)
class NextStep:
    """One concrete thing to do; `message` is a msgid filled with `params`."""

    dimension: Dimension
    message: str
    params: Mapping[str, Any] = field(default_factory=dict)
    link: Link | None = None
    impact: float = 0.0  # points of the overall score it can gain


@dataclass(frozen=True, slots=True)
class FitnessScores:
    by_dimension: Mapping[Dimension, int]
    overall: int


@dataclass(frozen=True, slots=True)
class FitnessCheck:
    """One completed check of a shop, stored with its answers and the scores it gave then."""

    id: UUID
    shop_id: UUID
    city_id: UUID
    answers: Mapping[str, str]
    scores: FitnessScores
    created_by: UUID | None
    created_at: datetime


class IncompleteAnswers(InvalidInput):
    """Several questions were left out or answered with an unknown value; `problems` has each."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        first = next(iter(problems))
        super().__init__(first, problems[first])
        self.problems = problems


def clean_answers(raw: Mapping[str, object]) -> dict[str, str]:
    """An answer for every question, each one of its options; unknown keys are refused."""
    problems: dict[str, str] = {}
    for key in raw:
        if key not in QUESTION_BY_KEY:
            problems[key] = N_("This question is not part of the check.")
    answers: dict[str, str] = {}
    for question in QUESTIONS:
        value = raw.get(question.key)
        if value is None or value == "":
            problems[question.key] = N_("Please choose one of the answers to this question.")
        elif not isinstance(value, str) or question.option(value) is None:
            problems[question.key] = N_(
                "This is not one of the answers offered; please choose one."
            )
        else:
            answers[question.key] = value
    if problems:
        raise IncompleteAnswers(problems)
    return answers


def _share(value: float, good: float) -> float:
    return min(max(value, 0.0) / good, 1.0)


def _freshness(days: int | None) -> float:
    if days is None:
        return 0.0
    return 1.0 if days <= FRESH_DAYS else 0.5 if days <= 3 * FRESH_DAYS else 0.0


def signal_scores(s: Signals) -> dict[Dimension, float]:
    """0–100 per dimension the platform can see (see docs/portal.md for the weights)."""
    visibility = (
        20 * s.has_address
        + 15 * s.has_phone
        + 15 * s.has_website
        + 30 * s.hours_valid
        + 20 * _share(s.pictures, GOOD_PICTURES)
    )
    story = (
        40 * _share(s.story_chars, GOOD_STORY_CHARS)
        + 15 * s.has_english_story
        + 20 * _share(s.pictures, GOOD_PICTURES)
        + 25 * _freshness(s.days_since_change)
    )
    offers = (
        50 * _share(s.offers_30d, 2)
        + 20 * _freshness(s.last_offer_days)
        + 30 * _share(s.redeemed_30d, 5)
    )
    data = 50 * _share(s.touchpoints, 2) + 50 * _share(s.redeemed_30d, 5)
    return {_V: visibility, _S: story, _O: offers, _D: data}


def answer_scores(answers: Mapping[str, str]) -> dict[Dimension, float]:
    """The mean of the answers' points per dimension (answers must be clean)."""
    points: dict[Dimension, list[int]] = {d: [] for d in Dimension}
    for question in QUESTIONS:
        option = question.option(answers[question.key])
        assert option is not None
        points[question.dimension].append(option.points)
    return {d: statistics.fmean(p) for d, p in points.items()}


def score(answers: Mapping[str, str], signals: Signals) -> FitnessScores:
    """Per dimension: answers and signals mixed by SIGNAL_WEIGHT; overall: their mean."""
    told, seen = answer_scores(answers), signal_scores(signals)
    by_dimension = {
        d: round((1 - SIGNAL_WEIGHT[d]) * told[d] + SIGNAL_WEIGHT[d] * seen.get(d, 0.0))
        for d in Dimension
    }
    return FitnessScores(by_dimension, round(statistics.fmean(by_dimension.values())))


def scores_to_dict(scores: FitnessScores) -> dict[str, int]:
    return {**{d.value: v for d, v in scores.by_dimension.items()}, "overall": scores.overall}


def scores_from_dict(data: Mapping[str, int]) -> FitnessScores:
    return FitnessScores({d: int(data[d.value]) for d in Dimension}, int(data["overall"]))


def city_medians(latest: Sequence[FitnessScores]) -> dict[Dimension, float] | None:
    """The city's median per dimension over each shop's latest check; None below 5 shops."""
    if len(latest) < MIN_SHOPS_FOR_MEDIAN:
        return None
    return {d: statistics.median(s.by_dimension[d] for s in latest) for d in Dimension}


@dataclass(frozen=True, slots=True)
class Spread:
    """How the shops' latest scores of one dimension fall into BUCKETS."""

    dimension: Dimension
    counts: tuple[int, ...]  # one per bucket
    weak: int  # shops under WEAK_BELOW
    mean: float  # 0 when no shop took part


def distribution(latest: Sequence[FitnessScores]) -> list[Spread]:
    """Per dimension, how many shops' latest scores fall into each bucket."""
    spreads = []
    for d in Dimension:
        values = [s.by_dimension[d] for s in latest]
        counts = tuple(sum(low <= v <= high for v in values) for low, high in BUCKETS)
        weak = sum(v < WEAK_BELOW for v in values)
        spreads.append(Spread(d, counts, weak, statistics.fmean(values) if values else 0.0))
    return spreads


def workshop_topics(spreads: Sequence[Spread], limit: int = 3) -> list[Spread]:
    """The dimensions where most shops are weak, most first (then the lowest mean score)."""
    weak = [s for s in spreads if s.weak > 0]
    return sorted(weak, key=lambda s: (-s.weak, s.mean))[:limit]
