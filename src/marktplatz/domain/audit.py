"""Entries of the append-only audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit log."""

    at: datetime
    actor_id: UUID | None
    city_id: UUID | None
    action: str
    object_type: str
    object_id: str
    detail: str
