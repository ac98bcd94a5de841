"""Appending to the audit log from inside a use case's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.audit import AuditEntry
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork


async def audit(
    uow: UnitOfWork,
    ctx: Context,
    actor: User | None,
    city_id: UUID | None,
    action: str,
    object_type: str,
    object_id: UUID | str,
    detail: Iterable[str] = (),
) -> None:
    """Record who did what to which object; written in the same transaction as the change."""
    await uow.audit.append(
        AuditEntry(
            at=ctx.clock.now(),
            actor_id=actor.id if actor else None,
            city_id=city_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=", ".join(detail)[:500],
        )
    )
