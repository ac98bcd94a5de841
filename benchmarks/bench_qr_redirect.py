"""Benchmark the /q/<code> redirect against a bare Starlette redirect measured in the same run.

Run: .venv/bin/python benchmarks/bench_qr_redirect.py [requests]
Drives the ASGI apps in-process (no sockets), so the figure is the app's own cost per request.
Two figures: a busy code (answered from the in-process code cache, the steady state) and a
code scanned for the first time in its cache lifetime (one SQLite read per request).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from marktplatz.bootstrap import migrate_database
from marktplatz.services import accounts, cities, touchpoints
from marktplatz.settings import Environment, Settings
from marktplatz.web.app import create_app


async def call(app: Any, path: str) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"bench")],
        "client": ("127.0.0.1", 1),
        "server": ("bench", 80),
        "root_path": "",
        "state": {},
    }
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def rate(
    app: Any, path: str, n: int, before_each: Callable[[], None] = lambda: None
) -> float:
    for _ in range(200):
        before_each()
        await call(app, path)
    start = time.perf_counter()
    for _ in range(n):
        before_each()
        assert await call(app, path) == 307
    return n / (time.perf_counter() - start)


async def bare_redirect(request: Request) -> Response:
    # async like ours: a sync endpoint would run in a thread pool and make the baseline slow.
    return RedirectResponse("/bench", 307, headers={"cache-control": "no-store"})


async def main(settings: Settings, n: int) -> None:
    app = create_app(settings)
    ctx = app.state.marktplatz.ctx
    city = await cities.create_city(
        ctx, {"slug": "bench", "name": "Bench", "federal_state": "NW", "lat": 52.1, "lon": 8.7}
    )
    admin = await accounts.create_user(
        ctx,
        email="bench@example.org",
        password="Kirschbaum-Lauf-77",  # noqa: S106,
        display_name="b",
        role="city-admin",
        city_slug="bench",
    )
    point = await touchpoints.create_touchpoint(
        ctx,
        admin,
        city.id,
        {"kind": "qr", "name": "Bench QR", "lat": 52.1, "lon": 8.7, "target": "/bench"},
    )
    baseline = Starlette(routes=[Route("/q/{code}", bare_redirect)])
    path = f"/q/{point.code}"
    base = await rate(baseline, path, n)
    cached = await rate(app, path, n)
    missed = await rate(app, path, n, before_each=lambda: ctx.codes.forget(point.code))
    print(f"baseline bare Starlette redirect: {base:,.0f} req/s")
    print(f"qr_redirect, busy code (cached): {cached:,.0f} req/s, ratio {cached / base:.3f}")
    print(f"qr_redirect, cache miss (SQLite read): {missed:,.0f} req/s, ratio {missed / base:.3f}")
    await app.state.marktplatz.close()


if __name__ == "__main__":
    bench_settings = Settings(var_dir=Path(tempfile.mkdtemp()), environment=Environment.TEST)
    migrate_database(bench_settings)
    asyncio.run(main(bench_settings, int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
