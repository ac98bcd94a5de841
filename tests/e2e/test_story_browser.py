"""The optician's owner writes the shop's story in a real Chromium: toolbar, a picture uploaded
with its description and inserted, the live preview, the public page; a picture without a
description is refused with nothing saved; an older version is restored; the editor on a phone."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

CITY = "musterstadt"
OPTICIAN = "optik-brillenhaus-krueger"
PHONE = {"width": 390, "height": 844}
STORY_URL = re.compile(r".*/portal/shops/[0-9a-f-]{36}/story(\?.*)?$")
SAVED_URL = re.compile(r".*/story\?language=de&done=saved$")
ALT = "Blick in unsere Werkstatt mit dem Schleifautomaten"


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (40, 110, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def open_editor(page: Any) -> None:
    page.goto("/portal")
    with page.expect_navigation():
        page.locator("nav.subnav a[href$='/story']").click()
    page.wait_for_url(STORY_URL)


def tool(page: Any, name: str) -> Any:
    return page.locator(f"[data-toolbar] button[data-md={name}]")


def save(page: Any) -> None:
    with page.expect_navigation():
        page.locator("#story-form button[name=action][value=save]").click()


def public_story(page: Any) -> Any:
    page.goto(f"/{CITY}/shops/{OPTICIAN}")
    return page.locator("section.story .prose")


def write_story(page: Any) -> None:
    """Heading, list and link through the toolbar; the picture uploaded and inserted in place."""
    source = page.locator("#f-source")
    source.fill("")
    source.focus()
    # The toolbar is reached and used with the keyboard like any button.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate("document.activeElement.dataset.md") == "picture"
    tool(page, "heading").focus()
    page.keyboard.press("Enter")
    page.keyboard.type("Handwerk seit 1950")
    page.keyboard.type("\n\nBei uns bekommen Sie:\n\n")
    tool(page, "bullets").click()
    page.keyboard.type("Sehtest\n- Beratung\n\nTermine: ")
    tool(page, "link").click()
    page.keyboard.type("https://example.org/termin")  # types over the selected address
    page.keyboard.press("End")

    tool(page, "picture").click()
    assert page.evaluate("document.activeElement.id") == "pictures"
    page.set_input_files(
        "#story-upload #f-image",
        {"name": "werkstatt.png", "mimeType": "image/png", "buffer": png()},
    )
    page.fill("#story-upload #f-alt_text", ALT)
    page.locator("#story-upload button[type=submit]").click()
    expect_text(page, "#f-source", f"![{ALT}](/media/")


def expect_text(page: Any, selector: str, text: str) -> None:
    page.wait_for_function(
        "([sel, text]) => document.querySelector(sel).value.includes(text)", arg=[selector, text]
    )


def test_owner_writes_the_story_with_a_picture_and_restores_a_version(
    page: Any, server: Any, log_in: Any, assert_accessible: Any, problems: Any
) -> None:
    problems.allow(r"status of 422 .*@ .*/portal/shops/[0-9a-f-]{36}/story")
    log_in(page, server.accounts["retailer-owner"])
    open_editor(page)
    original = page.input_value("#f-source")
    assert_accessible(page)

    # when the owner writes with the toolbar and uploads a picture with its description
    write_story(page)

    # then the live preview shows it as the visitor will see it
    preview = page.locator("#story-preview .prose")
    preview.locator("img").wait_for()
    assert preview.locator("h2").inner_text() == "Handwerk seit 1950"
    assert preview.locator("ul li").all_inner_texts() == ["Sehtest", "Beratung"]
    assert preview.locator("a").get_attribute("href") == "https://example.org/termin"
    assert preview.locator("img").get_attribute("alt") == ALT
    assert_accessible(page)

    # when saved, the public shop page shows the story with the picture and its description
    save(page)
    page.wait_for_url(SAVED_URL)
    assert "**" not in page.input_value("#f-source")
    assert page.input_value("#f-source").startswith("## Handwerk seit 1950")
    story = public_story(page)
    assert story.locator("h2").inner_text() == "Handwerk seit 1950"
    assert story.locator("ul li").count() == 2
    assert story.locator("a[href='https://example.org/termin']").is_visible()
    picture = story.locator(f"img[alt='{ALT}']")
    assert picture.get_attribute("src").startswith("/media/")
    assert picture.evaluate("(img) => img.complete && img.naturalWidth") == 320

    # when the description is taken out of the picture, the save is refused and nothing saved
    open_editor(page)
    text = page.input_value("#f-source")
    page.fill("#f-source", text.replace(f"![{ALT}]", "![]"))
    save(page)
    error = page.locator("#e-source")
    assert re.match(r"(Bild|Picture) 1 ", error.inner_text()), error.inner_text()
    assert ALT in error.inner_text()
    assert page.locator("#f-source[aria-invalid=true]").is_visible()
    assert "![](/media/" in page.input_value("#f-source")  # the text is kept
    assert public_story(page).locator(f"img[alt='{ALT}']").count() == 1

    # when a second version is saved, then the first one restored
    open_editor(page)
    page.fill("#f-source", page.input_value("#f-source").replace("1950", "1951"))
    save(page)
    assert public_story(page).locator("h2").inner_text() == "Handwerk seit 1951"
    open_editor(page)
    rows = page.locator("table.versions tbody tr")
    assert rows.count() >= 2
    with page.expect_navigation():
        rows.nth(1).locator("button[type=submit]").click()
    assert page.url.endswith("done=restored")
    assert page.input_value("#f-source").startswith("## Handwerk seit 1950")
    assert public_story(page).locator("h2").inner_text() == "Handwerk seit 1950"

    # Put the demo shop's story back as it was (as a new version, like any save).
    open_editor(page)
    page.fill("#f-source", original)
    save(page)
    page.wait_for_url(SAVED_URL)


def test_the_editor_on_a_phone(
    new_context: Any,
    open_page: Any,
    server: Any,
    log_in: Any,
    assert_accessible: Any,
    screenshot: Any,
) -> None:
    page = open_page(new_context(viewport=PHONE))
    log_in(page, server.accounts["retailer-owner"])
    open_editor(page)
    page.fill("#f-source", "## Unsere Werkstatt\n\n- Sehtest\n- **Beratung** mit Zeit")
    preview = page.locator("#story-preview .prose h2")
    preview.wait_for()
    assert preview.inner_text() == "Unsere Werkstatt"
    # the preview sits below the text, and nothing is wider than the phone
    text_box = page.locator("#f-source").bounding_box()
    preview_box = page.locator("#story-preview").bounding_box()
    assert preview_box["y"] > text_box["y"] + text_box["height"]
    wide = page.evaluate(
        """() => [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > innerWidth && !e.closest(".table-wrap"))
          .map((e) => `${e.tagName}.${e.className}`)"""
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], wide
    assert_accessible(page)
    screenshot(page, "portal-story-mobile.png")


def test_the_editor_without_javascript(
    new_context: Any, open_page: Any, server: Any, log_in: Any
) -> None:
    # given the owner's browser runs no scripts
    page = open_page(new_context(java_script_enabled=False))
    log_in(page, server.accounts["retailer-owner"])
    open_editor(page)
    before = page.input_value("#f-source")
    # then the toolbar stays hidden, the pictures' lines are there to copy
    assert not page.locator("[data-toolbar]").is_visible()
    # when the owner writes and presses "Preview"
    page.fill("#f-source", "## Ohne Skripte\n\n- eins\n- zwei")
    with page.expect_navigation():
        page.locator("#story-form button[name=action][value=preview]").click()
    # then the server shows the preview, keeps the text and has saved nothing
    assert page.locator("#story-preview .prose h2").inner_text() == "Ohne Skripte"
    assert page.locator("#story-preview .prose li").count() == 2
    assert page.input_value("#f-source") == "## Ohne Skripte\n\n- eins\n- zwei"
    page.goto(page.url)
    assert page.input_value("#f-source") == before
