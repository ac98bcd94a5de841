"""Users, their roles in a city or a shop, and the password rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from marktplatz.domain.errors import N_, InvalidInput

MIN_PASSWORD = 10
MAX_PASSWORD = 128
_COMMON = frozenset(
    {
        "passwort123",
        "password123",
        "1234567890",
        "0123456789",
        "qwertzuiop",
        "qwertyuiop",
        "hallo12345",
        "passwort1234",
        "password1234",
        "musterstadt",
        "marktplatz",
        "sommer2026",
        "winter2026",
        "abcdefghij",
        "iloveyou12",
        "letmein123",
        "willkommen1",
        "willkommen",
    }
)


class Role(StrEnum):
    CITY_ADMIN = "city-admin"
    CITY_EDITOR = "city-editor"
    RETAILER_OWNER = "retailer-owner"
    RETAILER_STAFF = "retailer-staff"


def clean_role(value: object, field: str = "role") -> Role:
    """One of the four roles."""
    try:
        return Role(str(value))
    except ValueError as exc:
        raise InvalidInput(field, N_("Unknown role: %(value)s"), value=str(value)[:40]) from exc


CITY_ROLES = frozenset({Role.CITY_ADMIN, Role.CITY_EDITOR})
SHOP_ROLES = frozenset({Role.RETAILER_OWNER, Role.RETAILER_STAFF})


@dataclass(frozen=True, slots=True)
class Membership:
    """A role of a user in one city (city roles) or one shop of that city (shop roles)."""

    role: Role
    city_id: UUID
    shop_id: UUID | None


@dataclass(frozen=True, slots=True)
class User:
    """A person who logs in; visitors never need one."""

    id: UUID
    email: str
    display_name: str
    password_hash: str
    is_active: bool
    memberships: tuple[Membership, ...]
    created_at: datetime

    def city_role(self, city_id: UUID) -> Role | None:
        """The strongest city role of this user in a city, if any."""
        roles = {m.role for m in self.memberships if m.city_id == city_id and m.shop_id is None}
        for role in (Role.CITY_ADMIN, Role.CITY_EDITOR):
            if role in roles:
                return role
        return None

    def shop_role(self, shop_id: UUID) -> Role | None:
        """The strongest shop role of this user in a shop, if any."""
        roles = {m.role for m in self.memberships if m.shop_id == shop_id}
        for role in (Role.RETAILER_OWNER, Role.RETAILER_STAFF):
            if role in roles:
                return role
        return None


@dataclass(frozen=True, slots=True)
class LoginSession:
    """A server-side login session; only the hash of its token is stored."""

    token_hash: str
    user_id: UUID
    csrf_token: str
    created_at: datetime
    expires_at: datetime


INVITATION_DAYS = 7


@dataclass(frozen=True, slots=True)
class Invitation:
    """A one-time link that gives its holder a role; only the hash of its token is stored."""

    token_hash: str
    email: str
    role: Role
    city_id: UUID
    shop_id: UUID | None
    invited_by: UUID | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None

    def is_open(self, now: datetime) -> bool:
        return self.accepted_at is None and now < self.expires_at


def check_password_rules(password: str, email: str = "") -> None:
    """Refuse short, overlong, common or e-mail-derived passwords; say what to change."""
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(
            "password", N_("The password needs at least %(min)s characters."), min=MIN_PASSWORD
        )
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(
            "password", N_("The password may have at most %(max)s characters."), max=MAX_PASSWORD
        )
    lowered = password.lower()
    if lowered in _COMMON or len(set(lowered)) < 4:
        raise InvalidInput("password", N_("This password is too easy to guess."))
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in lowered:
        raise InvalidInput("password", N_("The password must not contain your e-mail name."))
