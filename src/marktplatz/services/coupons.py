"""Use cases of coupons: save from an offer, check and redeem at the till, undo, wallet state."""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from marktplatz.domain.accounts import Role, User
from marktplatz.domain.cities import City
from marktplatz.domain.consent import Purpose, current_consent
from marktplatz.domain.content import Content, period_key
from marktplatz.domain.coupons import (
    UNDO_WINDOW,
    Coupon,
    CouponStatus,
    Refusal,
    check_savable,
    clean_code,
    clean_reason,
    hash_code,
    new_code,
    refusal_at,
    use_period,
)
from marktplatz.domain.errors import N_, Conflict, Forbidden, InvalidInput, NotFound
from marktplatz.domain.journey import EventKind, JourneyEvent, check_pseudonym
from marktplatz.domain.shops import Shop
from marktplatz.services.access import can_manage_city, require_user
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork

log = logging.getLogger(__name__)
MAX_WALLET = 100  # coupons one wallet may ask about at once
_GUESSES: weakref.WeakValueDictionary[UUID, asyncio.Lock] = weakref.WeakValueDictionary()


@dataclass(frozen=True, slots=True)
class SaveInput:
    """A visitor's save: the offer, and where it was shown (no personal data)."""

    content_id: UUID
    visitor: str | None = None  # the pseudonym, sent only by a consenting device
    touchpoint_id: UUID | None = None
    decision_id: UUID | None = None
    city_id: UUID | None = None  # the city whose page it was saved on: another's looks missing


@dataclass(frozen=True, slots=True)
class Saved:
    coupon: Coupon
    code: str  # handed out once: the store keeps only its hash
    content: Content
    shop: Shop | None
    city: City


@dataclass(frozen=True, slots=True)
class TillView:
    """What the till shows for a code before the cashier confirms."""

    coupon: Coupon
    content: Content
    city: City
    refusal: Refusal | None
    detail: dict[str, object]  # values for the refusal's message (times in the city's zone)
    saved: int
    redeemed: int
    can_undo: bool


class RedeemRefused(Exception):
    """The till must not redeem this coupon; `refusal` says why."""

    def __init__(self, refusal: Refusal, detail: dict[str, object] | None = None) -> None:
        super().__init__(refusal.value)
        self.refusal = refusal
        self.detail = detail or {}


class GuessingThrottled(Exception):
    """Too many unknown codes from one cashier: probably guessing."""


class AlreadyUndone(Exception):
    """The redemption was taken back meanwhile (a second tap on Undo): nothing left to do."""


class SavingThrottled(Exception):
    """Too many coupons saved from one client in a short time."""


async def save_coupon(ctx: Context, data: SaveInput, key: str) -> Saved:
    """Save a coupon of a published offer; no account needed, the code is shown once.

    The pseudonym is kept only while the visitor consents to analytics: it lets limits per
    person hold and a redemption be linked to the contacts that led to it.
    """
    if not ctx.save_limiter.hit(key):
        raise SavingThrottled
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        content, city = await _offer(uow, data.content_id)
        if data.city_id is not None and city.id != data.city_id:
            raise NotFound("content")
        check_savable(content, now, city.tz)
        touchpoint = await _source(uow, city, data.touchpoint_id)
        holder = await _consenting(uow, check_pseudonym(data.visitor))
        await _check_left(uow, content, holder, now, city)
        code = new_code()
        coupon = Coupon(
            id=uuid.uuid4(),
            city_id=city.id,
            shop_id=content.shop_id,
            content_id=content.id,
            code_hash=hash_code(code),
            code_tail=code[-4:],
            status=CouponStatus.SAVED,
            saved_at=now,
            pseudonym=holder,
            touchpoint_id=touchpoint,
            decision_id=data.decision_id if touchpoint else None,
        )
        await uow.coupons.add(coupon)
        shop = await uow.shops.get(content.shop_id) if content.shop_id else None
        await uow.commit()
    await _emit(ctx, coupon, EventKind.CONTENT_SAVED, coupon.id, now)
    return Saved(coupon, code, content, shop, city)


async def _offer(uow: UnitOfWork, content_id: UUID) -> tuple[Content, City]:
    content = await uow.contents.get(content_id)
    city = await uow.cities.get(content.city_id) if content else None
    if content is None or city is None:
        raise NotFound("content")
    return content, city


async def _source(uow: UnitOfWork, city: City, touchpoint_id: UUID | None) -> UUID | None:
    if touchpoint_id is None:
        return None
    touchpoint = await uow.touchpoints.get(touchpoint_id)
    if touchpoint is None or touchpoint.city_id != city.id:
        raise InvalidInput("touchpoint_id", N_("This touchpoint is not known in this city."))
    return touchpoint.id


async def _consenting(uow: UnitOfWork, pseudonym: str | None) -> str | None:
    if pseudonym is None:
        return None
    consent = current_consent(await uow.consents.for_pseudonym(pseudonym))
    return pseudonym if consent.get(Purpose.ANALYTICS, False) else None


async def _check_left(
    uow: UnitOfWork, content: Content, holder: str | None, now: datetime, city: City
) -> None:
    """Refuse a save the till would refuse anyway: stock gone, or the visitor's uses spent."""
    terms = content.coupon
    assert terms is not None  # check_savable ran
    redeemed = await uow.coupons.count_save(content.id)  # from here on, saves of it wait
    if terms.stock is not None and redeemed >= terms.stock:
        raise Conflict("content_id", N_("Sorry, all coupons of this offer have been redeemed."))
    if holder is None:
        return
    if await uow.coupons.held(content.id, holder) is not None:
        raise Conflict("content_id", N_("This coupon is already in your wallet."))
    span = use_period(content, now, city.tz)
    if terms.per_person is not None and (
        await uow.coupons.uses(content.id, holder, span) >= terms.per_person
    ):
        raise Conflict("content_id", N_("You have already used this offer as often as allowed."))


async def check_coupon(
    ctx: Context, actor: User | None, code: object, at_shop: UUID | None = None
) -> TillView:
    """What the till shows for a typed or scanned code; unknown codes count as guesses."""
    user = require_user(actor)
    normal = clean_code(code)
    async with ctx.uow(write=True) as uow:
        coupon = await _known(ctx, uow, user, normal)
        content, city = await _offer(uow, coupon.content_id)
        await _till_scope(uow, user, coupon, city, at_shop)
        refusal, detail = _verdict(coupon, content, city, ctx.clock.now())
        saved, redeemed = await uow.coupons.tally(content.id)
        if refusal is None:
            refusal = await _spent(uow, coupon, content, city, ctx.clock.now(), redeemed)
        await uow.commit()  # the audit entry of a guess
    return TillView(
        coupon,
        content,
        city,
        refusal,
        detail,
        saved,
        redeemed,
        _may_undo(user, coupon, ctx.clock.now()),
    )


async def _known(ctx: Context, uow: UnitOfWork, user: User, code: str) -> Coupon:
    """The coupon of a code. Only unknown codes count against the cashier's limit; once it is
    spent, every code is refused for a while, or guessing could go on and find valid ones."""
    key = f"till:{user.id}"
    # One lookup per cashier at a time (in this process): concurrent guesses cannot all pass
    # allows() before any of them is counted.
    async with _GUESSES.setdefault(user.id, asyncio.Lock()):
        if not ctx.guess_limiter.allows(key):
            raise GuessingThrottled
        coupon = await uow.coupons.by_code_hash(hash_code(code))
        unknown = coupon is None or not _in_users_cities(user, coupon.city_id)
        if unknown:
            ctx.guess_limiter.hit(key)
    if coupon is None or unknown:
        # Another city's coupon looks unknown too: tenants never learn about each other.
        await audit(uow, ctx, user, None, "coupon.unknown_code", "coupon", f"…{code[-4:]}")
        await uow.commit()
        raise RedeemRefused(Refusal.UNKNOWN)
    return coupon


async def _spent(
    uow: UnitOfWork, coupon: Coupon, content: Content, city: City, now: datetime, redeemed: int
) -> Refusal | None:
    """What redeeming would find (read only): the stock used up, the visitor's uses spent."""
    terms = content.coupon
    if terms is None:
        return Refusal.WITHDRAWN
    if terms.stock is not None and redeemed >= terms.stock:
        return Refusal.SOLD_OUT
    if coupon.pseudonym is not None and terms.per_person is not None:
        span = use_period(content, now, city.tz)
        if await uow.coupons.uses(content.id, coupon.pseudonym, span) >= terms.per_person:
            return Refusal.LIMIT_REACHED
    return None


def _in_users_cities(user: User, city_id: UUID) -> bool:
    return any(m.city_id == city_id for m in user.memberships)


async def _till_scope(
    uow: UnitOfWork, user: User, coupon: Coupon, city: City, at_shop: UUID | None
) -> None:
    """Only staff of the offering shop (city staff for the city's own offers) redeem; at a
    shop's till (`at_shop`) only that shop's coupons."""
    if at_shop is not None and coupon.shop_id != at_shop:
        shop = await uow.shops.get(coupon.shop_id) if coupon.shop_id else None
        raise RedeemRefused(Refusal.FOREIGN_SHOP, {"shop": shop.name if shop else city.name})
    if coupon.shop_id is None:
        if not can_manage_city(user, coupon.city_id):
            raise RedeemRefused(Refusal.FOREIGN_SHOP, {"shop": city.name})
        return
    if user.shop_role(coupon.shop_id) is None:
        shop = await uow.shops.get(coupon.shop_id)
        raise RedeemRefused(Refusal.FOREIGN_SHOP, {"shop": shop.name if shop else city.name})


def _verdict(
    coupon: Coupon, content: Content, city: City, now: datetime
) -> tuple[Refusal | None, dict[str, object]]:
    if coupon.status is CouponStatus.REDEEMED and coupon.redeemed_at is not None:
        return Refusal.ALREADY_REDEEMED, {"when": _local(coupon.redeemed_at, city)}
    refusal = refusal_at(content, now, city.tz)
    window = content.window
    if refusal is Refusal.EXPIRED and window.ends_at is not None:
        return refusal, {"when": _local(window.ends_at, city)}
    if refusal is Refusal.NOT_YET and window.starts_at is not None:
        return refusal, {"when": _local(window.starts_at, city)}
    return refusal, {}


def _local(at: datetime, city: City) -> datetime:
    """A time for a message: the edge formats it in the reader's language."""
    return at.astimezone(city.tz)


def _may_undo(user: User, coupon: Coupon, now: datetime) -> bool:
    if not coupon.can_undo(now):
        return False
    if coupon.shop_id is None:
        return can_manage_city(user, coupon.city_id)
    return user.shop_role(coupon.shop_id) is Role.RETAILER_OWNER or can_manage_city(
        user, coupon.city_id
    )


async def redeem_coupon(
    ctx: Context, actor: User | None, code: object, at_shop: UUID | None = None
) -> TillView:
    """Redeem at the till: single use, stock and the limit per person hold under races.

    Everything happens in one transaction: the coupon's state flips only if it was still saved,
    the offer's tally row is then locked and counts against the stock, and the visitor's uses
    in the period are counted under that lock. Any refusal rolls all of it back.
    """
    user = require_user(actor)
    normal = clean_code(code)
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        coupon = await _known(ctx, uow, user, normal)
        content, city = await _offer(uow, coupon.content_id)
        await _till_scope(uow, user, coupon, city, at_shop)
        refusal, detail = _verdict(coupon, content, city, now)
        if refusal is not None:
            raise RedeemRefused(refusal, detail)
        await _take(uow, coupon, content, user, now, city)
        done = replace(coupon, status=CouponStatus.REDEEMED, redeemed_at=now, redeemed_by=user.id)
        # The path that led here is linked only while the visitor still consents to analytics.
        if await _consenting(uow, done.pseudonym) is not None:
            assert done.pseudonym is not None
            since = now - timedelta(days=ctx.attribution_days)
            touches = await uow.coupons.journey(done.pseudonym, content.id, since, now)
            await uow.coupons.add_touches(done, done.pseudonym, touches)
        await audit(uow, ctx, user, city.id, "coupon.redeemed", "coupon", coupon.id)
        saved, redeemed = await uow.coupons.tally(content.id)
        await uow.commit()
    await _emit(ctx, done, EventKind.COUPON_REDEEMED, _redemption_event(done), now)
    await _count_use(ctx, done, content, city, now)
    return TillView(done, content, city, None, {}, saved, redeemed, _may_undo(user, done, now))


async def _take(
    uow: UnitOfWork, coupon: Coupon, content: Content, user: User, now: datetime, city: City
) -> None:
    terms = content.coupon
    if terms is None:
        raise RedeemRefused(Refusal.WITHDRAWN)
    if not await uow.coupons.mark_redeemed(coupon.id, now, user.id):
        again = await uow.coupons.get(coupon.id)
        when = again.redeemed_at if again and again.redeemed_at else now
        raise RedeemRefused(Refusal.ALREADY_REDEEMED, {"when": _local(when, city)})
    if not await uow.coupons.take_stock(content.id, terms.stock):
        raise RedeemRefused(Refusal.SOLD_OUT)
    if coupon.pseudonym is not None and terms.per_person is not None:
        span = use_period(content, now, city.tz)
        used = await uow.coupons.uses(content.id, coupon.pseudonym, span)
        if used > terms.per_person:  # this redemption is already counted
            raise RedeemRefused(Refusal.LIMIT_REACHED)


def _redemption_event(coupon: Coupon) -> UUID:
    """One id per redemption, found again from the coupon when the redemption is undone."""
    assert coupon.redeemed_at is not None
    return uuid.uuid5(coupon.id, coupon.redeemed_at.isoformat())


async def _count_use(
    ctx: Context, coupon: Coupon, content: Content, city: City, now: datetime
) -> None:
    """Tell the decision engine, so it stops showing an offer whose stock or uses are spent."""
    terms = content.coupon
    if terms is None:
        return
    try:
        await ctx.decisions.claim(
            content.id, coupon.pseudonym, [period_key(terms.period, now.astimezone(city.tz).date())]
        )
    except Exception as exc:  # the engine's counters are a cache; the database holds the truth
        log.warning("coupon use not counted for decisions: %s", type(exc).__name__)


async def undo_redemption(
    ctx: Context, actor: User | None, coupon_id: UUID, reason: object
) -> Coupon:
    """Take back a redemption within UNDO_WINDOW: its shop's owner or city staff, with a reason."""
    user = require_user(actor)
    why = clean_reason(reason)
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        coupon = await uow.coupons.get(coupon_id)
        if coupon is None or not _in_users_cities(user, coupon.city_id):
            raise NotFound("coupon")
        foreign = coupon.shop_id is not None and user.shop_role(coupon.shop_id) is None
        if foreign and not can_manage_city(user, coupon.city_id):
            raise NotFound("coupon")
        if coupon.status is CouponStatus.SAVED:
            raise AlreadyUndone  # nothing redeemed (any more): a repeated tap
        if not _may_undo(user, coupon, now):
            if coupon.can_undo(now):
                raise Forbidden("shop owner required")
            raise Conflict(
                "coupon",
                N_("A redemption can only be undone within %(minutes)s minutes."),
                minutes=int(UNDO_WINDOW.total_seconds() // 60),
            )
        if not await uow.coupons.undo(coupon, now - UNDO_WINDOW):
            raise AlreadyUndone
        await uow.coupons.forget_event(_redemption_event(coupon))
        await audit(
            uow, ctx, user, coupon.city_id, "coupon.redemption_undone", "coupon", coupon.id, [why]
        )
        await uow.commit()
    return replace(coupon, status=CouponStatus.SAVED, redeemed_at=None, redeemed_by=None)


async def till_view(ctx: Context, actor: User | None, coupon_id: UUID, at_shop: UUID) -> TillView:
    """A coupon of the shop as the till shows it after redeeming (the answer to a redirect)."""
    user = require_user(actor)
    async with ctx.uow() as uow:
        coupon = await uow.coupons.get(coupon_id)
        if coupon is None or coupon.shop_id != at_shop or user.shop_role(at_shop) is None:
            raise NotFound("coupon")
        content, city = await _offer(uow, coupon.content_id)
        saved, redeemed = await uow.coupons.tally(content.id)
    now = ctx.clock.now()
    return TillView(coupon, content, city, None, {}, saved, redeemed, _may_undo(user, coupon, now))


@dataclass(frozen=True, slots=True)
class TillEntry:
    coupon: Coupon
    title: str
    can_undo: bool


async def till_today(ctx: Context, actor: User | None, shop_id: UUID) -> list[TillEntry]:
    """The shop's latest redemptions (its staff only), newest first, with what may be undone."""
    user = require_user(actor)
    if user.shop_role(shop_id) is None:
        raise Forbidden("shop staff required")
    now = ctx.clock.now()
    async with ctx.uow() as uow:
        found = await uow.coupons.recent_at_shop(shop_id, now - timedelta(days=1), 50)
    return [TillEntry(c, title, _may_undo(user, c, now)) for c, title in found]


async def wallet_state(ctx: Context, codes: object) -> dict[str, str]:
    """The state of the wallet's coupons by code: saved, redeemed, or unknown (no such code)."""
    if not isinstance(codes, list) or len(codes) > MAX_WALLET:
        raise InvalidInput("codes", N_("Send at most %(max)s codes."), max=MAX_WALLET)
    hashes = {str(given): hash_code(clean_code(given)) for given in codes}
    async with ctx.uow() as uow:
        found = await uow.coupons.by_code_hashes(sorted(set(hashes.values())))
    by_hash = {c.code_hash: c.status.value for c in found}
    # Keyed by the codes as the device sent them: it finds its own entries again.
    return {given: by_hash.get(digest, "unknown") for given, digest in hashes.items()}


async def _emit(
    ctx: Context, coupon: Coupon, kind: EventKind, event_id: UUID, now: datetime
) -> None:
    """The journey event after the commit; the writer keeps the pseudonym only with consent."""
    event = JourneyEvent(
        event_id=event_id,
        kind=kind,
        city_id=coupon.city_id,
        occurred_at=now,
        received_at=now,
        touchpoint_id=coupon.touchpoint_id,
        content_id=str(coupon.content_id),
        pseudonym=coupon.pseudonym,
    )
    try:
        await ctx.events.append([event])
    except (
        Exception
    ) as exc:  # the coupon is stored; a missing journey event is only a gap in counts
        log.warning("%s event not recorded: %s", kind.value, type(exc).__name__)
