"""The city's own offers, stories and job postings in the console (web/console/own_content.py):
written in the portal's editor, through the same approval rules, only by the city's staff."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from marktplatz.bootstrap import App
from marktplatz.domain.content import Content, ContentKind, ContentStatus
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput
from support import Tenant, login, make_tenant, new_client, published, published_event, qr_point

DE = {"accept-language": "de"}
EN = {"accept-language": "en"}
ITEM = re.compile(r"^/console/[^/]+/content/([0-9a-f-]{36})\?saved=1$")


@pytest.fixture
async def editor(web: Any, tenant: Tenant) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The city's editor (not its admin), logged in."""
    async with new_client(web) as client:
        yield client, await login(client, tenant.users["city-editor"])


async def own_items(composed: App, tenant: Tenant) -> list[Content]:
    found = await content_service.city_contents(
        composed.ctx, tenant.users["city-admin"], tenant.city.id
    )
    return [c for c in found if c.shop_id is None]


def offer_form(csrf: str, title: str, **more: str) -> dict[str, str]:
    return {"csrf_token": csrf, "kind": "offer", "title": title, "language": "de", **more}


async def test_the_city_editor_publishes_an_offer_at_a_qr_code_and_lists_it(
    composed: App, tenant: Tenant, editor: tuple[httpx.AsyncClient, str]
) -> None:
    # given a QR code of the city in the pavement
    client, csrf = editor
    point = await qr_point(composed, tenant, "QR Marktbrunnen")
    base = f"/console/{tenant.city.slug}/content"
    # when the editor writes an offer there and saves it to publish it
    form = offer_form(
        csrf, "Parken frei am Samstag", body_html="Alle **Parkhäuser** frei", then="submit"
    )
    created = await client.post(base, data={**form, "touchpoint_ids": str(point.id)})
    # then the city's own offer is published, placed at the code
    assert created.status_code == 303
    found = ITEM.match(created.headers["location"])
    assert found, created.headers["location"]
    item = await content_service.get_content(
        composed.ctx, tenant.users["city-admin"], uuid.UUID(found[1])
    )
    assert (item.shop_id, item.kind, item.status) == (
        None,
        ContentKind.OFFER,
        ContentStatus.PUBLISHED,
    )
    assert item.targeting.touchpoint_ids == frozenset({point.id})
    # and the list and the editor show it, the preview at the code with it among the picks
    listed = await client.get(base, headers=EN)
    assert f'<a href="{base}/{item.id}">Parken frei am Samstag</a>' in listed.text
    assert '<td><span class="window">always</span></td>' in listed.text  # no window: shown always
    assert 'aria-current="page">Offers and stories</a>' in listed.text
    assert [
        f'href="{base}/new?kind={kind}"' in listed.text for kind in ("offer", "job", "event")
    ] == [
        True,
        True,
        False,
    ]
    page = await client.get(f"{base}/{item.id}?touchpoint={point.id}", headers=EN)
    assert page.status_code == 200
    assert "<strong>Parkhäuser</strong>" in page.text
    assert '<span class="badge ok">yours</span>' in page.text
    assert f'action="{base}/{item.id}/withdraw"' in page.text


async def test_a_window_ending_before_it_starts_is_refused_in_german_and_nothing_is_stored(
    composed: App, tenant: Tenant, editor: tuple[httpx.AsyncClient, str]
) -> None:
    # given the city's items so far
    client, csrf = editor
    before = await own_items(composed, tenant)
    # when an offer ends before it starts
    form = offer_form(
        csrf, "Winterschlussverkauf", starts_at="2027-01-31T10:00", ends_at="2027-01-02T18:00"
    )
    answer = await client.post(f"/console/{tenant.city.slug}/content", data=form, headers=DE)
    # then the form comes back with the reason at the field, what was typed kept
    assert answer.status_code == 422
    assert "Das Ende liegt vor dem Beginn." in answer.text
    assert 'id="f-ends_at" name="ends_at"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert 'value="Winterschlussverkauf"' in answer.text
    # and nothing is stored
    assert await own_items(composed, tenant) == before


async def test_with_approval_for_everything_the_citys_offer_waits_in_the_queue(
    composed: App, tenant: Tenant, editor: tuple[httpx.AsyncClient, str]
) -> None:
    # given a city that approves everything before it is shown
    client, csrf = editor
    admin = tenant.users["city-admin"]
    await content_service.set_rules(
        composed.ctx, admin, tenant.city.id, {"approve_everything": True}
    )
    # when its editor saves an offer to publish it
    form = offer_form(csrf, "Stadtgutschein", then="submit")
    created = await client.post(f"/console/{tenant.city.slug}/content", data=form)
    # then it waits for approval like a shop's item, in the approval queue
    assert created.status_code == 303
    (item,) = await own_items(composed, tenant)
    assert item.status is ContentStatus.SUBMITTED
    queue = await client.get(f"/console/{tenant.city.slug}/moderation", headers=EN)
    assert "Stadtgutschein" in queue.text


async def test_versions_restore_and_withdraw(
    composed: App, tenant: Tenant, editor: tuple[httpx.AsyncClient, str]
) -> None:
    # given a published story of the city, changed once
    client, csrf = editor
    data = ContentInput(kind=ContentKind.STORY, title="Altstadtfest", body_html="Erste Fassung")
    item = await published(composed, tenant, None, data)
    page = f"/console/{tenant.city.slug}/content/{item.id}"
    change = {"csrf_token": csrf, "title": "Altstadtfest 2027", "body_html": "Zweite Fassung"}
    assert (await client.post(page, data={**change, "then": "submit"})).status_code == 303
    first, _ = sorted(
        await content_service.content_versions(composed.ctx, tenant.users["city-admin"], item.id),
        key=lambda v: v.id,
    )
    # when the first version is looked at, then restored
    shown = await client.get(f"{page}/versions/{first.id}", headers=EN)
    restored = await client.post(f"{page}/versions/{first.id}/restore", data={"csrf_token": csrf})
    # then the old title and text are back, still published
    assert shown.status_code == 200
    assert "Erste Fassung" in shown.text
    assert restored.headers["location"] == f"{page}?restored=1"
    now = await content_service.get_content(composed.ctx, tenant.users["city-admin"], item.id)
    assert (now.title, now.source, now.status) == (
        "Altstadtfest",
        "Erste Fassung",
        ContentStatus.PUBLISHED,
    )
    # when it is taken off the site, it is a draft again
    withdrawn = await client.post(f"{page}/withdraw", data={"csrf_token": csrf})
    assert withdrawn.status_code == 303
    gone = await content_service.get_content(composed.ctx, tenant.users["city-admin"], item.id)
    assert gone.status is ContentStatus.DRAFT


async def test_the_live_text_preview_renders_without_storing(
    composed: App, tenant: Tenant, editor: tuple[httpx.AsyncClient, str]
) -> None:
    client, csrf = editor
    answer = await client.post(
        f"/console/{tenant.city.slug}/content/preview",
        data={"csrf_token": csrf, "source": "Markt am **Samstag**"},
    )
    assert answer.status_code == 200
    assert "<strong>Samstag</strong>" in answer.text
    assert await own_items(composed, tenant) == []


async def test_another_citys_admin_gets_404_and_changes_nothing(
    web: Any, composed: App, tenant: Tenant
) -> None:
    # given an offer of our city, and the admin of another city
    item = await published(
        composed, tenant, None, ContentInput(kind=ContentKind.OFFER, title="Stadtangebot")
    )
    other = await make_tenant(composed)
    async with new_client(web) as client:
        csrf = await login(client, other.users["city-admin"])
        base = f"/console/{tenant.city.slug}/content"
        # when they open our list or the item, or try to change or withdraw it
        listed = await client.get(base)
        opened = await client.get(f"{base}/{item.id}")
        through_own = await client.get(f"/console/{other.city.slug}/content/{item.id}")
        changed = await client.post(
            f"{base}/{item.id}", data={"csrf_token": csrf, "title": "Gekapert"}
        )
        withdrawn = await client.post(f"{base}/{item.id}/withdraw", data={"csrf_token": csrf})
    # then it all looks nonexistent, and the item is as it was
    codes = [r.status_code for r in (listed, opened, through_own, changed, withdrawn)]
    assert codes == [404, 404, 404, 404, 404]
    assert (
        await content_service.get_content(composed.ctx, tenant.users["city-admin"], item.id) == item
    )


async def test_a_retailer_is_refused_and_shop_items_and_events_are_not_edited_here(
    web: Any, composed: App, tenant: Tenant, editor: tuple[httpx.AsyncClient, str]
) -> None:
    # given a shop's offer and a city event
    client, _ = editor
    shop_item = await published(
        composed, tenant, tenant.shop_a, ContentInput(kind=ContentKind.OFFER, title="Brillen")
    )
    event = await published_event(
        composed, tenant, None, "Stadtfest", datetime.now(UTC) + timedelta(days=3)
    )
    base = f"/console/{tenant.city.slug}/content"
    # then the console's editor does not open them, nor a new event, and lists neither
    assert (await client.get(f"{base}/{shop_item.id}")).status_code == 404
    assert (await client.get(f"{base}/{event.id}")).status_code == 404
    assert (await client.get(f"{base}/new?kind=event")).status_code == 404
    listed = await client.get(base)
    assert "Brillen" not in listed.text
    assert "Stadtfest" not in listed.text
    # and the city's retailers may not use it
    async with new_client(web) as retailer:
        await login(retailer, tenant.users["retailer-owner"])
        assert (await retailer.get(base)).status_code == 403
