"""SQL repository of event registrations and their terms."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict
from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.registrations import Audience, Registration, RegistrationTerms
from marktplatz.store import tables as t

_r = t.registrations.c
_terms = t.registration_terms.c


def _terms_of(row: RowMapping) -> RegistrationTerms:
    return RegistrationTerms(
        content_id=row["content_id"],
        audience=Audience(row["audience"]),
        capacity=row["capacity"],
        closes_at=row["closes_at"],
    )


def _registration(row: RowMapping) -> Registration:
    return Registration(**{k: row[k] for k in Registration.__dataclass_fields__})


class SqlRegistrations:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def terms(self, content_id: UUID, *, lock: bool = False) -> RegistrationTerms | None:
        query = select(t.registration_terms).where(_terms.content_id == content_id)
        if lock:  # PostgreSQL: registrations for one event queue up (SQLite has one writer)
            query = query.with_for_update()
        row = (await self.conn.execute(query)).mappings().first()
        return _terms_of(row) if row else None

    async def terms_for(self, content_ids: Collection[UUID]) -> dict[UUID, RegistrationTerms]:
        if not content_ids:
            return {}
        query = select(t.registration_terms).where(_terms.content_id.in_(list(content_ids)))
        rows = (await self.conn.execute(query)).mappings()
        return {row["content_id"]: _terms_of(row) for row in rows}

    async def set_terms(self, terms: RegistrationTerms) -> None:
        await self.drop_terms(terms.content_id)
        await self.conn.execute(t.registration_terms.insert().values(**asdict(terms)))

    async def drop_terms(self, content_id: UUID) -> None:
        await self.conn.execute(delete(t.registration_terms).where(_terms.content_id == content_id))

    async def counts(self, content_ids: Collection[UUID]) -> dict[UUID, int]:
        if not content_ids:
            return {}
        query = (
            select(_r.content_id, func.count())
            .where(_r.content_id.in_(list(content_ids)))
            .group_by(_r.content_id)
        )
        return {row[0]: int(row[1]) for row in await self.conn.execute(query)}

    async def add(self, registration: Registration, token_hash: str) -> bool:
        """Insert; False if this e-mail address is registered for the event already."""
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(
                    t.registrations.insert().values(**asdict(registration), token_hash=token_hash)
                )
        except IntegrityError:
            return False
        return True

    async def by_token(self, token_hash: str) -> Registration | None:
        query = select(t.registrations).where(_r.token_hash == token_hash)
        row = (await self.conn.execute(query)).mappings().first()
        return _registration(row) if row else None

    async def for_user(self, content_id: UUID, user_id: UUID) -> Registration | None:
        query = select(t.registrations).where(_r.content_id == content_id, _r.user_id == user_id)
        row = (await self.conn.execute(query)).mappings().first()
        return _registration(row) if row else None

    async def list_for_event(self, content_id: UUID) -> list[Registration]:
        query = select(t.registrations).where(_r.content_id == content_id)
        rows = await self.conn.execute(query.order_by(_r.created_at, _r.name))
        return [_registration(row) for row in rows.mappings()]

    async def delete(self, registration_id: UUID) -> bool:
        result = await self.conn.execute(delete(t.registrations).where(_r.id == registration_id))
        return result.rowcount == 1

    async def delete_ended_before(self, before: datetime) -> int:
        """Delete the participants of events that ended (or, without an end, began) before."""
        c = t.contents.c
        ended = select(c.id).where(func.coalesce(c.ends_at, c.starts_at) < before)
        result = await self.conn.execute(delete(t.registrations).where(_r.content_id.in_(ended)))
        return int(result.rowcount or 0)
