"""SQL repository of two-factor secrets, recovery codes and pending login challenges."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from marktplatz.domain.two_factor import TwoFactor
from marktplatz.store import tables as t


class SqlTwoFactor:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, user_id: UUID) -> TwoFactor | None:
        row = (
            (await self.conn.execute(select(t.two_factor).where(t.two_factor.c.user_id == user_id)))
            .mappings()
            .first()
        )
        return TwoFactor(**row) if row else None

    async def save(self, two_factor: TwoFactor) -> None:
        await self.conn.execute(
            delete(t.two_factor).where(t.two_factor.c.user_id == two_factor.user_id)
        )
        await self.conn.execute(
            insert(t.two_factor).values(
                user_id=two_factor.user_id,
                secret_sealed=two_factor.secret_sealed,
                enabled_at=two_factor.enabled_at,
                last_step=two_factor.last_step,
                created_at=two_factor.created_at,
            )
        )

    async def delete(self, user_id: UUID) -> None:
        await self.conn.execute(delete(t.two_factor).where(t.two_factor.c.user_id == user_id))
        await self.conn.execute(
            delete(t.recovery_codes).where(t.recovery_codes.c.user_id == user_id)
        )

    async def advance_step(self, user_id: UUID, step: int) -> bool:
        """Move the last used step forward; False if a concurrent login used this step first."""
        c = t.two_factor.c
        result = await self.conn.execute(
            update(t.two_factor)
            .where(c.user_id == user_id, or_(c.last_step.is_(None), c.last_step < step))
            .values(last_step=step)
        )
        return result.rowcount == 1

    async def replace_recovery_codes(self, user_id: UUID, hashes: list[str]) -> None:
        await self.conn.execute(
            delete(t.recovery_codes).where(t.recovery_codes.c.user_id == user_id)
        )
        await self.conn.execute(
            insert(t.recovery_codes), [{"user_id": user_id, "code_hash": h} for h in hashes]
        )

    async def use_recovery_code(self, user_id: UUID, code_hash: str, at: datetime) -> bool:
        c = t.recovery_codes.c
        result = await self.conn.execute(
            update(t.recovery_codes)
            .where(c.user_id == user_id, c.code_hash == code_hash, c.used_at.is_(None))
            .values(used_at=at)
        )
        return result.rowcount == 1

    async def recovery_codes_left(self, user_id: UUID) -> int:
        c = t.recovery_codes.c
        query = select(func.count()).where(c.user_id == user_id, c.used_at.is_(None))
        return int((await self.conn.execute(query)).scalar_one())

    async def add_challenge(self, token_hash: str, user_id: UUID, expires_at: datetime) -> None:
        await self.conn.execute(
            insert(t.login_challenges).values(
                token_hash=token_hash, user_id=user_id, expires_at=expires_at
            )
        )

    async def challenge(self, token_hash: str, now: datetime) -> UUID | None:
        """The user a live challenge belongs to; expired ones count as absent."""
        c = t.login_challenges.c
        query = select(c.user_id).where(c.token_hash == token_hash, c.expires_at > now)
        found: UUID | None = (await self.conn.execute(query)).scalar_one_or_none()
        return found

    async def drop_challenge(self, token_hash: str) -> bool:
        result = await self.conn.execute(
            delete(t.login_challenges).where(t.login_challenges.c.token_hash == token_hash)
        )
        return result.rowcount == 1

    async def drop_expired_challenges(self, now: datetime) -> None:
        await self.conn.execute(
            delete(t.login_challenges).where(t.login_challenges.c.expires_at <= now)
        )

    async def enabled_among(self, user_ids: list[UUID]) -> set[UUID]:
        """Which of these users have two-factor login on."""
        c = t.two_factor.c
        query = select(c.user_id).where(c.user_id.in_(user_ids), c.enabled_at.is_not(None))
        return {row[0] for row in await self.conn.execute(query)}
