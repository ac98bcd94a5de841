"""Reading the audit log (city admins), exporting it, and logging refused requests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from uuid import UUID
from zoneinfo import ZoneInfo

from marktplatz.domain.accounts import User
from marktplatz.domain.audit import (
    ACCESS_DENIED,
    DENIED_QUIET,
    AuditFilter,
    AuditRow,
    denied_path,
)
from marktplatz.services.access import access_city
from marktplatz.services.audit import audit
from marktplatz.services.context import Context

PAGE_SIZE = 50
EXPORT_BATCH = 1_000


@dataclass(frozen=True, slots=True)
class AuditPage:
    """One page of the log, newest first; `older` is the cursor of the next page, if any."""

    rows: list[AuditRow]
    older: int | None


async def audit_page(
    ctx: Context,
    actor: User | None,
    city_id: UUID,
    found: AuditFilter,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """The city's lines matching the filter, older than line `before` (city admins only).

    Logins and refusals name the city's people and show who holds which role: editors and
    retailers may not read them, another city's staff find no such city.
    """
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id, admin=True)
        rows = await uow.audit.page(city.id, found, city.tz, before, limit + 1)
    older = rows[limit - 1].id if len(rows) > limit else None
    return AuditPage(rows[:limit], older)


async def export_audit(
    ctx: Context, actor: User | None, city_id: UUID, found: AuditFilter
) -> AsyncIterator[AuditRow]:
    """Every matching line, newest first, in batches; the export itself is logged first."""
    async with ctx.uow(write=True) as uow:
        city = await access_city(uow, actor, city_id, admin=True)
        detail = [f"{k}={v}" for k, v in found.query().items()]
        await audit(uow, ctx, actor, city.id, "audit.exported", "city", city.id, detail)
        await uow.commit()
    return _batches(ctx, city.id, city.tz, found)


async def _batches(
    ctx: Context, city_id: UUID, tz: ZoneInfo, found: AuditFilter
) -> AsyncIterator[AuditRow]:
    before: int | None = None
    while True:
        async with ctx.uow() as uow:
            rows = await uow.audit.page(city_id, found, tz, before, EXPORT_BATCH)
        for row in rows:
            yield row
        if len(rows) < EXPORT_BATCH:
            return
        before = rows[-1].id


async def record_denied(ctx: Context, user: User, path: str) -> None:
    """Log a logged-in user's refused request: the route's path pattern (never a query string).

    At most one line per user and path within DENIED_QUIET, so a reloading page cannot flood
    the log; the city-less line shows in the viewer of every city the user belongs to.
    """
    where = denied_path(path)
    async with ctx.uow(write=True) as uow:
        since = ctx.clock.now() - DENIED_QUIET
        if await uow.audit.has_since(user.id, ACCESS_DENIED, where, since):
            return
        await audit(uow, ctx, user, None, ACCESS_DENIED, "path", where)
        await uow.commit()
