"""The story editor through the ASGI app: save, versions, restore, preview, refused input."""

from __future__ import annotations

import io
import json

import httpx
import pytest
from PIL import Image
from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.domain.shops import Shop, ShopImage
from marktplatz.domain.story import VERSIONS_KEPT
from marktplatz.services import shops, staff, story
from marktplatz.store import tables as t
from support import Tenant, login


@pytest.fixture
async def en(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client reading pages in English, so assertions do not depend on the German catalogue."""
    client.headers["accept-language"] = "en"
    return client


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (30, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def editor(tenant: Tenant, rest: str = "") -> str:
    return f"/portal/shops/{tenant.shop_a.id}/story{rest}"


async def picture(composed: App, tenant: Tenant, alt: str = "Unser Schaufenster") -> ShopImage:
    owner = tenant.users["retailer-owner"]
    return await shops.add_shop_image(composed.ctx, owner, tenant.shop_a.id, _png(), alt)


async def shop_now(composed: App, tenant: Tenant) -> Shop:
    return await shops.get_shop(composed.ctx, tenant.users["city-admin"], tenant.shop_a.id)


async def version_count(composed: App, tenant: Tenant) -> int:
    query = select(func.count()).where(t.story_versions.c.shop_id == tenant.shop_a.id)
    async with composed.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def audit_actions(composed: App, tenant: Tenant) -> list[str]:
    log = t.audit_log.c
    query = (
        select(log.action)
        .where(log.object_id == str(tenant.shop_a.id), log.action.startswith("shop.story"))
        .order_by(log.id)
    )
    async with composed.engine.connect() as conn:
        return [row[0] for row in await conn.execute(query)]


STORY = (
    "## Seit 1950\n\nWir schleifen Gläser selbst:\n\n- Brillen\n- Kontaktlinsen\n\n"
    "[Termin buchen](https://example.org/termin)\n\n![Unser Schaufenster]({src})"
)


async def test_owner_saves_a_story_with_a_picture_and_the_visitor_page_shows_it(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    image = await picture(composed, tenant)
    src = f"/media/{image.filename}"
    # when
    saved = await en.post(
        editor(tenant),
        data={"source": STORY.format(src=src), "language": "de", "csrf_token": token},
    )
    page = await en.get(saved.headers["location"])
    visitor = await en.get(f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}?lang=de")
    # then
    assert saved.status_code == 303
    assert saved.headers["location"] == editor(tenant, "?language=de&done=saved")
    shop = await shop_now(composed, tenant)
    assert shop.story_html == (
        "<h2>Seit 1950</h2>\n<p>Wir schleifen Gläser selbst:</p>\n<ul>\n<li>Brillen</li>\n"
        "<li>Kontaktlinsen</li>\n</ul>\n<p>"
        '<a href="https://example.org/termin" rel="noopener noreferrer nofollow">Termin buchen</a>'
        f'</p>\n<p><img src="{src}" alt="Unser Schaufenster" width="40" height="30"></p>'
    )
    assert shop.story_html_en == ""
    assert "Your story has been saved" in page.text
    # re-editing shows the Markdown, not the HTML
    assert "## Seit 1950" in page.text
    assert f"![Unser Schaufenster]({src})" in page.text
    assert f'<img src="{src}" alt="Unser Schaufenster" width="40" height="30">' in visitor.text
    assert await audit_actions(composed, tenant) == ["shop.story_updated"]


async def test_a_picture_without_description_is_refused_and_nothing_saved(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    image = await picture(composed, tenant, "Laden von außen")
    before = await shop_now(composed, tenant)
    source = f"Hallo\n\n![Laden von außen](/media/{image.filename})\n\n![](/media/{image.filename})"
    # when
    refused = await en.post(
        editor(tenant), data={"source": source, "language": "de", "csrf_token": token}
    )
    # then
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="e-source">Picture 2 (“Laden von außen”) has no description.'
    ) in refused.text
    assert f"![](/media/{image.filename})</textarea>" in refused.text  # the text is kept
    assert await shop_now(composed, tenant) == before
    assert await version_count(composed, tenant) == 0
    assert await audit_actions(composed, tenant) == []


@pytest.mark.parametrize(
    "source",
    [
        "![Pixel](https://tracker.example/p.gif)",
        '<img src="https://tracker.example/p.gif" alt="Pixel">',
    ],
)
async def test_a_foreign_image_address_is_refused(
    en: httpx.AsyncClient, tenant: Tenant, composed: App, source: str
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await shop_now(composed, tenant)
    # when
    refused = await en.post(
        editor(tenant), data={"source": source, "language": "de", "csrf_token": token}
    )
    # then
    assert refused.status_code == 422
    assert "Picture 1 (“https://tracker.example/p.gif”) is not one of your shop&#39;s pictures" in (
        refused.text
    )
    assert await shop_now(composed, tenant) == before
    assert await version_count(composed, tenant) == 0


async def test_another_shops_picture_is_refused(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a picture of shop B, addressed from shop A's story
    token = await login(en, tenant.users["retailer-owner"])
    other = await shops.add_shop_image(
        composed.ctx, tenant.users["city-admin"], tenant.shop_b.id, _png(), "Fremder Laden"
    )
    # when
    refused = await en.post(
        editor(tenant),
        data={
            "source": f"![Fremd](/media/{other.filename})",
            "language": "de",
            "csrf_token": token,
        },
    )
    # then
    assert refused.status_code == 422
    assert "is not one of your shop&#39;s pictures" in refused.text
    assert await version_count(composed, tenant) == 0


async def test_the_preview_renders_and_changes_nothing(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await shop_now(composed, tenant)
    # when
    live = await en.post(
        editor(tenant, "/preview"),
        data={"source": "## Neu\n\n**fett** <script>alert(1)</script>", "language": "de"},
        headers={"x-csrf-token": token},
    )
    unprotected = await en.post(editor(tenant, "/preview"), data={"source": "## Neu"})
    button = await en.post(
        editor(tenant),
        data={
            "source": "## Ohne Skript",
            "language": "de",
            "action": "preview",
            "csrf_token": token,
        },
    )
    # then
    assert live.status_code == 200
    assert '<div class="prose" lang="de"><h2>Neu</h2>\n<p><strong>fett</strong> </p></div>' in (
        live.text
    )
    assert "alert" not in live.text
    assert unprotected.status_code == 403
    assert button.status_code == 200
    assert "<h2>Ohne Skript</h2>" in button.text
    assert "## Ohne Skript</textarea>" in button.text
    assert await shop_now(composed, tenant) == before
    assert await version_count(composed, tenant) == 0


async def test_versions_are_listed_and_an_older_one_is_restored(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given two saves
    owner = tenant.users["retailer-owner"]
    token = await login(en, owner)
    first = await story.save_story(composed.ctx, owner, tenant.shop_a.id, "en", "First *story*")
    second = await story.save_story(composed.ctx, owner, tenant.shop_a.id, "en", "Second story")
    # when
    listed = await en.get(editor(tenant, "?language=en"))
    shown = await en.get(editor(tenant, f"/versions/{first}"))
    restored = await en.post(
        editor(tenant, f"/versions/{first}/restore"), data={"csrf_token": token}
    )
    # then
    assert listed.status_code == 200
    assert f'id="version-{first}"' in listed.text
    assert f'id="version-{second}"' in listed.text
    assert "retailer-owner" in listed.text  # the author's name
    assert "13 characters" in listed.text
    assert shown.status_code == 200
    assert "<p>First <em>story</em></p>" in shown.text
    assert restored.status_code == 303
    assert restored.headers["location"] == editor(tenant, "?language=en&done=restored")
    shop = await shop_now(composed, tenant)
    assert shop.story_html_en == "<p>First <em>story</em></p>"
    assert shop.story_html == ""
    assert await version_count(composed, tenant) == 3  # nothing deleted, one added
    assert await audit_actions(composed, tenant) == [
        "shop.story_updated",
        "shop.story_updated",
        "shop.story_restored",
    ]


async def test_a_shop_without_versions_edits_its_html_which_renders_unchanged(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a story stored as HTML before the editor (and changed through the API since)
    html = "<p>Seit 1927 am <strong>Markt</strong>.</p>"
    await shops.update_shop(
        composed.ctx, tenant.users["city-admin"], tenant.shop_a.id, {"story_html": html}
    )
    token = await login(en, tenant.users["retailer-owner"])
    # when
    page = await en.get(editor(tenant))
    saved = await en.post(
        editor(tenant), data={"source": html, "language": "de", "csrf_token": token}
    )
    # then
    assert (
        "&lt;p&gt;Seit 1927 am &lt;strong&gt;Markt&lt;/strong&gt;.&lt;/p&gt;</textarea>"
        in page.text
    )
    assert saved.status_code == 303
    assert (await shop_now(composed, tenant)).story_html == html


async def test_saving_the_profile_keeps_the_story(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    owner = tenant.users["retailer-owner"]
    token = await login(en, owner)
    await story.save_story(composed.ctx, owner, tenant.shop_a.id, "de", "Unsere **Geschichte**")
    shop = await shop_now(composed, tenant)
    form = {
        "name": "Optik Neu",
        "category": shop.category.value,
        "lat": str(shop.location.lat),
        "lon": str(shop.location.lon),
        "csrf_token": token,
    }
    # when
    saved = await en.post(f"/portal/shops/{shop.id}", data=form)
    profile = await en.get(f"/portal/shops/{shop.id}")
    # then
    assert saved.status_code == 303
    assert (
        await shop_now(composed, tenant)
    ).story_html == "<p>Unsere <strong>Geschichte</strong></p>"
    assert "Unsere Geschichte" in profile.text
    assert f'href="/portal/shops/{shop.id}/story">Edit story</a>' in profile.text
    assert 'name="story_html"' not in profile.text


async def test_a_picture_uploaded_in_the_editor_comes_back_for_the_script(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    # when
    uploaded = await en.post(
        editor(tenant, "/images"),
        data={"alt_text": "Brillen im Regal", "language": "de"},
        files={"image": ("regal.png", _png(), "image/png")},
        headers={"accept": "application/json", "x-csrf-token": token},
    )
    refused = await en.post(
        editor(tenant, "/images"),
        data={"alt_text": "  ", "language": "de"},
        files={"image": ("regal.png", _png(), "image/png")},
        headers={"accept": "application/json", "x-csrf-token": token},
    )
    # then
    (image,) = await shops.shop_images(
        composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id
    )
    assert uploaded.status_code == 201
    assert uploaded.json() == {
        "src": f"/media/{image.filename}",
        "alt": "Brillen im Regal",
        "width": 40,
        "height": 30,
        "markdown": f"![Brillen im Regal](/media/{image.filename})",
    }
    assert refused.status_code == 422
    assert json.loads(refused.text) == {"errors": {"alt_text": "Please fill in this field."}}


async def test_a_cashier_may_not_save_and_another_shop_is_not_found(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-staff"])
    before = await shop_now(composed, tenant)
    other = f"/portal/shops/{tenant.shop_b.id}/story"
    # when
    page = await en.get(editor(tenant))
    saved = await en.post(
        editor(tenant), data={"source": "Gekapert", "language": "de", "csrf_token": token}
    )
    foreign = await en.post(
        other, data={"source": "Gekapert", "language": "de", "csrf_token": token}
    )
    # then
    assert page.status_code == 403
    assert saved.status_code == 403
    assert foreign.status_code == 404
    assert await shop_now(composed, tenant) == before
    assert await version_count(composed, tenant) == 0


async def test_only_the_newest_versions_are_kept(tenant: Tenant, composed: App) -> None:
    # given
    owner = tenant.users["retailer-owner"]
    for number in range(VERSIONS_KEPT + 2):
        await story.save_story(composed.ctx, owner, tenant.shop_a.id, "de", f"Fassung {number}")
    await story.save_story(composed.ctx, owner, tenant.shop_a.id, "en", "English")
    # when
    desk = await story.story_desk(composed.ctx, owner, tenant.shop_a.id, "de")
    # then
    assert len(desk.versions) == VERSIONS_KEPT
    assert desk.versions[0].source == f"Fassung {VERSIONS_KEPT + 1}"
    assert desk.versions[-1].source == "Fassung 2"
    assert await version_count(composed, tenant) == VERSIONS_KEPT + 1


async def test_a_picture_shown_in_the_story_is_not_deleted(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a picture in the published English story
    owner = tenant.users["retailer-owner"]
    token = await login(en, owner)
    image = await picture(composed, tenant)
    source = f"![Unser Schaufenster](/media/{image.filename})"
    await story.save_story(composed.ctx, owner, tenant.shop_a.id, "en", source)
    # when
    refused = await en.post(
        f"/portal/shops/{tenant.shop_a.id}/images/{image.id}/delete", data={"csrf_token": token}
    )
    # then
    assert refused.status_code == 422
    assert "This picture is shown in your story. Please take it out of the story first." in (
        refused.text
    )
    assert await shops.shop_images(composed.ctx, owner, tenant.shop_a.id) == [image]
    assert composed.ctx.media.read(image.filename) is not None


async def test_a_cashier_writes_the_story_once_the_owner_opened_it_to_staff(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given the owner lets the shop's staff change the story (and only the story)
    await staff.open_to_staff(
        composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id, ["story"]
    )
    token = await login(en, tenant.users["retailer-staff"])
    # when
    page = await en.get(editor(tenant))
    uploaded = await en.post(
        editor(tenant, "/images"),
        data={"alt_text": "Die Kasse", "language": "de"},
        files={"image": ("kasse.png", _png(), "image/png")},
        headers={"accept": "application/json", "x-csrf-token": token},
    )
    source = f"Von der Kasse erzählt\n\n{uploaded.json()['markdown']}"
    saved = await en.post(
        editor(tenant), data={"source": source, "language": "de", "csrf_token": token}
    )
    profile = await en.get(f"/portal/shops/{tenant.shop_a.id}")
    # then
    assert page.status_code == 200
    assert f'href="/portal/shops/{tenant.shop_a.id}/story" aria-current="page"' in page.text
    assert uploaded.status_code == 201
    assert saved.status_code == 303
    assert (await shop_now(composed, tenant)).story_html.startswith(
        "<p>Von der Kasse erzählt</p>\n<p><img src="
    )
    assert f'href="/portal/shops/{tenant.shop_a.id}/story">Edit story</a>' in profile.text
    assert 'action="/portal/shops/' + str(tenant.shop_a.id) + '/images"' not in profile.text


async def test_a_story_too_long_is_refused_with_the_text_kept(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    before = await shop_now(composed, tenant)
    source = "Lang " * 4_001  # 20,005 characters
    # when
    refused = await en.post(
        editor(tenant), data={"source": source, "language": "de", "csrf_token": token}
    )
    previewed = await en.post(
        editor(tenant),
        data={"source": source, "language": "de", "action": "preview", "csrf_token": token},
    )
    # then
    assert refused.status_code == 422
    assert '<p class="field-error" id="e-source">At most 20000 characters, please.</p>' in (
        refused.text
    )
    assert f"{source}</textarea>" in refused.text
    assert previewed.status_code == 200
    assert "<li>At most 20000 characters, please.</li>" in previewed.text
    assert await shop_now(composed, tenant) == before
    assert await version_count(composed, tenant) == 0
