"""What an offer brought: exposed → viewed → saved → redeemed, per touchpoint, k-anonymous."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.content import Content
from marktplatz.domain.coupons import Coupon
from marktplatz.domain.kanon import Cell, suppressed
from marktplatz.services.access import access_content
from marktplatz.services.context import Context

STEPS = ("exposed", "viewed", "saved", "redeemed", "led")
RECENT = 20


@dataclass(frozen=True, slots=True)
class Row:
    """One touchpoint (None: no touchpoint, e.g. the web app) and its shown counts per step."""

    touchpoint_id: UUID | None
    name: str
    counts: dict[str, int | None]  # None: fewer than K visitors, suppressed


@dataclass(frozen=True, slots=True)
class OfferResults:
    content: Content
    rows: list[Row]
    totals: dict[str, int | None]
    saved: int  # the shop's own tallies: coupons saved and redeemed, not visitor data
    redeemed: int
    recent: list[Coupon]  # the latest redemptions at the shop's till


async def offer_results(ctx: Context, actor: User | None, content_id: UUID) -> OfferResults:
    """The funnel of an offer by touchpoint, for its shop's retailers and the city's staff.

    "saved" and "redeemed" count coupons by the touchpoint they were saved at (no consent
    needed: that is where the offer was shown, not who saw it); "led" counts redemptions whose
    visitor, with consent, met that touchpoint within the attribution window before.
    """
    async with ctx.uow() as uow:
        content = await access_content(uow, actor, content_id)
        steps = await uow.coupons.funnel(content.id)
        saved, redeemed = await uow.coupons.tally(content.id)
        recent = await uow.coupons.recent(content.id, RECENT)
        names = {tp.id: tp.name for tp in await uow.touchpoints.list_for_city(content.city_id)}
    keys = sorted(
        {key for step in steps.values() for key in step},
        key=lambda k: (k is None, names.get(k, "") if k else ""),
    )
    shown: dict[str, dict[UUID | None, int | None]] = {}
    totals: dict[str, int | None] = {}
    for step in STEPS:
        found = steps.get(step, {})
        cells = {key: Cell(*found.get(key, (0, 0))) for key in keys if key in found}
        shown[step], totals[step] = suppressed(cells)
    rows = [
        Row(key, names.get(key, "") if key else "", {s: shown[s].get(key, 0) for s in STEPS})
        for key in keys
    ]
    return OfferResults(content, rows, totals, saved, redeemed, recent)
