"""Monthly PDF reports of the shops: from the portal for one shop, from the CLI for a city."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.analytics import ShopResults
from marktplatz.domain.analytics_charts import shop_charts
from marktplatz.domain.chart_base import ChartLocale
from marktplatz.domain.reports import monthly_report
from marktplatz.services.analytics import city_months, shop_month
from marktplatz.services.context import Context

Translate = Callable[[str], str]
PICTURES = ("funnel", "days")  # the charts a printed report carries


async def shop_report(
    ctx: Context, actor: User | None, shop_id: UUID, month: str | None, lang: str, t: Translate
) -> tuple[str, bytes]:
    """The file name and PDF of one shop's month (its people and the city's staff)."""
    current, before = await shop_month(ctx, actor, shop_id, month)
    return await _pdf(ctx, current, before, lang, t)


async def city_reports(
    ctx: Context, city: str, month: str | None, shop: str | None, lang: str, t: Translate
) -> list[tuple[str, bytes]]:
    """Every shop's report of a month, or one shop's (the operator's `marktplatz report`)."""
    return [
        await _pdf(ctx, current, before, lang, t)
        for current, before in await city_months(ctx, city, month, shop)
    ]


async def _pdf(
    ctx: Context, current: ShopResults, before: ShopResults, lang: str, t: Translate
) -> tuple[str, bytes]:
    report = monthly_report(current, before, lang, t)
    charts = shop_charts(current, ChartLocale(lang, t))
    # Rendering blocks for a while: in a worker thread, so the server's loop keeps answering.
    pictures = [
        (charts[name].alt, await asyncio.to_thread(ctx.charts.png, charts[name]))
        for name in PICTURES
        if name in charts
    ]
    pdf = await asyncio.to_thread(ctx.reports.pdf, replace(report, pictures=pictures))
    name = f"{current.shop.slug}-{current.period.first.strftime('%Y-%m')}.pdf"
    return name, pdf
