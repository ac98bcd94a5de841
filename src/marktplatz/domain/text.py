"""Checks for short texts, slugs, contact details and web addresses."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from marktplatz.domain.errors import N_, InvalidInput

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s.]{2,63}$")
_PHONE = re.compile(r"^\+?[0-9 ()/\-]{4,30}$")
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})


def clean_text(value: object, field: str, *, max_len: int, required: bool = True) -> str:
    """A stripped single-line text of bounded length."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(field, N_("This must be text."))
    text = " ".join(value.split())
    if required and not text:
        raise InvalidInput(field, N_("Please fill in this field."))
    if len(text) > max_len:
        raise InvalidInput(field, N_("At most %(max)s characters, please."), max=max_len)
    return text


def clean_slug(value: object, field: str = "slug") -> str:
    """A URL slug: lower-case letters, digits and single hyphens, 2–60 characters."""
    slug = clean_text(value, field, max_len=60)
    if len(slug) < 2 or not _SLUG.match(slug):
        raise InvalidInput(
            field, N_("Use 2–60 lower-case letters, digits and hyphens (e.g. apotheke-am-markt).")
        )
    return slug


def slugify(name: str) -> str:
    """A slug proposal made from a name ("Café Kränzchen" → "cafe-kraenzchen")."""
    text = name.lower().translate(_TRANSLIT)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:60].strip("-") or "shop"


def clean_email(value: object, field: str = "email", *, required: bool = False) -> str:
    """An e-mail address or an empty string."""
    text = clean_text(value, field, max_len=254, required=required)
    if text and not _EMAIL.match(text):
        raise InvalidInput(field, N_("This is not a valid e-mail address."))
    return text.lower()


def clean_phone(value: object, field: str = "phone") -> str:
    """A phone number of digits, spaces and + ( ) / - or an empty string."""
    text = clean_text(value, field, max_len=30, required=False)
    if text and not _PHONE.match(text):
        raise InvalidInput(field, N_("This is not a valid phone number."))
    return text


def clean_url(value: object, field: str = "website", *, allow_relative: bool = False) -> str:
    """An http(s) address (or, if allowed, a site-relative path) or an empty string."""
    text = clean_text(value, field, max_len=500, required=False)
    if not text:
        return ""
    if allow_relative and text.startswith("/") and not text.startswith("//"):
        return text
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise InvalidInput(field, N_("Enter a web address starting with https://."))
    return text


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting like a formula gets a quote.

    Excel and LibreOffice run a cell that starts with = + - @ (or a tab or carriage return
    before one) as a formula; exported text typed by others must never do that (CSV injection).
    """
    return f"'{cell}" if cell.startswith(_FORMULA_STARTS) else cell


def spreadsheet_csv(rows: Iterable[Sequence[object]]) -> bytes:
    """Rows as German Excel opens them: UTF-8 with BOM, ";" between cells, formula-safe."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    for row in rows:
        writer.writerow([spreadsheet_safe(str(cell)) for cell in row])
    return ("\ufeff" + out.getvalue()).encode()
