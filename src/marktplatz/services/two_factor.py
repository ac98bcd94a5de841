"""Use cases of two-factor login for one's own account: set up, recovery codes, turn off."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import N_, Conflict, DomainError, InvalidInput
from marktplatz.domain.two_factor import (
    TwoFactor,
    grouped_secret,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    recovery_hash,
    required_for,
    setup_deadline,
)
from marktplatz.services.accounts import LoginThrottled, StartedSession, start_session
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork
from marktplatz.services.second_factor import (
    accept_code,
    open_secret,
    sealing_context,
    throttle_key,
)

_WRONG_CODE = N_("This code is not correct. Enter the current 6-digit code from your app.")


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A secret waiting for its first code: the QR code and the same secret to type."""

    grouped_secret: str
    uri: str
    qr_svg: bytes


@dataclass(frozen=True, slots=True)
class TwoFactorStatus:
    enabled: bool
    enrolment: Enrolment | None
    recovery_codes_left: int


@dataclass(frozen=True, slots=True)
class SetupDue:
    """Two-factor login is a must for the user's role and not on yet; past `deadline`, the
    portal, the console and the API wait until it is set up."""

    deadline: datetime
    overdue: bool


class SetupRequired(DomainError):
    """The user must set up two-factor login before working in the portal, console or API."""


async def setup_due(ctx: Context, user: User) -> SetupDue | None:
    """Whether, and by when, the user must still set up two-factor login."""
    if not required_for(user):
        return None
    async with ctx.uow() as uow:
        found = await uow.two_factor.get(user.id)
    if found is not None and found.enabled:
        return None
    deadline = setup_deadline(user, ctx.two_factor_grace_days)
    return SetupDue(deadline, ctx.clock.now() >= deadline)


def _enrolment(ctx: Context, user: User, secret: str) -> Enrolment:
    uri = provisioning_uri(secret, user.email)
    return Enrolment(grouped_secret(secret), uri, ctx.qr.secret_svg(uri))


async def two_factor_status(ctx: Context, actor: User) -> TwoFactorStatus:
    """Whether two-factor login is on, or the pending set-up to finish."""
    async with ctx.uow() as uow:
        found = await uow.two_factor.get(actor.id)
        left = await uow.two_factor.recovery_codes_left(actor.id)
    if found is not None and found.enabled:
        return TwoFactorStatus(True, None, left)
    secret = open_secret(ctx, found) if found else None
    return TwoFactorStatus(False, _enrolment(ctx, actor, secret) if secret else None, 0)


async def start_enrolment(ctx: Context, actor: User) -> Enrolment:
    """A fresh secret, stored sealed; two-factor stays off until a code confirms it."""
    secret = new_secret()
    async with ctx.uow(write=True) as uow:
        found = await uow.two_factor.get(actor.id)
        if found is not None and found.enabled:
            raise Conflict("code", N_("Two-factor login is already on."))
        sealed = ctx.secrets.seal(secret.encode(), sealing_context(actor.id))
        await uow.two_factor.save(TwoFactor(actor.id, sealed, None, None, ctx.clock.now()))
        await audit(uow, ctx, actor, None, "two_factor.setup_started", "user", actor.id)
        await uow.commit()
    return _enrolment(ctx, actor, secret)


async def _checked(
    uow: UnitOfWork, ctx: Context, actor: User, code: str, *, enabled: bool, recovery: bool
) -> TwoFactor:
    """The user's two-factor row after a right code; wrong codes count towards the limit."""
    found = await uow.two_factor.get(actor.id)
    if found is None or found.enabled is not enabled:
        message = N_("Two-factor login is not on.") if enabled else N_("Please start again.")
        raise InvalidInput("code", message)
    if not ctx.login_limiter.hit(throttle_key(actor.id)):
        raise LoginThrottled("throttled")
    if await accept_code(uow, ctx, found, code[:64], recovery=recovery) is None:
        raise InvalidInput("code", _WRONG_CODE)
    ctx.login_limiter.clear(throttle_key(actor.id))
    return found


async def _new_recovery_codes(uow: UnitOfWork, actor: User) -> list[str]:
    codes = new_recovery_codes()
    await uow.two_factor.replace_recovery_codes(actor.id, [recovery_hash(c) for c in codes])
    return codes


async def confirm_enrolment(ctx: Context, actor: User, code: str) -> list[str]:
    """Turn two-factor login on with a first right code; the recovery codes, shown only now."""
    async with ctx.uow(write=True) as uow:
        found = await _checked(uow, ctx, actor, code, enabled=False, recovery=False)
        current = await uow.two_factor.get(actor.id)
        last_step = current.last_step if current else found.last_step
        enabled = replace(found, enabled_at=ctx.clock.now(), last_step=last_step)
        await uow.two_factor.save(enabled)
        codes = await _new_recovery_codes(uow, actor)
        await audit(uow, ctx, actor, None, "two_factor.enabled", "user", actor.id)
        await uow.commit()
    return codes


async def renew_recovery_codes(ctx: Context, actor: User, code: str) -> list[str]:
    """Ten new recovery codes for a current TOTP code; the old ones stop working."""
    async with ctx.uow(write=True) as uow:
        await _checked(uow, ctx, actor, code, enabled=True, recovery=False)
        codes = await _new_recovery_codes(uow, actor)
        await audit(uow, ctx, actor, None, "two_factor.recovery_codes_renewed", "user", actor.id)
        await uow.commit()
    return codes


async def disable_two_factor(ctx: Context, actor: User, password: str, code: str) -> StartedSession:
    """Turn two-factor login off (password and a code); every other session of the user ends."""
    ok, _ = ctx.hasher.verify_and_update(password[:256], actor.password_hash)
    async with ctx.uow(write=True) as uow:
        try:
            if not ok:
                raise InvalidInput("current_password", N_("The current password is not correct."))
            await _checked(uow, ctx, actor, code, enabled=True, recovery=True)
        except InvalidInput as exc:
            # Someone at an unlocked session trying to take the second factor away: on record.
            what = "password" if exc.field == "current_password" else "code"
            await audit(
                uow, ctx, actor, None, "two_factor.disable_failed", "user", actor.id, [what]
            )
            await uow.commit()
            raise
        await uow.two_factor.delete(actor.id)
        await uow.sessions.delete_for_user(actor.id)
        started = await start_session(uow, ctx, actor)
        await audit(uow, ctx, actor, None, "two_factor.disabled", "user", actor.id)
        await uow.commit()
    return started
