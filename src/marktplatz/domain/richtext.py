"""Rich text (a shop's story) sanitised against an allow-list."""

from __future__ import annotations

import re
from html import unescape

import nh3

from marktplatz.domain.errors import N_, InvalidInput

MAX_RICH_TEXT = 20_000
ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "b",
    "i",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "a",
    "blockquote",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def sanitize_html(value: object, field: str = "story") -> str:
    """HTML with only the allowed tags; scripts, styles and event handlers never survive."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(field, N_("This must be text."))
    if len(value) > MAX_RICH_TEXT:
        raise InvalidInput(field, N_("At most %(max)s characters, please."), max=MAX_RICH_TEXT)
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


_BREAKS = re.compile(r"<br\s*/?>|</(?:p|li|h2|h3|blockquote)>", re.IGNORECASE)


def plain_text(html: str) -> str:
    """Sanitised rich text as plain text (a calendar entry, a search): tags gone, entities read,
    one line per paragraph."""
    text = nh3.clean(_BREAKS.sub("\n", html), tags=set())
    lines = (" ".join(line.split()) for line in unescape(text).splitlines())
    return "\n".join(line for line in lines if line)
