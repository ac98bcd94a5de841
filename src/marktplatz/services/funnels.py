"""Run a funnel for city staff or a retailer: steps resolved in the city, counts k-anonymous."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.funnels import (
    CONTENT_STEPS,
    EVENT_OF_STEP,
    FunnelSpec,
    Matcher,
    Period,
    Step,
    StepKind,
    suppress_steps,
)
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services.access import access_member_city, can_manage_city, shops_of
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

ANY = "*"


@dataclass(frozen=True, slots=True)
class FunnelStep:
    """One step as shown: its compact text and its visitors (None: fewer than K, hidden)."""

    step: str
    visitors: int | None


@dataclass(frozen=True, slots=True)
class FunnelResult:
    spec: FunnelSpec
    period: Period
    steps: list[FunnelStep]


async def run_funnel(
    ctx: Context, actor: User | None, city: UUID, spec: FunnelSpec, period: Period
) -> FunnelResult:
    """Visitors of the city reaching each step of `spec`, with step 1 in `period`.

    City staff may run any funnel of their city. A retailer of the city may run one whose
    every step is about their own shop (`…:shop=<their shop>` or `…:content=<their item>`):
    the rest of the city's journeys are not theirs to read. Others find no such city. Counts
    come back suppressed (domain.funnels.suppress_steps).
    """
    async with ctx.uow() as uow:
        await access_member_city(uow, actor, city)
        if not can_manage_city(actor, city):
            await _check_own_shop(uow, actor, city, spec)
        touchpoints = await uow.touchpoints.list_for_city(city)
        matchers = [
            await _matcher(uow, city, step, number, touchpoints)
            for number, step in enumerate(spec.steps, start=1)
        ]
    counts = await ctx.funnels.count(
        city, matchers, spec.window, (period.start, period.end), ctx.clock.now()
    )
    shown = suppress_steps(counts)
    return FunnelResult(
        spec, period, [FunnelStep(s.text(), c) for s, c in zip(spec.steps, shown, strict=True)]
    )


async def _check_own_shop(
    uow: UnitOfWork, actor: User | None, city: UUID, spec: FunnelSpec
) -> None:
    own = shops_of(actor)
    for number, step in enumerate(spec.steps, start=1):
        if step.shop not in (None, ANY):
            shop = await uow.shops.by_slug(city, step.shop)
            if shop is not None and shop.id in own:
                continue
        if step.content is not None:
            content = await uow.contents.get(_content_id(step.content, number))
            if content is not None and content.shop_id in own:
                continue
        raise InvalidInput(
            "steps",
            N_(
                "Step %(number)s: a shop's funnel names the shop in every step, e.g. "
                "contact:shop=<your shop> or redeemed:shop=<your shop>."
            ),
            number=number,
        )


def _content_id(value: str, number: int) -> UUID:
    try:
        return UUID(value)
    except ValueError:
        raise _unknown(number, value) from None


def _unknown(number: int, name: str) -> InvalidInput:
    return InvalidInput(
        "steps",
        N_("Step %(number)s: there is nothing named “%(name)s” in this city."),
        number=number,
        name=name[:40],
    )


async def _matcher(
    uow: UnitOfWork, city: UUID, step: Step, number: int, touchpoints: list[Touchpoint]
) -> Matcher:
    kind = EVENT_OF_STEP[step.kind]
    if step.kind is StepKind.CONTACT and step.zone is not None:
        zones = await _zone_ids(uow, city, step.zone, number)
        return Matcher(kind, frozenset(t.id.hex for t in touchpoints if t.zone_id in zones))
    if step.kind is StepKind.CONTACT and step.shop is not None:
        shops = await _shop_ids(uow, city, step.shop, number)
        return Matcher(kind, frozenset(t.id.hex for t in touchpoints if t.shop_id in shops))
    if step.kind in CONTENT_STEPS and step.shop is not None:
        shops = await _shop_ids(uow, city, step.shop, number)
        items = await uow.contents.list_for_city(city)
        return Matcher(kind, contents=frozenset(str(c.id) for c in items if c.shop_id in shops))
    if step.content is not None:
        content = await uow.contents.get(_content_id(step.content, number))
        if content is None or content.city_id != city:
            raise _unknown(number, step.content)
        return Matcher(kind, contents=frozenset({str(content.id)}))
    return Matcher(kind)


async def _zone_ids(uow: UnitOfWork, city: UUID, slug: str, number: int) -> set[UUID | None]:
    zones = await uow.zones.list_for_city(city)
    found = {z.id for z in zones if slug in (ANY, z.slug)}
    if slug != ANY and not found:
        raise _unknown(number, slug)
    return set(found)


async def _shop_ids(uow: UnitOfWork, city: UUID, slug: str, number: int) -> set[UUID | None]:
    if slug == ANY:
        return {s.id for s in await uow.shops.list_for_city(city)}
    shop = await uow.shops.by_slug(city, slug)
    if shop is None:
        raise _unknown(number, slug)
    return {shop.id}
