"""A shop's people: the owner lists them, invites cashiers, removes them, withdraws invitations."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from marktplatz.domain.accounts import Invitation, Membership, Role, User
from marktplatz.domain.errors import Forbidden, NotFound
from marktplatz.domain.shops import Shop, parse_areas
from marktplatz.services import invitations
from marktplatz.services.access import access_shop, can_manage_city
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.invitations import IssuedInvitation


@dataclass(frozen=True, slots=True)
class StaffMember:
    """A person with a role in the shop; `since` is known when they came by an invitation."""

    user: User
    role: Role
    since: datetime | None


@dataclass(frozen=True, slots=True)
class ShopStaff:
    """Who works in a shop, and who is invited but has not yet accepted."""

    shop: Shop
    members: list[StaffMember]
    open_invitations: list[Invitation]


def _member(user: User, shop_id: UUID, sent: Sequence[Invitation]) -> StaffMember:
    role = user.shop_role(shop_id) or Role.RETAILER_STAFF
    accepted = [
        i.accepted_at for i in sent if i.email == user.email and i.role is role and i.accepted_at
    ]
    return StaffMember(user, role, max(accepted) if accepted else None)


async def shop_staff(ctx: Context, actor: User | None, shop_id: UUID) -> ShopStaff:
    """The shop's owners and cashiers and its open invitations (for its owner and city staff)."""
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True)
        people = await uow.users.list_for_shop(shop.id)
        sent = await uow.invitations.list_for_shop(shop.id)
    members = [_member(user, shop.id, sent) for user in people]
    members.sort(key=lambda m: (m.role is not Role.RETAILER_OWNER, m.user.display_name.lower()))
    now = ctx.clock.now()
    return ShopStaff(shop, members, [i for i in sent if i.is_open(now)])


async def invite_cashier(
    ctx: Context, actor: User | None, shop_id: UUID, email: object
) -> IssuedInvitation:
    """A one-time link that makes its holder a cashier of the shop."""
    async with ctx.uow() as uow:
        # Checked before the address: a cashier learns nothing from the form's answer.
        shop = await access_shop(uow, actor, shop_id, edit=True)
    return await invitations.invite(
        ctx, actor, shop.city_id, email=email, role=Role.RETAILER_STAFF, shop_id=shop.id
    )


async def remove_cashier(ctx: Context, actor: User | None, shop_id: UUID, user_id: UUID) -> None:
    """Take a cashier off the shop; with no role left anywhere, their sessions end too.

    Owners are not removed here (not even themselves): a shop without an owner is the city's
    business. A cashier who still works elsewhere keeps their session, but every request
    reads their roles anew, so this shop's till closes to them at once.
    """
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True)
        person = await uow.users.get(user_id)
        role = person.shop_role(shop.id) if person else None
        if person is None or role is None:
            raise NotFound("user")
        if role is Role.RETAILER_OWNER or (actor is not None and person.id == actor.id):
            raise Forbidden("owners are not removed here")
        membership = Membership(Role.RETAILER_STAFF, shop.city_id, shop.id)
        await uow.users.remove_membership(person.id, membership)
        if not [m for m in person.memberships if m != membership]:
            await uow.sessions.delete_for_user(person.id)
        await audit(
            uow, ctx, actor, shop.city_id, "staff.removed", "user", person.id, [str(shop.id)]
        )
        await uow.commit()


async def withdraw_invitation(
    ctx: Context, actor: User | None, shop_id: UUID, invitation_id: str
) -> None:
    """Delete an open invitation of the shop, so its link stops working.

    `invitation_id` is the stored hash of the link's token: it names the row without being
    the link. Owners withdraw cashier invitations; only city staff withdraw an owner's.
    """
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True)
        found = await uow.invitations.get(invitation_id[:64])
        if found is None or found.shop_id != shop.id or not found.is_open(ctx.clock.now()):
            raise NotFound("invitation")
        if found.role is Role.RETAILER_OWNER and not can_manage_city(actor, shop.city_id):
            raise Forbidden("only the city withdraws an owner's invitation")
        if not await uow.invitations.withdraw(found.token_hash, shop.id):
            raise NotFound("invitation")
        await audit(
            uow,
            ctx,
            actor,
            shop.city_id,
            "invitation.withdrawn",
            "invitation",
            found.email,
            [found.role.value, str(shop.id)],
        )
        await uow.commit()


async def open_to_staff(ctx: Context, actor: User | None, shop_id: UUID, areas: object) -> Shop:
    """Set which parts of the shop's page its staff may change (the owner or city staff)."""
    allowed = parse_areas(areas)
    async with ctx.uow(write=True) as uow:
        shop = await access_shop(uow, actor, shop_id, edit=True)
        updated = replace(shop, staff_may_edit=allowed, updated_at=ctx.clock.now())
        await uow.shops.update(updated)
        details = sorted(area.value for area in allowed)
        await audit(uow, ctx, actor, shop.city_id, "staff.rights_changed", "shop", shop.id, details)
        await uow.commit()
    return updated
