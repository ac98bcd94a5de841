"""A story's Markdown is rendered, sanitised, and its pictures checked (domain/story.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from marktplatz.domain.content import ContentStatus
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.story import (
    Picture,
    StoryVersion,
    clean_language,
    clean_source,
    current_source,
    html_text,
    line_changes,
    render_story,
    shown_version,
)

SHOP = Picture("/media/0123abcd.jpg", "Unser Schaufenster", 800, 600)


def messages(source: str) -> list[str]:
    return [str(problem) for problem in render_story(source, [SHOP]).problems]


def test_markdown_becomes_headings_lists_links_and_pictures() -> None:
    # given
    source = (
        "## Über uns\n\nSeit **1950** _am Markt_.\n\n- Brillen\n- Linsen\n\n"
        "1. Sehtest\n2. Beratung\n\n"
        "[Termin](https://example.org/termin)\n\n![Unser Schaufenster](/media/0123abcd.jpg)"
    )
    # when
    rendered = render_story(source, [SHOP])
    # then
    assert rendered.problems == ()
    assert rendered.html == (
        "<h2>Über uns</h2>\n<p>Seit <strong>1950</strong> <em>am Markt</em>.</p>\n"
        "<ul>\n<li>Brillen</li>\n<li>Linsen</li>\n</ul>\n"
        "<ol>\n<li>Sehtest</li>\n<li>Beratung</li>\n</ol>\n"
        '<p><a href="https://example.org/termin" rel="noopener noreferrer nofollow">'
        "Termin</a></p>\n"
        '<p><img src="/media/0123abcd.jpg" alt="Unser Schaufenster" width="800" height="600"></p>'
    )


def test_a_story_written_in_html_renders_unchanged() -> None:
    # given the demo's kind of story, written before the editor
    html = "<p>Seit 1927 steht die <strong>Apotheke am Markt</strong> – in dritter Generation.</p>"
    # when / then
    assert render_story(html, []).html == html


@pytest.mark.parametrize(
    ("source", "gone"),
    [
        ("Hallo <script>alert(1)</script>", "alert"),
        ('<p onclick="alert(1)">Hallo</p>', "onclick"),
        ('<img src="/media/0123abcd.jpg" alt="x" onerror="alert(1)">', "onerror"),
        ('<a href="javascript:alert(1)">klick</a>', "javascript"),
        ("[klick](javascript:alert(1))", 'href="javascript'),
        ('<a href="JaVaScRiPt:alert(1)">klick</a>', "alert"),
        ('<img src="https://tracker.example/p.gif" alt="Pixel">', "tracker"),
        ("![Pixel](https://tracker.example/p.gif)", "tracker"),
        ('<img src="/media/0123abcd.jpg" alt="x" style="width:1px">', "style"),
        ('<iframe src="https://example.org"></iframe>', "iframe"),
    ],
)
def test_dangerous_markup_never_survives(source: str, gone: str) -> None:
    # when
    html = render_story(source, [SHOP]).html
    # then
    assert gone not in html.lower()


def test_a_picture_without_description_is_named_with_its_number() -> None:
    # when
    found = messages(f"![Laden]({SHOP.src})\n\n![]({SHOP.src})\n\n<img src='{SHOP.src}'>")
    # then
    assert found == [
        "source: Picture 2 (“Unser Schaufenster”) has no description. Please write what it "
        "shows between the square brackets, e.g. ![Our shop window](…).",
        "source: Picture 3 (“Unser Schaufenster”) has no description. Please write what it "
        "shows between the square brackets, e.g. ![Our shop window](…).",
    ]


def test_a_description_of_blanks_is_no_description() -> None:
    assert len(messages(f"![   ]({SHOP.src})")) == 1


def test_only_the_shops_own_pictures_are_shown() -> None:
    # when
    found = messages("![Pixel](https://tracker.example/p.gif)\n\n![Fremd](/media/ffff.jpg)")
    # then
    assert found == [
        "source: Picture 1 (“https://tracker.example/p.gif”) is not one of your shop's "
        "pictures. Please use “Insert picture” to choose or upload one.",
        "source: Picture 2 (“/media/ffff.jpg”) is not one of your shop's pictures. Please use "
        "“Insert picture” to choose or upload one.",
    ]


def test_source_and_language_are_checked() -> None:
    assert clean_source("  Hallo\r\nWelt  ") == "Hallo\nWelt"
    assert clean_language("en") == "en"
    with pytest.raises(InvalidInput, match="At most 20000 characters"):
        clean_source("x" * 20_001)
    with pytest.raises(InvalidInput, match="Choose German or English"):
        clean_language("fr")


def test_the_editor_shows_markdown_only_while_it_is_what_is_published() -> None:
    # given
    newest = StoryVersion(
        1,
        uuid.uuid4(),
        "de",
        "**Hallo**",
        "<p><strong>Hallo</strong></p>",
        None,
        "",
        datetime.now(UTC),
    )
    # when / then
    assert current_source("<p><strong>Hallo</strong></p>", newest) == "**Hallo**"
    assert current_source("<p>Über die API geändert</p>", newest) == "<p>Über die API geändert</p>"
    assert current_source("<p>Alt</p>", None) == "<p>Alt</p>"


def test_a_waiting_version_is_edited_on_while_the_approved_one_stays_shown() -> None:
    # given an approved version and a newer one waiting for the city
    approved = StoryVersion(1, uuid.uuid4(), "de", "Alt", "<p>Alt</p>", None, "", datetime.now(UTC))
    waiting = replace(
        approved, id=2, source="Neu", html="<p>Neu</p>", status=ContentStatus.SUBMITTED
    )
    # when / then
    assert current_source("<p>Alt</p>", waiting) == "Neu"
    assert current_source("<p>Alt</p>", replace(waiting, status=ContentStatus.REJECTED)) == "Neu"
    assert shown_version("<p>Alt</p>", [waiting, approved]) == approved
    assert shown_version("<p>Von Hand</p>", [waiting, approved]) is None


def test_the_city_reads_which_lines_a_story_adds_and_removes() -> None:
    assert line_changes("Seit 1950\nBrillen", "Seit 1950\nBrillen und Linsen") == [
        (" ", "Seit 1950"),
        ("-", "Brillen"),
        ("+", "Brillen und Linsen"),
    ]


def test_a_picture_is_written_so_that_its_description_survives_brackets() -> None:
    # given
    picture = Picture("/media/0123abcd.png", "Regal [links] & Theke", 40, 30)
    # when
    rendered = render_story(picture.markdown, [picture])
    # then
    assert picture.markdown == "![Regal \\[links\\] & Theke](/media/0123abcd.png)"
    assert rendered.html == (
        '<p><img src="/media/0123abcd.png" alt="Regal [links] &amp; Theke" width="40" height="30">'
        "</p>"
    )


def test_line_breaks_count_once_towards_the_length() -> None:
    assert len(clean_source("a\r\n" * 10_000)) == 19_999


def test_a_story_from_before_the_editor_is_compared_as_its_text() -> None:
    # given a story kept only as HTML
    html = (
        "<h2>Über uns</h2><p>Meister <strong>Martin</strong> &amp; Sohn\n  schleifen Gläser.</p>"
        "<ul><li>Brillen</li><li>Lupen</li></ul>"
        '<p>Zeile<br>zwei <img src="/m/a.jpg" alt="Werkstatt"></p>'
    )
    # when / then: a line per block, no tags, entities read, spaces folded
    assert html_text(html) == (
        "Über uns\nMeister Martin & Sohn schleifen Gläser.\nBrillen\nLupen\nZeile\nzwei [Werkstatt]"
    )
    assert line_changes(html_text("<p>Alt</p><p>Bleibt</p>"), "Neu\nBleibt") == [
        ("-", "Alt"),
        ("+", "Neu"),
        (" ", "Bleibt"),
    ]
