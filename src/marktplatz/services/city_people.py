"""A city's people in the console: who has which role, and an admin changing roles and accounts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from uuid import UUID

from marktplatz.domain.accounts import Membership, User, clean_role
from marktplatz.domain.city_people import (
    TwoFactorState,
    belongs_only_to,
    check_keeps_an_admin,
    check_keeps_an_owner,
    check_not_self,
    check_only_in_city,
    memberships_in,
    new_role,
    two_factor_state,
)
from marktplatz.domain.errors import NotFound
from marktplatz.services.access import access_city
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class CityPerson:
    """Someone with a role in the city or one of its shops, as the users page lists them.

    `only_here` says whether all their roles are in this city: only then may its admins
    disable or enable the account (see check_only_in_city).
    """

    user: User
    roles: list[Membership]
    two_factor: TwoFactorState
    only_here: bool


async def city_people(ctx: Context, actor: User | None, city_id: UUID) -> list[CityPerson]:
    """Everyone with a role in the city or its shops, with their two-factor state (city admins)."""
    async with ctx.uow() as uow:
        await access_city(uow, actor, city_id, admin=True)
        users = await uow.users.list_for_city(city_id)
        enabled = await uow.two_factor.enabled_among([u.id for u in users])
    now, grace = ctx.clock.now(), ctx.two_factor_grace_days
    return [
        CityPerson(
            user,
            memberships_in(user, city_id),
            two_factor_state(user, user.id in enabled, grace, now),
            belongs_only_to(user, city_id),
        )
        for user in users
    ]


async def _person(
    uow: UnitOfWork, actor: User | None, city_id: UUID, person_id: UUID
) -> tuple[User, list[User]]:
    """The person to change and everyone of the city, read after locking the city's row.

    The lock makes two admins who demote each other at the same moment wait for one another,
    so the second sees the first's change and the city keeps an admin (PostgreSQL; SQLite's
    write transactions are serial anyway).
    """
    await access_city(uow, actor, city_id, admin=True)
    await uow.cities.lock(city_id)
    people = await uow.users.list_for_city(city_id)
    person = next((u for u in people if u.id == person_id), None)
    if person is None or actor is None:
        raise NotFound("user")
    check_not_self(actor, person)
    return person, people


async def _check_keeps(
    uow: UnitOfWork, before: User, after: User, people: list[User], city_id: UUID
) -> None:
    """Refuse a change that leaves the city without an admin or one of its shops without an
    owner; called before anything is written, so a refusal changes nothing."""
    check_keeps_an_admin(before, after, people, city_id)
    shop_names = {s.id: s.name for s in await uow.shops.list_for_city(city_id)}
    check_keeps_an_owner(before, after, people, shop_names)


def _held(person: User, city_id: UUID, role: object, shop_id: UUID | None) -> Membership:
    """One of the person's roles in this city, named by its role and shop."""
    wanted = Membership(clean_role(role), city_id, shop_id)
    if wanted not in memberships_in(person, city_id):
        raise NotFound("role")
    return wanted


async def change_role(
    ctx: Context,
    actor: User | None,
    city_id: UUID,
    person_id: UUID,
    *,
    role: object,
    shop_id: UUID | None,
    to: object,
) -> User:
    """Make a city admin an editor or back, a shop's owner its cashier or back; at once."""
    async with ctx.uow(write=True) as uow:
        person, people = await _person(uow, actor, city_id, person_id)
        old = _held(person, city_id, role, shop_id)
        new = Membership(new_role(old.role, to), city_id, shop_id)
        kept = tuple(m for m in person.memberships if m not in (old, new))
        after = replace(person, memberships=(*kept, new))
        await _check_keeps(uow, person, after, people, city_id)
        await uow.users.remove_membership(person.id, old)
        if new not in person.memberships:
            await uow.users.add_membership(person.id, new)
        details = [old.role.value, new.role.value, str(shop_id or "")]
        await audit(uow, ctx, actor, city_id, "user.role_changed", "user", person.id, details)
        await uow.commit()
    return after


async def remove_role(
    ctx: Context,
    actor: User | None,
    city_id: UUID,
    person_id: UUID,
    *,
    role: object,
    shop_id: UUID | None,
) -> User:
    """Take one role in this city away; with no role left anywhere, their sessions end too."""
    async with ctx.uow(write=True) as uow:
        person, people = await _person(uow, actor, city_id, person_id)
        old = _held(person, city_id, role, shop_id)
        after = replace(person, memberships=tuple(m for m in person.memberships if m != old))
        await _check_keeps(uow, person, after, people, city_id)
        await uow.users.remove_membership(person.id, old)
        if not after.memberships:
            await uow.sessions.delete_for_user(person.id)
        details = [old.role.value, str(shop_id or "")]
        await audit(uow, ctx, actor, city_id, "user.role_removed", "user", person.id, details)
        await uow.commit()
    return after


async def set_active(
    ctx: Context, actor: User | None, city_id: UUID, person_id: UUID, *, active: bool
) -> User:
    """Disable an account (its sessions end at once, its logins are refused) or enable it again.

    Only for people whose roles are all in this city: an account serves every city it has
    roles in, and one city must not lock someone out of another's work.
    """
    async with ctx.uow(write=True) as uow:
        person, people = await _person(uow, actor, city_id, person_id)
        check_only_in_city(person, city_id)
        after = replace(person, is_active=active)
        await _check_keeps(uow, person, after, people, city_id)
        if person.is_active is not active:
            await uow.users.update(after)
            if not active:
                await uow.sessions.delete_for_user(person.id)
            action = "user.enabled" if active else "user.disabled"
            await audit(uow, ctx, actor, city_id, action, "user", person.id)
            await uow.commit()
    return after
