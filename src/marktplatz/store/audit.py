"""The audit log in SQL: appended to by every use case, read page by page by the console."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.audit import AuditEntry, AuditFilter, AuditRow
from marktplatz.store import tables as t

log = t.audit_log.c


def _city_scope(city_id: UUID, member_ids: list[str]) -> ColumnElement[bool]:
    """The city's own rows, and the city-less rows (logins …) of people who belong to it.

    A login refused before anyone was logged in has no actor: it belongs to the city whose
    person's address was typed (a failed login) or whose person's account it names (a disabled
    account's login). Rows of nobody in the city (another city's, a visitor's that concerned no
    city's data, the purge job's) never match.
    """
    m = t.memberships.c
    members = select(m.user_id).where(m.city_id == city_id)
    addresses = (
        select(func.lower(t.users.c.email))
        .join(t.memberships, m.user_id == t.users.c.id)
        .where(m.city_id == city_id)
    )
    return or_(
        log.city_id == city_id,
        and_(log.city_id.is_(None), log.actor_id.in_(members)),
        and_(
            log.city_id.is_(None),
            log.actor_id.is_(None),
            log.object_type == "user",
            log.action.startswith("login."),
            or_(log.object_id.in_(addresses), log.object_id.in_(member_ids)),
        ),
    )


def _narrowed(found: AuditFilter, tz: ZoneInfo) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if prefixes := found.prefixes():
        where.append(or_(*(log.action.startswith(p, autoescape=True) for p in prefixes)))
    if found.actor:
        where.append(func.lower(t.users.c.email).contains(found.actor, autoescape=True))
    if found.object:
        where.append(
            or_(
                log.object_type == found.object,
                func.lower(log.object_id).contains(found.object.lower(), autoescape=True),
            )
        )
    start, end = found.window(tz)
    if start:
        where.append(log.at >= start)
    if end:
        where.append(log.at < end)
    return where


class SqlAuditLog:
    """Append-only: this class offers no update and no delete (tests/unit/test_audit_writes.py)."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def append(self, entry: AuditEntry) -> None:
        await self.conn.execute(t.audit_log.insert().values(**asdict(entry)))

    async def has_since(self, actor_id: UUID, action: str, object_id: str, since: datetime) -> bool:
        """Whether the actor already has such a line for that object since `since`."""
        query = select(
            exists().where(
                log.actor_id == actor_id,
                log.action == action,
                log.object_id == object_id,
                log.at >= since,
            )
        )
        return bool((await self.conn.execute(query)).scalar())

    async def page(
        self, city_id: UUID, found: AuditFilter, tz: ZoneInfo, before: int | None, limit: int
    ) -> list[AuditRow]:
        """Up to `limit` lines in the city's scope, newest first, older than line `before`."""
        u, m = t.users.c, t.memberships.c
        # Ids are kept as text in object_id: compared as the text the application wrote.
        ids = await self.conn.execute(select(m.user_id).where(m.city_id == city_id).distinct())
        member_ids = [str(row[0]) for row in ids]
        query = (
            select(t.audit_log, u.email, u.display_name)
            .select_from(t.audit_log.outerjoin(t.users, u.id == log.actor_id))
            .where(_city_scope(city_id, member_ids), *_narrowed(found, tz))
            .order_by(log.id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(log.id < before)
        return [
            AuditRow(
                id=r.id,
                entry=AuditEntry(
                    at=r.at,
                    actor_id=r.actor_id,
                    city_id=r.city_id,
                    action=r.action,
                    object_type=r.object_type,
                    object_id=r.object_id,
                    detail=r.detail,
                ),
                actor_email=r.email,
                actor_name=r.display_name,
            )
            for r in await self.conn.execute(query)
        ]
