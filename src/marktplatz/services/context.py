"""What every use case needs from the outside, built by the composition root."""

from __future__ import annotations

from dataclasses import dataclass

from marktplatz.services.ports import (
    Clock,
    ImageProcessor,
    MediaStore,
    PasswordHasher,
    RateLimiter,
    UnitOfWorkFactory,
)


@dataclass(frozen=True, slots=True)
class Context:
    """Ports and policy values handed to services; real or fake adapters behind each."""

    uow: UnitOfWorkFactory
    clock: Clock
    hasher: PasswordHasher
    images: ImageProcessor
    media: MediaStore
    login_limiter: RateLimiter
    session_hours: int
    max_upload_bytes: int
