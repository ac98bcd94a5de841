"""Use cases for accounts: users, roles, login sessions and passwords."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from uuid import UUID

from marktplatz.domain.accounts import (
    CITY_ROLES,
    LoginSession,
    Membership,
    Role,
    User,
    check_password_rules,
    clean_role,
)
from marktplatz.domain.errors import N_, Conflict, DomainError, InvalidInput, NotFound
from marktplatz.domain.text import clean_email, clean_text
from marktplatz.domain.two_factor import TwoFactor
from marktplatz.services.access import access_city
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork
from marktplatz.services.second_factor import (
    ChallengeExpired,
    SecondFactorRequired,
    SecondFactorWrong,
    SecondStep,
    accept_code,
    new_challenge_token,
    open_challenge,
    throttle_key,
)


class LoginFailed(DomainError):
    """Wrong e-mail or password; deliberately does not say which."""

    message = N_("E-mail address or password is not correct.")


class AccountDisabled(LoginFailed):
    """The right password for an account the city disabled; said only after the password."""

    message = N_("This account is disabled. If you need it again, please contact your city's team.")


class LoginThrottled(DomainError):
    """Too many failed logins for this account or client; try again later."""


@dataclass(frozen=True, slots=True)
class StartedSession:
    """A fresh session: the raw token goes into the cookie and is never stored."""

    token: str
    session: LoginSession
    user: User


def hash_token(token: str) -> str:
    """The stored form of a session token: a database leak yields no usable cookie."""
    return hashlib.sha256(token.encode()).hexdigest()


async def _membership(
    uow: UnitOfWork, role: Role, city_slug: str, shop_slug: str | None
) -> Membership:
    city = await uow.cities.by_slug(city_slug)
    if city is None:
        raise InvalidInput("city", N_("Unknown city: %(value)s"), value=city_slug)
    if role in CITY_ROLES:
        return Membership(role=role, city_id=city.id, shop_id=None)
    shop = await uow.shops.by_slug(city.id, shop_slug or "")
    if shop is None:
        raise InvalidInput("shop", N_("A retailer role needs a shop of this city."))
    return Membership(role=role, city_id=city.id, shop_id=shop.id)


async def create_user(
    ctx: Context,
    *,
    email: str,
    password: str,
    display_name: str,
    role: str,
    city_slug: str,
    shop_slug: str | None = None,
) -> User:
    """Create a user with one membership (operators, through the CLI and the demo loader)."""
    clean = clean_email(email, required=True)
    check_password_rules(password, clean)
    membership_role = clean_role(role)
    async with ctx.uow(write=True) as uow:
        membership = await _membership(uow, membership_role, city_slug, shop_slug)
        if await uow.users.by_email(clean) is not None:
            raise Conflict("email", N_("A user with this e-mail address already exists."))
        user = User(
            id=uuid.uuid4(),
            email=clean,
            display_name=clean_text(display_name, "display_name", max_len=120),
            password_hash=ctx.hasher.hash(password),
            is_active=True,
            memberships=(membership,),
            created_at=ctx.clock.now(),
        )
        await uow.users.add(user)
        await uow.users.add_membership(user.id, membership)
        await audit(uow, ctx, None, membership.city_id, "user.created", "user", user.id, [role])
        await uow.commit()
    return user


async def login(
    ctx: Context, email: str, password: str, client_key: str, code: str | None = None
) -> StartedSession | SecondStep:
    """Check a password and start a new session (a new id at every login).

    With two-factor login on, a right password alone starts nothing: without `code` (the form)
    a second step opens; with one (the API) the code must be right too.
    """
    address = email.strip().lower()[:254]
    account_key = f"login:account:{address}"
    keys = (account_key, f"login:client:{client_key}")
    if not all(ctx.login_limiter.hit(key) for key in keys):
        raise LoginThrottled("throttled")
    async with ctx.uow(write=True) as uow:
        user = await uow.users.by_email(address)
        ok, new_hash = ctx.hasher.verify_and_update(
            password[:256], user.password_hash if user else _DUMMY_HASH.get(ctx)
        )
        if user is None or not ok:
            await audit(uow, ctx, None, None, "login.failed", "user", address)
            await uow.commit()
            raise LoginFailed("login failed")
        if not user.is_active:
            # Only someone who knows the password learns that the account is disabled.
            await audit(uow, ctx, None, None, "login.refused_disabled", "user", user.id)
            await uow.commit()
            raise AccountDisabled("account disabled")
        if new_hash:
            user = replace(user, password_hash=new_hash)
            await uow.users.update(user)
        result = await _after_password(uow, ctx, user, code)
        await uow.commit()
    # Only the account's own count: clearing the client's would let anyone with an account of
    # their own wipe their failures against other accounts by logging in between guesses.
    ctx.login_limiter.clear(account_key)
    return result


async def _after_password(
    uow: UnitOfWork, ctx: Context, user: User, code: str | None
) -> StartedSession | SecondStep:
    two_factor = await uow.two_factor.get(user.id)
    how = ""
    if two_factor is not None and two_factor.enabled:
        if code is None:
            token = new_challenge_token()
            await open_challenge(uow, ctx, user, hash_token(token))
            await audit(uow, ctx, user, None, "login.password_accepted", "user", user.id)
            return SecondStep(token=token, user=user)
        how = await _second_factor(uow, ctx, user, two_factor, code)
    started = await start_session(uow, ctx, user)
    await audit(uow, ctx, user, None, "login.succeeded", "user", user.id, [how] if how else [])
    return started


async def _second_factor(
    uow: UnitOfWork, ctx: Context, user: User, two_factor: TwoFactor, code: str
) -> str:
    """Check a code within the login's transaction; a wrong one is audited and committed."""
    if not code.strip():
        raise SecondFactorRequired("second factor required")
    if not ctx.login_limiter.hit(throttle_key(user.id)):
        raise LoginThrottled("throttled")
    how = await accept_code(uow, ctx, two_factor, code)
    if how is None:
        await audit(uow, ctx, user, None, "login.second_factor_failed", "user", user.id)
        await uow.commit()
        raise SecondFactorWrong("second factor wrong")
    ctx.login_limiter.clear(throttle_key(user.id))
    return how


async def login_with_code(ctx: Context, token: str, code: str) -> StartedSession:
    """The second login step: a code for the user whose password opened `token` minutes ago."""
    hashed = hash_token(token) if token and len(token) <= 100 else ""
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        user_id = await uow.two_factor.challenge(hashed, now) if hashed else None
        user = await uow.users.get(user_id) if user_id else None
        two_factor = await uow.two_factor.get(user.id) if user else None
        if user is None or not user.is_active or two_factor is None or not two_factor.enabled:
            raise ChallengeExpired("challenge expired")
        how = await _second_factor(uow, ctx, user, two_factor, code[:64])
        if not await uow.two_factor.drop_challenge(hashed):  # single use, even in a race
            raise ChallengeExpired("challenge expired")
        started = await start_session(uow, ctx, user)
        await audit(uow, ctx, user, None, "login.succeeded", "user", user.id, [how])
        await uow.commit()
    return started


class _DummyHash:
    """A real hash to verify against for unknown e-mails, so timing does not reveal them."""

    def __init__(self) -> None:
        self._value: str | None = None

    def get(self, ctx: Context) -> str:
        if self._value is None:
            self._value = ctx.hasher.hash(secrets.token_urlsafe(16))
        return self._value


_DUMMY_HASH = _DummyHash()


async def start_session(uow: UnitOfWork, ctx: Context, user: User) -> StartedSession:
    """A fresh session for a user whose identity was just proven, in the caller's transaction."""
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    session = LoginSession(
        token_hash=hash_token(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=ctx.session_hours),
    )
    await uow.sessions.add(session)
    return StartedSession(token=token, session=session, user=user)


async def session_user(ctx: Context, token: str) -> tuple[LoginSession, User] | None:
    """The live session and active user behind a cookie token, sliding its expiry."""
    if not token or len(token) > 100:
        return None
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        session = await uow.sessions.get(hash_token(token))
        user = await uow.users.get(session.user_id) if session else None
    if session is None or user is None or not user.is_active or session.expires_at <= now:
        return None
    renewed = now + timedelta(hours=ctx.session_hours)
    if renewed - session.expires_at > timedelta(minutes=5):
        async with ctx.uow(write=True) as uow:
            await uow.sessions.extend(session.token_hash, renewed)
            await uow.commit()
        session = replace(session, expires_at=renewed)
    return session, user


async def logout(ctx: Context, token: str) -> None:
    """End the session behind a cookie token."""
    async with ctx.uow(write=True) as uow:
        await uow.sessions.delete(hash_token(token))
        await uow.commit()


async def change_password(ctx: Context, actor: User, current: str, new: str) -> StartedSession:
    """Set a new password; every session of the user ends and a fresh one starts."""
    ok, _ = ctx.hasher.verify_and_update(current[:256], actor.password_hash)
    if not ok:
        raise InvalidInput("current_password", N_("The current password is not correct."))
    check_password_rules(new, actor.email)
    async with ctx.uow(write=True) as uow:
        user = replace(actor, password_hash=ctx.hasher.hash(new))
        await uow.users.update(user)
        await uow.sessions.delete_for_user(user.id)
        started = await start_session(uow, ctx, user)
        await audit(uow, ctx, user, None, "user.password_changed", "user", user.id)
        await uow.commit()
    return started


async def list_city_users(ctx: Context, actor: User | None, city_id: UUID) -> list[User]:
    """Everyone with a role in a city or one of its shops (city admins)."""
    async with ctx.uow() as uow:
        await access_city(uow, actor, city_id, admin=True)
        return await uow.users.list_for_city(city_id)


async def get_user(ctx: Context, user_id: UUID) -> User:
    """A user by id (composition and tests)."""
    async with ctx.uow() as uow:
        user = await uow.users.get(user_id)
    if user is None:
        raise NotFound("user")
    return user
