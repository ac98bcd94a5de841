"""The digital-fitness check in the portal: the questionnaire, the result, the trend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marktplatz.domain.fitness import (
    DIMENSION_LABELS,
    MIN_SHOPS_FOR_MEDIAN,
    QUESTIONS,
    Dimension,
    FitnessCheck,
    IncompleteAnswers,
    Link,
    NextStep,
)
from marktplatz.services import fitness
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import render
from marktplatz.web.portal.routes import LoggedIn, can_edit_shop
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of
from marktplatz.web.uploads import form_values

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])

# The trend chart's drawing area (SVG user units); scores run 0–100 bottom to top.
CHART_W, CHART_H, CHART_PAD = 480, 220, 44


@dataclass(frozen=True, slots=True)
class ShownStep:
    dimension: Dimension
    text: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Chart:
    points: list[tuple[float, float, int]]  # x, y, score

    @property
    def polyline(self) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in self.points)


# The portal page where a next step of each kind is done.
STEP_PATHS = {
    Link.PROFILE: "",
    Link.STORY: "/story",
    Link.HOURS: "/hours",
    Link.CONTENT: "/content",
    Link.TOUCHPOINTS: "/touchpoints",
}


def step_url(shop_id: UUID, link: Link | None) -> str | None:
    return None if link is None else f"/portal/shops/{shop_id}{STEP_PATHS[link]}"


def shown_steps(lang: str, shop_id: UUID, steps: Sequence[NextStep]) -> list[ShownStep]:
    """The steps in the reader's language, each with the portal page where it is done."""
    shown = []
    for step in steps:
        text = gettext(lang, step.message)
        text = text % dict(step.params) if step.params else text
        shown.append(ShownStep(step.dimension, text, step_url(shop_id, step.link)))
    return shown


def trend_chart(checks: Sequence[FitnessCheck]) -> Chart:
    """The overall score of each check as a point, oldest on the left."""
    inner_w, inner_h = CHART_W - 2 * CHART_PAD, CHART_H - 2 * CHART_PAD
    step = inner_w / (len(checks) - 1) if len(checks) > 1 else 0
    points = []
    for index, check in enumerate(checks):
        x = CHART_PAD + (index * step if len(checks) > 1 else inner_w / 2)
        y = CHART_PAD + inner_h * (1 - check.scores.overall / 100)
        points.append((x, y, check.scores.overall))
    return Chart(points)


def dimension_labels(lang: str) -> dict[Dimension, str]:
    return {d: gettext(lang, label) for d, label in DIMENSION_LABELS.items()}


@router.get("/portal/shops/{shop_id}/fitness", response_class=HTMLResponse)
async def fitness_page(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Scores per dimension, next steps, the city's median (from 5 shops) and the trend."""
    found = await fitness.shop_fitness(app_of(request).ctx, user, shop_id)
    lang = pick_language(request)
    return render(
        request,
        "portal/fitness.html",
        shop=found.shop,
        found=found,
        labels=dimension_labels(lang),
        dimensions=list(Dimension),
        steps=shown_steps(lang, found.shop.id, found.steps),
        chart=trend_chart(found.checks),
        chart_size=(CHART_W, CHART_H, CHART_PAD),
        history=list(reversed(found.checks)),
        can_edit=can_edit_shop(user, found.shop),
        min_shops=MIN_SHOPS_FOR_MEDIAN,
        saved=request.query_params.get("saved") == "1",
    )


def _check_page(
    request: Request,
    shop: Any,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    status_code: int = 200,
) -> Response:
    lang = pick_language(request)
    groups = [(d, [q for q in QUESTIONS if q.dimension is d]) for d in Dimension]
    return render(
        request,
        "portal/fitness_check.html",
        status_code=status_code,
        shop=shop,
        groups=groups,
        labels=dimension_labels(lang),
        values=values,
        errors=errors,
    )


@router.get("/portal/shops/{shop_id}/fitness/check", response_class=HTMLResponse)
async def check_form(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """The questionnaire, prefilled with the shop's last answers (owner and city staff)."""
    shop, answers = await fitness.last_answers(app_of(request).ctx, user, shop_id)
    return _check_page(request, shop, answers, {})


def _errors(request: Request, exc: IncompleteAnswers) -> dict[str, str]:
    lang = pick_language(request)
    return {key: gettext(lang, message) for key, message in exc.problems.items()}


@router.post("/portal/shops/{shop_id}/fitness/check", response_class=HTMLResponse)
async def check_submit(request: Request, shop_id: UUID, user: LoggedIn) -> Response:
    """Save a new check; with an answer missing or unknown nothing is saved and the form stays."""
    ctx = app_of(request).ctx
    form = await request.form()
    raw = {k: v for k, v in form_values(form).items() if k != "csrf_token"}
    try:
        await fitness.take_check(ctx, user, shop_id, raw)
    except IncompleteAnswers as exc:
        shop, _ = await fitness.last_answers(ctx, user, shop_id)
        return _check_page(request, shop, raw, _errors(request, exc), 422)
    return RedirectResponse(f"/portal/shops/{shop_id}/fitness?saved=1", status_code=303)
