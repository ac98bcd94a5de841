"""Two-factor login: TOTP codes (RFC 6238), their drift window and replay rule, recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import pyotp

from marktplatz.domain.accounts import Role, User

ISSUER = "Marktplatz"
STEP_SECONDS = 30
# One step either side: a phone clock 30 s off still works, an old code from a minute ago does not.
DRIFT_STEPS = 1
RECOVERY_CODES = 10
CHALLENGE_MINUTES = 5
_CODE = re.compile(r"^[0-9]{6}$")
# The roles that can change what a whole shop or city shows: for them two-factor login is a must.
REQUIRED_FOR = frozenset({Role.RETAILER_OWNER, Role.CITY_ADMIN})


@dataclass(frozen=True, slots=True)
class TwoFactor:
    """A user's TOTP secret (sealed at rest); on only once `enabled_at` is set."""

    user_id: UUID
    secret_sealed: bytes
    enabled_at: datetime | None
    last_step: int | None
    created_at: datetime

    @property
    def enabled(self) -> bool:
        return self.enabled_at is not None


def new_secret() -> str:
    """A fresh base32 secret of 160 bits (the length RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// address an authenticator app reads from the enrolment QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, easier to type by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret).generate_otp(step)


def matching_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time step a code belongs to, within the drift window and after the last one used.

    A step at or before `last_step` is refused even when the code is right: whoever watched
    the code being typed must not be able to use it again.
    """
    code = code.strip().replace(" ", "")
    if not _CODE.match(code):
        return None
    current = time_step(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(code_at(secret, step), code):
            return step
    return None


def looks_like_totp(code: str) -> bool:
    return bool(_CODE.match(code.strip().replace(" ", "")))


def new_recovery_codes() -> list[str]:
    """Ten one-time codes of about 79 random bits each, written as xxxx-xxxx-xxxx-xxxx.

    So many bits that an unsalted SHA-256 is enough to store them: nobody can try them all.
    """
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(alphabet) for _ in range(16))
        codes.append("-".join(raw[i : i + 4] for i in range(0, 16, 4)))
    return codes


def recovery_hash(code: str) -> str:
    """The stored form of a recovery code; case, spaces and dashes do not matter."""
    clean = re.sub(r"[\s-]", "", code).lower()
    return hashlib.sha256(clean.encode()).hexdigest()


def required_for(user: User) -> bool:
    """Whether the user holds a role that must log in with two factors."""
    return any(m.role in REQUIRED_FOR for m in user.memberships)


def setup_deadline(user: User, grace_days: int) -> datetime:
    """Until when such a user may still log in with the password alone."""
    return user.created_at + timedelta(days=grace_days)
