"""Shops: the retailer tenants of a city, with contact details, story and opening hours."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.geo import Location

MAX_HOURS_LENGTH = 500
MAX_IMAGES_PER_SHOP = 12


class ShopArea(StrEnum):
    """Parts of a shop's page its owner may open to their staff (cashiers)."""

    STORY = "story"
    HOURS = "hours"


@dataclass(frozen=True, slots=True)
class Shop:
    """A shop; `opening_hours` is the raw OSM string, kept even when it does not parse."""

    id: UUID
    city_id: UUID
    slug: str
    name: str
    category: ShopCategory
    street: str
    postcode: str
    town: str
    location: Location
    phone: str
    email: str
    website: str
    story_html: str
    story_html_en: str
    opening_hours: str
    created_at: datetime
    updated_at: datetime
    # What the owner lets the shop's staff change besides the till (nothing unless allowed).
    staff_may_edit: frozenset[ShopArea] = frozenset()


@dataclass(frozen=True, slots=True)
class ShopImage:
    """An uploaded picture of a shop, re-encoded and stored under a server-made name."""

    id: UUID
    shop_id: UUID
    filename: str
    alt_text: str
    width: int
    height: int
    position: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """An uploaded image re-encoded without metadata, ready to be stored."""

    data: bytes
    extension: str
    width: int
    height: int


def clean_category(value: object, field: str = "category") -> ShopCategory:
    """A category from the fixed vocabulary."""
    try:
        return ShopCategory(str(value))
    except ValueError as exc:
        raise InvalidInput(field, N_("Unknown category: %(value)s"), value=str(value)[:40]) from exc


def clean_opening_hours(value: object, field: str = "opening_hours") -> str:
    """The raw opening-hours string, bounded; parse problems are reported, not rejected."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, N_("This must be text."))
    text = value.strip()
    if len(text) > MAX_HOURS_LENGTH:
        raise InvalidInput(field, N_("At most %(max)s characters, please."), max=MAX_HOURS_LENGTH)
    return text


def clean_postcode(value: object, field: str = "postcode") -> str:
    """A German postcode of five digits, or empty."""
    text = "" if value is None else str(value).strip()
    if text and not (len(text) == 5 and text.isdigit()):
        raise InvalidInput(field, N_("A postcode has five digits."))
    return text


def areas_text(areas: frozenset[ShopArea]) -> str:
    """How a set of areas is stored: names in a fixed order, comma-separated."""
    return ",".join(area.value for area in ShopArea if area in areas)


def parse_areas(value: object, field: str = "staff_may_edit") -> frozenset[ShopArea]:
    """Areas from their stored text or from a list of form values; unknown names are refused."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple | set | frozenset):
        raise InvalidInput(field, N_("This must be a list."))
    try:
        return frozenset(ShopArea(str(item)) for item in items if str(item))
    except ValueError:
        raise InvalidInput(field, N_("Unknown part of the shop page.")) from None
