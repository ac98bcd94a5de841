"""Translations with Babel catalogues; German first, English second."""

from __future__ import annotations

from starlette.requests import Request

from marktplatz.catalogues import LANGUAGES, LOCALE_DIR, gettext, translations

__all__ = ["LANGUAGES", "LANG_COOKIE", "LOCALE_DIR", "gettext", "pick_language", "translations"]

LANG_COOKIE = "mp_lang"


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
