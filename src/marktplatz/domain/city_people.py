"""Rules for a city admin changing people's roles and accounts: what may change, what must stay."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from marktplatz.domain.accounts import CITY_ROLES, SHOP_ROLES, Membership, Role, User, clean_role
from marktplatz.domain.errors import N_, Conflict, InvalidInput
from marktplatz.domain.two_factor import required_for, setup_deadline

PERSON = "person"  # the field a refusal belongs to: the person as a whole, not one input


class TwoFactorState(StrEnum):
    """Two-factor login as the users page shows it."""

    ON = "on"
    OFF = "off"  # optional for the user's roles, and not on
    REQUIRED = "required"  # a must for the user's roles, within the grace period
    OVERDUE = "overdue"  # a must, and the grace period is over


def two_factor_state(user: User, enabled: bool, grace_days: int, now: datetime) -> TwoFactorState:
    """Whether the user logs in with two factors, and whether they must but do not yet."""
    if enabled:
        return TwoFactorState.ON
    if not required_for(user):
        return TwoFactorState.OFF
    overdue = now >= setup_deadline(user, grace_days)
    return TwoFactorState.OVERDUE if overdue else TwoFactorState.REQUIRED


def memberships_in(user: User, city_id: UUID) -> list[Membership]:
    """The user's roles in one city and its shops, city roles first."""
    own = [m for m in user.memberships if m.city_id == city_id]
    return sorted(own, key=lambda m: (m.shop_id is not None, str(m.shop_id or ""), m.role.value))


def belongs_only_to(user: User, city_id: UUID) -> bool:
    """Whether every role of the user is in this city: only then may its admins disable them."""
    return bool(user.memberships) and all(m.city_id == city_id for m in user.memberships)


def new_role(current: Role, value: object) -> Role:
    """The role a membership changes to: a city role to a city role, a shop role to a shop role."""
    role = clean_role(value, "to")
    if role is current:
        raise InvalidInput("to", N_("Choose a role other than the current one."))
    if role not in (CITY_ROLES if current in CITY_ROLES else SHOP_ROLES):
        raise InvalidInput(
            "to",
            N_("A city role can only become another city role, a shop role another shop role."),
        )
    return role


def check_not_self(actor: User, person: User) -> None:
    """Nobody demotes, removes or disables themselves: another admin has to do it."""
    if actor.id == person.id:
        raise Conflict(
            PERSON, N_("You cannot change your own roles or account. Ask another city admin.")
        )


def _active_admin(user: User, city_id: UUID) -> bool:
    return user.is_active and user.city_role(city_id) is Role.CITY_ADMIN


def check_keeps_an_admin(before: User, after: User, people: Iterable[User], city_id: UUID) -> None:
    """Refuse a change that would leave the city without an active admin."""
    if not _active_admin(before, city_id) or _active_admin(after, city_id):
        return
    if any(_active_admin(u, city_id) for u in people if u.id != before.id):
        return
    raise Conflict(
        PERSON,
        N_(
            "%(name)s is the last active admin of this city. Make someone else an admin first, "
            "so that the city is never without one."
        ),
        name=before.display_name,
    )


def _active_owner(user: User, shop_id: UUID) -> bool:
    return user.is_active and user.shop_role(shop_id) is Role.RETAILER_OWNER


def check_keeps_an_owner(
    before: User, after: User, people: Iterable[User], shop_names: Mapping[UUID, str]
) -> None:
    """Refuse a change that would leave one of the person's shops without an active owner.

    An owner keeps the shop's page, staff and coupons in hand; a shop without one can only be
    run by the city, so the owner role is handed on first and taken away second.
    """
    others = [u for u in people if u.id != before.id]
    for membership in before.memberships:
        shop_id = membership.shop_id
        if shop_id is None or not _active_owner(before, shop_id) or _active_owner(after, shop_id):
            continue
        if not any(_active_owner(u, shop_id) for u in others):
            raise Conflict(
                PERSON,
                N_(
                    "%(name)s is the last active owner of %(shop)s; the shop would then have no "
                    "owner. First give someone else the owner role of %(shop)s (invite them, or "
                    "change their role here), then try again."
                ),
                name=before.display_name,
                shop=shop_names.get(shop_id, str(shop_id)),
            )


def check_only_in_city(user: User, city_id: UUID) -> None:
    """A city admin disables or enables only accounts that belong to their city alone."""
    if not belongs_only_to(user, city_id):
        raise Conflict(
            PERSON,
            N_(
                "%(name)s also has roles in another city, so only an operator can disable or "
                "enable the account. Remove this city's roles instead."
            ),
            name=user.display_name,
        )
