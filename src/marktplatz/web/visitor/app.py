"""The installable visitor app: its web app manifest per city and the offline page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from marktplatz.services import cities
from marktplatz.web.i18n import pick_language
from marktplatz.web.pages import render
from marktplatz.web.state import app_of
from marktplatz.web.static import asset_url

router = APIRouter(include_in_schema=False)
THEME = "#9b2f1f"
BACKGROUND = "#f7f5f1"


@router.get("/offline", response_class=HTMLResponse)
async def offline(request: Request) -> Response:
    """What the service worker shows for a page never opened on the device, without a network."""
    return render(request, "visitor/offline.html")


@router.get("/{city}/manifest.webmanifest")
async def manifest(request: Request, city: str) -> Response:
    """Install the city's app: its name, start page and icons (no identifier in any URL)."""
    found = await cities.city_by_slug(app_of(request).ctx, city)
    lang = pick_language(request)
    icon = {"type": "image/png"}
    return JSONResponse(
        {
            "name": f"{found.name} · Marktplatz",
            "short_name": found.name,
            "description": found.tagline_for(lang),
            "lang": lang,
            "id": f"/{found.slug}",
            "start_url": f"/{found.slug}",
            "scope": "/",
            "display": "standalone",
            "background_color": BACKGROUND,
            "theme_color": THEME,
            "icons": [
                {**icon, "src": asset_url("icons/app-192.png"), "sizes": "192x192"},
                {**icon, "src": asset_url("icons/app-512.png"), "sizes": "512x512"},
                {
                    **icon,
                    "src": asset_url("icons/app-maskable-512.png"),
                    "sizes": "512x512",
                    "purpose": "maskable",
                },
            ],
        },
        media_type="application/manifest+json",
        headers={"cache-control": "public, max-age=3600"},
    )
