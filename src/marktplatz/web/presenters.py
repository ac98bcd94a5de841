"""Turn domain objects into API shapes and page values (hours, URLs)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, replace
from datetime import datetime

from babel.dates import format_datetime
from babel.numbers import format_decimal

from marktplatz.domain.accounts import User
from marktplatz.domain.categories import category_info
from marktplatz.domain.cities import City
from marktplatz.domain.coupons import REFUSAL_TEXT, Refusal
from marktplatz.domain.hours import (
    DayHours,
    HoursStatus,
    evaluate_hours,
    holiday_name,
    week_schedule,
)
from marktplatz.domain.shops import Shop, ShopImage
from marktplatz.domain.story import picture_of
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.domain.zones import Zone
from marktplatz.web.api import schemas as s
from marktplatz.web.i18n import gettext


def refusal_message(lang: str, refusal: Refusal, detail: Mapping[str, object]) -> str:
    """The till's message for a refusal, its times written the reader's way."""
    pattern = "dd.MM.yyyy, HH:mm" if lang == "de" else "MMM d, y, h:mm a"
    params = {
        key: format_datetime(value, pattern, locale=lang) if isinstance(value, datetime) else value
        for key, value in detail.items()
    }
    return gettext(lang, REFUSAL_TEXT[refusal]) % params


def distance_text(metres: float, language: str = "de") -> str:
    """A walking distance as people say it: "80 m", "450 m", "1,2 km" (German) / "1.2 km"."""
    if metres < 995:
        return f"{max(10, round(metres / 10) * 10)} m"
    return f"{format_decimal(round(metres / 1000, 1), '#,##0.0', locale=language)} km"


def image_url(image: ShopImage) -> str:
    return picture_of(image).src


def hours_status(shop: Shop, city: City, at: datetime, language: str = "de") -> HoursStatus:
    """Today's opening state; a holiday is named in the page's language."""
    status = evaluate_hours(shop.opening_hours, at, city.tz, city.federal_state.value)
    if status.holiday_name and language != "de":
        day = at.astimezone(city.tz).date()
        name = holiday_name(city.federal_state.value, day, language) or status.holiday_name
        status = replace(status, holiday_name=name)
    return status


def week_hours(
    shop: Shop, city: City, at: datetime, language: str = "de"
) -> tuple[DayHours, ...] | None:
    """The next seven days of opening hours from today, holidays named in the page's language."""
    state = city.federal_state.value
    week = week_schedule(shop.opening_hours, at.astimezone(city.tz).date(), city.tz, state)
    if week is None or language == "de":
        return week
    return tuple(
        replace(d, holiday_name=holiday_name(state, d.day, language)) if d.holiday_name else d
        for d in week
    )


def city_public(city: City) -> s.CityPublic:
    return s.CityPublic(
        id=city.id,
        slug=city.slug,
        name=city.name,
        timezone=city.timezone,
        federal_state=city.federal_state.value,
        languages=list(city.languages),
        lat=city.center.lat,
        lon=city.center.lon,
        tagline=city.tagline,
        tagline_en=city.tagline_en,
        is_demo=city.is_demo,
    )


def zone_public(zone: Zone) -> s.ZonePublic:
    return s.ZonePublic(**{k: v for k, v in asdict(zone).items() if k != "created_at"})


def shop_public(shop: Shop, city: City, images: list[ShopImage], at: datetime) -> s.ShopPublic:
    status = hours_status(shop, city, at)
    return s.ShopPublic(
        id=shop.id,
        city_id=shop.city_id,
        slug=shop.slug,
        name=shop.name,
        category=shop.category.value,
        osm_tag=category_info(shop.category).osm_tag,
        street=shop.street,
        postcode=shop.postcode,
        town=shop.town,
        lat=shop.location.lat,
        lon=shop.location.lon,
        phone=shop.phone,
        email=shop.email,
        website=shop.website,
        story_html=shop.story_html,
        story_html_en=shop.story_html_en,
        hours=s.HoursPublic(
            raw=shop.opening_hours,
            state=status.state.value,
            next_change=status.next_change,
            holiday_name=status.holiday_name,
            error=status.error,
        ),
        images=[
            s.ImagePublic(
                id=i.id, url=image_url(i), alt_text=i.alt_text, width=i.width, height=i.height
            )
            for i in images
        ],
    )


def touchpoint_public(touchpoint: Touchpoint, base_url: str) -> s.TouchpointPublic:
    return s.TouchpointPublic(
        id=touchpoint.id,
        city_id=touchpoint.city_id,
        shop_id=touchpoint.shop_id,
        zone_id=touchpoint.zone_id,
        kind=touchpoint.kind.value,
        name=touchpoint.name,
        identifier=touchpoint.identifier,
        code=touchpoint.code,
        target=touchpoint.target,
        short_url=touchpoint.short_url(base_url),
        lat=touchpoint.location.lat,
        lon=touchpoint.location.lon,
        placement=touchpoint.placement,
        status=touchpoint.status.value,
    )


def user_public(user: User) -> s.UserPublic:
    return s.UserPublic(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        is_active=user.is_active,
        memberships=[
            s.MembershipPublic(role=m.role.value, city_id=m.city_id, shop_id=m.shop_id)
            for m in user.memberships
        ],
    )
