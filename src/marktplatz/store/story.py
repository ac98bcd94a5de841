"""SQL repository of the story editor's versions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.story import StoryVersion
from marktplatz.store import tables as t

_v = t.story_versions.c


def _with_author() -> Select[Any]:
    # The author's name as it is now; an erased account leaves the version without one.
    author = func.coalesce(t.users.c.display_name, "").label("author_name")
    return select(t.story_versions, author, t.users.c.email.label("author_email")).outerjoin(
        t.users, t.users.c.id == _v.author_id
    )


def _version(row: RowMapping) -> StoryVersion:
    return StoryVersion(
        id=row["id"],
        shop_id=row["shop_id"],
        language=row["language"],
        source=row["source"],
        html=row["html"],
        author_id=row["author_id"],
        author=row["author_name"] or row["author_email"] or "",
        created_at=row["created_at"],
    )


class SqlStoryVersions:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self,
        shop_id: UUID,
        language: str,
        source: str,
        html: str,
        author_id: UUID | None,
        at: datetime,
    ) -> int:
        result = await self.conn.execute(
            insert(t.story_versions)
            .values(
                shop_id=shop_id,
                language=language,
                source=source,
                html=html,
                author_id=author_id,
                created_at=at,
            )
            .returning(_v.id)
        )
        return int(result.scalar_one())

    async def get(self, version_id: int) -> StoryVersion | None:
        row = (await self.conn.execute(_with_author().where(_v.id == version_id))).mappings()
        found = row.first()
        return _version(found) if found else None

    async def newest(self, shop_id: UUID, language: str, limit: int) -> list[StoryVersion]:
        query = (
            _with_author()
            .where(_v.shop_id == shop_id, _v.language == language)
            .order_by(_v.id.desc())
            .limit(limit)
        )
        return [_version(row) for row in (await self.conn.execute(query)).mappings()]

    async def keep_newest(self, shop_id: UUID, language: str, keep: int) -> int:
        """Drop the versions of a shop's story in one language beyond the newest `keep`."""
        ours = (_v.shop_id == shop_id) & (_v.language == language)
        kept = select(_v.id).where(ours).order_by(_v.id.desc()).limit(keep).scalar_subquery()
        result = await self.conn.execute(delete(t.story_versions).where(ours, _v.id.not_in(kept)))
        return int(result.rowcount or 0)
