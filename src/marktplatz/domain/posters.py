"""Printable QR posters and stickers: the formats, the calls to action and one sheet's layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from marktplatz.domain.errors import N_, InvalidInput

CTA_MAX = 60  # characters: two lines on the smallest format in a size that still reads well
CUSTOM = "custom"
# The suggested calls to action, in the order the form offers them; the first is the default.
CTA_PRESETS: Mapping[str, str] = {
    "offer": N_("Scan and discover today's offer"),
    "story": N_("Scan and read our story"),
    "hours": N_("Scan for our opening hours and directions"),
    "news": N_("Scan for our news, offers and events"),
}
URL_LABEL = N_("No camera at hand? Type this address:")


class PosterFormat(StrEnum):
    A4 = "a4"
    A6 = "a6"
    WINDOW = "window"


class PrintLanguage(StrEnum):
    DE = "de"
    EN = "en"
    BOTH = "both"

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages printed, German first."""
        return ("de", "en") if self is PrintLanguage.BOTH else (self.value,)


@dataclass(frozen=True, slots=True)
class Sheet:
    """A printed format; lengths in millimetres, type sizes in points.

    `qr_mm` is the side of the code including its quiet zone of four modules; `qr_top_mm` is
    the distance from the sheet's top edge to it, `footer_mm` the height kept for the address.
    """

    width_mm: float
    height_mm: float
    margin_mm: float
    qr_mm: float
    qr_top_mm: float
    footer_mm: float
    name_pt: float
    cta_pt: float
    text_pt: float
    file_stem: str

    @property
    def scan_distance_m(self) -> float:
        """How far away a phone still reads the code: about ten times the width of the code's
        modules (the quiet zone, a fifth of the side for a short address, does not count)."""
        return round(self.qr_mm * 0.8 * 10 / 1000, 1)


SHEETS: Mapping[PosterFormat, Sheet] = {
    PosterFormat.A4: Sheet(210, 297, 15, 140, 92, 14, 30, 24, 13, "poster-a4"),
    PosterFormat.A6: Sheet(105, 148, 8, 68, 40, 8, 16, 12, 8, "sticker-a6"),
    # A square for the inside of a shop window: the code as large as the sheet allows, so that
    # people read it from the pavement.
    PosterFormat.WINDOW: Sheet(250, 250, 12, 160, 54, 10, 26, 18, 10, "window-sticker"),
}


@dataclass(frozen=True, slots=True)
class PosterOrder:
    """What the retailer asked for: a format, a call to action (a preset or their own text)."""

    format: PosterFormat
    cta: str  # a key of CTA_PRESETS, or CUSTOM
    text: str  # their own text when cta is CUSTOM, else ""
    language: PrintLanguage


def poster_order(values: Mapping[str, str]) -> PosterOrder:
    """The checked choices of the print form; InvalidInput names the first wrong field."""
    return PosterOrder(
        format=_choice(PosterFormat, values.get("format"), "format", _FORMAT_WRONG),
        cta=_cta(values.get("cta"), values.get("text")),
        text=_own_text(values.get("text")) if values.get("cta") == CUSTOM else "",
        language=_choice(PrintLanguage, values.get("language"), "language", _LANGUAGE_WRONG),
    )


_E = TypeVar("_E", bound=StrEnum)
_FORMAT_WRONG = N_("Please choose a format: A4 poster, A6 sticker or window sticker.")
_LANGUAGE_WRONG = N_("Please choose the language of the print: German, English or both.")


def _choice(kind: type[_E], value: object, field: str, message: str) -> _E:
    try:
        return kind(str(value))
    except ValueError:
        raise InvalidInput(field, message) from None


def _cta(value: object, text: object) -> str:
    if value == CUSTOM:
        return CUSTOM
    if value not in CTA_PRESETS:
        raise InvalidInput(
            "cta", N_("Please choose one of the suggested texts, or write your own.")
        )
    if isinstance(text, str) and text.strip():
        # Printing a suggestion while the person's own words sit in the form would surprise.
        raise InvalidInput(
            "cta",
            N_(
                "You wrote your own text but chose a suggested one: choose “Your own text” "
                "to print it, or empty the text field."
            ),
        )
    return str(value)


def _own_text(value: object) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text:
        raise InvalidInput(
            "text", N_("Please write your own call to action, or choose a suggested one.")
        )
    if len(text) > CTA_MAX:
        raise InvalidInput(
            "text",
            N_("Your text has %(count)s characters; at most %(max)s fit on the print."),
            count=len(text),
            max=CTA_MAX,
        )
    return text


@dataclass(frozen=True, slots=True)
class Line:
    """One paragraph of text, centred; the renderer wraps it and may shrink a whole block."""

    text: str
    size_pt: float
    bold: bool = False


@dataclass(frozen=True, slots=True)
class Poster:
    """Everything on one sheet: lines above the code, the code, lines below it, the footer."""

    sheet: Sheet
    code_data: str
    above: tuple[Line, ...]
    below: tuple[Line, ...]
    footer: tuple[Line, ...]
    title: str


def lay_out_poster(
    sheet: Sheet,
    *,
    url: str,
    shop_name: str,
    ctas: Sequence[str],
    url_labels: Sequence[str],
    place: str,
) -> Poster:
    """The sheet of a shop's code: name and call to action (one line per print language)
    above, the short address for people who type below, the address and city at the foot."""
    # The second language is set smaller and lighter: one message, not two competing ones.
    first, *others = ctas
    above = (
        Line(shop_name, sheet.name_pt, bold=True),
        Line(first, sheet.cta_pt, bold=True),
        *(Line(cta, sheet.cta_pt * 0.75) for cta in others),
    )
    below = (
        *(Line(label, sheet.text_pt * 0.85) for label in url_labels),
        Line(url, sheet.text_pt, bold=True),
    )
    footer = (Line(place, sheet.text_pt * 0.8),) if place else ()
    return Poster(sheet, url, above, below, footer, f"{shop_name} – {first}")


def place_line(street: str, postcode: str, town: str, city: str) -> str:
    """'Lange Straße 1 · 33602 Musterstadt'; the city is added when the town does not name it."""
    parts = [street.strip(), f"{postcode.strip()} {town.strip()}".strip()]
    if city.strip() and city.strip() != town.strip():
        parts.append(city.strip())
    return " · ".join(part for part in parts if part)
