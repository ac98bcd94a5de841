"""The second login step: checking a TOTP or recovery code, and the pending-login challenge."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.errors import DomainError
from marktplatz.domain.two_factor import (
    CHALLENGE_MINUTES,
    TwoFactor,
    looks_like_totp,
    matching_step,
    recovery_hash,
)
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

TOTP = "totp"
RECOVERY = "recovery code"


class SecondFactorRequired(DomainError):
    """The password was right, but two-factor login is on and no code came with it."""


class SecondFactorWrong(DomainError):
    """The code was wrong, too old, already used, or an unknown recovery code."""


class ChallengeExpired(DomainError):
    """The second login step is unknown, used or older than its few minutes."""


@dataclass(frozen=True, slots=True)
class SecondStep:
    """A password step passed: the login waits for a code; only the token's hash is stored."""

    token: str
    user: User


def sealing_context(user_id: UUID) -> bytes:
    # Binds a sealed secret to its user: copied onto another user's row it does not open.
    return b"two-factor:" + user_id.bytes


def open_secret(ctx: Context, two_factor: TwoFactor) -> str | None:
    """The secret in clear; None if it no longer opens (MARKTPLATZ_SECRET_KEY was changed)."""
    try:
        sealed = ctx.secrets.open(two_factor.secret_sealed, sealing_context(two_factor.user_id))
    except ValueError:
        return None
    return sealed.decode()


def throttle_key(user_id: UUID) -> str:
    return f"login:second:{user_id}"


async def accept_code(
    uow: UnitOfWork, ctx: Context, two_factor: TwoFactor, code: str, *, recovery: bool = True
) -> str | None:
    """How a code proved the user (TOTP or recovery code), using it up; None if it did not."""
    now = ctx.clock.now()
    if looks_like_totp(code):
        # With a changed installation key the secret is lost: only recovery codes still work.
        secret = open_secret(ctx, two_factor)
        step = matching_step(secret, code, now, two_factor.last_step) if secret else None
        if step is not None and await uow.two_factor.advance_step(two_factor.user_id, step):
            return TOTP
        return None
    if recovery and code.strip():
        hashed = recovery_hash(code[:64])
        if await uow.two_factor.use_recovery_code(two_factor.user_id, hashed, now):
            return RECOVERY
    return None


async def open_challenge(uow: UnitOfWork, ctx: Context, user: User, hashed: str) -> None:
    """Store a pending second step (its token's hash) for a few minutes."""
    now = ctx.clock.now()
    await uow.two_factor.drop_expired_challenges(now)
    await uow.two_factor.add_challenge(hashed, user.id, now + timedelta(minutes=CHALLENGE_MINUTES))


def new_challenge_token() -> str:
    return secrets.token_urlsafe(32)
