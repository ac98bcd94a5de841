"""The moderation area: the queue leads to the rules, where city admins edit the category rules
(approval, prescription medicines, flagged words) next to the notification budget."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from marktplatz.bootstrap import App
from marktplatz.domain.categories import ShopCategory
from marktplatz.domain.content import Action, ContentKind, ContentStatus
from marktplatz.domain.rules import MAX_TERMS, CategoryRule, CityRules
from marktplatz.services import content as content_service
from marktplatz.services.content import ContentInput
from support import Tenant, login, new_client

EN = {"accept-language": "en"}
FORM = {  # the defaults, as the rules page shows them
    "push_budget_per_day": "3",
    "quiet_start": "20:00",
    "quiet_end": "08:00",
    "strategy": "score",
    "control_share": "10",
    "max_picks": "3",
    "repeats_per_day": "2",
    "opening_soon_minutes": "30",
    "open_offer": "1",
}


@pytest.fixture
async def admin(web: Any, tenant: Tenant) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    async with new_client(web) as client:
        yield client, await login(client, tenant.users["city-admin"])


async def rules_of(composed: App, tenant: Tenant) -> CityRules:
    return await content_service.get_rules(composed.ctx, tenant.users["city-admin"], tenant.city.id)


async def test_the_queue_links_to_the_rules_and_they_show_every_category(
    tenant: Tenant, admin: tuple[httpx.AsyncClient, str]
) -> None:
    client, _ = admin
    queue = await client.get(f"/console/{tenant.city.slug}/moderation", headers=EN)
    assert f'href="/console/{tenant.city.slug}/rules#cat-h"' in queue.text
    page = await client.get(f"/console/{tenant.city.slug}/rules", headers=EN)
    assert 'name="cat_pharmacy_approval" value="1" aria-labelledby' in page.text
    assert 'id="f-cat_pharmacy_approval" name="cat_pharmacy_approval" value="1"' in page.text
    assert 'name="cat_bakery_terms" value=""' in page.text
    assert 'name="cat_pharmacy_terms" value="rezeptpflichtig, verschreibungspflichtig' in page.text


async def test_an_admin_sets_a_category_rule_that_then_holds_items_back(
    composed: App, tenant: Tenant, admin: tuple[httpx.AsyncClient, str]
) -> None:
    client, csrf = admin
    # when the admin asks for approval of fashion items that say "gratis" and keeps the pharmacy's
    form = {
        **FORM,
        "category_rules_shown": "1",
        "cat_pharmacy_approval": "1",
        "cat_pharmacy_no_rx": "1",
        "cat_pharmacy_terms": "rezeptpflichtig",
        "cat_clothes_terms": "Gratis, Sonderpreis ,",
        "push_budget_per_day": "2",
        "csrf_token": csrf,
    }
    saved = await client.post(f"/console/{tenant.city.slug}/rules", data=form)
    # then
    assert saved.status_code == 303
    rules = await rules_of(composed, tenant)
    assert rules.push_budget_per_day == 2
    assert rules.category_rules == (
        CategoryRule(ShopCategory.PHARMACY, True, True, ("rezeptpflichtig",)),
        CategoryRule(ShopCategory.CLOTHES, flagged_terms=("gratis", "sonderpreis")),
    )
    owner = tenant.users["city-admin"]
    data = ContentInput(kind=ContentKind.OFFER, title="Gratis-Schal zu jedem Mantel")
    item = await content_service.create_content(
        composed.ctx, owner, tenant.city.id, tenant.shop_b.id, data
    )
    done = await content_service.act_on_content(composed.ctx, owner, item.id, Action.SUBMIT)
    assert (done.status, done.flags) == (ContentStatus.SUBMITTED, ("term:gratis",))


async def test_too_many_words_are_named_at_their_category_and_nothing_changes(
    composed: App, tenant: Tenant, admin: tuple[httpx.AsyncClient, str]
) -> None:
    client, csrf = admin
    before = await rules_of(composed, tenant)
    words = ", ".join(f"wort{i}" for i in range(MAX_TERMS + 1))
    form = {**FORM, "category_rules_shown": "1", "cat_books_terms": words, "csrf_token": csrf}
    refused = await client.post(f"/console/{tenant.city.slug}/rules", data=form, headers=EN)
    assert refused.status_code == 422
    assert '<p class="field-error" id="e-cat_books_terms">At most 50 words, please.</p>' in (
        refused.text
    )
    assert f'value="{words}"' in refused.text  # kept for correcting
    assert await rules_of(composed, tenant) == before


async def test_a_form_without_the_category_rows_keeps_the_category_rules(
    composed: App, tenant: Tenant, admin: tuple[httpx.AsyncClient, str]
) -> None:
    client, csrf = admin
    before = await rules_of(composed, tenant)
    saved = await client.post(
        f"/console/{tenant.city.slug}/rules", data={**FORM, "max_picks": "2", "csrf_token": csrf}
    )
    assert saved.status_code == 303
    after = await rules_of(composed, tenant)
    assert (after.max_picks, after.category_rules) == (2, before.category_rules)
