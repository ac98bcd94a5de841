"""SQL repository of the content editor's versions of an item's title and text."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.content import ContentVersion
from marktplatz.store import tables as t
from marktplatz.store.versions import VersionRows

_v = t.content_versions.c


def _version(row: RowMapping) -> ContentVersion:
    return ContentVersion(
        id=row["id"],
        content_id=row["content_id"],
        title=row["title"],
        source=row["source"],
        html=row["html"],
        author_id=row["author_id"],
        author=row["author_name"] or row["author_email"] or "",
        created_at=row["created_at"],
    )


class SqlContentVersions(VersionRows[ContentVersion]):
    def __init__(self, conn: AsyncConnection) -> None:
        super().__init__(conn, t.content_versions, _version)

    async def add(
        self,
        content_id: UUID,
        title: str,
        source: str,
        html: str,
        author_id: UUID | None,
        at: datetime,
    ) -> int:
        return await self.insert(
            content_id=content_id,
            title=title,
            source=source,
            html=html,
            author_id=author_id,
            created_at=at,
        )

    async def newest(self, content_id: UUID, limit: int) -> list[ContentVersion]:
        return await self.newest_of(_v.content_id == content_id, limit)

    async def keep_newest(self, content_id: UUID, keep: int) -> int:
        """Drop an item's versions beyond the newest `keep`."""
        return await self.keep_newest_of(_v.content_id == content_id, keep)
