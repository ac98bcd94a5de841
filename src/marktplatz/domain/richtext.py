"""Rich text of stories and items: the tags and attributes kept, its length, its plain text."""

from __future__ import annotations

import re
from html import unescape

import nh3

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


_BREAKS = re.compile(r"<br\s*/?>|</(?:p|li|h2|h3|blockquote)>", re.IGNORECASE)


def plain_text(html: str) -> str:
    """Sanitised rich text as plain text (a calendar entry, a search): tags gone, entities read,
    one line per paragraph."""
    text = nh3.clean(_BREAKS.sub("\n", html), tags=set())
    lines = (" ".join(line.split()) for line in unescape(text).splitlines())
    return "\n".join(line for line in lines if line)
