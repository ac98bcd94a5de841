"""Digital fitness: a shop takes the check; it, and the city's think tank, read the results."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.content import ContentKind
from marktplatz.domain.fitness import (
    Dimension,
    FitnessCheck,
    FitnessScores,
    NextStep,
    Signals,
    Spread,
    city_medians,
    clean_answers,
    distribution,
    score,
    workshop_topics,
)
from marktplatz.domain.fitness_steps import next_steps
from marktplatz.domain.hours import check_hours
from marktplatz.domain.richtext import plain_text
from marktplatz.domain.shops import Shop
from marktplatz.domain.touchpoints import TouchpointKind, TouchpointStatus
from marktplatz.services.access import access_city, access_shop
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

RECENT = timedelta(days=30)
_PRINTED = frozenset({TouchpointKind.QR, TouchpointKind.NFC})


@dataclass(frozen=True, slots=True)
class ShopFitness:
    """A shop's checks (oldest first), its next steps now, and the city's median if shown."""

    shop: Shop
    checks: list[FitnessCheck]
    steps: list[NextStep]
    signals: Signals
    medians: Mapping[Dimension, float] | None
    participants: int  # shops of the city with at least one check

    @property
    def latest(self) -> FitnessCheck | None:
        return self.checks[-1] if self.checks else None


@dataclass(frozen=True, slots=True)
class ShopScore:
    shop: Shop
    scores: FitnessScores
    checked_at: datetime


@dataclass(frozen=True, slots=True)
class CityFitness:
    """What the city's staff plan workshops with: spread, weak topics, each shop's latest score."""

    city: City
    shops: list[ShopScore]
    spreads: list[Spread]
    topics: list[Spread]
    medians: Mapping[Dimension, float] | None


def _days(now: datetime, then: datetime) -> int:
    return max((now - then).days, 0)


async def gather_signals(uow: UnitOfWork, shop: Shop, now: datetime) -> Signals:
    """What the platform knows about the shop's profile, content, till and touchpoints."""
    images = await uow.shops.images(shop.id)
    contents = await uow.contents.list_for_shop(shop.id)
    offers = [c.published_at for c in contents if c.kind is ContentKind.OFFER and c.published_at]
    changed = max([shop.updated_at, *(c.updated_at for c in contents if c.updated_at)])
    points = await uow.touchpoints.list_for_city(shop.city_id, shop.id)
    hours = shop.opening_hours.strip()
    return Signals(
        has_address=bool(shop.street.strip()),
        has_phone=bool(shop.phone.strip()),
        has_website=bool(shop.website.strip()),
        hours_valid=bool(hours) and check_hours(hours).valid,
        pictures=len(images),
        story_chars=len(plain_text(shop.story_html).strip()),
        has_english_story=bool(plain_text(shop.story_html_en).strip()),
        days_since_change=_days(now, changed),
        offers_30d=sum(at >= now - RECENT for at in offers),
        last_offer_days=_days(now, max(offers)) if offers else None,
        redeemed_30d=await uow.fitness.redeemed_at_shop(shop.id, now - RECENT),
        touchpoints=sum(
            p.kind in _PRINTED and p.status is TouchpointStatus.ACTIVE
            for p in points
            if p.shop_id == shop.id
        ),
    )


async def last_answers(
    ctx: Context, actor: User | None, shop_id: UUID
) -> tuple[Shop, dict[str, str]]:
    """The shop and its latest answers, to prefill the questionnaire (owner and city staff)."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True)
        checks = await uow.fitness.list_for_shop(shop.id)
    return shop, dict(checks[-1].answers) if checks else {}


async def take_check(
    ctx: Context, actor: User | None, shop_id: UUID, raw: Mapping[str, object]
) -> FitnessCheck:
    """Score the answers with the shop's signals now and keep them as a new check."""
    async with ctx.uow(write=True) as uow:
        # Checked before the answers: a cashier learns nothing from the form's answer.
        shop = await access_shop(uow, actor, shop_id, edit=True)
        answers = clean_answers(raw)
        now = ctx.clock.now()
        signals = await gather_signals(uow, shop, now)
        check = FitnessCheck(
            id=uuid.uuid4(),
            shop_id=shop.id,
            city_id=shop.city_id,
            answers=answers,
            scores=score(answers, signals),
            created_by=actor.id if actor else None,
            created_at=now,
        )
        await uow.fitness.add(check)
        detail = [f"overall={check.scores.overall}"]
        await audit(uow, ctx, actor, shop.city_id, "fitness.checked", "shop", shop.id, detail)
        await uow.commit()
    return check


async def shop_fitness(ctx: Context, actor: User | None, shop_id: UUID) -> ShopFitness:
    """The shop's results for its retailers (cashiers too) and the city's staff.

    Other shops appear only as the city's median, and only once at least five took part.
    """
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        checks = await uow.fitness.list_for_shop(shop.id)
        latest = await uow.fitness.latest_for_city(shop.city_id)
        signals = await gather_signals(uow, shop, ctx.clock.now())
    steps = next_steps(checks[-1].answers, signals) if checks else []
    medians = city_medians([c.scores for c in latest])
    return ShopFitness(shop, checks, steps, signals, medians, len(latest))


async def city_fitness(ctx: Context, actor: User | None, city_id: UUID) -> CityFitness:
    """The spread of the shops' latest scores, the weakest topics and each shop's latest score."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        latest = await uow.fitness.latest_for_city(city.id)
        shops = {s.id: s for s in await uow.shops.list_for_city(city.id)}
    scores = [c.scores for c in latest]
    spreads = distribution(scores)
    rows = [
        ShopScore(shops[c.shop_id], c.scores, c.created_at) for c in latest if c.shop_id in shops
    ]
    rows.sort(key=lambda r: (r.scores.overall, r.shop.name.lower()))
    return CityFitness(city, rows, spreads, workshop_topics(spreads), city_medians(scores))
