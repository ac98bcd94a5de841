"""A visitor's consent and data rights: grant or withdraw, export, erase — with their secret."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from marktplatz.domain.consent import (
    ConsentRecord,
    Purpose,
    Visitor,
    clean_purposes,
    clean_secret,
    clean_text_version,
    current_consent,
    erased_pseudonym,
    hash_secret,
    secret_matches,
)
from marktplatz.domain.errors import Forbidden, NotFound
from marktplatz.domain.journey import check_pseudonym
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork


@dataclass(frozen=True, slots=True)
class VisitorExport:
    """Everything stored for one pseudonym (the secret's hash aside: it says nothing of them)."""

    visitor: Visitor
    consents: list[ConsentRecord]
    events: list[dict[str, Any]]
    coupons: list[dict[str, Any]]  # saved under the pseudonym; the code itself is not kept
    coupon_touches: list[dict[str, Any]]  # the contacts that led to a redemption


def _pseudonym(value: object) -> str:
    pseudonym = check_pseudonym(value if isinstance(value, str) else "")
    assert pseudonym is not None
    return pseudonym


async def _audit(
    uow: UnitOfWork,
    ctx: Context,
    action: str,
    pseudonym: str,
    detail: list[str] | None = None,
    cities: Sequence[UUID] = (),
) -> None:
    # The audit log must not become a list of pseudonyms (nor hold a secret): it names the
    # visitor by a hash that only someone who knows the pseudonym can match.
    digest = hashlib.sha256(f"visitor:{pseudonym}".encode()).hexdigest()[:32]
    # One line per city whose data the request concerned, so each city's admins see it in
    # their log; a request that touched no city's data belongs to the installation alone.
    scopes: Sequence[UUID | None] = cities or [None]
    for city_id in scopes:
        await audit(uow, ctx, None, city_id, action, "visitor", digest, detail or ())


async def _proven(uow: UnitOfWork, pseudonym: str, secret: str) -> Visitor:
    """The visitor if the secret is theirs; NotFound for an unknown id, else Forbidden."""
    visitor = await uow.visitors.get(pseudonym)
    if visitor is None:
        raise NotFound("visitor")
    if not secret_matches(secret, visitor.secret_hash):
        raise Forbidden("secret")
    return visitor


async def record_consent(
    ctx: Context, *, visitor: object, secret: object, purposes: object, text_version: object
) -> dict[Purpose, bool]:
    """Append one record per purpose; the first grant registers the visitor with their secret.

    Nothing is stored for a device that has not granted anything yet (§ 25 TDDDG). Returns the
    consent now in force for each purpose.
    """
    pseudonym, key = _pseudonym(visitor), clean_secret(secret)
    decided, version = clean_purposes(purposes), clean_text_version(text_version)
    now = ctx.clock.now()
    async with ctx.uow(write=True) as uow:
        known = await uow.visitors.get(pseudonym)
        if known is not None and not secret_matches(key, known.secret_hash):
            raise Forbidden("secret")
        if known is None and not any(decided.values()):
            return dict.fromkeys(Purpose, False)
        if known is None:
            await uow.visitors.add(Visitor(pseudonym, hash_secret(key), now))
        records = [ConsentRecord(pseudonym, p, g, version, now) for p, g in decided.items()]
        await uow.consents.add(records)
        state = current_consent(await uow.consents.for_pseudonym(pseudonym))
        if not state[Purpose.ANALYTICS]:
            # Coupons were linked to the visitor for analytics only: that link ends with it.
            await uow.coupons.forget_visitor(pseudonym)
        detail = [f"{p.value}={'yes' if g else 'no'}" for p, g in decided.items()]
        await _audit(uow, ctx, "consent.changed", pseudonym, detail)
        await uow.commit()
    return state


async def export_data(ctx: Context, *, visitor: object, secret: object) -> VisitorExport:
    """Everything stored under the pseudonym, for the visitor who holds its secret."""
    pseudonym, key = _pseudonym(visitor), clean_secret(secret)
    async with ctx.uow(write=True) as uow:
        found = await _proven(uow, pseudonym, key)
        consents = await uow.consents.for_pseudonym(pseudonym)
        events = await uow.visitor_data.events(pseudonym)
        saved = await uow.coupons.for_pseudonym(pseudonym)
        touches = await uow.coupons.touches_for(pseudonym)
        cities = await uow.visitor_data.cities(pseudonym)
        await _audit(uow, ctx, "visitor.exported", pseudonym, cities=cities)
        await uow.commit()
    return VisitorExport(found, consents, events, saved, touches)


async def erase_data(ctx: Context, *, visitor: object, secret: object) -> dict[str, int]:
    """Erase the pseudonym from every table (see store ERASURE); returns rows per table.

    The consent records stay as proof of consent under a keyed one-way stand-in, so they no
    longer lead to the visitor; with no grant left, later events are stored without pseudonym.
    """
    pseudonym, key = _pseudonym(visitor), clean_secret(secret)
    async with ctx.uow(write=True) as uow:
        await _proven(uow, pseudonym, key)
        cities = await uow.visitor_data.cities(pseudonym)
        counts = await uow.visitor_data.erase(
            pseudonym, erased_pseudonym(pseudonym, ctx.erasure_key)
        )
        detail = [f"{table}={count}" for table, count in sorted(counts.items())]
        await _audit(uow, ctx, "visitor.erased", pseudonym, detail, cities)
        await uow.commit()
    # After the commit: a funnel extract catching up meanwhile reads the store without them.
    await ctx.funnels.forget(pseudonym)
    return counts
