"""Next steps of a digital-fitness check: the shop's own gaps, with numbers, biggest gain first."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from marktplatz.domain.errors import N_
from marktplatz.domain.fitness import (
    FRESH_DAYS,
    GOOD_PICTURES,
    GOOD_STORY_CHARS,
    MAX_STEPS,
    QUESTIONS,
    SIGNAL_WEIGHT,
    Dimension,
    Link,
    NextStep,
    Signals,
)

_V, _S, _O, _D = Dimension.VISIBILITY, Dimension.STORYTELLING, Dimension.OFFERS, Dimension.DATA
_DIMENSIONS = len(Dimension)
_PER_DIMENSION = {d: sum(q.dimension is d for q in QUESTIONS) for d in Dimension}
# Where the advice of a question is put into practice, if it is in the portal.
_QUESTION_LINKS: dict[str, Link] = {
    "hours_current": Link.HOURS,
    "story_told": Link.STORY,
    "photos_fresh": Link.PROFILE,
    "news_rhythm": Link.CONTENT,
    "offers_online": Link.CONTENT,
    "figures_read": Link.CONTENT,
    "figures_decide": Link.CONTENT,
}


def _gain(*parts: tuple[Dimension, float]) -> float:
    """Overall points won by closing signal gaps of `parts` (dimension, missing signal points)."""
    return sum(SIGNAL_WEIGHT[d] * missing for d, missing in parts) / _DIMENSIONS


def _missing(value: float, good: float, points: float) -> float:
    return points * (1 - min(max(value, 0.0) / good, 1.0))


def _picture_steps(s: Signals) -> Iterator[NextStep]:
    if s.pictures >= GOOD_PICTURES:
        return
    gain = _gain(
        (_V, _missing(s.pictures, GOOD_PICTURES, 20)), (_S, _missing(s.pictures, GOOD_PICTURES, 20))
    )
    message = {
        0: N_(
            "You have no pictures yet. Shops with 3 or more pictures show visitors what awaits "
            "them: add the shop window, the counter and a favourite product."
        ),
        1: N_(
            "You have 1 picture. Shops with 3 or more pictures show visitors what awaits them: "
            "add 2 more, such as the counter and a favourite product."
        ),
    }.get(
        s.pictures,
        N_(
            "You have %(count)s pictures. Shops with 3 or more pictures show visitors what "
            "awaits them: add one more."
        ),
    )
    yield NextStep(_V, message, {"count": s.pictures}, Link.PROFILE, gain)


def _profile_steps(s: Signals) -> Iterator[NextStep]:
    if not s.hours_valid:
        yield NextStep(
            _V,
            N_(
                "Your opening hours are missing or cannot be read, so visitors cannot see "
                "whether you are open right now. Enter them in the opening hours editor."
            ),
            link=Link.HOURS,
            impact=_gain((_V, 30)),
        )
    if not s.has_address:
        message = N_("Your profile has no street address. Add it so visitors find your door.")
        yield NextStep(_V, message, link=Link.PROFILE, impact=_gain((_V, 20)))
    if not s.has_phone:
        message = N_(
            "Your profile has no phone number. Many customers call before they come: add it."
        )
        yield NextStep(_V, message, link=Link.PROFILE, impact=_gain((_V, 15)))
    if not s.has_website:
        message = N_(
            "Your profile links to no website. If you have one, or a page on Instagram or "
            "Facebook, add its address."
        )
        yield NextStep(_V, message, link=Link.PROFILE, impact=_gain((_V, 15)))


def _story_steps(s: Signals) -> Iterator[NextStep]:
    if s.story_chars < GOOD_STORY_CHARS:
        gain = _gain((_S, _missing(s.story_chars, GOOD_STORY_CHARS, 40)))
        if s.story_chars == 0:
            message = N_(
                "Your shop has no story yet. In 600 characters or more, a few sentences, tell "
                "who you are, since when you have been here and what you recommend."
            )
        else:
            message = N_(
                "Your story has %(count)s characters. Stories of 600 characters or more let "
                "customers get to know you: add who you are, since when you have been here "
                "and what you recommend."
            )
        yield NextStep(_S, message, {"count": s.story_chars}, Link.STORY, gain)
    if not s.has_english_story:
        message = N_(
            "Your story has no English version yet. Visitors from abroad read it too: a few "
            "sentences are enough."
        )
        yield NextStep(_S, message, link=Link.STORY, impact=_gain((_S, 15)))
    if s.days_since_change > FRESH_DAYS:
        missing = 25.0 if s.days_since_change > 3 * FRESH_DAYS else 12.5
        message = N_(
            "Nothing on your profile or in your offers and stories has changed for %(days)s "
            "days. A new picture, a story or an offer shows that your shop is alive."
        )
        params = {"days": s.days_since_change}
        yield NextStep(_S, message, params, Link.CONTENT, _gain((_S, missing)))


def _offer_steps(s: Signals) -> Iterator[NextStep]:
    if s.offers_30d < 2:
        recent = s.last_offer_days is not None and s.last_offer_days <= FRESH_DAYS
        gain = _gain((_O, _missing(s.offers_30d, 2, 50) + (0 if recent else 20)))
        if s.last_offer_days is None:
            message = N_(
                "You have not published an offer yet. Start with one small promotion: it then "
                "reaches people nearby on the street."
            )
        elif s.offers_30d == 0:
            message = N_(
                "Your last offer is %(days)s days old. Publish a new one: offers of the last "
                "30 days are what people nearby are shown."
            )
        else:
            message = N_(
                "You published 1 offer in the last 30 days. Shops with 2 or more a month stay "
                "in view: plan the next one now."
            )
        yield NextStep(_O, message, {"days": s.last_offer_days}, Link.CONTENT, gain)
    if s.redeemed_30d < 5:
        gain = _gain((_O, _missing(s.redeemed_30d, 5, 30)), (_D, _missing(s.redeemed_30d, 5, 50)))
        if s.redeemed_30d == 0:
            message = N_(
                "No coupon was redeemed at your till in the last 30 days. Add a coupon to your "
                "next offer: it brings people into the shop and shows you what works."
            )
        else:
            message = N_(
                "Coupons redeemed at your till in the last 30 days: %(count)s. Shops with 5 or "
                "more a month learn fastest what works: add a coupon to your next offer."
            )
        yield NextStep(_O, message, {"count": s.redeemed_30d}, Link.CONTENT, gain)


def _touchpoint_steps(s: Signals) -> Iterator[NextStep]:
    if s.touchpoints >= 2:
        return
    if s.touchpoints == 0:
        message = N_(
            "Your shop has no QR code or NFC tag yet. Ask the city team for a QR code for your "
            "shop window: passers-by reach your offers even after closing time."
        )
    else:
        message = N_(
            "Your shop has 1 QR code or NFC tag. A second one, at the till or on a flyer, shows "
            "you which place brings people to you."
        )
    gain = _gain((_D, _missing(s.touchpoints, 2, 50)))
    yield NextStep(_D, message, {"count": s.touchpoints}, Link.TOUCHPOINTS, gain)


def _answer_steps(answers: Mapping[str, str]) -> Iterator[NextStep]:
    for question in QUESTIONS:
        option = question.option(answers[question.key])
        if option is None or option.points >= 100:
            continue
        d = question.dimension
        gain = (1 - SIGNAL_WEIGHT[d]) * (100 - option.points) / _PER_DIMENSION[d] / _DIMENSIONS
        yield NextStep(d, question.advice, link=_QUESTION_LINKS.get(question.key), impact=gain)


def next_steps(answers: Mapping[str, str], signals: Signals) -> list[NextStep]:
    """The shop's concrete next steps, the biggest gain in overall score first."""
    found = [
        *_profile_steps(signals),
        *_picture_steps(signals),
        *_story_steps(signals),
        *_offer_steps(signals),
        *_touchpoint_steps(signals),
        *_answer_steps(answers),
    ]
    found.sort(key=lambda step: -step.impact)  # stable: ties keep the order above
    return found[:MAX_STEPS]
