"""An item's text: Markdown rendered with the shop's own described pictures, or refused; the
editor shows its Markdown, or the HTML of an item from before (domain/story.py, content.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from marktplatz.domain.content import Content, ContentKind, ContentStatus, Targeting, Window
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.story import Picture, publishable_html

WORKSHOP = Picture("/media/feed0123.webp", "Gläser in der Werkstatt", 640, 480)


def test_a_body_becomes_a_heading_a_list_and_a_described_picture() -> None:
    # when
    html = publishable_html(
        "## Handarbeit\n\n1. Messen\n2. Schleifen\n\n![Gläser in der Werkstatt]"
        "(/media/feed0123.webp)",
        [WORKSHOP],
    )
    # then
    assert html == (
        "<h2>Handarbeit</h2>\n<ol>\n<li>Messen</li>\n<li>Schleifen</li>\n</ol>\n"
        '<p><img src="/media/feed0123.webp" alt="Gläser in der Werkstatt" width="640" '
        'height="480"></p>'
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "Text\n\n![ ](/media/feed0123.webp)",
            "source: Picture 1 (“Gläser in der Werkstatt”) has no description.",
        ),
        (
            "![Fremd](/media/ffff0000.jpg)",
            "source: Picture 1 (“/media/ffff0000.jpg”) is not one of your shop's pictures.",
        ),
        (
            '<img src="https://tracker.example/p.gif" alt="Pixel">',
            "source: Picture 1 (“https://tracker.example/p.gif”) is not one of your shop's",
        ),
    ],
)
def test_a_picture_without_description_or_of_another_shop_is_refused(
    source: str, message: str
) -> None:
    # when
    with pytest.raises(InvalidInput) as refused:
        publishable_html(source, [WORKSHOP])
    # then
    assert str(refused.value).startswith(message)


def test_without_pictures_every_image_is_refused_but_text_is_kept() -> None:
    # given the city's own item: it has no picture library
    # when / then
    assert publishable_html("- [Markt](https://example.org)", []) == (
        '<ul>\n<li><a href="https://example.org" rel="noopener noreferrer nofollow">Markt</a>'
        "</li>\n</ul>"
    )
    with pytest.raises(InvalidInput):
        publishable_html("![Gläser in der Werkstatt](/media/feed0123.webp)", [])


def _item(**changes: object) -> Content:
    now = datetime(2026, 6, 1, 10, tzinfo=UTC)
    item = Content(
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        ContentKind.STORY,
        ContentStatus.DRAFT,
        "Handarbeit",
        "<h2>Handarbeit</h2>",
        "de",
        Window(),
        Targeting(),
        created_at=now,
        updated_at=now,
    )
    return replace(item, **changes)  # type: ignore[arg-type]


def test_the_editor_shows_the_markdown_or_else_the_html() -> None:
    # when / then
    assert _item(body_source="## Handarbeit").source == "## Handarbeit"
    assert _item(body_source="").source == "<h2>Handarbeit</h2>"
