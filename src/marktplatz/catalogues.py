"""The translation catalogues, for every entry point (web pages, CLI reports); German first."""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LANGUAGES = ("de", "en")


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


def gettext(language: str, message: str) -> str:
    return translations(language).gettext(message)
