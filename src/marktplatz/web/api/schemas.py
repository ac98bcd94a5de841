"""Request and response schemas of the JSON API (strict at the boundary)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.touchpoints import TouchpointKind, TouchpointStatus


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


# JSON has no enum or UUID type: these come as strings and are parsed, everything else stays strict.
Category = Annotated[ShopCategory, Field(strict=False)]
Kind_ = Annotated[TouchpointKind, Field(strict=False)]
Status = Annotated[TouchpointStatus, Field(strict=False)]
Id = Annotated[UUID, Field(strict=False)]


class LoginRequest(Strict):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)
    code: str | None = Field(default=None, max_length=64)


class MembershipPublic(BaseModel):
    role: str
    city_id: UUID
    shop_id: UUID | None


class UserPublic(BaseModel):
    id: UUID
    email: str
    display_name: str
    is_active: bool
    memberships: list[MembershipPublic]


class SessionPublic(BaseModel):
    user: UserPublic
    csrf_token: str
    expires_at: datetime


class CityPublic(BaseModel):
    id: UUID
    slug: str
    name: str
    timezone: str
    federal_state: str
    languages: list[str]
    lat: float
    lon: float
    tagline: str
    tagline_en: str
    is_demo: bool


class CityUpdate(Strict):
    name: str | None = Field(None, max_length=120)
    tagline: str | None = Field(None, max_length=200)
    tagline_en: str | None = Field(None, max_length=200)
    timezone: str | None = Field(None, max_length=60)
    federal_state: str | None = Field(None, max_length=2)
    languages: list[str] | None = Field(None, max_length=5)


class ZoneCreate(Strict):
    slug: str = Field(max_length=60)
    name: str = Field(max_length=120)
    description: str = Field("", max_length=500)
    geometry: dict[str, Any]


class ZoneUpdate(Strict):
    slug: str | None = Field(None, max_length=60)
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=500)
    geometry: dict[str, Any] | None = None


class ZonePublic(BaseModel):
    id: UUID
    city_id: UUID
    slug: str
    name: str
    description: str
    geometry: dict[str, Any]


class HoursPublic(BaseModel):
    raw: str
    state: str
    next_change: datetime | None
    holiday_name: str | None
    error: str | None


class ImagePublic(BaseModel):
    id: UUID
    url: str
    alt_text: str
    width: int
    height: int


class ShopFields(Strict):
    name: str | None = Field(None, max_length=120)
    category: Category | None = None
    street: str | None = Field(None, max_length=120)
    postcode: str | None = Field(None, max_length=5)
    town: str | None = Field(None, max_length=80)
    lat: float | None = None
    lon: float | None = None
    phone: str | None = Field(None, max_length=30)
    email: str | None = Field(None, max_length=254)
    website: str | None = Field(None, max_length=500)
    story_html: str | None = Field(None, max_length=20_000)
    story_html_en: str | None = Field(None, max_length=20_000)
    opening_hours: str | None = Field(None, max_length=500)
    keep_unparsed_hours: bool = False


class ShopCreate(ShopFields):
    slug: str = Field(max_length=60)
    name: str = Field(max_length=120)
    category: Category
    lat: float
    lon: float


class ShopUpdate(ShopFields):
    pass


class ShopPublic(BaseModel):
    id: UUID
    city_id: UUID
    slug: str
    name: str
    category: str
    osm_tag: str
    street: str
    postcode: str
    town: str
    lat: float
    lon: float
    phone: str
    email: str
    website: str
    story_html: str
    story_html_en: str
    hours: HoursPublic
    images: list[ImagePublic]


class BeaconIds(Strict):
    uuid: str | None = Field(None, max_length=40)
    major: int | None = None
    minor: int | None = None


class AltBeaconIds(Strict):
    id1: str = Field(max_length=40)
    id2: int
    id3: int


class EddystoneIds(Strict):
    namespace: str = Field(max_length=24)
    instance: str = Field(max_length=16)


class TouchpointFields(Strict):
    name: str | None = Field(None, max_length=120)
    lat: float | None = None
    lon: float | None = None
    placement: str | None = Field(None, max_length=200)
    status: Status | None = None
    shop_id: Id | None = None
    target: str | None = Field(None, max_length=500)
    ibeacon: BeaconIds | None = None
    altbeacon: AltBeaconIds | None = None
    eddystone: EddystoneIds | None = None


class TouchpointCreate(TouchpointFields):
    kind: Kind_
    name: str = Field(max_length=120)
    lat: float
    lon: float


class TouchpointUpdate(TouchpointFields):
    pass


class TouchpointPublic(BaseModel):
    id: UUID
    city_id: UUID
    shop_id: UUID | None
    zone_id: UUID | None
    kind: str
    name: str
    identifier: str
    code: str
    target: str
    short_url: str | None
    lat: float
    lon: float
    placement: str
    status: str


class ErrorItem(BaseModel):
    field: str
    message: str


class ErrorResponse(BaseModel):
    detail: str
    errors: list[ErrorItem] = []


Kind = Literal["svg", "pdf", "png"]
