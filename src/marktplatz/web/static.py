"""Static assets served from memory under content-hashed names with long cache headers."""

from __future__ import annotations

import hashlib
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True, slots=True)
class Asset:
    data: bytes
    media_type: str
    hashed_name: str


@lru_cache(maxsize=1)
def assets() -> dict[str, Asset]:
    """Every file below static/, read once, keyed by its hashed name."""
    found: dict[str, Asset] = {}
    for path in sorted(STATIC.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        name = path.relative_to(STATIC).as_posix()
        digest = hashlib.sha256(data).hexdigest()[:12]
        stem, dot, suffix = name.rpartition(".")
        hashed = f"{stem}.{digest}.{suffix}" if dot else f"{name}.{digest}"
        media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        found[hashed] = Asset(data, media_type, hashed)
        found[name] = found[hashed]
    return found


def has_asset(name: str) -> bool:
    """Whether an asset is there; vendor/ files come from npm at install time and may be missing."""
    return name in assets()


def asset_url(name: str) -> str:
    return f"/static/{assets()[name].hashed_name}"


async def serve_static(request: Request) -> Response:
    name = str(request.path_params["path"])
    asset = assets().get(name)
    if asset is None:
        return Response(status_code=404)
    immutable = name == asset.hashed_name
    cache = "public, max-age=31536000, immutable" if immutable else "public, max-age=300"
    return Response(asset.data, media_type=asset.media_type, headers={"cache-control": cache})


async def serve_service_worker(request: Request) -> Response:
    """The service worker at the root, so that its scope covers the city pages."""
    asset = assets().get("vendor/sw.js")
    if asset is None:  # built by `make node`; without npm the wallet simply needs a network
        return Response(status_code=404)
    return Response(asset.data, media_type="text/javascript", headers={"cache-control": "no-cache"})
