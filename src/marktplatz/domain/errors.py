"""Errors the domain raises; messages are English msgids translated at the edge."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def N_(message: str) -> str:  # noqa: N802 (the gettext convention)
    """Mark a message for translation without translating it here (the domain has no locale)."""
    return message


class DomainError(Exception):
    """Base of every rule violation a person can fix."""


class InvalidInput(DomainError):
    """One field of the input breaks a rule; `message` is a translatable msgid with %(name)s."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        super().__init__(f"{field}: {message % params if params else message}")
        self.field = field
        self.message = message
        self.params: Mapping[str, Any] = params


class Conflict(DomainError):
    """The input collides with something already stored (e.g. a duplicate identifier)."""

    def __init__(self, field: str, message: str, **params: Any) -> None:
        super().__init__(f"{field}: {message % params if params else message}")
        self.field = field
        self.message = message
        self.params: Mapping[str, Any] = params


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it exists."""


class Forbidden(DomainError):
    """The caller is known but may not do this."""


class WriterBusy(Exception):
    """The event writer's queue is full: the client should retry later (503, Retry-After)."""


class StoreUnavailable(Exception):
    """The database refused or failed a write: nothing of it was acknowledged."""
