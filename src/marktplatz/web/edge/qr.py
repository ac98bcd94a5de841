"""The dynamic QR/NFC redirect: /q/<code> → the touchpoint's current target."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from marktplatz.domain.errors import NotFound
from marktplatz.services.touchpoints import resolve_code
from marktplatz.web.pages import render_error
from marktplatz.web.state import app_of

_NO_STORE = {"cache-control": "no-store"}


async def qr_redirect(request: Request) -> Response:
    """Follow a printed code; 307 so the target can change without reprinting."""
    code = str(request.path_params["code"])
    try:
        target = await resolve_code(app_of(request).ctx, code)
    except NotFound:
        return render_error(request, 404)
    # No cookie, no identifier: the redirect itself must not track the visitor. A page of our
    # own learns which touchpoint was scanned (the same for everyone), to show what is offered
    # right there.
    return RedirectResponse(_via(target, code), status_code=307, headers=_NO_STORE)


def _via(target: str, code: str) -> str:
    if not target.startswith("/") or target.startswith("//"):
        return target  # another site: it gets nothing from us
    path, _, fragment = target.partition("#")
    joined = f"{path}{'&' if '?' in path else '?'}via={code.strip().lower()}"
    return f"{joined}#{fragment}" if fragment else joined
