"""What the saved versions of the story and of offers and stories share: author, bound."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, Table, delete, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.store import tables as t

V = TypeVar("V")


class VersionRows(Generic[V]):
    """The rows of one versions table, newest first, each with its author's name as it is now
    (an erased account leaves the version without one)."""

    def __init__(
        self, conn: AsyncConnection, table: Table, make: Callable[[RowMapping], V]
    ) -> None:
        self.conn = conn
        self.table = table
        self.make = make

    def _with_author(self) -> Select[Any]:
        author = func.coalesce(t.users.c.display_name, "").label("author_name")
        return select(self.table, author, t.users.c.email.label("author_email")).outerjoin(
            t.users, t.users.c.id == self.table.c.author_id
        )

    async def insert(self, **values: object) -> int:
        query = insert(self.table).values(**values).returning(self.table.c.id)
        return int((await self.conn.execute(query)).scalar_one())

    async def get(self, version_id: int) -> V | None:
        rows = await self.conn.execute(self._with_author().where(self.table.c.id == version_id))
        found = rows.mappings().first()
        return self.make(found) if found else None

    async def newest_of(self, ours: ColumnElement[bool], limit: int) -> list[V]:
        query = self._with_author().where(ours).order_by(self.table.c.id.desc()).limit(limit)
        return [self.make(row) for row in (await self.conn.execute(query)).mappings()]

    async def keep_newest_of(self, ours: ColumnElement[bool], keep: int) -> int:
        """Drop the versions matching `ours` beyond the newest `keep`."""
        ids = self.table.c.id
        kept = select(ids).where(ours).order_by(ids.desc()).limit(keep).scalar_subquery()
        result = await self.conn.execute(delete(self.table).where(ours, ids.not_in(kept)))
        return int(result.rowcount or 0)
