"""Versions of an item's title and text in the offers-and-stories editor: every change of
them is kept, an older one is restored through the path of an edit (web/portal/content.py)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.content import CONTENT_VERSIONS_KEPT, Content, ContentKind, ContentStatus
from marktplatz.services import content
from marktplatz.services.content import ContentInput
from marktplatz.store import tables as t
from support import Tenant, login, new_client, published


@pytest.fixture
async def en(client: httpx.AsyncClient) -> httpx.AsyncClient:
    """The client reading pages in English, so assertions do not depend on the German catalogue."""
    client.headers["accept-language"] = "en"
    return client


def story(title: str, text: str) -> ContentInput:
    return ContentInput(kind=ContentKind.STORY, title=title, body_html=text)


def form(token: str, title: str, text: str, **more: str) -> dict[str, str]:
    return {
        "title": title,
        "body_html": text,
        "language": "de",
        "then": "submit",
        "csrf_token": token,
        **more,
    }


async def stored(composed: App, tenant: Tenant, item_id: uuid.UUID) -> Content:
    return await content.get_content(composed.ctx, tenant.users["city-admin"], item_id)


async def versions_of(composed: App, item_id: uuid.UUID) -> list[tuple[int, str, str]]:
    """The item's versions, oldest first: id, title, source."""
    c = t.content_versions.c
    query = select(c.id, c.title, c.source).where(c.content_id == item_id).order_by(c.id)
    async with composed.engine.connect() as conn:
        return [(row[0], row[1], row[2]) for row in await conn.execute(query)]


async def audit_actions(composed: App, item_id: uuid.UUID) -> list[str]:
    log = t.audit_log.c
    query = select(log.action).where(log.object_id == str(item_id)).order_by(log.id)
    async with composed.engine.connect() as conn:
        return [row[0] for row in await conn.execute(query)]


async def test_every_change_of_title_or_text_is_a_version_listed_in_the_editor(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given an item published with its first text
    item = await published(composed, tenant, tenant.shop_a, story("Von Hand", "Erste *Fassung*"))
    token = await login(en, tenant.users["retailer-owner"])
    page = f"/portal/content/{item.id}"
    # when the text changes, then only the time it is shown
    changed = await en.post(page, data=form(token, "Von Hand", "Zweite Fassung"))
    timed = await en.post(
        page, data=form(token, "Von Hand", "Zweite Fassung", ends_at="2030-01-01T18:00")
    )
    editor = await en.get(page)
    # then
    assert changed.status_code == 303
    assert timed.status_code == 303
    versions = await versions_of(composed, item.id)
    assert [(title, source) for _, title, source in versions] == [
        ("Von Hand", "Erste *Fassung*"),
        ("Von Hand", "Zweite Fassung"),
    ]
    first, second = versions[0][0], versions[1][0]
    assert editor.status_code == 200
    assert f'id="version-{first}"' in editor.text
    assert f'id="version-{second}"' in editor.text
    assert f'action="/portal/content/{item.id}/versions/{first}/restore"' in editor.text
    assert "retailer-owner" in editor.text  # the author of the second version
    assert "14 characters" in editor.text


async def test_a_version_is_shown_as_visitors_saw_it(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    item = await published(composed, tenant, tenant.shop_a, story("Alt", "Erste *Fassung*"))
    owner = tenant.users["retailer-owner"]
    await content.update_content(composed.ctx, owner, item.id, story("Neu", "Zweite Fassung"))
    (first, _, _), (second, _, _) = await versions_of(composed, item.id)
    await login(en, owner)
    # when
    old = await en.get(f"/portal/content/{item.id}/versions/{first}")
    new = await en.get(f"/portal/content/{item.id}/versions/{second}")
    # then
    assert old.status_code == 200
    assert "<h3>Alt</h3>" in old.text
    assert "<p>Erste <em>Fassung</em></p>" in old.text
    assert "Erste *Fassung*</pre>" in old.text
    assert "shown now" not in old.text
    assert "shown now" in new.text


async def test_restoring_brings_back_title_and_text_as_a_new_version(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a published item whose title and text changed since
    item = await published(composed, tenant, tenant.shop_a, story("Alt", "Erste *Fassung*"))
    owner = tenant.users["retailer-owner"]
    ends = datetime(2030, 1, 1, 17, tzinfo=UTC)
    changed = await content.update_content(
        composed.ctx, owner, item.id, replace(story("Neu", "Zweite Fassung"), ends_at=ends)
    )
    first = (await versions_of(composed, item.id))[0][0]
    token = await login(en, owner)
    # when
    restored = await en.post(
        f"/portal/content/{item.id}/versions/{first}/restore", data={"csrf_token": token}
    )
    editor = await en.get(restored.headers["location"])
    # then
    assert restored.status_code == 303
    assert restored.headers["location"] == f"/portal/content/{item.id}?restored=1"
    assert "The older version has been restored as a new version." in editor.text
    now = await stored(composed, tenant, item.id)
    assert (now.title, now.body_source) == ("Alt", "Erste *Fassung*")
    assert now.body_html == "<p>Erste <em>Fassung</em></p>"
    assert now.status is ContentStatus.PUBLISHED  # the city asks for no approval
    assert now.window == changed.window  # the rest of the item stays as it is now
    assert now.window.ends_at == datetime(2030, 1, 1, 17, tzinfo=UTC)
    versions = await versions_of(composed, item.id)
    assert [title for _, title, _ in versions] == ["Alt", "Neu", "Alt"]  # nothing deleted
    assert (await audit_actions(composed, item.id))[-2:] == ["content.updated", "content.restored"]


async def test_a_restored_item_that_needs_approval_goes_back_to_the_city(
    en: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a published item of a city that now approves everything
    item = await published(composed, tenant, tenant.shop_a, story("Alt", "Erste Fassung"))
    owner, admin = tenant.users["retailer-owner"], tenant.users["city-admin"]
    await content.update_content(composed.ctx, admin, item.id, story("Neu", "Zweite Fassung"))
    await content.set_rules(composed.ctx, admin, tenant.city.id, {"approve_everything": True})
    first = (await versions_of(composed, item.id))[0][0]
    token = await login(en, owner)
    # when
    restored = await en.post(
        f"/portal/content/{item.id}/versions/{first}/restore", data={"csrf_token": token}
    )
    # then it waits for the city with the restored text, as after any edit
    assert restored.status_code == 303
    now = await stored(composed, tenant, item.id)
    assert now.status is ContentStatus.SUBMITTED
    assert now.title == "Alt"
    assert "city:approve-everything" in now.flags


async def test_only_the_newest_versions_are_kept(tenant: Tenant, composed: App) -> None:
    # given
    owner = tenant.users["retailer-owner"]
    item = await published(composed, tenant, tenant.shop_a, story("Titel", "Fassung 0"))
    # when
    for number in range(1, CONTENT_VERSIONS_KEPT + 2):
        await content.update_content(
            composed.ctx, owner, item.id, story("Titel", f"Fassung {number}")
        )
    listed = await content.content_versions(composed.ctx, owner, item.id)
    # then
    assert len(listed) == CONTENT_VERSIONS_KEPT
    assert listed[0].source == f"Fassung {CONTENT_VERSIONS_KEPT + 1}"
    assert listed[-1].source == "Fassung 2"
    assert len(await versions_of(composed, item.id)) == CONTENT_VERSIONS_KEPT


async def test_a_cashier_may_not_restore_and_another_shop_is_not_found(
    en: httpx.AsyncClient, tenant: Tenant, composed: App, web: Any
) -> None:
    # given an item of each shop, each with two versions
    admin = tenant.users["city-admin"]
    mine = await published(composed, tenant, tenant.shop_a, story("Alt", "Eins"))
    other = await published(composed, tenant, tenant.shop_b, story("Fremd", "Eins"))
    for item in (mine, other):
        await content.update_content(composed.ctx, admin, item.id, story("Neu", "Zwei"))
    mine_first = (await versions_of(composed, mine.id))[0][0]
    other_first = (await versions_of(composed, other.id))[0][0]
    before = [await stored(composed, tenant, i.id) for i in (mine, other)]
    counts = [len(await versions_of(composed, i.id)) for i in (mine, other)]
    # when a cashier of shop A tries
    token = await login(en, tenant.users["retailer-staff"])
    cashier_page = await en.get(f"/portal/content/{mine.id}/versions/{mine_first}")
    cashier_restore = await en.post(
        f"/portal/content/{mine.id}/versions/{mine_first}/restore", data={"csrf_token": token}
    )
    cashier_editor = await en.get(f"/portal/content/{mine.id}")
    # and the owner of shop A
    async with new_client(web) as owner:
        token = await login(owner, tenant.users["retailer-owner"])
        foreign = await owner.post(
            f"/portal/content/{other.id}/versions/{other_first}/restore",
            data={"csrf_token": token},
        )
        crossed_page = await owner.get(f"/portal/content/{mine.id}/versions/{other_first}")
        crossed = await owner.post(
            f"/portal/content/{mine.id}/versions/{other_first}/restore",
            data={"csrf_token": token},
        )
    # then
    assert cashier_page.status_code == 403
    assert cashier_restore.status_code == 403
    assert cashier_editor.status_code == 200  # the cashier reads the item, without versions
    assert 'id="versions-h"' not in cashier_editor.text
    assert foreign.status_code == 404
    assert crossed_page.status_code == 404  # a version of another item under our item
    assert crossed.status_code == 404
    assert "Fremd" not in crossed_page.text
    assert [await stored(composed, tenant, i.id) for i in (mine, other)] == before
    assert [len(await versions_of(composed, i.id)) for i in (mine, other)] == counts
