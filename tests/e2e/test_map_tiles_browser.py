"""The visitor map with a tile server configured: tiles come from exactly that origin, which the
page's security policy allows, and the tiles are credited. The tile server is faked by the browser
itself (Playwright answers its requests): tests never reach the internet."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

TILES = "https://tiles.example.org/{z}/{x}/{y}.png"
CREDIT = "© Beispiel-Kacheln"


@pytest.fixture(scope="module")
def server(
    chromium_path: str, serve_demo: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A server of this module's own, with a tile URL (the others run without one)."""
    del chromium_path  # no browser, no server
    tiles = {"MARKTPLATZ_MAP_TILE_URL": TILES, "MARKTPLATZ_MAP_TILE_ATTRIBUTION": CREDIT}
    with serve_demo(tmp_path_factory.mktemp("e2e-map-tiles"), tiles) as running:
        yield running


def tile_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (256, 256), (226, 236, 222)).save(out, "PNG")
    return out.getvalue()


def test_tiles_come_from_the_configured_server(context: Any, open_page: Any, problems: Any) -> None:
    # given a tile server that answers every tile (and the page's own origin for the rest)
    problems.allow(r"^request to another site: https://tiles\.example\.org/\d+/\d+/\d+\.png$")
    asked: list[str] = []
    png = tile_png()

    def answer(route: Any) -> None:
        asked.append(route.request.url)
        route.fulfill(status=200, body=png, content_type="image/png")

    context.route("https://tiles.example.org/**", answer)
    page = open_page(context)
    # when a visitor opens the map
    response = page.goto("/musterstadt/map")
    assert response is not None
    # then the tiles are drawn under the zones and shops: the policy let them in (a CSP
    # violation would fail the test through open_page), and the credit is shown
    assert (
        "img-src 'self' data: https://tiles.example.org;"
        in response.headers["content-security-policy"]
    )
    expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    expect(page.locator(".leaflet-marker-icon")).to_have_count(60)
    assert asked
    assert "map-plain" not in (page.get_attribute("#map", "class") or "")
    expect(page.locator(".map-credit")).to_have_text(f"Kartenkacheln: {CREDIT}")
