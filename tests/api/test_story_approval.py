"""A shop's own story follows the city's approval rules: submitted, reviewed, then published."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, ContentStatus
from marktplatz.domain.errors import Forbidden, InvalidInput, NotFound
from marktplatz.domain.shops import Shop
from marktplatz.domain.story import StoryVersion
from marktplatz.services import content, shops, story
from marktplatz.store import tables as t
from support import Tenant, login, make_tenant, new_client

EN = {"accept-language": "en"}


async def approve_everything(composed: App, tenant: Tenant) -> None:
    admin = tenant.users["city-admin"]
    await content.set_rules(composed.ctx, admin, tenant.city.id, {"approve_everything": True})


async def shop_now(composed: App, tenant: Tenant) -> Shop:
    return await shops.get_shop(composed.ctx, tenant.users["city-admin"], tenant.shop_a.id)


async def version(composed: App, version_id: int) -> StoryVersion:
    async with composed.ctx.uow() as uow:
        found = await uow.story_versions.get(version_id)
    assert found is not None
    return found


async def audit_lines(composed: App, tenant: Tenant) -> list[tuple[str, str]]:
    log = t.audit_log.c
    query = (
        select(log.action, log.detail)
        .where(log.object_id == str(tenant.shop_a.id), log.action.startswith("shop.story"))
        .order_by(log.id)
    )
    async with composed.engine.connect() as conn:
        return [(row[0], str(row[1])) for row in await conn.execute(query)]


async def save(composed: App, tenant: Tenant, text: str, language: str = "de") -> int:
    owner = tenant.users["retailer-owner"]
    return await story.save_story(composed.ctx, owner, tenant.shop_a.id, language, text)


# --- the service, under both rule settings ----------------------------------------------------


async def test_without_an_approval_rule_a_story_is_published_at_once(
    composed: App, tenant: Tenant
) -> None:
    # when (an optician: the default rules ask approval only of pharmacies)
    version_id = await save(composed, tenant, "Wir *schleifen* selbst")
    # then
    assert (await shop_now(composed, tenant)).story_html == "<p>Wir <em>schleifen</em> selbst</p>"
    kept = await version(composed, version_id)
    assert (kept.status, kept.flags) == (ContentStatus.PUBLISHED, ())
    admin = tenant.users["city-admin"]
    assert await story.waiting_stories(composed.ctx, admin, tenant.city.id) == []
    assert [action for action, _ in await audit_lines(composed, tenant)] == ["shop.story_updated"]


async def test_with_approval_for_everything_a_changed_story_waits_and_the_old_one_stays(
    composed: App, tenant: Tenant
) -> None:
    # given a published story, then the city asks to approve everything
    await save(composed, tenant, "Alt")
    await approve_everything(composed, tenant)
    # when
    version_id = await save(composed, tenant, "Neu")
    # then
    assert (await shop_now(composed, tenant)).story_html == "<p>Alt</p>"
    kept = await version(composed, version_id)
    assert (kept.status, kept.flags) == (ContentStatus.SUBMITTED, ("city:approve-everything",))
    admin = tenant.users["city-admin"]
    (waiting,) = await story.waiting_stories(composed.ctx, admin, tenant.city.id)
    assert (waiting.version.id, waiting.shown_source, waiting.published) == (
        version_id,
        "Alt",
        "<p>Alt</p>",
    )
    assert waiting.changes == [("-", "Alt"), ("+", "Neu")]
    lines = await audit_lines(composed, tenant)
    assert [action for action, _ in lines] == ["shop.story_updated", "shop.story_submitted"]
    assert "city:approve-everything" in lines[-1][1]


async def test_a_category_rule_holds_back_the_stories_of_that_category_only(
    composed: App, tenant: Tenant
) -> None:
    # given the city asks to approve the content of clothes shops (shop A is an optician)
    admin = tenant.users["city-admin"]
    rules = {"category_rules": [{"category": "clothes", "requires_approval": True}]}
    await content.set_rules(composed.ctx, admin, tenant.city.id, rules)
    # when
    at_once = await save(composed, tenant, "Brillen")
    # and the city asks the same of opticians
    rules = {"category_rules": [{"category": "optician", "requires_approval": True}]}
    await content.set_rules(composed.ctx, admin, tenant.city.id, rules)
    waiting = await save(composed, tenant, "Kontaktlinsen")
    # then
    assert (await version(composed, at_once)).status is ContentStatus.PUBLISHED
    kept = await version(composed, waiting)
    assert (kept.status, kept.flags) == (ContentStatus.SUBMITTED, ("category:optician",))
    assert (await shop_now(composed, tenant)).story_html == "<p>Brillen</p>"


async def test_a_flagged_word_of_the_category_holds_back_a_story(
    composed: App, tenant: Tenant
) -> None:
    # given a rule for opticians that asks for no approval, only flags a word
    admin = tenant.users["city-admin"]
    rules = {"category_rules": [{"category": "optician", "flagged_terms": ["heilt"]}]}
    await content.set_rules(composed.ctx, admin, tenant.city.id, rules)
    # when
    plain = await save(composed, tenant, "Brillen nach Maß")
    flagged = await save(composed, tenant, "Unsere Brille heilt Kopfweh")
    # then
    assert (await version(composed, plain)).status is ContentStatus.PUBLISHED
    assert (await version(composed, flagged)).flags == ("term:heilt",)


async def test_the_citys_own_staff_publish_a_story_at_once_as_they_would_approve_it(
    composed: App, tenant: Tenant
) -> None:
    # given
    await approve_everything(composed, tenant)
    admin = tenant.users["city-admin"]
    # when
    version_id = await story.save_story(
        composed.ctx, admin, tenant.shop_a.id, "de", "Von der Stadt"
    )
    # then
    assert (await version(composed, version_id)).status is ContentStatus.PUBLISHED
    assert (await shop_now(composed, tenant)).story_html == "<p>Von der Stadt</p>"


async def test_a_newer_save_sets_the_waiting_one_aside_so_the_city_decides_on_the_newest(
    composed: App, tenant: Tenant
) -> None:
    # given
    await approve_everything(composed, tenant)
    first = await save(composed, tenant, "Erster Entwurf")
    # when
    second = await save(composed, tenant, "Zweiter Entwurf")
    # then
    assert (await version(composed, first)).status is ContentStatus.DRAFT
    admin = tenant.users["city-admin"]
    waiting = await story.waiting_stories(composed.ctx, admin, tenant.city.id)
    assert [w.version.id for w in waiting] == [second]
    with pytest.raises(InvalidInput):
        await story.review_story(composed.ctx, admin, tenant.city.id, first, Action.APPROVE)


async def test_restoring_an_older_version_goes_through_the_same_rule(
    composed: App, tenant: Tenant
) -> None:
    # given
    old = await save(composed, tenant, "Alt")
    await save(composed, tenant, "Jetzt")
    await approve_everything(composed, tenant)
    # when
    owner = tenant.users["retailer-owner"]
    restored = await story.restore_story(composed.ctx, owner, tenant.shop_a.id, old)
    # then
    assert (await version(composed, restored)).status is ContentStatus.SUBMITTED
    assert (await shop_now(composed, tenant)).story_html == "<p>Jetzt</p>"
    action, detail = (await audit_lines(composed, tenant))[-1]
    assert action == "shop.story_restored"
    assert "submitted" in detail


async def test_only_the_citys_staff_review_and_another_city_sees_nothing(
    composed: App, tenant: Tenant
) -> None:
    # given
    await approve_everything(composed, tenant)
    version_id = await save(composed, tenant, "Neu")
    other = await make_tenant(composed)
    ctx, city_id = composed.ctx, tenant.city.id
    # when / then
    for role in ("retailer-owner", "retailer-staff"):
        with pytest.raises(Forbidden):
            await story.review_story(ctx, tenant.users[role], city_id, version_id, Action.APPROVE)
        with pytest.raises(Forbidden):
            await story.waiting_stories(ctx, tenant.users[role], city_id)
    foreign = other.users["city-admin"]
    with pytest.raises(NotFound):
        await story.review_story(ctx, foreign, city_id, version_id, Action.APPROVE)
    with pytest.raises(NotFound):  # its own city, another city's version
        await story.review_story(ctx, foreign, other.city.id, version_id, Action.APPROVE)
    assert await story.waiting_stories(ctx, foreign, other.city.id) == []
    assert (await version(composed, version_id)).status is ContentStatus.SUBMITTED
    assert (await shop_now(composed, tenant)).story_html == ""


# --- through the portal, the console and the visitor page -------------------------------------


@pytest.fixture
async def owner(web: Any, tenant: Tenant) -> Any:
    async with new_client(web) as client:
        client.headers.update(EN)
        yield client, await login(client, tenant.users["retailer-owner"])


@pytest.fixture
async def editor(web: Any, tenant: Tenant) -> Any:
    """A city editor (a moderator, not an admin)."""
    async with new_client(web) as client:
        client.headers.update(EN)
        yield client, await login(client, tenant.users["city-editor"])


def story_url(tenant: Tenant) -> str:
    return f"/portal/shops/{tenant.shop_a.id}/story"


async def test_the_shop_submits_and_sees_that_its_story_waits_while_visitors_see_the_old_one(
    composed: App, tenant: Tenant, owner: tuple[httpx.AsyncClient, str]
) -> None:
    # given
    client, csrf = owner
    await save(composed, tenant, "Die alte Geschichte")
    await approve_everything(composed, tenant)
    # when
    sent = await client.post(
        story_url(tenant), data={"source": "Die **neue** Geschichte", "csrf_token": csrf}
    )
    page = await client.get(story_url(tenant) + "?language=de&done=saved")
    public = await client.get(f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}")
    # then
    assert sent.status_code == 303
    assert "Your story has been saved and sent to the city for approval." in page.text
    assert "Waiting for the city&#39;s approval" in page.text
    assert "Die **neue** Geschichte</textarea>" in page.text  # the retailer goes on from there
    assert "Die alte Geschichte" in public.text
    assert "neue" not in public.text


async def test_the_city_approves_from_the_queue_and_the_shop_page_shows_the_new_story(
    composed: App, tenant: Tenant, editor: tuple[httpx.AsyncClient, str]
) -> None:
    # given
    client, csrf = editor
    await save(composed, tenant, "Die alte Geschichte")
    await approve_everything(composed, tenant)
    version_id = await save(composed, tenant, "Die **neue** Geschichte")
    base = f"/console/{tenant.city.slug}"
    # when
    queue = await client.get(f"{base}/moderation")
    approved = await client.post(
        f"{base}/story/{version_id}/review", data={"verdict": "approve", "csrf_token": csrf}
    )
    after = await client.get(f"{base}/moderation")
    public = await client.get(f"/{tenant.city.slug}/shops/{tenant.shop_a.slug}")
    # then
    assert queue.status_code == 200
    assert f'action="{base}/story/{version_id}/review"' in queue.text
    assert "<p>Die <strong>neue</strong> Geschichte</p>" in queue.text  # the preview
    assert "Removed: </span>Die alte Geschichte</del>" in queue.text  # what changed
    assert "Added: </span>Die **neue** Geschichte</ins>" in queue.text
    assert "The city approves everything." in queue.text
    assert approved.status_code == 303
    assert f"/story/{version_id}/review" not in after.text
    assert "<p>Die <strong>neue</strong> Geschichte</p>" in public.text
    assert "alte" not in public.text
    assert (await version(composed, version_id)).status is ContentStatus.PUBLISHED
    action, detail = (await audit_lines(composed, tenant))[-1]
    assert action == "shop.story_approve"
    assert f"version {version_id}" in detail


async def test_the_city_sends_a_story_back_with_its_reason_which_the_shop_reads(
    composed: App,
    tenant: Tenant,
    editor: tuple[httpx.AsyncClient, str],
    owner: tuple[httpx.AsyncClient, str],
) -> None:
    # given
    client, csrf = editor
    await save(composed, tenant, "Die alte Geschichte")
    await approve_everything(composed, tenant)
    version_id = await save(composed, tenant, "Wir heilen alles")
    url = f"/console/{tenant.city.slug}/story/{version_id}/review"
    # when
    no_reason = await client.post(url, data={"verdict": "reject", "csrf_token": csrf})
    unchanged = await version(composed, version_id)
    rejected = await client.post(
        url, data={"verdict": "reject", "note": "Bitte keine Heilversprechen.", "csrf_token": csrf}
    )
    shop_page, _ = owner
    page = await shop_page.get(story_url(tenant))
    # then
    assert no_reason.status_code == 422
    assert 'id="e-note-story-' in no_reason.text
    assert f'aria-invalid="true" aria-describedby="e-note-story-{version_id}"' in no_reason.text
    assert unchanged.status is ContentStatus.SUBMITTED
    assert rejected.status_code == 303
    kept = await version(composed, version_id)
    assert (kept.status, kept.review_note) == (
        ContentStatus.REJECTED,
        "Bitte keine Heilversprechen.",
    )
    assert "Message from the city:</strong> Bitte keine Heilversprechen." in page.text
    # and the editor, reloaded after its save, no longer says the story is shown now
    reloaded = await shop_page.get(story_url(tenant) + "?language=de&done=saved")
    assert "Message from the city:" in reloaded.text
    assert "is now shown on your shop page" not in reloaded.text
    assert (await shop_now(composed, tenant)).story_html == "<p>Die alte Geschichte</p>"
    action, _ = (await audit_lines(composed, tenant))[-1]
    assert action == "shop.story_reject"


async def test_a_retailer_cannot_review_and_nothing_changes(
    composed: App, tenant: Tenant, owner: tuple[httpx.AsyncClient, str]
) -> None:
    # given
    client, csrf = owner
    await approve_everything(composed, tenant)
    version_id = await save(composed, tenant, "Neu")
    url = f"/console/{tenant.city.slug}/story/{version_id}/review"
    # when
    tried = await client.post(url, data={"verdict": "approve", "csrf_token": csrf})
    # then
    assert tried.status_code == 403
    assert (await version(composed, version_id)).status is ContentStatus.SUBMITTED
    assert (await shop_now(composed, tenant)).story_html == ""


async def test_a_story_sent_through_the_json_api_follows_the_same_rule(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    # given
    await save(composed, tenant, "Alt")
    await approve_everything(composed, tenant)
    headers = {"x-csrf-token": await login(client, tenant.users["retailer-owner"]), **EN}
    # when
    changed = await client.patch(
        f"/api/v1/shops/{tenant.shop_a.id}", json={"story_html": "Neu"}, headers=headers
    )
    # then the shop keeps its approved story, and the new one waits
    assert changed.status_code == 200
    assert changed.json()["story_html"] == "<p>Alt</p>"
    admin = tenant.users["city-admin"]
    (waiting,) = await story.waiting_stories(composed.ctx, admin, tenant.city.id)
    assert waiting.version.source == "Neu"
