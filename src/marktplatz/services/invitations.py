"""One-time invitations: the city invites shop owners and editors, an owner invites staff."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from marktplatz.domain.accounts import (
    CITY_ROLES,
    INVITATION_DAYS,
    Invitation,
    Membership,
    Role,
    User,
    check_password_rules,
    clean_role,
)
from marktplatz.domain.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from marktplatz.domain.text import clean_email, clean_text
from marktplatz.services.access import access_city, access_shop, can_manage_city
from marktplatz.services.accounts import StartedSession, hash_token, start_session
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class IssuedInvitation:
    """A new invitation and its raw token: shown once to the inviter, never stored."""

    invitation: Invitation
    token: str


class InvitationClosed(NotFound):
    """The link was real, but its invitation expired or was used already (404 where no page
    explains it)."""

    def __init__(self, invitation: Invitation) -> None:
        super().__init__("invitation")
        self.invitation = invitation

    @property
    def used(self) -> bool:
        return self.invitation.accepted_at is not None


def _open(invitation: Invitation | None, now: datetime) -> Invitation:
    """The invitation if it may still be accepted; NotFound for unknown or withdrawn links."""
    if invitation is None:
        raise NotFound("invitation")
    if not invitation.is_open(now):
        raise InvitationClosed(invitation)
    return invitation


@dataclass(frozen=True, slots=True)
class InvitationView:
    """What the invitee sees before accepting."""

    invitation: Invitation
    city_name: str
    shop_name: str | None
    has_account: bool


async def _check_inviter(
    uow: UnitOfWork, actor: User | None, city_id: UUID, role: Role, shop_id: UUID | None
) -> None:
    """Admins invite city staff; city staff invite owners; owners invite staff."""
    if role in CITY_ROLES:
        await access_city(uow, actor, city_id, admin=True)
        return
    if shop_id is None:
        raise InvalidInput("shop_id", N_("A retailer role needs a shop of this city."))
    shop = await access_shop(uow, actor, shop_id, edit=True)
    if shop.city_id != city_id:
        raise NotFound("shop")
    if role is Role.RETAILER_OWNER and not can_manage_city(actor, city_id):
        raise Forbidden("only the city invites shop owners")


async def invite(
    ctx: Context,
    actor: User | None,
    city_id: UUID,
    *,
    email: object,
    role: object,
    shop_id: UUID | None = None,
) -> IssuedInvitation:
    """Create a one-time link that gives its holder a role, valid for a week."""
    address = clean_email(email, required=True)
    wanted = clean_role(role)
    shop = None if wanted in CITY_ROLES else shop_id
    token = secrets.token_urlsafe(32)
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        await _check_inviter(uow, actor, city_id, wanted, shop)
        existing = await uow.users.by_email(address)
        if existing and Membership(wanted, city_id, shop) in existing.memberships:
            raise Conflict("email", N_("This person already has this role."))
        invitation = Invitation(
            token_hash=hash_token(token),
            email=address,
            role=wanted,
            city_id=city_id,
            shop_id=shop,
            invited_by=actor.id if actor else None,
            created_at=now,
            expires_at=now + timedelta(days=INVITATION_DAYS),
            accepted_at=None,
        )
        await uow.invitations.add(invitation)
        await audit(
            uow, ctx, actor, city_id, "invitation.created", "invitation", address, [wanted.value]
        )
        await uow.commit()
    return IssuedInvitation(invitation, token)


async def open_invitations(ctx: Context, actor: User | None, city_id: UUID) -> list[Invitation]:
    """Invitations of a city not yet used or expired (city staff)."""
    async with ctx.uow() as uow:
        await access_city(uow, actor, city_id)
        return await uow.invitations.list_open(city_id, ctx.clock.now())


async def view_invitation(ctx: Context, token: str) -> InvitationView:
    """The open invitation behind a link; NotFound when unknown or withdrawn, InvitationClosed
    when used or expired."""
    async with ctx.uow() as uow:
        invitation = _open(await uow.invitations.get(hash_token(token[:100])), ctx.clock.now())
        city = await uow.cities.get(invitation.city_id)
        shop = await uow.shops.get(invitation.shop_id) if invitation.shop_id else None
        account = await uow.users.by_email(invitation.email)
    return InvitationView(
        invitation, city.name if city else "", shop.name if shop else None, account is not None
    )


async def accept_invitation(
    ctx: Context, token: str, *, display_name: object, password: str
) -> StartedSession:
    """Use an invitation: create the account (or prove the existing one) and start a session."""
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        invitation = _open(await uow.invitations.get(hash_token(token[:100])), now)
        user = await _invitee(uow, ctx, invitation, display_name, password)
        if not await uow.invitations.accept(invitation.token_hash, now):
            raise NotFound("invitation")
        membership = Membership(invitation.role, invitation.city_id, invitation.shop_id)
        if membership not in user.memberships:
            await uow.users.add_membership(user.id, membership)
            user = replace(user, memberships=(*user.memberships, membership))
        started = await start_session(uow, ctx, user)
        await audit(
            uow,
            ctx,
            user,
            invitation.city_id,
            "invitation.accepted",
            "user",
            user.id,
            [invitation.role.value],
        )
        await uow.commit()
    return started


async def _invitee(
    uow: UnitOfWork, ctx: Context, invitation: Invitation, display_name: object, password: str
) -> User:
    existing = await uow.users.by_email(invitation.email)
    if existing is not None:
        ok, _ = ctx.hasher.verify_and_update(password[:256], existing.password_hash)
        if not ok or not existing.is_active:
            raise InvalidInput(
                "password", N_("The password of your existing account is not correct.")
            )
        return existing
    check_password_rules(password, invitation.email)
    user = User(
        id=uuid.uuid4(),
        email=invitation.email,
        display_name=clean_text(display_name, "display_name", max_len=120),
        password_hash=ctx.hasher.hash(password),
        is_active=True,
        memberships=(),
        created_at=ctx.clock.now(),
    )
    await uow.users.add(user)
    return user
