"""Jinja2 rendering with per-request language, CSRF token and user."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from marktplatz.domain.categories import CATEGORIES, ShopCategory
from marktplatz.domain.errors import N_
from marktplatz.web.i18n import LANGUAGES, pick_language, translations
from marktplatz.web.static import asset_url

TEMPLATES = Path(__file__).parent / "templates"
OFFLINE_HEADER = "x-offline-ok"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html", "xml", "svg"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.globals["asset_url"] = asset_url
env.globals["CATEGORIES"] = CATEGORIES

_C = ShopCategory
# Pictograms under static/icons/ for shop cards and shop pages; several categories share one.
CATEGORY_ICONS: dict[str, str] = {
    _C.PHARMACY: "pharmacy",
    _C.OPTICIAN: "glasses",
    _C.CLOTHES: "hanger",
    _C.SHOES: "shoe",
    _C.BOOKS: "book",
    _C.BAKERY: "pretzel",
    _C.CAFE: "cup",
    _C.RESTAURANT: "cutlery",
    _C.ICE_CREAM: "ice-cream",
    _C.JEWELRY: "ring",
    _C.TOYS: "teddy",
    _C.ELECTRONICS: "plug",
    _C.BUTCHER: "basket",
    _C.FLORIST: "flower",
    _C.HAIRDRESSER: "scissors",
    _C.CHEMIST: "bottle",
    _C.SUPERMARKET: "basket",
    _C.GIFT: "gift",
    _C.STATIONERY: "pencil",
    _C.SPORTS: "ball",
    _C.HARDWARE: "hammer",
    _C.FURNITURE: "house",
    _C.BICYCLE: "bicycle",
    _C.MOBILE_PHONE: "phone",
    _C.WATCHES: "watch",
    _C.DELI: "basket",
    _C.WINE: "wine",
    _C.TEA: "cup",
    _C.TOBACCO: "newspaper",
    _C.BEAUTY: "bottle",
    _C.DEPARTMENT_STORE: "bag",
    _C.MALL: "bag",
    _C.TOURIST_INFO: "info",
}
DEFAULT_CATEGORY_ICON = "shop"
env.globals["CATEGORY_ICONS"] = CATEGORY_ICONS


def category_icon_url(category: ShopCategory | str) -> str:
    """The hashed URL of a category's pictogram; a storefront for anything unmapped."""
    icon = CATEGORY_ICONS.get(category, DEFAULT_CATEGORY_ICON)
    return asset_url(f"icons/{icon}.svg")


env.globals["category_icon_url"] = category_icon_url


def category_label(category: ShopCategory | str, lang: str) -> str:
    info = CATEGORIES[ShopCategory(category)]
    return info.label_de if lang == "de" else info.label_en


def _formatters(lang: str) -> dict[str, Any]:
    def time_fmt(value: datetime, tz: str = "Europe/Berlin") -> str:
        return format_time(value.astimezone(ZoneInfo(tz)), "short", locale=lang)

    def date_time_fmt(value: datetime, tz: str = "Europe/Berlin") -> str:
        pattern = "EEEE, d. MMMM, HH:mm" if lang == "de" else "EEEE, d MMMM, h:mm a"
        return format_datetime(value.astimezone(ZoneInfo(tz)), pattern, locale=lang)

    def datetime_fmt(value: datetime, tz: str = "Europe/Berlin") -> str:
        return format_datetime(
            value.astimezone(ZoneInfo(tz)),
            "EEEE, HH:mm" if lang == "de" else "EEEE, h:mm a",
            locale=lang,
        )

    def date_fmt(value: datetime, tz: str = "Europe/Berlin") -> str:
        return format_date(value.astimezone(ZoneInfo(tz)).date(), "long", locale=lang)

    def day_fmt(value: date) -> str:
        return format_date(value, "EEEE, d. MMM" if lang == "de" else "EEEE, d MMM", locale=lang)

    return {
        "fmt_time": time_fmt,
        "fmt_datetime": datetime_fmt,
        "fmt_date_time": date_time_fmt,
        "fmt_day": day_fmt,
        "fmt_date": date_fmt,
        "fmt_number": lambda n: format_decimal(n, locale=lang),
        "category_label": lambda c: category_label(c, lang),
    }


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page in the visitor's language with the common page context."""
    lang = pick_language(request)
    trans = translations(lang)
    auth = getattr(request.state, "auth", None)
    values: dict[str, Any] = {
        "request": request,
        "lang": lang,
        "languages": LANGUAGES,
        "gettext": trans.gettext,
        "ngettext": trans.ngettext,
        "_": trans.gettext,
        "user": auth[1] if auth else None,
        "csrf_token": auth[0].csrf_token if auth else "",
        **_formatters(lang),
        **context,
    }
    html = env.get_template(template).render(values)
    headers = {"content-language": lang}
    if auth is None:
        # The service worker keeps only pages marked so: never one with a user's name or token.
        headers[OFFLINE_HEADER] = "1"
    return HTMLResponse(html, status_code=status_code, headers=headers)


_ERROR_TITLES = {
    403: N_("You may not open this page."),
    404: N_("This page does not exist."),
    422: N_("Please check your input."),
    429: N_("Too many requests. Please wait a moment."),
}


def render_error(request: Request, status: int, message: str | None = None) -> HTMLResponse:
    title = _ERROR_TITLES.get(status, N_("Something went wrong."))
    return render(
        request, "error.html", status_code=status, status=status, title=title, message=message
    )


def field_errors(request: Request, exc: Exception) -> dict[str, str]:
    """{field: translated message} for a rejected form, to show next to each field."""
    field = str(getattr(exc, "field", "form"))
    message = str(getattr(exc, "message", "Please check your input."))
    params = dict(getattr(exc, "params", {}) or {})
    text = translations(pick_language(request)).gettext(message)
    return {field.split(".")[0]: text % params if params else text}
