"""API tests for logins: cookies, session ids, logout, password change, CSRF, rate limit and the
password rules."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from marktplatz.bootstrap import App
from marktplatz.domain.accounts import User
from marktplatz.domain.errors import InvalidInput
from marktplatz.services import accounts
from marktplatz.settings import Settings
from marktplatz.web.app import create_app
from marktplatz.web.security import SESSION_COOKIE
from support import PASSWORD, Tenant, login, make_user, unique

EN = {"accept-language": "en"}
NEW_PASSWORD = "Kastanienallee-77-Neu"


@asynccontextmanager
async def second_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Another browser: its own cookie jar on the same application."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        yield other


async def post_login(
    client: httpx.AsyncClient, email: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await client.post(
        "/api/v1/session",
        json={"email": email, "password": password},
        headers={**EN, **(headers or {})},
    )


async def me(client: httpx.AsyncClient, token: str | None = None) -> httpx.Response:
    """GET /me, with the jar's cookie or, if given, exactly this session token."""
    if token is not None:
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, token)
    return await client.get("/api/v1/me")


async def audit_actions(composed: App, object_id: str) -> list[str]:
    async with composed.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT action FROM audit_log WHERE object_id = :oid ORDER BY id"),
            {"oid": object_id},
        )
        return [row[0] for row in rows]


def cookie_attributes(response: httpx.Response) -> tuple[str, dict[str, str]]:
    """The session token and the attributes (lower-case names) of the session Set-Cookie."""
    (header,) = [
        h for h in response.headers.get_list("set-cookie") if h.startswith(f"{SESSION_COOKIE}=")
    ]
    first, *rest = [part.strip() for part in header.split(";")]
    attributes = {}
    for part in rest:
        name, _, value = part.partition("=")
        attributes[name.lower()] = value
    return first.split("=", 1)[1], attributes


@pytest.fixture
async def user(composed: App, tenant: Tenant) -> User:
    """A city editor of their own, so that password changes touch no one else."""
    return await make_user(composed, "city-editor", tenant.city)


# --- login ----------------------------------------------------------------------------------


async def test_wrong_password_is_refused_and_audited(
    client: httpx.AsyncClient, user: User, composed: App
) -> None:
    # given a user
    # when a login with a wrong password is tried
    response = await post_login(client, user.email, "Falsches-Passwort-1")

    # then
    assert response.status_code == 401
    assert response.json() == {"detail": "E-mail address or password is not correct."}
    assert "set-cookie" not in response.headers
    assert (await me(client)).status_code == 401
    assert await audit_actions(composed, user.email) == ["login.failed"]


async def test_unknown_email_gets_the_same_answer(client: httpx.AsyncClient, composed: App) -> None:
    # given an address nobody has
    email = f"{unique('niemand')}@example.org"

    # when
    response = await post_login(client, email, PASSWORD)

    # then
    assert (response.status_code, response.json()) == (
        401,
        {"detail": "E-mail address or password is not correct."},
    )
    assert await audit_actions(composed, email) == ["login.failed"]


async def test_login_sets_an_http_only_lax_cookie(
    client: httpx.AsyncClient, user: User, composed: App
) -> None:
    # given a user
    # when
    response = await post_login(client, f"  {user.email.upper()} ", PASSWORD)

    # then
    assert response.status_code == 200, response.text
    token, attributes = cookie_attributes(response)
    assert len(token) >= 40
    assert "httponly" in attributes
    assert attributes["samesite"].lower() == "lax"
    assert attributes["path"] == "/"
    assert attributes["max-age"] == str(composed.settings.session_max_age_hours * 3600)
    assert "secure" not in attributes  # cookie_secure is off in tests
    body = response.json()
    assert body["user"]["email"] == user.email
    assert len(body["csrf_token"]) >= 40
    assert body["csrf_token"] != token
    assert await audit_actions(composed, str(user.id)) == ["user.created", "login.succeeded"]


async def test_every_login_gets_a_new_session_id(
    client: httpx.AsyncClient, user: User, web: Any
) -> None:
    # given a user logged in once
    first = await post_login(client, user.email, PASSWORD)
    first_token, _ = cookie_attributes(first)

    # when they log in again in the same browser, and once more in another
    again = await post_login(
        client, user.email, PASSWORD, {"x-csrf-token": first.json()["csrf_token"]}
    )
    async with second_client(web) as other:
        elsewhere = await post_login(other, user.email, PASSWORD)

    # then each login has its own session and CSRF token
    again_token, _ = cookie_attributes(again)
    elsewhere_token, _ = cookie_attributes(elsewhere)
    assert len({first_token, again_token, elsewhere_token}) == 3
    assert (
        len(
            {first.json()["csrf_token"], again.json()["csrf_token"], elsewhere.json()["csrf_token"]}
        )
        == 3
    )
    assert client.cookies[SESSION_COOKIE] == again_token


async def test_logout_ends_the_current_session(
    client: httpx.AsyncClient, user: User, web: Any
) -> None:
    # given a user logged in twice: in this browser, and in another
    async with second_client(web) as other:
        await login(other, user)
        csrf = await login(client, user)
        token = client.cookies[SESSION_COOKIE]
        assert (await me(client)).status_code == 200

        # when this browser logs out
        response = await client.delete("/api/v1/session", headers={"x-csrf-token": csrf})

        # then its session is over on the server, even if the old cookie is sent again
        assert response.status_code == 204
        assert SESSION_COOKIE not in client.cookies
        assert (await me(client)).status_code == 401
        replayed = await me(client, token)
        assert (replayed.status_code, replayed.json()) == (401, {"detail": "login required"})
        # and the other browser's session is untouched
        assert (await me(other)).status_code == 200


async def test_logout_without_csrf_token_is_refused(client: httpx.AsyncClient, user: User) -> None:
    # given a logged-in user
    await login(client, user)

    # when
    response = await client.delete("/api/v1/session")

    # then
    assert (response.status_code, response.json()) == (403, {"detail": "csrf"})
    assert (await me(client)).status_code == 200


async def login_form_token(client: httpx.AsyncClient) -> str:
    """Open the login page; the double-submit token its form carries."""
    page = await client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match[1]


async def test_login_form_works_while_already_logged_in(
    client: httpx.AsyncClient, user: User, composed: App, tenant: Tenant
) -> None:
    # given a browser with a live session that opens the login page to switch accounts
    await login(client, user)
    old_token = client.cookies[SESSION_COOKIE]
    other = await make_user(composed, "city-admin", tenant.city)
    token = await login_form_token(client)

    # when the form is sent
    response = await client.post(
        "/login",
        data={"email": other.email, "password": PASSWORD, "csrf_token": token, "next": "/portal"},
    )

    # then the other account is logged in, in a new session
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/portal"
    assert client.cookies[SESSION_COOKIE] != old_token
    assert (await me(client)).json()["user"]["email"] == other.email


async def test_login_form_without_its_token_is_refused_while_logged_in(
    client: httpx.AsyncClient, user: User, composed: App, tenant: Tenant
) -> None:
    # given a logged-in browser, and a login form posted from another site (no login token)
    csrf = await login(client, user)
    other = await make_user(composed, "city-admin", tenant.city)

    # when it arrives, even with the session's own CSRF token in the form
    response = await client.post(
        "/login", data={"email": other.email, "password": PASSWORD, "csrf_token": csrf}
    )

    # then nobody is logged in by it, and the session stays
    assert response.status_code == 403
    assert "set-cookie" not in response.headers
    assert (await me(client)).json()["user"]["email"] == user.email
    assert await audit_actions(composed, str(other.id)) == ["user.created"]


async def test_only_the_login_form_is_exempt_from_the_session_csrf_check(
    client: httpx.AsyncClient, user: User
) -> None:
    # given a logged-in browser
    await login(client, user)

    # when a logout is posted without the session's token
    response = await client.post("/logout")

    # then it is refused and the session stays
    assert response.status_code == 403
    assert (await me(client)).status_code == 200


# --- password change ------------------------------------------------------------------------


async def test_password_change_ends_the_other_sessions(
    client: httpx.AsyncClient, user: User, web: Any
) -> None:
    # given a user logged in in two browsers
    async with second_client(web) as other:
        await login(other, user)
        csrf = await login(client, user)
        old_token = client.cookies[SESSION_COOKIE]

        # when this browser changes the password through the account page
        response = await client.post(
            "/account/password",
            data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "csrf_token": csrf},
        )

        # then this browser carries on in a fresh session, the other one is logged out
        assert response.status_code == 303
        assert response.headers["location"] == "/account/password?saved=1"
        new_token, attributes = cookie_attributes(response)
        assert new_token != old_token
        assert "httponly" in attributes
        assert (await me(client)).status_code == 200
        assert (await me(other)).status_code == 401
    async with second_client(web) as fresh:
        assert (await me(fresh, old_token)).status_code == 401
        assert (await post_login(fresh, user.email, PASSWORD)).status_code == 401
        assert (await post_login(fresh, user.email, NEW_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    ("current", "new", "message"),
    [
        ("Falsches-Passwort-1", NEW_PASSWORD, "The current password is not correct."),
        (PASSWORD, "kurz", "The password needs at least 10 characters."),
        (PASSWORD, "passwort123", "This password is too easy to guess."),
    ],
)
async def test_refused_password_change_keeps_everything(
    client: httpx.AsyncClient, user: User, web: Any, current: str, new: str, message: str
) -> None:
    # given a user logged in in two browsers
    async with second_client(web) as other:
        await login(other, user)
        csrf = await login(client, user)

        # when the change breaks a rule
        response = await client.post(
            "/account/password",
            headers=EN,
            data={"current_password": current, "new_password": new, "csrf_token": csrf},
        )

        # then the page says why, and the password and both sessions stay
        assert response.status_code == 422
        assert message in response.text
        assert "set-cookie" not in response.headers
        assert (await me(client)).status_code == 200
        assert (await me(other)).status_code == 200
    async with second_client(web) as fresh:
        assert (await post_login(fresh, user.email, PASSWORD)).status_code == 200


async def test_password_form_without_csrf_token_is_refused(
    client: httpx.AsyncClient, user: User, web: Any
) -> None:
    # given a logged-in user
    await login(client, user)

    # when a form posted from elsewhere (no token) tries to set a new password
    response = await client.post(
        "/account/password", data={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )

    # then
    assert response.status_code == 403
    assert (await me(client)).status_code == 200
    async with second_client(web) as fresh:
        assert (await post_login(fresh, user.email, PASSWORD)).status_code == 200


class _FormInputs(HTMLParser):
    """The names of the inputs of the form posting to `action`, as a browser reads them: of
    duplicate attributes, the first one counts."""

    def __init__(self, action: str) -> None:
        super().__init__()
        self.action, self.inside, self.names = action, False, []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        first: dict[str, str | None] = {}
        for name, value in attrs:
            first.setdefault(name, value)
        if tag == "form":
            self.inside = first.get("action") == self.action
        elif tag == "input" and self.inside and first.get("name"):
            self.names.append(str(first["name"]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


# Guards a real bug once found: a duplicated name attribute made browsers post the wrong field.
async def test_password_page_form_sends_the_fields_the_route_reads(
    client: httpx.AsyncClient, user: User
) -> None:
    # given the account page of a logged-in user
    await login(client, user)
    page = await client.get("/account/password")
    assert page.status_code == 200

    # when the page's form is read as a browser reads it
    parser = _FormInputs("/account/password")
    parser.feed(page.text)

    # then it sends what the route expects
    assert sorted(parser.names) == ["csrf_token", "current_password", "new_password"]


# --- CSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", [None, "", "falsch"])
async def test_state_change_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, sent: str | None
) -> None:
    # given the shop's owner, logged in with a session cookie
    await login(client, tenant.users["retailer-owner"])
    before = (await client.get(f"/api/v1/shops/{tenant.shop_a.id}")).json()["name"]
    headers = {} if sent is None else {"x-csrf-token": sent}

    # when a change arrives with the cookie but without the right token
    response = await client.patch(
        f"/api/v1/shops/{tenant.shop_a.id}", headers=headers, json={"name": "Gefälscht"}
    )

    # then
    assert (response.status_code, response.json()) == (403, {"detail": "csrf"})
    assert (await client.get(f"/api/v1/shops/{tenant.shop_a.id}")).json()["name"] == before
    assert before == "Optik A"


async def test_csrf_token_of_another_session_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, web: Any
) -> None:
    # given the owner logged in in two browsers
    owner = tenant.users["retailer-owner"]
    async with second_client(web) as other:
        other_csrf = await login(other, owner)
    await login(client, owner)

    # when this browser sends the other session's token
    response = await client.patch(
        f"/api/v1/shops/{tenant.shop_a.id}",
        headers={"x-csrf-token": other_csrf},
        json={"name": "Falsch"},
    )

    # then
    assert response.status_code == 403
    assert (await client.get(f"/api/v1/shops/{tenant.shop_a.id}")).json()["name"] == "Optik A"


async def test_me_returns_the_csrf_token_of_the_session(
    client: httpx.AsyncClient, user: User
) -> None:
    # given a logged-in user
    csrf = await login(client, user)

    # when
    response = await me(client)

    # then
    assert response.status_code == 200
    assert response.json()["csrf_token"] == csrf
    assert response.json()["user"]["memberships"] == [
        {"role": "city-editor", "city_id": str(user.memberships[0].city_id), "shop_id": None}
    ]


# --- rate limit -----------------------------------------------------------------------------


@pytest.fixture
async def limited(settings: Settings, tmp_path: Path) -> AsyncIterator[Any]:
    """An application that allows three login attempts a minute per account and per client."""
    app = create_app(
        Settings(
            database_url=settings.database_url,
            environment="test",
            login_rate_limit="3/minute",
            var_dir=tmp_path,
        )
    )
    yield app
    await app.state.marktplatz.close()


@asynccontextmanager
async def client_at(app: Any, address: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser on its own machine: the rate limit counts per client address."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def test_fourth_failed_login_within_a_minute_is_throttled(
    limited: Any, composed: App, tenant: Tenant
) -> None:
    # given an application that allows three failed logins a minute
    user = await make_user(composed, "city-editor", tenant.city)
    async with second_client(limited) as client:
        # when four wrong passwords are tried, then the right one
        answers = [await post_login(client, user.email, "Falsches-Passwort-1") for _ in range(4)]
        right = await post_login(client, user.email, PASSWORD)

    # then the fourth try and the right password are both refused without being checked
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[3].json() == {"detail": "Too many failed attempts. Please wait a few minutes."}
    assert answers[3].headers["retry-after"] == "900"
    assert right.status_code == 429
    assert "set-cookie" not in right.headers
    assert await audit_actions(composed, user.email) == ["login.failed"] * 3


async def test_own_logins_between_guesses_do_not_reset_the_client_limit(
    limited: Any, composed: App, tenant: Tenant
) -> None:
    # given someone with an account of their own, and three accounts of other people
    own = await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)
    victims = [await make_user(composed, "city-editor", tenant.city) for _ in range(3)]

    # when from one client they guess each victim's password, logging in as themselves after
    # every guess
    statuses = []
    async with client_at(limited, "198.51.100.7") as client:
        for victim in victims:
            statuses.append(
                (await post_login(client, victim.email, "Geraten-Passwort-1")).status_code
            )
            statuses.append((await post_login(client, own.email, PASSWORD)).status_code)
            client.cookies.clear()  # a script keeps no session between its tries

    # then the client is throttled after three attempts, and the last guess is never checked
    assert statuses == [401, 200, 401, 429, 429, 429]
    assert [await audit_actions(composed, v.email) for v in victims] == [
        ["login.failed"],
        ["login.failed"],
        [],
    ]


async def test_a_successful_login_clears_the_accounts_own_failures(
    limited: Any, composed: App, tenant: Tenant
) -> None:
    # given a user who mistyped twice on one machine, then logged in there
    user = await make_user(composed, "city-editor", tenant.city)
    async with client_at(limited, "198.51.100.8") as first:
        typos = [await post_login(first, user.email, "Vertippt-Passwort-1") for _ in range(2)]
        right = await post_login(first, user.email, PASSWORD)

    # when three wrong passwords for that account arrive from another machine
    async with client_at(limited, "198.51.100.9") as second:
        later = [await post_login(second, user.email, "Vertippt-Passwort-2") for _ in range(3)]

    # then the earlier typos no longer count against the account
    assert [a.status_code for a in (*typos, right)] == [401, 401, 200]
    assert [a.status_code for a in later] == [401, 401, 401]


# --- password rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("kurz-1", "The password needs at least %(min)s characters."),
        ("Passwort123", "This password is too easy to guess."),
        ("aaaaaaaaaaaaaaaa", "This password is too easy to guess."),
        ("{local}-Sonne-42", "The password must not contain your e-mail name."),
    ],
)
async def test_create_user_enforces_password_rules(
    composed: App, tenant: Tenant, password: str, message: str
) -> None:
    # given a new user's address and a password that breaks one rule
    local = unique("anna")
    email = f"{local}@example.org"

    # when
    with pytest.raises(InvalidInput) as caught:
        await accounts.create_user(
            composed.ctx,
            email=email,
            password=password.format(local=local.upper()),
            display_name="Anna",
            role="city-editor",
            city_slug=tenant.city.slug,
        )

    # then
    assert (caught.value.field, caught.value.message) == ("password", message)
    async with composed.ctx.uow() as uow:
        assert await uow.users.by_email(email) is None
