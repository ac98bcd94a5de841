"""The privacy centre: readable without JavaScript, in German and in English."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx

from marktplatz.domain.consent import CONSENT_TEXT_VERSION
from support import Tenant

EN = {"accept-language": "en"}
DE = {"accept-language": "de"}


class _Visible(HTMLParser):
    """The text a browser without JavaScript shows: no scripts, no subtree marked hidden."""

    VOID = frozenset({"br", "img", "input", "link", "meta", "hr", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[bool] = []  # per open element: hidden (or a script)?
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        hidden = tag == "script" or any(name == "hidden" for name, _ in attrs)
        self.open.append(hidden or bool(self.open and self.open[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if not (self.open and self.open[-1]):
            self.parts.append(data)


def _visible_text(html: str) -> str:
    parser = _Visible()
    parser.feed(html)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


async def test_the_privacy_centre_explains_consent_in_german(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # when a German visitor opens the privacy centre
    page = await client.get(f"/{tenant.city.slug}/privacy", headers=DE)
    # then the explanation is there without any script, with the text version
    assert page.status_code == 200
    assert page.headers["content-language"] == "de"
    text = _visible_text(page.text)
    assert "<h1>Datenschutz-Zentrale</h1>" in page.text
    assert "Was wo gespeichert wird" in text
    assert "Statistik" in text
    assert "Personalisierung" in text
    assert f"Version dieses Textes: {CONSENT_TEXT_VERSION}." in text
    # and it says why the controls need JavaScript, instead of showing dead buttons
    assert "brauchen JavaScript" in text
    assert "Meine Daten löschen" not in text
    assert 'id="privacy-centre" class="privacy-centre" hidden' in page.text
    # and it sets no cookie
    assert "set-cookie" not in page.headers


async def test_the_privacy_centre_speaks_english(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # when an English visitor opens the privacy centre
    page = await client.get(f"/{tenant.city.slug}/privacy", headers=EN)
    # then
    assert page.status_code == 200
    text = _visible_text(page.text)
    assert "<h1>Privacy centre</h1>" in page.text
    assert "What is stored where" in text
    assert "Datenschutz" not in text
    assert f"Version of this text: {CONSENT_TEXT_VERSION}." in text


async def test_visitor_pages_carry_a_hidden_banner_and_link_the_privacy_centre(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # when a visitor opens the city's start page
    page = await client.get(f"/{tenant.city.slug}", headers=DE)
    # then the banner waits for consent.js (without it, nothing can be stored or sent)
    banner = re.search(r'<section class="consent-banner"[^>]*>', page.text)
    assert banner is not None
    assert " hidden" in banner.group(0)
    assert f'data-version="{CONSENT_TEXT_VERSION}"' in banner.group(0)
    assert page.text.count("data-consent-accept") == page.text.count("data-consent-decline") == 1
    # and the footer links the privacy centre
    assert f'<a href="/{tenant.city.slug}/privacy">Datenschutz-Zentrale</a>' in page.text
    assert "set-cookie" not in page.headers


async def test_an_unknown_city_has_no_privacy_centre(client: httpx.AsyncClient) -> None:
    page = await client.get("/no-such-city/privacy", headers=DE)
    assert page.status_code == 404
