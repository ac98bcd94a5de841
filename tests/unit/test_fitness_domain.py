"""Scoring the digital-fitness check: answers, signals, next steps and the city's comparison."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.fitness import (
    MAX_STEPS,
    MIN_SHOPS_FOR_MEDIAN,
    QUESTIONS,
    Dimension,
    FitnessScores,
    IncompleteAnswers,
    Link,
    Signals,
    city_medians,
    clean_answers,
    distribution,
    score,
    scores_from_dict,
    scores_to_dict,
    workshop_topics,
)
from marktplatz.domain.fitness_steps import next_steps

BEST = {q.key: q.options[0].value for q in QUESTIONS}
WORST = {q.key: q.options[-1].value for q in QUESTIONS}
FIT = Signals(
    has_address=True,
    has_phone=True,
    has_website=True,
    hours_valid=True,
    pictures=4,
    story_chars=900,
    has_english_story=True,
    days_since_change=3,
    offers_30d=2,
    last_offer_days=5,
    redeemed_30d=12,
    touchpoints=2,
)
BARE = Signals(False, False, False, False, 0, 0, False, 400, 0, None, 0, 0)

answers_st = st.fixed_dictionaries(
    {q.key: st.sampled_from([o.value for o in q.options]) for q in QUESTIONS}
)
signals_st = st.builds(
    Signals,
    has_address=st.booleans(),
    has_phone=st.booleans(),
    has_website=st.booleans(),
    hours_valid=st.booleans(),
    pictures=st.integers(0, 12),
    story_chars=st.integers(0, 5000),
    has_english_story=st.booleans(),
    days_since_change=st.integers(0, 2000),
    offers_30d=st.integers(0, 50),
    last_offer_days=st.none() | st.integers(0, 2000),
    redeemed_30d=st.integers(0, 1000),
    touchpoints=st.integers(0, 20),
)
score_st = st.integers(0, 100)
scores_st = st.builds(
    lambda values, overall: FitnessScores(dict(zip(Dimension, values, strict=True)), overall),
    st.lists(score_st, min_size=len(Dimension), max_size=len(Dimension)),
    score_st,
)


def test_the_questionnaire_is_short_and_covers_every_dimension() -> None:
    assert 12 <= len(QUESTIONS) <= 18
    assert len({q.key for q in QUESTIONS}) == len(QUESTIONS)
    for dimension in Dimension:
        asked = [q for q in QUESTIONS if q.dimension is dimension]
        assert 2 <= len(asked) <= 3, dimension
    for question in QUESTIONS:
        assert 3 <= len(question.options) <= 4, question.key
        assert max(o.points for o in question.options) == 100
        assert min(o.points for o in question.options) == 0


@given(answers_st, signals_st)
def test_every_score_lies_between_0_and_100(answers: dict[str, str], signals: Signals) -> None:
    scores = score(answers, signals)
    assert set(scores.by_dimension) == set(Dimension)
    assert all(0 <= v <= 100 for v in scores.by_dimension.values())
    assert 0 <= scores.overall <= 100
    assert scores_from_dict(scores_to_dict(scores)) == scores


@given(answers_st, signals_st, signals_st)
def test_reviews_and_social_media_rest_on_the_answers_alone(
    answers: dict[str, str], one: Signals, other: Signals
) -> None:
    first, second = score(answers, one), score(answers, other)
    for dimension in (Dimension.REVIEWS, Dimension.SOCIAL):
        assert first.by_dimension[dimension] == second.by_dimension[dimension]


def test_the_best_answers_and_signals_score_100_and_leave_nothing_to_do() -> None:
    assert score(BEST, FIT).overall == 100
    assert next_steps(BEST, FIT) == []


def test_a_bare_profile_with_the_worst_answers_scores_0() -> None:
    assert score(WORST, BARE) == FitnessScores({d: 0 for d in Dimension}, 0)


def test_answers_and_signals_are_mixed_by_their_weights() -> None:
    # Best answers, bare profile: visibility and story are half, data use 60 of 100.
    scores = score(BEST, BARE).by_dimension
    assert scores[Dimension.VISIBILITY] == 50
    assert scores[Dimension.STORYTELLING] == 50
    assert scores[Dimension.OFFERS] == 50
    assert scores[Dimension.DATA] == 60
    assert scores[Dimension.REVIEWS] == 100


def test_steps_name_the_gap_with_its_number_and_link_to_the_page() -> None:
    signals = Signals(True, True, True, True, 1, 900, True, 45, 0, 45, 5, 2)
    steps = next_steps(BEST, signals)
    by_message = {s.message.split(".")[0]: s for s in steps}
    picture = by_message["You have 1 picture"]
    assert picture.link is Link.PROFILE
    offer = by_message["Your last offer is %(days)s days old"]
    assert offer.params == {"days": 45}
    assert offer.link is Link.CONTENT
    stale = next(s for s in steps if "has changed for %(days)s days" in s.message)
    assert stale.params == {"days": 45}


@given(answers_st, signals_st)
def test_steps_are_ranked_by_impact_and_few(answers: dict[str, str], signals: Signals) -> None:
    steps = next_steps(answers, signals)
    assert len(steps) <= MAX_STEPS
    impacts = [s.impact for s in steps]
    assert impacts == sorted(impacts, reverse=True)
    assert all(s.impact > 0 for s in steps)


def test_missing_unknown_and_foreign_answers_are_all_reported() -> None:
    raw: dict[str, object] = {**BEST, "social_plan": "sometimes", "mood": "good"}
    del raw["reviews_ask"]
    with pytest.raises(IncompleteAnswers) as caught:
        clean_answers(raw)
    assert isinstance(caught.value, InvalidInput)
    assert set(caught.value.problems) == {"social_plan", "mood", "reviews_ask"}
    assert clean_answers(BEST) == BEST


@given(st.lists(scores_st, max_size=12))
def test_the_city_median_is_hidden_below_five_shops(latest: list[FitnessScores]) -> None:
    medians = city_medians(latest)
    if len(latest) < MIN_SHOPS_FOR_MEDIAN:
        assert medians is None
    else:
        assert medians is not None
        for dimension, median in medians.items():
            values = [s.by_dimension[dimension] for s in latest]
            assert min(values) <= median <= max(values)


@given(st.lists(scores_st, max_size=12))
def test_the_distribution_counts_every_shop_once(latest: list[FitnessScores]) -> None:
    spreads = distribution(latest)
    assert [s.dimension for s in spreads] == list(Dimension)
    for spread in spreads:
        assert sum(spread.counts) == len(latest)
    topics = workshop_topics(spreads)
    assert len(topics) <= 3
    assert [t.weak for t in topics] == sorted((t.weak for t in topics), reverse=True)
    assert all(t.weak > 0 for t in topics)
