"""City console: how digitally fit the city's shops are, to plan the think tank's workshops."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from marktplatz.domain.fitness import BUCKETS, MIN_SHOPS_FOR_MEDIAN, WEAK_BELOW, Dimension
from marktplatz.services import fitness
from marktplatz.services import shops as shop_service
from marktplatz.web.console.routes import StaffOf, console_page
from marktplatz.web.i18n import pick_language
from marktplatz.web.portal.fitness import dimension_labels
from marktplatz.web.security import csrf_guard
from marktplatz.web.state import app_of

router = APIRouter(prefix="/console", include_in_schema=False, dependencies=[Depends(csrf_guard)])


@router.get("/{city}/fitness", response_class=HTMLResponse)
async def city_fitness(request: Request, staff: StaffOf) -> Response:
    """Per dimension the spread of the shops' latest scores, the workshop topics, each shop."""
    ctx = app_of(request).ctx
    found = await fitness.city_fitness(ctx, staff.user, staff.city.id)
    total = len(await shop_service.list_shops(ctx, staff.city.id))
    return console_page(
        request,
        "console/fitness.html",
        staff,
        "fitness",
        found=found,
        total=total,
        labels=dimension_labels(pick_language(request)),
        dimensions=list(Dimension),
        buckets=BUCKETS,
        weak_below=WEAK_BELOW,
        min_shops=MIN_SHOPS_FOR_MEDIAN,
    )
