"""Translations with Babel catalogues; German first, English second."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("de", "en")
LANG_COOKIE = "mp_lang"


@lru_cache(maxsize=8)
def translations(language: str) -> Translations:
    """The catalogue of a language, compiled from its .po file in memory (no build step)."""
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return Translations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def pick_language(request: Request) -> str:
    """?lang= first, then the visitor's explicit choice, then the browser's preference."""
    composed = getattr(request.app.state, "marktplatz", None)
    default = composed.settings.default_language if composed else "de"
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    if asked in LANGUAGES:
        return asked
    header = request.headers.get("accept-language", "")
    ranked: list[tuple[float, str]] = []
    for part in header.split(",")[:20]:
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        ranked.append((weight, tag.split("-")[0].lower()))
    for _, lang in sorted(ranked, key=lambda item: -item[0]):
        if lang in LANGUAGES:
            return lang
    return default


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)
