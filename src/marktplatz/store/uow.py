"""The SQL unit of work: one connection, one transaction, every repository."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from types import TracebackType
from typing import Any, Self
from uuid import UUID

from sqlalchemy import Select, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from marktplatz.domain.accounts import Invitation, LoginSession, Role
from marktplatz.store import tables as t
from marktplatz.store.audit import SqlAuditLog
from marktplatz.store.content import SqlContents
from marktplatz.store.content_versions import SqlContentVersions
from marktplatz.store.coupons import SqlCoupons
from marktplatz.store.fitness import SqlFitness
from marktplatz.store.footfall import SqlFootfall
from marktplatz.store.journey import SqlConsents, SqlRetention, SqlVisitorData, SqlVisitors
from marktplatz.store.registrations import SqlRegistrations
from marktplatz.store.repositories import SqlCities, SqlShops, SqlTouchpoints, SqlUsers, SqlZones
from marktplatz.store.rollups import SqlRollups
from marktplatz.store.story import SqlStoryVersions
from marktplatz.store.two_factor import SqlTwoFactor


class SqlSessions:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, session: LoginSession) -> None:
        await self.conn.execute(t.login_sessions.insert().values(**asdict(session)))

    async def get(self, token_hash: str) -> LoginSession | None:
        query = select(t.login_sessions).where(t.login_sessions.c.token_hash == token_hash)
        row = (await self.conn.execute(query)).first()
        return LoginSession(**row._mapping) if row else None

    async def extend(self, token_hash: str, expires_at: datetime) -> None:
        await self.conn.execute(
            update(t.login_sessions)
            .where(t.login_sessions.c.token_hash == token_hash)
            .values(expires_at=expires_at)
        )

    async def delete(self, token_hash: str) -> None:
        await self.conn.execute(
            delete(t.login_sessions).where(t.login_sessions.c.token_hash == token_hash)
        )

    async def delete_for_user(self, user_id: UUID) -> None:
        await self.conn.execute(
            delete(t.login_sessions).where(t.login_sessions.c.user_id == user_id)
        )


class SqlUnitOfWork:
    """Opens a connection and a transaction on enter; rolls back unless commit() was called."""

    def __init__(self, engine: AsyncEngine, *, write: bool) -> None:
        self.engine = engine
        self.write = write
        self._conn: AsyncConnection | None = None

    cities: SqlCities
    zones: SqlZones
    shops: SqlShops
    touchpoints: SqlTouchpoints
    users: SqlUsers
    sessions: SqlSessions
    audit: SqlAuditLog
    invitations: SqlInvitations
    salts: SqlSalts
    visitors: SqlVisitors
    consents: SqlConsents
    visitor_data: SqlVisitorData
    retention: SqlRetention
    contents: SqlContents
    coupons: SqlCoupons
    two_factor: SqlTwoFactor
    story_versions: SqlStoryVersions
    fitness: SqlFitness
    registrations: SqlRegistrations
    content_versions: SqlContentVersions
    rollups: SqlRollups
    footfall: SqlFootfall

    async def __aenter__(self) -> Self:
        conn = await self.engine.connect()
        if self.write:
            conn = await conn.execution_options(marktplatz_write=True)
        await conn.begin()
        self._conn = conn
        self.cities = SqlCities(conn)
        self.zones = SqlZones(conn)
        self.shops = SqlShops(conn)
        self.touchpoints = SqlTouchpoints(conn)
        self.users = SqlUsers(conn)
        self.sessions = SqlSessions(conn)
        self.audit = SqlAuditLog(conn)
        self.invitations = SqlInvitations(conn)
        self.salts = SqlSalts(conn)
        self.visitors = SqlVisitors(conn)
        self.consents = SqlConsents(conn)
        self.visitor_data = SqlVisitorData(conn)
        self.retention = SqlRetention(conn)
        self.contents = SqlContents(conn)
        self.coupons = SqlCoupons(conn)
        self.two_factor = SqlTwoFactor(conn)
        self.story_versions = SqlStoryVersions(conn)
        self.fitness = SqlFitness(conn)
        self.registrations = SqlRegistrations(conn)
        self.content_versions = SqlContentVersions(conn)
        self.rollups = SqlRollups(conn)
        self.footfall = SqlFootfall(conn)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._conn is not None
        try:
            if self._conn.in_transaction():
                await self._conn.rollback()
        finally:
            await self._conn.close()
            self._conn = None

    async def commit(self) -> None:
        assert self._conn is not None
        await self._conn.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)


async def database_ok(engine: AsyncEngine) -> bool:
    """Whether the database answers and has the schema (for `marktplatz check`)."""
    async with engine.connect() as conn:
        await conn.execute(select(t.cities.c.id).limit(1))
    return True


class SqlInvitations:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(self, invitation: Invitation) -> None:
        await self.conn.execute(t.invitations.insert().values(**asdict(invitation)))

    async def get(self, token_hash: str) -> Invitation | None:
        query = select(t.invitations).where(t.invitations.c.token_hash == token_hash)
        row = (await self.conn.execute(query)).first()
        if row is None:
            return None
        values = dict(row._mapping)
        return Invitation(**{**values, "role": Role(values["role"])})

    async def list_open(self, city_id: UUID, now: datetime) -> list[Invitation]:
        query = (
            select(t.invitations)
            .where(
                t.invitations.c.city_id == city_id,
                t.invitations.c.accepted_at.is_(None),
                t.invitations.c.expires_at > now,
            )
            .order_by(t.invitations.c.created_at.desc())
        )
        return await self._invitations(query)

    async def list_for_shop(self, shop_id: UUID) -> list[Invitation]:
        """Every invitation to the shop, used and expired ones too (they date a membership)."""
        query = select(t.invitations).where(t.invitations.c.shop_id == shop_id)
        return await self._invitations(query.order_by(t.invitations.c.created_at.desc()))

    async def _invitations(self, query: Select[Any]) -> list[Invitation]:
        rows = await self.conn.execute(query)
        return [Invitation(**{**r._mapping, "role": Role(r._mapping["role"])}) for r in rows]

    async def withdraw(self, token_hash: str, shop_id: UUID) -> bool:
        """Delete an unused invitation of the shop: its link stops working at once."""
        result = await self.conn.execute(
            delete(t.invitations).where(
                t.invitations.c.token_hash == token_hash,
                t.invitations.c.shop_id == shop_id,
                t.invitations.c.accepted_at.is_(None),
            )
        )
        return result.rowcount == 1

    async def accept(self, token_hash: str, at: datetime) -> bool:
        """Mark as used; False if someone else used it first (single use under races)."""
        result = await self.conn.execute(
            update(t.invitations)
            .where(t.invitations.c.token_hash == token_hash, t.invitations.c.accepted_at.is_(None))
            .values(accepted_at=at)
        )
        return result.rowcount == 1


class SqlSalts:
    """Daily salts for counting visitors without consent; never joined to a pseudonym."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get_or_create(self, city_id: UUID, day: str, candidate: str, at: datetime) -> str:
        query = select(t.daily_salts.c.salt).where(
            t.daily_salts.c.city_id == city_id, t.daily_salts.c.day == day
        )
        found = (await self.conn.execute(query)).scalar()
        if found is not None:
            return str(found)
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(
                    t.daily_salts.insert().values(
                        city_id=city_id, day=day, salt=candidate, created_at=at
                    )
                )
        except IntegrityError:
            return str((await self.conn.execute(query)).scalar())
        return candidate

    async def delete_before(self, day: str) -> int:
        result = await self.conn.execute(delete(t.daily_salts).where(t.daily_salts.c.day < day))
        return int(result.rowcount or 0)
