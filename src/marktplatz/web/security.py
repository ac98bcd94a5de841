"""Login sessions in an opaque cookie, CSRF tokens, and the current user."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Response

from marktplatz.domain.accounts import LoginSession, User
from marktplatz.services import accounts, two_factor
from marktplatz.web.state import app_of

SESSION_COOKIE = "mp_session"
LOGIN_CSRF_COOKIE = "mp_login_csrf"
CHALLENGE_COOKIE = "mp_login_challenge"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOGIN_PATHS = frozenset({"/login", "/login/code"})


async def current_session(request: Request) -> tuple[LoginSession, User] | None:
    """The session and user behind the cookie, looked up once per request."""
    if "auth" not in request.state._state:
        token = request.cookies.get(SESSION_COOKIE, "")
        found = await accounts.session_user(app_of(request).ctx, token) if token else None
        request.state.auth = found
    auth: tuple[LoginSession, User] | None = request.state.auth
    return auth


async def current_user(request: Request) -> User | None:
    found = await current_session(request)
    return found[1] if found else None


async def csrf_token(request: Request) -> str:
    """The CSRF token of the current session (empty for anonymous requests)."""
    found = await current_session(request)
    return found[0].csrf_token if found else ""


async def csrf_guard(request: Request) -> None:
    """Refuse a state-changing request with a session cookie unless it carries the token."""
    if request.method in SAFE_METHODS:
        return
    if request.method == "POST" and request.url.path in LOGIN_PATHS:
        # The login form carries its own double-submit token (login_csrf_ok), made before any
        # session existed; comparing it with a session's token would lock logged-in users out.
        return
    found = await current_session(request)
    if found is None:
        return
    sent = request.headers.get("x-csrf-token", "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get("csrf_token", ""))
    if not hmac.compare_digest(sent.encode(), found[0].csrf_token.encode()):
        raise HTTPException(status_code=403, detail="csrf")


# Where a user who must have two-factor login but has not set it up cannot work; logging in and
# out through the API, and the account pages where it is set up, stay open to them.
_GATED = ("/portal", "/console", "/api/v1/")
_NOT_GATED = ("/api/v1/session", "/api/v1/me", "/api/v1/visitor/")


async def two_factor_gate(request: Request) -> None:
    """Past their deadline, owners and city admins without two-factor login set it up first."""
    path = request.url.path
    if not path.startswith(_GATED) or path.startswith(_NOT_GATED):
        return
    user = await current_user(request)
    if user is None:
        return
    due = await two_factor.setup_due(app_of(request).ctx, user)
    request.state.two_factor_due = due
    if due is not None and due.overdue:
        raise two_factor.SetupRequired("two-factor login must be set up first")


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def set_form_cookie(response: Response, request: Request, token: str, path: str) -> None:
    """The double-submit cookie of a form used before any session exists (login, invitation)."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path=path,
        secure=app_of(request).settings.cookie_secure,
    )


def login_csrf_ok(request: Request, sent: str) -> bool:
    """Double submit for the login form, where no session exists yet."""
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


CurrentUser = Annotated[User | None, Depends(current_user)]
CsrfToken = Annotated[str, Depends(csrf_token)]


def client_key(request: Request) -> str:
    """A rate-limit key for the client, hashed so that no raw IP address is kept."""
    # Keyed with the secret: without it, the 2^32 IPv4 addresses could be tried back from a hash.
    host = request.client.host if request.client else "unknown"
    secret = app_of(request).settings.secret_key.get_secret_value().encode()
    return hmac.new(secret, host.encode(), hashlib.sha256).hexdigest()[:32]


def set_session_cookie(response: Response, request: Request, token: str) -> None:
    settings = app_of(request).settings
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        max_age=settings.session_max_age_hours * 3600,
        path="/",
    )
