"""A shop's story written in Markdown: rendered, its pictures checked, then sanitised."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from uuid import UUID

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from marktplatz.domain.content import ContentStatus
from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.richtext import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, MAX_RICH_TEXT
from marktplatz.domain.shops import ShopImage

STORY_LANGUAGES = ("de", "en")
# Every save is a version; older ones than this many per shop and language are dropped.
VERSIONS_KEPT = 100
_NAME_LENGTH = 60


@dataclass(frozen=True, slots=True)
class Picture:
    """One of the shop's own pictures, the only kind a story may show; `src` is its address."""

    src: str
    alt: str
    width: int
    height: int

    @property
    def markdown(self) -> str:
        """How a story shows it; brackets in the description would end it early."""
        alt = self.alt.replace("[", "\\[").replace("]", "\\]")
        return f"![{alt}]({self.src})"


@dataclass(frozen=True, slots=True)
class StoryVersion:
    """One saved state of a story in one language: its Markdown source and its published HTML."""

    id: int
    shop_id: UUID
    language: str
    source: str
    html: str
    author_id: UUID | None
    author: str
    created_at: datetime
    # PUBLISHED at once or once approved; SUBMITTED while the city looks at it; REJECTED with
    # the city's message; DRAFT when a newer save replaced it before the city decided.
    status: ContentStatus = ContentStatus.PUBLISHED
    flags: tuple[str, ...] = ()  # the rules that asked for approval (for the moderation queue)
    review_note: str = ""


@dataclass(frozen=True, slots=True)
class RenderedStory:
    """A story as the visitor sees it, and what keeps it from being saved (nothing if empty)."""

    html: str
    problems: tuple[InvalidInput, ...]


def clean_language(value: object) -> str:
    """ "de" or "en", the languages a story is told in."""
    if value not in STORY_LANGUAGES:
        raise InvalidInput("language", N_("Choose German or English."))
    return str(value)


def clean_source(value: object) -> str:
    """The Markdown text of a story, bounded."""
    if not isinstance(value, str):
        raise InvalidInput("source", N_("This must be text."))
    # Counted as the browser counts for maxlength: a line break is one character.
    text = value.replace("\r\n", "\n").strip()
    if len(text) > MAX_RICH_TEXT:
        raise InvalidInput("source", N_("At most %(max)s characters, please."), max=MAX_RICH_TEXT)
    return text


def _render_image(
    self: Any, tokens: Sequence[Token], idx: int, options: Any, env: dict[str, Any]
) -> str:
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    picture = env["pictures"].get(src)
    size = f' width="{picture.width}" height="{picture.height}"' if picture else ""
    return f'<img src="{_escape(src)}" alt="{_escape(alt)}"{size}>'


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


# CommonMark with raw HTML on: stories written as HTML before the editor render unchanged.
_MARKDOWN = MarkdownIt("commonmark", {"html": True})
_MARKDOWN.add_render_rule("image", _render_image)


class _Images(HTMLParser):
    """The (src, alt) of every <img> in a piece of HTML, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            values = dict(attrs)
            self.found.append(((values.get("src") or "").strip(), (values.get("alt") or "")))


def _problems(html: str, pictures: Mapping[str, Picture]) -> tuple[InvalidInput, ...]:
    parser = _Images()
    parser.feed(html)
    parser.close()
    problems = []
    for number, (src, alt) in enumerate(parser.found, start=1):
        picture = pictures.get(src)
        name = (picture.alt if picture else src or "?")[:_NAME_LENGTH]
        if picture is None:
            # Only the shop's own pictures: a foreign address could be a tracking pixel.
            message = N_(
                "Picture %(number)s (“%(name)s”) is not one of your shop's pictures. "
                "Please use “Insert picture” to choose or upload one."
            )
        elif not alt.strip():
            message = N_(
                "Picture %(number)s (“%(name)s”) has no description. Please write what it "
                "shows between the square brackets, e.g. ![Our shop window](…)."
            )
        else:
            continue
        problems.append(InvalidInput("source", message, number=number, name=name))
    return tuple(problems)


def sanitize_story(html: str, pictures: Mapping[str, Picture]) -> str:
    """Allow-listed HTML in which an <img> may only show one of the given pictures."""

    def keep(tag: str, attribute: str, value: str) -> str | None:
        if tag != "img":
            return value
        if attribute == "src":
            return value if value in pictures else None
        if attribute in ("width", "height"):
            return value if value.isdigit() else None
        return value

    return nh3.clean(
        html,
        tags=ALLOWED_TAGS | {"img"},
        attributes={**ALLOWED_ATTRIBUTES, "img": {"src", "alt", "width", "height"}},
        attribute_filter=keep,
        url_schemes={"http", "https", "mailto", "tel"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


def render_story(source: str, pictures: Sequence[Picture]) -> RenderedStory:
    """The story's Markdown (or HTML) as sanitised HTML, with every picture problem found."""
    by_src = {picture.src: picture for picture in pictures}
    raw = _MARKDOWN.render(source, {"pictures": by_src})
    return RenderedStory(sanitize_story(raw, by_src), _problems(raw, by_src))


def publishable_html(source: str, pictures: Sequence[Picture]) -> str:
    """The HTML to publish from a story's (or an item's) source; the first problem refuses it."""
    rendered = render_story(source, pictures)
    if rendered.problems:
        raise rendered.problems[0]
    return rendered.html


def current_source(published_html: str, newest: StoryVersion | None) -> str:
    """What the editor shows: the newest version's Markdown while it is what is published, or
    while it waits for (or was sent back by) the city, so the retailer goes on from there.

    A story without versions (a shop from before the editor) is edited as its published HTML,
    which renders unchanged.
    """
    if newest is not None and (
        newest.html == published_html or newest.status is not ContentStatus.PUBLISHED
    ):
        return newest.source
    return published_html


def shown_version(published_html: str, versions: Sequence[StoryVersion]) -> StoryVersion | None:
    """The newest published version that is what the visitor pages show, if one is kept."""
    return next(
        (v for v in versions if v.status is ContentStatus.PUBLISHED and v.html == published_html),
        None,
    )


_BLOCK_ENDS = frozenset({"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "div", "tr"})


class _Text(HTMLParser):
    """The text of a piece of HTML, a line per block; a picture as its description."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data.replace("\n", " "))  # a line break in the source is a space

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "img":
            self.parts.append(f"[{dict(attrs).get('alt') or ''}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCK_ENDS:
            self.parts.append("\n")


def html_text(html: str) -> str:
    """A story's HTML as text to read what changed (a story from before the editor has no
    Markdown kept): a line per paragraph, heading or list item, without the tags."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    lines = ("".join(parser.parts)).splitlines()
    return "\n".join(" ".join(line.split()) for line in lines if line.strip())


def line_changes(before: str, after: str) -> list[tuple[str, str]]:
    """The lines of `after` against `before`, for the city to read what changed: ("+", line)
    added, ("-", line) removed, (" ", line) kept."""
    lines = difflib.ndiff(before.splitlines(), after.splitlines())
    return [(line[0], line[2:]) for line in lines if line[0] in "+- "]


def picture_of(image: ShopImage) -> Picture:
    """A shop picture as a story shows it: under the address the media route serves it at."""
    return Picture(f"/media/{image.filename}", image.alt_text, image.width, image.height)
