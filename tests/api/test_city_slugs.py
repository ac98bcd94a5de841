"""A city's short name never hides one of the app's own pages (/<city> is the city's start)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from api.test_authz_matrix import registered
from marktplatz.bootstrap import App
from marktplatz.domain.cities import RESERVED_SLUGS
from marktplatz.domain.errors import InvalidInput, NotFound
from marktplatz.services import cities

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def test_every_first_path_segment_of_the_app_is_reserved(web: Any) -> None:
    # given every route the app answers
    segments = {path.split("/")[1] for _, path in registered(web)}
    # then each fixed first segment that could be a city's short name is reserved
    could_be_a_city = {s for s in segments if len(s) >= 2 and SLUG.match(s)}
    assert could_be_a_city <= RESERVED_SLUGS, sorted(could_be_a_city - RESERVED_SLUGS)
    assert "portal" in could_be_a_city  # the test sees the real routes


@pytest.mark.parametrize("slug", ["portal", "api", "offline"])
async def test_a_city_cannot_be_named_like_a_page_of_the_app(composed: App, slug: str) -> None:
    data = {"slug": slug, "name": "Portalstadt", "federal_state": "NW", "lat": 52.1, "lon": 8.7}
    with pytest.raises(InvalidInput) as refused:
        await cities.create_city(composed.ctx, data)
    assert (refused.value.field, refused.value.params) == ("slug", {"slug": slug})
    with pytest.raises(NotFound):
        await cities.city_by_slug(composed.ctx, slug)
