"""Consent of a visitor, per purpose, with the version of the text they were shown."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from marktplatz.domain.errors import N_, InvalidInput

CONSENT_TEXT_VERSION = "2026-11"


class Purpose(StrEnum):
    ANALYTICS = "analytics"
    PERSONALISATION = "personalisation"


@dataclass(frozen=True, slots=True)
class ConsentRecord:
    """One decision: granted or withdrawn, for one purpose, at one time, after one text."""

    pseudonym: str
    purpose: Purpose
    granted: bool
    text_version: str
    at: datetime


def current_consent(records: Iterable[ConsentRecord]) -> dict[Purpose, bool]:
    """The latest decision per purpose; a purpose never decided counts as not granted."""
    state = dict.fromkeys(Purpose, False)
    for record in sorted(records, key=lambda r: r.at):
        state[record.purpose] = record.granted
    return state


def clean_purpose(value: object) -> Purpose:
    try:
        return Purpose(str(value))
    except ValueError as exc:
        raise InvalidInput(
            "purpose", N_("Unknown purpose: %(value)s"), value=str(value)[:40]
        ) from exc


# The device makes the secret (e.g. 32 random bytes in hex); anything shorter is guessable.
MIN_SECRET = 32
MAX_SECRET = 128
MAX_TEXT_VERSION = 20
ERASED_PREFIX = "erased:"


@dataclass(frozen=True, slots=True)
class Visitor:
    """A consenting device: its random id and the hash of its data-rights secret, nothing more."""

    pseudonym: str
    secret_hash: str
    created_at: datetime


def clean_secret(value: object) -> str:
    """The data-rights secret the device made at its first consent."""
    if not isinstance(value, str) or not MIN_SECRET <= len(value) <= MAX_SECRET:
        raise InvalidInput(
            "secret", N_("The secret is a random text of 32 to 128 characters made by the app.")
        )
    return value


def hash_secret(secret: str) -> str:
    """Only this hash is stored: a leaked table does not let anyone act for the visitor."""
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, stored_hash: str) -> bool:
    """Compare in constant time, so the answer time tells nothing about the stored hash."""
    return hmac.compare_digest(hash_secret(secret).encode(), stored_hash.encode())


def clean_purposes(value: object) -> dict[Purpose, bool]:
    """At least one purpose, each with a yes or no."""
    if not isinstance(value, dict) or not value:
        raise InvalidInput("purposes", N_("Name at least one purpose with true or false."))
    decided: dict[Purpose, bool] = {}
    for key, granted in value.items():
        if not isinstance(granted, bool):
            raise InvalidInput("purposes", N_("A purpose is granted with true or false."))
        decided[clean_purpose(key)] = granted
    return decided


def clean_text_version(value: object) -> str:
    """The version of the consent text the visitor was shown."""
    if not isinstance(value, str) or not 0 < len(value.strip()) <= MAX_TEXT_VERSION:
        raise InvalidInput(
            "text_version", N_("Name the version of the consent text, in at most 20 characters.")
        )
    return value.strip()


def erased_pseudonym(pseudonym: str, key: bytes) -> str:
    """A one-way stand-in for an erased pseudonym (fits its 32-character column).

    Keyed with the installation's secret: without the key, nobody can test guessed ids
    against it; with the key and the visitor's own id, the proof of consent can still be
    found. The prefix is no hex digit, so it never collides with a live pseudonym.
    """
    digest = hmac.new(key, pseudonym.encode(), hashlib.sha256).hexdigest()
    return ERASED_PREFIX + digest[: 32 - len(ERASED_PREFIX)]
