"""API tests for two-factor login: set-up, the second login step, recovery codes, turning off."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from pydantic import SecretStr
from sqlalchemy import select, text

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.domain.accounts import User
from marktplatz.settings import Settings
from marktplatz.store import tables
from marktplatz.web.app import create_app
from marktplatz.web.security import SESSION_COOKIE
from support import PASSWORD, Tenant, make_user, new_client

EN = {"accept-language": "en"}
PAGE = "/account/two-factor"


def mid_step() -> datetime:
    """Now, moved to ten seconds into a 30-second step: codes are not at a step's edge."""
    now = int(datetime.now(UTC).timestamp())
    return datetime.fromtimestamp(now - now % 30 + 10, UTC)


@asynccontextmanager
async def clocked(settings: Settings, tmp_path: Path, **changes: Any) -> AsyncIterator[On]:
    """An app on the shared database whose clock stands still until a test moves it."""
    clock = FixedClock(mid_step())
    app: Any = create_app(settings.model_copy(update={"var_dir": tmp_path, **changes}), clock=clock)
    try:
        yield On(app, clock)
    finally:
        await app.state.marktplatz.close()


@dataclass
class On:
    """An app with a standing clock; once set up, the owner's secret and recovery codes."""

    app: Any
    clock: FixedClock
    secret: str = ""
    codes: list[str] = field(default_factory=list)


@pytest.fixture
async def timed(settings: Settings, tmp_path: Path) -> AsyncIterator[On]:
    async with clocked(settings, tmp_path) as on:
        yield on


@pytest.fixture
async def on(timed: On, owner: User) -> On:
    """Two-factor login turned on for the owner."""
    async with new_client(timed.app) as setup:
        timed.secret, timed.codes = await enrolled(setup, owner, timed.clock)
    return timed


@pytest.fixture
async def owner(composed: App, tenant: Tenant) -> User:
    """A shop owner of their own, so that sessions ended here touch no one else."""
    return await make_user(composed, "retailer-owner", tenant.city, tenant.shop_a)


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, page
    return match[1]


def code_at(secret: str, clock: FixedClock, steps: int = 0) -> str:
    return pyotp.TOTP(secret).at(clock.at + timedelta(seconds=30 * steps))


async def api_login(client: httpx.AsyncClient, user: User, **extra: str) -> httpx.Response:
    body = {"email": user.email, "password": PASSWORD, **extra}
    return await client.post("/api/v1/session", json=body, headers=EN)


async def csrf_of(client: httpx.AsyncClient) -> str:
    response = await client.get("/api/v1/me")
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


async def start(client: httpx.AsyncClient) -> str:
    """Start the set-up; the secret as the page shows it, without the spaces."""
    csrf = await csrf_of(client)
    response = await client.post(f"{PAGE}/start", data={"csrf_token": csrf})
    assert response.status_code == 303, response.text
    page = (await client.get(PAGE, headers=EN)).text
    assert 'src="data:image/svg+xml;base64,' in page
    match = re.search(r"<code class=\"secret\" data-secret>([A-Z2-7 ]+)</code>", page)
    assert match, page
    return match[1].replace(" ", "")


async def confirm(client: httpx.AsyncClient, code: str) -> httpx.Response:
    csrf = await csrf_of(client)
    return await client.post(f"{PAGE}/confirm", data={"csrf_token": csrf, "code": code}, headers=EN)


def recovery_codes(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9-]{19})</code></li>", page)


async def enrolled(
    client: httpx.AsyncClient, user: User, clock: FixedClock
) -> tuple[str, list[str]]:
    """Log in by API, set up two-factor login with the code of one step ago."""
    assert (await api_login(client, user)).status_code == 200
    secret = await start(client)
    response = await confirm(client, code_at(secret, clock, -1))
    assert response.status_code == 200, response.text
    return secret, recovery_codes(response.text)


async def two_factor_row(composed: App, user: User) -> dict[str, Any] | None:
    query = select(tables.two_factor).where(tables.two_factor.c.user_id == user.id)
    async with composed.engine.connect() as conn:
        row = (await conn.execute(query)).mappings().first()
    return dict(row) if row else None


async def audit_rows(composed: App, user: User) -> list[tuple[str, str]]:
    async with composed.engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT action, detail FROM audit_log WHERE object_id = :oid ORDER BY id"),
            {"oid": str(user.id)},
        )
        return [(row[0], row[1]) for row in rows]


async def password_step(
    client: httpx.AsyncClient, user: User, next: str = "/portal"
) -> httpx.Response:
    form = await client.get("/login")
    data = {
        "email": user.email,
        "password": PASSWORD,
        "csrf_token": hidden(form.text, "csrf_token"),
        "next": next,
    }
    return await client.post("/login", data=data, headers=EN)


async def code_step(
    client: httpx.AsyncClient, step: httpx.Response, code: str, headers: dict[str, str] = EN
) -> httpx.Response:
    data = {
        "code": code,
        "challenge": hidden(step.text, "challenge"),
        "csrf_token": hidden(step.text, "csrf_token"),
        "next": hidden(step.text, "next"),
    }
    return await client.post("/login/code", data=data, headers=headers)


async def form_login(client: httpx.AsyncClient, user: User, code: str) -> httpx.Response:
    step = await password_step(client, user)
    assert step.status_code == 200, step.text
    return await code_step(client, step, code)


# --- set-up -------------------------------------------------------------------------------


async def test_set_up_needs_a_right_code_and_shows_ten_recovery_codes_once(
    timed: On, composed: App, owner: User
) -> None:
    app, clock = timed.app, timed.clock
    async with new_client(app) as client:
        # given a logged-in owner who started the set-up
        assert (await api_login(client, owner)).status_code == 200
        secret = await start(client)

        # when a wrong code confirms it
        wrong = await confirm(client, "000000" if code_at(secret, clock) != "000000" else "111111")

        # then it is refused and two-factor login stays off
        assert wrong.status_code == 422
        assert "This code is not correct." in wrong.text
        row = await two_factor_row(composed, owner)
        assert row is not None
        assert row["enabled_at"] is None

        # when the current code confirms it
        right = await confirm(client, code_at(secret, clock))

        # then it is on, with ten different recovery codes shown once
        assert right.status_code == 200
        codes = recovery_codes(right.text)
        assert len(set(codes)) == 10
        again = await client.get(PAGE, headers=EN)
        assert "Two-factor login is on." in again.text
        assert "Unused recovery codes: 10" in again.text
        assert recovery_codes(again.text) == []
        assert secret not in again.text.replace(" ", "")

    # and the secret is stored sealed, the recovery codes only as hashes
    row = await two_factor_row(composed, owner)
    assert row is not None
    assert row["enabled_at"] is not None
    sealed = bytes(row["secret_sealed"])
    assert secret.encode() not in sealed
    assert secret.lower().encode() not in sealed
    async with composed.engine.connect() as conn:
        stored = [r[0] for r in await conn.execute(text("SELECT code_hash FROM recovery_codes"))]
    assert not set(codes) & set(stored)
    # and every change is audited, without the secret or a code
    rows = await audit_rows(composed, owner)
    assert [a for a, _ in rows if a.startswith("two_factor.")] == [
        "two_factor.setup_started",
        "two_factor.enabled",
    ]
    for _, detail in rows:
        assert secret not in detail
        assert not any(c in detail for c in codes)


async def test_anonymous_is_sent_to_log_in(client: httpx.AsyncClient) -> None:
    # when / then
    response = await client.get(PAGE)
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/login?next=/account/two-factor",
    )


# --- login by form ------------------------------------------------------------------------


async def test_form_login_asks_for_a_code_after_the_password(
    on: On, composed: App, owner: User
) -> None:
    app, clock = on.app, on.clock
    secret = on.secret
    async with new_client(app) as client:
        # when the password is right
        step = await password_step(client, owner, next="/account/two-factor")

        # then no session starts yet: a code is asked for
        assert step.status_code == 200
        assert SESSION_COOKIE not in client.cookies
        assert 'autocomplete="one-time-code"' in step.text
        assert 'inputmode="numeric"' in step.text
        assert (await client.get("/api/v1/me")).status_code == 401

        # when a wrong code is entered (in German, the default language)
        wrong = await code_step(
            client, step, "123456" if code_at(secret, clock) != "123456" else "654321", {}
        )

        # then the form comes again with a clear message, still without a session
        assert wrong.status_code == 401
        assert 'role="alert"' in wrong.text
        assert "Dieser Code stimmt nicht" in wrong.text
        assert (await client.get("/api/v1/me")).status_code == 401

        # when the current code is entered
        done = await code_step(client, wrong, code_at(secret, clock))

        # then the session starts and the user goes where they wanted
        assert (done.status_code, done.headers["location"]) == (303, "/account/two-factor")
        assert (await client.get("/api/v1/me")).status_code == 200
    actions = [a for a, _ in await audit_rows(composed, owner)]
    assert actions[-3:] == [
        "login.password_accepted",
        "login.second_factor_failed",
        "login.succeeded",
    ]


async def test_a_used_code_is_refused_until_the_next_step(on: On, owner: User) -> None:
    app, clock = on.app, on.clock
    secret = on.secret
    async with new_client(app) as first, new_client(app) as second:
        assert (await form_login(first, owner, code_at(secret, clock))).status_code == 303

        # when someone else types the same code again
        replay = await form_login(second, owner, code_at(secret, clock))

        # then it is refused
        assert replay.status_code == 401
        assert "already used" in replay.text
        assert (await second.get("/api/v1/me")).status_code == 401

        # and the next step's code works
        clock.advance(timedelta(seconds=30))
        assert (await form_login(second, owner, code_at(secret, clock))).status_code == 303


async def test_a_recovery_code_works_once(on: On, owner: User) -> None:
    app, codes = on.app, on.codes
    async with new_client(app) as first, new_client(app) as second:
        # when a recovery code is used (typed in capitals, with spaces)
        used = await form_login(first, owner, codes[3].upper().replace("-", " "))

        # then it logs in once
        assert used.status_code == 303
        assert (await first.get("/api/v1/me")).status_code == 200
        again = await form_login(second, owner, codes[3])
        assert again.status_code == 401
        assert (await second.get("/api/v1/me")).status_code == 401


async def test_the_code_step_has_a_field_with_letters_for_recovery_codes(
    on: On, owner: User
) -> None:
    async with new_client(on.app) as client:
        step = await password_step(client, owner)
    # app codes: digits on a phone's keyboard; recovery codes (with letters): a field of their own
    html = step.text
    assert re.search(r'<input id="f-code" name="code"[^>]*inputmode="numeric"', html)
    assert re.search(r'<input id="f-recovery" name="code"[^>]*inputmode="text"', html)
    assert html.count('action="/login/code"') == 2
    assert html.count(f'name="challenge" value="{hidden(html, "challenge")}"') == 2


async def test_the_second_step_expires_and_works_only_once(on: On, owner: User) -> None:
    app, clock = on.app, on.clock
    secret = on.secret
    async with new_client(app) as client:
        step = await password_step(client, owner)

        # when the code comes six minutes later
        clock.advance(timedelta(minutes=6))
        late = await code_step(client, step, code_at(secret, clock))

        # then the password is asked for again
        assert late.status_code == 401
        assert "Your login took too long" in late.text
        assert 'name="password"' in late.text
        assert (await client.get("/api/v1/me")).status_code == 401

        # and a step's form cannot be used twice
        step = await password_step(client, owner)
        assert (await code_step(client, step, code_at(secret, clock))).status_code == 303
        client.cookies.delete(SESSION_COOKIE)
        clock.advance(timedelta(seconds=30))
        assert (await code_step(client, step, code_at(secret, clock))).status_code == 401


async def test_a_form_without_its_cookie_is_refused(on: On, owner: User) -> None:
    app, clock = on.app, on.clock
    secret = on.secret
    async with new_client(app) as client, new_client(app) as other:
        step = await password_step(client, owner)
        await other.get("/login")  # a login-form cookie, but not this step's

        # when another browser posts the step's form
        response = await code_step(other, step, code_at(secret, clock))

        # then
        assert response.status_code == 401
        assert (await other.get("/api/v1/me")).status_code == 401


# --- API ----------------------------------------------------------------------------------


async def test_api_session_needs_the_code_too(on: On, composed: App, owner: User) -> None:
    app, clock = on.app, on.clock
    secret = on.secret
    async with new_client(app) as client:
        # when / then: without a code, or with a wrong one, nothing starts
        without = await api_login(client, owner)
        assert (without.status_code, without.json()) == (401, {"detail": "second factor required"})
        wrong = await api_login(client, owner, code="12345x")
        assert (wrong.status_code, wrong.json()) == (401, {"detail": "second factor wrong"})
        assert "set-cookie" not in without.headers
        assert "set-cookie" not in wrong.headers
        assert (await client.get("/api/v1/me")).status_code == 401

        # when the current code comes with the password
        right = await api_login(client, owner, code=code_at(secret, clock))

        # then
        assert right.status_code == 200
        assert (await client.get("/api/v1/me")).status_code == 200
    rows = await audit_rows(composed, owner)
    assert rows[-1] == ("login.succeeded", "totp")


async def test_users_without_two_factor_log_in_with_the_password_only(
    client: httpx.AsyncClient, owner: User
) -> None:
    # when / then
    assert (await api_login(client, owner, code="")).status_code == 200


# --- recovery codes and turning off -------------------------------------------------------


async def test_new_recovery_codes_need_a_current_code_and_replace_the_old(
    timed: On, owner: User
) -> None:
    app, clock = timed.app, timed.clock
    async with new_client(app) as client:
        secret, old = await enrolled(client, owner, clock)
        csrf = await csrf_of(client)

        # when a wrong code asks for new ones
        wrong = await client.post(
            f"{PAGE}/recovery-codes", data={"csrf_token": csrf, "code": old[0]}, headers=EN
        )

        # then nothing changes
        assert wrong.status_code == 422
        assert 'id="e-code"' in wrong.text
        assert recovery_codes(wrong.text) == []

        # when the current code asks for them
        renewed = await client.post(
            f"{PAGE}/recovery-codes",
            data={"csrf_token": csrf, "code": code_at(secret, clock)},
            headers=EN,
        )

        # then ten new ones come and the old ones stop working
        new = recovery_codes(renewed.text)
        assert len(set(new)) == 10
        assert not set(new) & set(old)
    async with new_client(app) as other:
        assert (await form_login(other, owner, old[1])).status_code == 401
        assert (await form_login(other, owner, new[1])).status_code == 303


async def test_turning_off_needs_password_and_code_and_ends_other_sessions(
    timed: On, composed: App, owner: User
) -> None:
    app, clock = timed.app, timed.clock
    async with new_client(app) as client, new_client(app) as elsewhere:
        secret, _ = await enrolled(client, owner, clock)
        clock.advance(timedelta(seconds=30))
        assert (await api_login(elsewhere, owner, code=code_at(secret, clock))).status_code == 200
        csrf = await csrf_of(client)

        # when the password is wrong, or the code
        bad_password = await client.post(
            f"{PAGE}/disable",
            data={"csrf_token": csrf, "current_password": "Falsch-1234567", "code": "000000"},
            headers=EN,
        )
        bad_code = await client.post(
            f"{PAGE}/disable",
            data={"csrf_token": csrf, "current_password": PASSWORD, "code": "12345x"},
            headers=EN,
        )

        # then two-factor login stays on
        assert (bad_password.status_code, bad_code.status_code) == (422, 422)
        assert "The current password is not correct." in bad_password.text
        assert "This code is not correct." in bad_code.text
        assert 'id="e-disable_code"' in bad_code.text  # next to this form's field
        row = await two_factor_row(composed, owner)
        assert row is not None
        assert row["enabled_at"] is not None
        failed = [(a, d) for a, d in await audit_rows(composed, owner) if "disable" in a]
        assert [(a, d.strip('[]"')) for a, d in failed] == [
            ("two_factor.disable_failed", "password"),
            ("two_factor.disable_failed", "code"),
        ]

        # when both are right
        clock.advance(timedelta(seconds=30))
        off = await client.post(
            f"{PAGE}/disable",
            data={"csrf_token": csrf, "current_password": PASSWORD, "code": code_at(secret, clock)},
        )

        # then it is off, this browser stays logged in, the other session has ended
        assert (off.status_code, off.headers["location"]) == (303, f"{PAGE}?saved=off")
        assert (await client.get("/api/v1/me")).status_code == 200
        assert (await elsewhere.get("/api/v1/me")).status_code == 401
        assert await two_factor_row(composed, owner) is None
        assert (await api_login(elsewhere, owner)).status_code == 200
    actions = [a for a, _ in await audit_rows(composed, owner)]
    assert actions[-2:] == ["two_factor.disabled", "login.succeeded"]


# --- rate limit ---------------------------------------------------------------------------


@pytest.fixture
async def strict(settings: Settings, tmp_path: Path, owner: User) -> AsyncIterator[On]:
    """Three attempts a minute per account; two-factor login on for the owner."""
    async with clocked(settings, tmp_path, login_rate_limit="3/minute") as on:
        async with new_client(on.app) as setup:
            on.secret, on.codes = await enrolled(setup, owner, on.clock)
        yield on


async def test_wrong_codes_are_limited_per_account(strict: On, composed: App, owner: User) -> None:
    app, clock, secret = strict.app, strict.clock, strict.secret
    async with new_client(app) as client:
        # given three wrong codes after a right password
        step = await password_step(client, owner)
        for n in range(3):
            step = await code_step(client, step, f"00000{n}")
            assert step.status_code == 401

        # when the right code comes fourth
        response = await code_step(client, step, code_at(secret, clock))

        # then it is throttled, too
        assert response.status_code == 429
        assert "Too many wrong codes" in response.text
        assert (await client.get("/api/v1/me")).status_code == 401
    failed = [a for a, _ in await audit_rows(composed, owner) if a == "login.second_factor_failed"]
    assert len(failed) == 3


async def test_after_a_key_change_only_recovery_codes_work(
    on: On, settings: Settings, tmp_path: Path, owner: User
) -> None:
    # given the installation's secret key was changed
    key = SecretStr("ein-ganz-anderer-schluessel-" + "x" * 40)
    async with clocked(settings, tmp_path, secret_key=key) as changed:
        changed.clock.at = on.clock.at
        async with new_client(changed.app) as client, new_client(changed.app) as other:
            # when / then: the app's code is refused (not a server error), a recovery code works
            refused = await api_login(client, owner, code=code_at(on.secret, on.clock))
            assert (refused.status_code, refused.json()) == (401, {"detail": "second factor wrong"})
            assert (await api_login(other, owner, code=on.codes[0])).status_code == 200
