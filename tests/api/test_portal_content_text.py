"""An item's text in the offers-and-stories editor: Markdown with the shop's own pictures,
checked like the shop's story, kept as Markdown, previewed live (web/portal/content.py)."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.domain.content import Content, ContentKind
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.shops import ShopImage
from marktplatz.services import content, shops
from marktplatz.services.content import ContentInput
from marktplatz.store import tables as t
from support import Tenant, login, published, tiny_png


@pytest.fixture
async def en(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client reading pages in English, so assertions do not depend on the German catalogue."""
    client.headers["accept-language"] = "en"
    return client


async def picture(composed: App, tenant: Tenant, alt: str = "Gläser in der Werkstatt") -> ShopImage:
    owner = tenant.users["retailer-owner"]
    return await shops.add_shop_image(composed.ctx, owner, tenant.shop_a.id, tiny_png(), alt)


async def items_of(composed: App, tenant: Tenant) -> int:
    query = select(func.count()).where(t.contents.c.shop_id == tenant.shop_a.id)
    async with composed.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def stored(composed: App, tenant: Tenant, item_id: uuid.UUID) -> Content:
    return await content.get_content(composed.ctx, tenant.users["city-admin"], item_id)


def story_form(token: str, body: str, **more: str) -> dict[str, str]:
    return {
        "kind": "story",
        "title": "Von Hand geschliffen",
        "body_html": body,
        "language": "de",
        "then": "submit",
        "csrf_token": token,
        **more,
    }


TEXT = "## In der Werkstatt\n\nSo entsteht Ihre Brille:\n\n- Messen\n- Schleifen\n\n![{alt}]({src})"


async def test_owner_saves_a_product_story_with_a_heading_and_a_picture(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    image = await picture(composed, tenant)
    src = f"/media/{image.filename}"
    source = TEXT.format(alt="Gläser in der Werkstatt", src=src)
    # when
    saved = await en.post(
        f"/portal/shops/{tenant.shop_a.id}/content", data=story_form(token, source)
    )
    editor = await en.get(saved.headers["location"])
    visitor = await en.get(f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}?lang=de")
    # then
    assert saved.status_code == 303
    item = await stored(
        composed, tenant, uuid.UUID(saved.headers["location"].split("?")[0].split("/")[-1])
    )
    assert item.body_html == (
        "<h2>In der Werkstatt</h2>\n<p>So entsteht Ihre Brille:</p>\n"
        "<ul>\n<li>Messen</li>\n<li>Schleifen</li>\n</ul>\n"
        f'<p><img src="{src}" alt="Gläser in der Werkstatt" width="40" height="30"></p>'
    )
    assert item.body_source == source
    # re-editing shows the Markdown, and its rendering beside it
    assert "## In der Werkstatt\n\nSo entsteht Ihre Brille:" in editor.text
    assert f"![Gläser in der Werkstatt]({src})</textarea>" in editor.text
    assert "<h2>In der Werkstatt</h2>" in editor.text
    assert f'data-insert="![Gläser in der Werkstatt]({src})"' in editor.text
    assert f'<img src="{src}" alt="Gläser in der Werkstatt" width="40" height="30">' in visitor.text


async def test_a_picture_without_description_is_refused_and_nothing_saved(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    image = await picture(composed, tenant, "Laden von außen")
    source = f"## Neu\n\n![](/media/{image.filename})"
    # when
    refused = await en.post(
        f"/portal/shops/{tenant.shop_a.id}/content", data=story_form(token, source)
    )
    # then
    assert refused.status_code == 422
    assert (
        '<p class="field-error" id="e-body_html">Picture 1 (“Laden von außen”) has no description.'
    ) in refused.text
    assert '<a href="#f-body_html">Picture 1 (“Laden von außen”)' in refused.text
    assert f"![](/media/{image.filename})</textarea>" in refused.text  # the text is kept
    assert 'value="Von Hand geschliffen"' in refused.text
    assert await items_of(composed, tenant) == 0


async def test_an_edit_with_another_shops_picture_changes_nothing(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a published story item of shop A and a picture of shop B
    data = ContentInput(kind=ContentKind.STORY, title="Alt", body_html="Wie bisher")
    item = await published(composed, tenant, tenant.shop_a, data)
    other = await shops.add_shop_image(
        composed.ctx, tenant.users["city-admin"], tenant.shop_b.id, tiny_png(), "Fremder Laden"
    )
    token = await login(en, tenant.users["retailer-owner"])
    # when
    refused = await en.post(
        f"/portal/content/{item.id}",
        data=story_form(token, f"![Fremd](/media/{other.filename})", title="Neu"),
    )
    # then
    assert refused.status_code == 422
    assert "is not one of your shop&#39;s pictures" in refused.text
    assert await stored(composed, tenant, item.id) == item


async def test_an_item_from_before_the_editor_edits_its_html(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given an item whose text was stored as HTML only
    data = ContentInput(kind=ContentKind.OFFER, title="Putztuch", body_html="Gratis")
    item = await published(composed, tenant, tenant.shop_a, data)
    async with composed.engine.begin() as conn:
        await conn.execute(
            t.contents.update()
            .where(t.contents.c.id == item.id)
            .values(body_html="<p>Ein <strong>Putztuch</strong> gratis</p>", body_source="")
        )
    await login(en, tenant.users["retailer-owner"])
    # when
    page = await en.get(f"/portal/content/{item.id}")
    # then its HTML is the text to edit, and renders unchanged
    assert "&lt;p&gt;Ein &lt;strong&gt;Putztuch&lt;/strong&gt; gratis&lt;/p&gt;</textarea>" in (
        page.text
    )
    assert '<div class="prose" lang="de"><p>Ein <strong>Putztuch</strong> gratis</p></div>' in (
        page.text
    )


async def test_the_live_preview_renders_and_stores_nothing(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    token = await login(en, tenant.users["retailer-owner"])
    image = await picture(composed, tenant)
    url = f"/portal/shops/{tenant.shop_a.id}/content/preview"
    # when
    live = await en.post(
        url,
        data={"source": f"## Neu\n\n![]({f'/media/{image.filename}'})", "language": "en"},
        headers={"x-csrf-token": token},
    )
    empty = await en.post(
        url, data={"source": "", "language": "de"}, headers={"x-csrf-token": token}
    )
    unprotected = await en.post(url, data={"source": "## Neu"})
    # then
    assert live.status_code == 200
    assert '<div class="prose" lang="en"><h2>Neu</h2>' in live.text
    assert "Picture 1 (“Gläser in der Werkstatt”) has no description." in live.text
    assert "Nothing to show yet: start writing the text." in empty.text
    assert unprotected.status_code == 403
    assert await items_of(composed, tenant) == 0


async def test_the_citys_own_items_have_headings_and_lists_but_no_pictures(
    tenant: Tenant, composed: App
) -> None:
    # given a picture of one of the city's shops
    image = await picture(composed, tenant)
    admin = tenant.users["city-admin"]
    # when
    item = await content.create_content(
        composed.ctx,
        admin,
        tenant.city.id,
        None,
        ContentInput(kind=ContentKind.STORY, title="Markttag", body_html="## Samstag\n\n- Obst"),
    )
    with pytest.raises(InvalidInput) as refused:
        await content.create_content(
            composed.ctx,
            admin,
            tenant.city.id,
            None,
            ContentInput(
                kind=ContentKind.STORY,
                title="Mit Bild",
                body_html=f"![Gläser](/media/{image.filename})",
            ),
        )
    # then
    assert item.body_html == "<h2>Samstag</h2>\n<ul>\n<li>Obst</li>\n</ul>"
    assert refused.value.field == "source"
    assert refused.value.params == {"number": 1, "name": f"/media/{image.filename}"}
    assert [i.title for i in await content.city_contents(composed.ctx, admin, tenant.city.id)] == [
        "Markttag"
    ]


async def test_a_picture_shown_in_an_items_text_is_not_deleted(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a picture in the text of a published story item
    owner = tenant.users["retailer-owner"]
    token = await login(en, owner)
    image = await picture(composed, tenant)
    body = f"![Gläser in der Werkstatt](/media/{image.filename})"
    data = ContentInput(kind=ContentKind.STORY, title="Handarbeit", body_html=body)
    await published(composed, tenant, tenant.shop_a, data)
    # when
    refused = await en.post(
        f"/portal/shops/{tenant.shop_a.id}/images/{image.id}/delete", data={"csrf_token": token}
    )
    # then
    assert refused.status_code == 422
    assert "This picture is shown in “Handarbeit”. Please take it out of that text first." in (
        refused.text
    )
    assert await shops.shop_images(composed.ctx, owner, tenant.shop_a.id) == [image]
    assert composed.ctx.media.read(image.filename) is not None
