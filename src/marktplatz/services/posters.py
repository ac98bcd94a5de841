"""Printable QR posters and stickers of a shop's codes, for its retailers and the city's staff."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.errors import N_, InvalidInput, NotFound
from marktplatz.domain.posters import (
    CTA_PRESETS,
    CUSTOM,
    SHEETS,
    URL_LABEL,
    PosterOrder,
    lay_out_poster,
    place_line,
)
from marktplatz.domain.shops import Shop
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind
from marktplatz.services.access import access_shop, access_touchpoint
from marktplatz.services.context import Context

# (language, msgid) → the text in that language: the print's language is chosen on the form,
# independent of the language the portal is shown in.
Translate = Callable[[str, str], str]


class NoPoster(NotFound):
    """The touchpoint is the caller's, but not a printed QR code (a beacon, an NFC tag …)."""


@dataclass(frozen=True, slots=True)
class PrintableCode:
    """A QR code of a shop, with what goes on its print."""

    shop: Shop
    city: City
    touchpoint: Touchpoint
    url: str


@dataclass(frozen=True, slots=True)
class PrintedPoster:
    filename: str
    pdf: bytes


async def printable_code(
    ctx: Context, actor: User | None, shop_id: UUID, touchpoint_id: UUID
) -> PrintableCode:
    """A QR touchpoint of the shop, for the shop's owner and cashiers and its city's staff.

    Printing changes nothing, so every role that may see the code may print it. A code of
    another shop under this shop's path is as unknown as a missing one.
    """
    async with ctx.uow() as uow:
        shop = await access_shop(uow, actor, shop_id)
        touchpoint = await access_touchpoint(uow, actor, touchpoint_id)
        city = await uow.cities.get(shop.city_id)
    if touchpoint.shop_id != shop.id or city is None:
        raise NotFound("touchpoint")
    url = touchpoint.short_url(ctx.base_url)
    # NFC tags and URL beacons have a short address too, but a poster of theirs would count
    # every scan as a tap at the tag: only QR touchpoints are printed.
    if touchpoint.kind is not TouchpointKind.QR or url is None:
        raise NoPoster("touchpoint")
    return PrintableCode(shop, city, touchpoint, url)


async def print_poster(
    ctx: Context,
    actor: User | None,
    shop_id: UUID,
    touchpoint_id: UUID,
    order: PosterOrder,
    translate: Translate,
) -> PrintedPoster:
    """The PDF of a poster or sticker of a shop's QR code (the code holds its short address,
    so the target can change later without a new print)."""
    found = await printable_code(ctx, actor, shop_id, touchpoint_id)
    _check_printable(ctx, order.text)
    languages = order.language.languages
    shop, city = found.shop, found.city
    poster = lay_out_poster(
        SHEETS[order.format],
        url=found.url,
        shop_name=shop.name,
        ctas=[order.text] if order.cta == CUSTOM else _each(translate, languages, order.cta),
        url_labels=[translate(language, URL_LABEL) for language in languages],
        place=place_line(shop.street, shop.postcode, shop.town, city.name),
    )
    # Slugs hold only a-z, 0-9 and hyphens (clean_slug), so the name is a plain header value.
    name = f"{SHEETS[order.format].file_stem}-{shop.slug}-{found.touchpoint.code}.pdf"
    return PrintedPoster(name, ctx.posters.pdf(poster))


def _each(translate: Translate, languages: tuple[str, ...], preset: str) -> list[str]:
    return [translate(language, CTA_PRESETS[preset]) for language in languages]


def _check_printable(ctx: Context, text: str) -> None:
    missing = ctx.posters.unprintable(text)
    if missing:
        raise InvalidInput(
            "text",
            N_("These characters cannot be printed: %(chars)s. Please leave them out."),
            chars=" ".join(missing),
        )
