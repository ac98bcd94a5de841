"""Mapping of domain errors to HTTP answers: JSON for the API, pages for people."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from marktplatz.domain.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from marktplatz.services import auditing
from marktplatz.services.accounts import LoginFailed, LoginThrottled
from marktplatz.services.second_factor import SecondFactorRequired, SecondFactorWrong
from marktplatz.services.two_factor import SetupRequired
from marktplatz.web.i18n import gettext, pick_language
from marktplatz.web.pages import render_error
from marktplatz.web.state import app_of

TWO_FACTOR_PAGE = "/account/two-factor"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _field_error(request: Request, exc: InvalidInput | Conflict) -> Response:
    lang = pick_language(request)
    text = gettext(lang, exc.message)
    message = text % dict(exc.params) if exc.params else text
    if _is_api(request):
        return JSONResponse(
            {"detail": "invalid input", "errors": [{"field": exc.field, "message": message}]},
            status_code=422,
        )
    return render_error(request, 422, message)


async def on_invalid(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InvalidInput | Conflict)
    return _field_error(request, exc)


async def on_not_found(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": "not found"}, status_code=404)
    return render_error(request, 404)


async def on_forbidden(request: Request, exc: Exception) -> Response:
    auth = getattr(request.state, "auth", None)
    if auth is not None:
        # A logged-in person was refused: the city's admins see it in the audit log, by the
        # route's pattern. The path itself may hold a secret (an invitation link) or ids the
        # person typed, another city's among them, which that city's log must not repeat.
        route = getattr(request.scope.get("route"), "path", "") or "-"
        await auditing.record_denied(app_of(request).ctx, auth[1], route)
    if _is_api(request):
        return JSONResponse({"detail": "forbidden"}, status_code=403)
    if auth is None:
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    return render_error(request, 403)


async def on_login_failed(request: Request, exc: Exception) -> Response:
    lang = pick_language(request)
    if isinstance(exc, LoginThrottled):
        message = gettext(lang, N_("Too many failed attempts. Please wait a few minutes."))
        return JSONResponse({"detail": message}, status_code=429, headers={"retry-after": "900"})
    assert isinstance(exc, LoginFailed)
    return JSONResponse({"detail": gettext(lang, exc.message)}, status_code=401)


async def on_second_factor(request: Request, exc: Exception) -> Response:
    # Only the API raises these: the login form has its own second step.
    detail = (
        "second factor wrong" if isinstance(exc, SecondFactorWrong) else "second factor required"
    )
    return JSONResponse({"detail": detail}, status_code=401)


async def on_setup_required(request: Request, exc: Exception) -> Response:
    if _is_api(request):
        return JSONResponse(
            {"detail": "two-factor login required", "setup": TWO_FACTOR_PAGE}, status_code=403
        )
    return RedirectResponse(f"{TWO_FACTOR_PAGE}?required=1", status_code=303)


async def on_validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": ".".join(str(p) for p in err["loc"][1:]) or str(err["loc"][0]),
            "message": err["msg"],
        }
        for err in exc.errors()
    ]
    if _is_api(request):
        return JSONResponse({"detail": "invalid input", "errors": errors}, status_code=422)
    return render_error(request, 422, "; ".join(f"{e['field']}: {e['message']}" for e in errors))


async def on_http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request) or exc.status_code in (301, 302, 303, 307):
        return JSONResponse(
            {"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers
        )
    return render_error(request, exc.status_code)


def install(app: FastAPI) -> None:
    app.add_exception_handler(InvalidInput, on_invalid)
    app.add_exception_handler(Conflict, on_invalid)
    app.add_exception_handler(NotFound, on_not_found)
    app.add_exception_handler(Forbidden, on_forbidden)
    app.add_exception_handler(LoginFailed, on_login_failed)
    app.add_exception_handler(LoginThrottled, on_login_failed)
    app.add_exception_handler(SecondFactorRequired, on_second_factor)
    app.add_exception_handler(SecondFactorWrong, on_second_factor)
    app.add_exception_handler(SetupRequired, on_setup_required)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
