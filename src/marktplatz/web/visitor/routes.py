"""Visitor pages (no cookie, no identifier) plus login, logout, language and media."""

from __future__ import annotations

import hmac
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from marktplatz.domain.errors import N_, InvalidInput, NotFound
from marktplatz.domain.two_factor import CHALLENGE_MINUTES
from marktplatz.services import accounts, cities, shops
from marktplatz.services import content as content_service
from marktplatz.services.second_factor import ChallengeExpired, SecondFactorWrong, SecondStep
from marktplatz.web import presenters as p
from marktplatz.web.i18n import LANG_COOKIE, LANGUAGES, pick_language
from marktplatz.web.pages import field_errors, render
from marktplatz.web.security import (
    CHALLENGE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    CurrentUser,
    client_key,
    csrf_guard,
    login_csrf_ok,
    new_login_csrf,
    set_form_cookie,
    set_session_cookie,
)
from marktplatz.web.state import app_of
from marktplatz.web.visitor.coupons import here
from marktplatz.web.visitor.shop_filter import ShopFilter, find_shops

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf_guard)])


def _safe_next(target: str | None) -> str:
    """Only same-site paths: a login link must never bounce the user to another site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/portal"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@router.get("/", response_class=HTMLResponse)
async def home(request: Request) -> Response:
    all_cities = await cities.list_cities(app_of(request).ctx)
    if len(all_cities) == 1:
        return RedirectResponse(f"/{all_cities[0].slug}", status_code=307)
    return render(request, "visitor/home.html", cities=all_cities)


@router.get("/lang/{code}")
async def switch_language(code: str, next: str = "/") -> Response:
    """Remember an explicit language choice (a preference, not an identifier)."""
    response = RedirectResponse(_safe_next(next) if next != "/" else "/", status_code=303)
    if code in LANGUAGES:
        response.set_cookie(LANG_COOKIE, code, max_age=365 * 86400, samesite="lax", path="/")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str = "/portal") -> Response:
    token = new_login_csrf()
    response = render(request, "login.html", next=_safe_next(next), login_csrf=token, error=None)
    set_form_cookie(response, request, token, "/login")
    return response


@router.post("/login", response_class=HTMLResponse)
async def login_submit(
    request: Request,
    email: Annotated[str, Form(max_length=254)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/portal",
) -> Response:
    """Check the password; a new session id is issued at every login."""
    if not login_csrf_ok(request, csrf_token):
        return render(
            request,
            "login.html",
            status_code=403,
            next=_safe_next(next),
            login_csrf=request.cookies.get(LOGIN_CSRF_COOKIE, ""),
            error=N_("Your login form expired. Please try again."),
            email=email,
        )
    try:
        started = await accounts.login(app_of(request).ctx, email, password, client_key(request))
    except accounts.LoginThrottled:
        return render(
            request,
            "login.html",
            status_code=429,
            next=_safe_next(next),
            login_csrf=csrf_token,
            email=email,
            error=N_("Too many failed attempts. Please wait a few minutes."),
        )
    except accounts.LoginFailed as exc:
        return render(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(next),
            login_csrf=csrf_token,
            email=email,
            error=exc.message,
        )
    if isinstance(started, SecondStep):
        return _code_step(request, started.token, csrf_token, next)
    return _logged_in(request, started.token, next)


def _logged_in(request: Request, token: str, next: str) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_session_cookie(response, request, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    response.delete_cookie(CHALLENGE_COOKIE, path="/login")
    return response


def _code_step(
    request: Request,
    challenge: str,
    csrf: str,
    next: str,
    error: str | None = None,
    status: int = 200,
) -> Response:
    response = render(
        request,
        "login_code.html",
        status_code=status,
        next=_safe_next(next),
        login_csrf=csrf,
        challenge=challenge,
        error=error,
    )
    # The challenge travels in the form and in a cookie only /login sees: both must match, so
    # a stolen form alone (or a cross-site post) cannot finish someone else's login.
    response.set_cookie(
        CHALLENGE_COOKIE,
        challenge,
        httponly=True,
        samesite="strict",
        path="/login",
        max_age=CHALLENGE_MINUTES * 60,
        secure=app_of(request).settings.cookie_secure,
    )
    return response


@router.post("/login/code", response_class=HTMLResponse)
async def login_code_submit(
    request: Request,
    code: Annotated[str, Form(max_length=64)],
    challenge: Annotated[str, Form(max_length=100)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=500)] = "/portal",
) -> Response:
    """The second login step: a code from the app (or a recovery code) finishes the login."""
    cookie = request.cookies.get(CHALLENGE_COOKIE, "")
    paired = bool(cookie) and hmac.compare_digest(cookie.encode(), challenge.encode())
    try:
        if not (paired and login_csrf_ok(request, csrf_token)):
            raise ChallengeExpired("unpaired")
        started = await accounts.login_with_code(app_of(request).ctx, challenge, code)
    except ChallengeExpired:
        token = new_login_csrf()
        response = render(
            request,
            "login.html",
            status_code=401,
            next=_safe_next(next),
            login_csrf=token,
            error=N_("Your login took too long. Please enter your password again."),
        )
        set_form_cookie(response, request, token, "/login")
        response.delete_cookie(CHALLENGE_COOKIE, path="/login")
        return response
    except accounts.LoginThrottled:
        error = N_("Too many wrong codes. Please wait a few minutes.")
        return _code_step(request, challenge, csrf_token, next, error, 429)
    except SecondFactorWrong:
        error = N_(
            "This code is not correct or was already used. "
            "Enter the current code from your app or an unused recovery code."
        )
        return _code_step(request, challenge, csrf_token, next, error, 401)
    return _logged_in(request, started.token, next)


@router.post("/logout")
async def logout(request: Request) -> Response:
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await accounts.logout(app_of(request).ctx, token)
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password", response_class=HTMLResponse)
async def password_form(request: Request, user: CurrentUser) -> Response:
    if user is None:
        return RedirectResponse("/login?next=/account/password", status_code=303)
    return render(request, "password.html", errors={}, saved=request.query_params.get("saved"))


@router.post("/account/password", response_class=HTMLResponse)
async def password_submit(
    request: Request,
    user: CurrentUser,
    current_password: Annotated[str, Form(max_length=256)],
    new_password: Annotated[str, Form(max_length=256)],
) -> Response:
    """Change the password; every other session of the user ends."""
    if user is None:
        return RedirectResponse("/login?next=/account/password", status_code=303)
    try:
        started = await accounts.change_password(
            app_of(request).ctx, user, current_password, new_password
        )
    except InvalidInput as exc:
        return render(
            request, "password.html", status_code=422, errors=field_errors(request, exc), saved=None
        )
    response = RedirectResponse("/account/password?saved=1", status_code=303)
    set_session_cookie(response, request, started.token)
    return response


@router.get("/media/{name}")
async def media(request: Request, name: str) -> Response:
    data = app_of(request).media.read(name)
    if data is None:
        raise NotFound("media")
    kind = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}[name.rsplit(".", 1)[1]]
    return Response(
        data, media_type=kind, headers={"cache-control": "public, max-age=31536000, immutable"}
    )


@router.get("/{city}", response_class=HTMLResponse)
async def city_start(
    request: Request,
    city: str,
    category: str = "",
    open_now: str = "",
    q: str = "",
    via: str = "",
) -> Response:
    """The city's start page: its shops, filterable by category and by open now."""
    ctx = app_of(request).ctx
    found = await cities.city_by_slug(ctx, city)
    images = await shops.city_images(ctx, found.id)
    shown = await find_shops(request, found, ShopFilter.of(category, open_now, q))
    cards = [
        {"shop": shop, "status": status, "image": next(iter(images.get(shop.id, [])), None)}
        for shop, status in shown.shops
    ]
    return render(
        request,
        "visitor/city.html",
        city=found,
        cards=cards,
        categories=shown.categories,
        chosen=shown.chosen,
        open_now=shown.open_now,
        q=q[:80],
        total=shown.total,
        here=await here(request, found, via),
    )


@router.get("/{city}/shops/{slug}", response_class=HTMLResponse)
async def shop_page(request: Request, city: str, slug: str, via: str = "") -> Response:
    """A shop's page: story, pictures, contact and opening hours with today's state."""
    ctx = app_of(request).ctx
    found = await cities.city_by_slug(ctx, city)
    shop, images = await shops.public_shop(ctx, found.id, slug)
    now = ctx.clock.now()
    lang = pick_language(request)
    return render(
        request,
        "visitor/shop.html",
        city=found,
        shop=shop,
        images=images,
        status=p.hours_status(shop, found, now, lang),
        week=p.week_hours(shop, found, now, lang),
        image_url=p.image_url,
        items=await content_service.published_for_shop(ctx, shop.id),
        here=await here(request, found, via),
    )
