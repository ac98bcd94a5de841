"""SQL repository of the story editor's versions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import update
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.content import ContentStatus
from marktplatz.domain.story import StoryVersion
from marktplatz.store import tables as t
from marktplatz.store.versions import VersionRows

_v = t.story_versions.c


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
        status=ContentStatus(row["status"]),
        flags=tuple(row["flags"] or ()),
        review_note=row["review_note"],
    )


class SqlStoryVersions(VersionRows[StoryVersion]):
    def __init__(self, conn: AsyncConnection) -> None:
        super().__init__(conn, t.story_versions, _version)

    async def add(
        self,
        shop_id: UUID,
        language: str,
        source: str,
        html: str,
        author_id: UUID | None,
        at: datetime,
        status: ContentStatus = ContentStatus.PUBLISHED,
        flags: tuple[str, ...] = (),
    ) -> int:
        return await self.insert(
            shop_id=shop_id,
            language=language,
            source=source,
            html=html,
            author_id=author_id,
            created_at=at,
            status=status.value,
            flags=list(flags),
        )

    async def set_status(self, version_id: int, status: ContentStatus, note: str = "") -> None:
        query = update(self.table).where(_v.id == version_id)
        await self.conn.execute(query.values(status=status.value, review_note=note))

    async def set_aside(self, shop_id: UUID, language: str) -> int:
        """Mark what still waits of a shop's story in one language as replaced (DRAFT)."""
        ours = (_v.shop_id == shop_id) & (_v.language == language)
        waiting = ours & (_v.status == ContentStatus.SUBMITTED.value)
        result = await self.conn.execute(
            update(self.table).where(waiting).values(status=ContentStatus.DRAFT.value)
        )
        return int(result.rowcount or 0)

    async def waiting(self, shop_ids: list[UUID]) -> list[StoryVersion]:
        """The versions of these shops' stories that wait for the city, oldest first."""
        waiting = _v.shop_id.in_(shop_ids) & (_v.status == ContentStatus.SUBMITTED.value)
        query = self._with_author().where(waiting).order_by(_v.id)
        return [self.make(row) for row in (await self.conn.execute(query)).mappings()]

    async def newest(self, shop_id: UUID, language: str, limit: int) -> list[StoryVersion]:
        return await self.newest_of((_v.shop_id == shop_id) & (_v.language == language), limit)

    async def keep_newest(self, shop_id: UUID, language: str, keep: int) -> int:
        """Drop the versions of a shop's story in one language beyond the newest `keep`."""
        ours = (_v.shop_id == shop_id) & (_v.language == language)
        return await self.keep_newest_of(ours, keep)
