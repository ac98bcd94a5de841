"""create_app(settings): the ASGI application with API, edge, pages and static files."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from marktplatz import __version__
from marktplatz.bootstrap import build
from marktplatz.services import retention, rollups
from marktplatz.services.ports import Clock
from marktplatz.settings import Settings
from marktplatz.web import errors
from marktplatz.web.api.coupons import router as coupons_api
from marktplatz.web.api.docs import router as docs_router
from marktplatz.web.api.routes import router as api_router
from marktplatz.web.api.visitor import router as visitor_api
from marktplatz.web.console.analytics import router as console_analytics_router
from marktplatz.web.console.audit import router as console_audit_router
from marktplatz.web.console.content import router as console_content_router
from marktplatz.web.console.events import router as console_events_router
from marktplatz.web.console.fitness import router as console_fitness_router
from marktplatz.web.console.fleet import router as console_fleet_router
from marktplatz.web.console.footfall import router as console_footfall_router
from marktplatz.web.console.invitations import api as invitations_api
from marktplatz.web.console.invitations import router as invitations_router
from marktplatz.web.console.own_content import router as console_own_content_router
from marktplatz.web.console.routes import router as console_router
from marktplatz.web.console.users import router as console_users_router
from marktplatz.web.console.zones import router as console_zones_router
from marktplatz.web.edge.decide import DecideApp, decide_edge
from marktplatz.web.edge.decide import router as decide_api
from marktplatz.web.edge.ingest import IngestApp, ingest
from marktplatz.web.edge.qr import qr_redirect
from marktplatz.web.portal.analytics import router as portal_analytics_router
from marktplatz.web.portal.content import router as portal_content_router
from marktplatz.web.portal.fitness import router as portal_fitness_router
from marktplatz.web.portal.hours import router as portal_hours_router
from marktplatz.web.portal.overview import router as portal_overview_router
from marktplatz.web.portal.posters import router as portal_posters_router
from marktplatz.web.portal.routes import router as portal_router
from marktplatz.web.portal.staff import router as portal_staff_router
from marktplatz.web.portal.story import router as portal_story_router
from marktplatz.web.portal.till import router as portal_till_router
from marktplatz.web.security import two_factor_gate
from marktplatz.web.static import serve_service_worker, serve_static
from marktplatz.web.visitor.app import router as visitor_app_router
from marktplatz.web.visitor.calendar import router as visitor_calendar_router
from marktplatz.web.visitor.coupons import router as visitor_coupons_router
from marktplatz.web.visitor.map import router as visitor_map_router
from marktplatz.web.visitor.nearby import router as visitor_nearby_router
from marktplatz.web.visitor.privacy import router as visitor_privacy_router
from marktplatz.web.visitor.registration import router as visitor_registration_router
from marktplatz.web.visitor.routes import router as visitor_router
from marktplatz.web.visitor.scan import router as visitor_scan_router
from marktplatz.web.visitor.two_factor import router as two_factor_router


def content_security_policy(settings: Settings) -> str:
    """Our own origin only; images also from the map's tile server when one is configured."""
    images = " ".join(filter(None, ["'self'", "data:", settings.map_tile_origin]))
    return (
        f"default-src 'self'; img-src {images}; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )


class SecurityHeaders:
    """Adds a strict content security policy and related headers to every answer."""

    def __init__(self, app: ASGIApp, csp: str) -> None:
        self.app = app
        self.csp = csp.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", self.csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"permissions-policy", b"camera=(self), geolocation=(self)"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


# The hot paths, answered before the middleware stack: they need none of the page middleware
# (their JSON answers set their own headers), and skipping the stack and Starlette's request
# wrapper saves most of a request's CPU time (docs/performance.md).
_EDGE = {"/e": ingest, "/decide": decide_edge}


class MarktplatzApp(FastAPI):
    """FastAPI, with the edge's hot paths (POST /e, POST /decide) answered first."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            edge = _EDGE.get(scope["path"])
            if edge is not None:
                scope["app"] = self
                await edge(scope, receive, send)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    """The whole web application for the given settings (read from the environment if None)."""
    settings = settings or Settings()
    composed = build(settings, clock=clock)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # The retention purge runs hourly while the server runs, and stops with it.
        purging = asyncio.create_task(retention.purge_forever(composed.ctx), name="purge")
        # The rollups catch up at start and then every five minutes.
        rolling = asyncio.create_task(rollups.rollups_forever(composed.ctx), name="rollups")
        try:
            yield
        finally:
            for task in (purging, rolling):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await composed.close()

    app = MarktplatzApp(
        title="Marktplatz API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        description="JSON API v1 of Marktplatz. State changes with a session cookie need the "
        "X-CSRF-Token header (GET /api/v1/me returns it).",
        dependencies=[Depends(two_factor_gate)],
    )
    app.state.marktplatz = composed
    errors.install(app)
    app.router.routes.append(Route("/q/{code}", qr_redirect, methods=["GET", "HEAD"]))
    app.router.routes.append(Route("/e", IngestApp(), methods=["POST"]))
    app.router.routes.append(Route("/decide", DecideApp(), methods=["POST"]))
    app.router.routes.append(Route("/static/{path:path}", serve_static, methods=["GET", "HEAD"]))
    app.router.routes.append(Route("/sw.js", serve_service_worker, methods=["GET", "HEAD"]))
    app.include_router(api_router)
    app.include_router(invitations_api)
    app.include_router(visitor_api)
    app.include_router(coupons_api)
    app.include_router(decide_api)
    app.include_router(docs_router)
    app.include_router(portal_router)
    app.include_router(portal_overview_router)
    app.include_router(portal_analytics_router)
    app.include_router(portal_content_router)
    app.include_router(portal_till_router)
    app.include_router(portal_staff_router)
    app.include_router(portal_fitness_router)
    app.include_router(portal_posters_router)
    app.include_router(portal_hours_router)
    app.include_router(portal_story_router)
    app.include_router(console_content_router)
    app.include_router(console_own_content_router)
    app.include_router(console_fitness_router)
    app.include_router(console_analytics_router)
    app.include_router(console_fleet_router)
    app.include_router(console_footfall_router)
    app.include_router(console_router)
    app.include_router(console_users_router)
    app.include_router(console_audit_router)
    app.include_router(console_events_router)
    app.include_router(invitations_router)
    app.include_router(console_zones_router)
    app.include_router(visitor_app_router)
    app.include_router(visitor_coupons_router)
    app.include_router(visitor_nearby_router)
    app.include_router(visitor_privacy_router)
    app.include_router(visitor_map_router)
    app.include_router(visitor_calendar_router)
    app.include_router(visitor_registration_router)
    app.include_router(visitor_scan_router)
    app.include_router(two_factor_router)
    app.include_router(visitor_router)
    app.add_middleware(SecurityHeaders, csp=content_security_policy(settings))
    return app
