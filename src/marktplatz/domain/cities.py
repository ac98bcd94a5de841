"""The city: the tenant root, with its timezone, federal state and languages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo, available_timezones

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.geo import Location
from marktplatz.domain.text import clean_slug

SUPPORTED_LANGUAGES = ("de", "en")


class FederalState(StrEnum):
    """German federal states (ISO 3166-2:DE without the country prefix), for public holidays."""

    BW = "BW"
    BY = "BY"
    BE = "BE"
    BB = "BB"
    HB = "HB"
    HH = "HH"
    HE = "HE"
    MV = "MV"
    NI = "NI"
    NW = "NW"
    RP = "RP"
    SL = "SL"
    SN = "SN"
    ST = "ST"
    SH = "SH"
    TH = "TH"


@dataclass(frozen=True, slots=True)
class City:
    """A city centre run on Marktplatz; every other object belongs to exactly one city."""

    id: UUID
    slug: str
    name: str
    timezone: str
    federal_state: FederalState
    languages: tuple[str, ...]
    center: Location
    tagline: str
    tagline_en: str
    is_demo: bool
    created_at: datetime

    def tagline_for(self, language: str) -> str:
        """The tagline in a site language, falling back to the German one."""
        return self.tagline_en if language == "en" and self.tagline_en else self.tagline

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# First path segments of the app's own pages: a city named so would be hidden behind them.
# tests/api/test_city_slugs.py fails when a new top-level route is missing here.
RESERVED_SLUGS = frozenset(
    {
        "account", "api", "console", "decide", "invite", "lang", "login", "logout", "media",
        "offline", "portal", "static",
    }
)  # fmt: skip


def clean_city_slug(value: object) -> str:
    """A city's short name: a slug that is not one of the app's own first path segments."""
    slug = clean_slug(value)
    if slug in RESERVED_SLUGS:
        raise InvalidInput(
            "slug",
            N_("“%(slug)s” is a page of Marktplatz itself; choose another short name."),
            slug=slug,
        )
    return slug


def clean_timezone(value: object, field: str = "timezone") -> str:
    """An IANA timezone name known to this system."""
    if not isinstance(value, str) or value not in available_timezones():
        raise InvalidInput(field, N_("Unknown timezone; use an IANA name like Europe/Berlin."))
    return value


def clean_federal_state(value: object, field: str = "federal_state") -> FederalState:
    """One of the 16 German federal states."""
    try:
        return FederalState(str(value).upper())
    except ValueError as exc:
        raise InvalidInput(field, N_("Unknown federal state; use a code like NW or BY.")) from exc


def clean_languages(value: object, field: str = "languages") -> tuple[str, ...]:
    """A non-empty list of supported languages, German first when present."""
    if not isinstance(value, list | tuple) or not value:
        raise InvalidInput(field, N_("Choose at least one language."))
    languages = tuple(dict.fromkeys(str(v) for v in value))
    for language in languages:
        if language not in SUPPORTED_LANGUAGES:
            raise InvalidInput(field, N_("Unsupported language: %(lang)s"), lang=language)
    return languages
