"""Coupons saved from offers and redeemed at the counter: codes, states and the till's verdicts."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.content import Content, ContentKind, ContentStatus, LimitPeriod
from marktplatz.domain.errors import N_, InvalidInput

# Crockford's base32 without I, L, O, U: nothing a cashier can misread or type wrongly.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 12  # 60 bits: guessing one of a million live coupons takes about 10^12 tries
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})
# How long after a redemption its shop's owner may still take it back (a wrong tap at the till).
UNDO_WINDOW = timedelta(minutes=30)
MIN_REASON, MAX_REASON = 3, 300


class CouponStatus(StrEnum):
    SAVED = "saved"
    REDEEMED = "redeemed"


class Refusal(StrEnum):
    """Why the till may not redeem a coupon; each has its own message for the cashier."""

    UNKNOWN = "unknown"
    FOREIGN_SHOP = "foreign-shop"
    ALREADY_REDEEMED = "already-redeemed"
    EXPIRED = "expired"
    ENDED = "ended"
    NOT_YET = "not-yet"
    NOT_NOW = "not-now"
    WITHDRAWN = "withdrawn"
    SOLD_OUT = "sold-out"
    LIMIT_REACHED = "limit-reached"


REFUSAL_TEXT: dict[Refusal, str] = {
    Refusal.UNKNOWN: N_(
        "No coupon has this code. Check the code with the customer and type it again."
    ),
    Refusal.FOREIGN_SHOP: N_("This coupon belongs to %(shop)s and can only be redeemed there."),
    Refusal.ALREADY_REDEEMED: N_("This coupon was already redeemed on %(when)s."),
    Refusal.EXPIRED: N_("This coupon expired on %(when)s."),
    Refusal.ENDED: N_("The shop has ended this offer; its coupons can no longer be redeemed."),
    Refusal.NOT_YET: N_("This coupon is valid from %(when)s."),
    Refusal.NOT_NOW: N_("This coupon is not valid at this time of day or on this weekday."),
    Refusal.WITHDRAWN: N_("The offer of this coupon was withdrawn; it can no longer be redeemed."),
    Refusal.SOLD_OUT: N_("All coupons of this offer have been redeemed: it is sold out."),
    Refusal.LIMIT_REACHED: N_("This customer has already used this offer as often as allowed."),
}


@dataclass(frozen=True, slots=True)
class Coupon:
    """One saved coupon. The code itself is never stored, only its hash and last four signs."""

    id: UUID
    city_id: UUID
    shop_id: UUID | None  # None: a city offer, redeemed by city staff (the tourist office)
    content_id: UUID
    code_hash: str
    code_tail: str
    status: CouponStatus
    saved_at: datetime
    # Only while the visitor consents to analytics: attribution and limits per person need it.
    pseudonym: str | None
    # Where it was saved (the touchpoint whose decision showed it): no personal data.
    touchpoint_id: UUID | None
    decision_id: UUID | None
    redeemed_at: datetime | None = None
    redeemed_by: UUID | None = None

    def can_undo(self, now: datetime) -> bool:
        return (
            self.status is CouponStatus.REDEEMED
            and self.redeemed_at is not None
            and now - self.redeemed_at <= UNDO_WINDOW
        )


def new_code() -> str:
    """A random code; shown to the visitor as three groups of four."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def grouped(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def clean_code(value: object) -> str:
    """The code as typed or scanned: case, spaces and dashes do not matter, O reads as 0."""
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput("code", N_("A coupon code has 12 letters and digits."))
    code = "".join(ch for ch in value.upper() if ch not in " -\t\n").translate(_READ_AS)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise InvalidInput(
            "code",
            N_("This is not a coupon code: a code has 12 letters and digits, like %(example)s."),
            example="K7QF-9M2X-PA3T",
        )
    return code


def hash_code(code: str) -> str:
    """What the store keeps: a leaked table does not hand out redeemable codes."""
    return hashlib.sha256(code.encode()).hexdigest()


def check_savable(content: Content, now: datetime, tz: ZoneInfo) -> None:
    """A coupon can be saved from a published offer with coupon terms that has not ended."""
    if content.kind is not ContentKind.OFFER or content.coupon is None:
        raise InvalidInput("content_id", N_("This offer has no coupon to save."))
    if content.status is not ContentStatus.PUBLISHED:
        raise InvalidInput("content_id", N_("This offer is no longer available."))
    ends = content.window.ends_at
    if ends is not None and now >= ends:
        raise InvalidInput("content_id", N_("This offer has ended."))


def refusal_at(content: Content, now: datetime, tz: ZoneInfo) -> Refusal | None:
    """Whether the offer itself allows a redemption now (state, span, weekday and time of day)."""
    window = content.window
    if window.ends_at is not None and now >= window.ends_at:
        return Refusal.EXPIRED  # its end date has passed: the message can name it
    if content.status is ContentStatus.EXPIRED:
        return Refusal.ENDED  # ended early, by hand: there is no date to name
    if content.status is not ContentStatus.PUBLISHED or content.coupon is None:
        return Refusal.WITHDRAWN
    if window.starts_at is not None and now < window.starts_at:
        return Refusal.NOT_YET
    return None if window.contains(now, tz) else Refusal.NOT_NOW


def use_period(content: Content, now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The local day or ISO week in which the per-person limit counts uses (None: the campaign)."""
    if content.coupon is None or content.coupon.period is LimitPeriod.CAMPAIGN:
        return None
    day = now.astimezone(tz).date()
    days = 1
    if content.coupon.period is LimitPeriod.WEEK:
        day -= timedelta(days=day.weekday())
        days = 7
    start = datetime.combine(day, time(), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=days), time(), tzinfo=tz)


def clean_reason(value: object) -> str:
    """Why a redemption is taken back; kept in the audit log."""
    text = value.strip() if isinstance(value, str) else ""
    if not MIN_REASON <= len(text) <= MAX_REASON:
        raise InvalidInput(
            "reason",
            N_("Say in %(min)s to %(max)s characters why the redemption is undone."),
            min=MIN_REASON,
            max=MAX_REASON,
        )
    return text
