"""The digital-fitness check: an owner answers it, reads scores and next steps, the city plans."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from marktplatz.bootstrap import App
from marktplatz.domain.fitness import QUESTIONS
from marktplatz.domain.shops import Shop
from marktplatz.services import coupons, fitness, shops
from marktplatz.store import tables as t
from support import Tenant, login, new_client, published_offer, saved_coupon, unique

EN = {"accept-language": "en"}
DE = {"accept-language": "de"}
BEST = {q.key: q.options[0].value for q in QUESTIONS}
WORST = {q.key: q.options[-1].value for q in QUESTIONS}


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web) as c:
        yield c


def result_url(shop: Shop) -> str:
    return f"/portal/shops/{shop.id}/fitness"


def check_url(shop: Shop) -> str:
    return f"/portal/shops/{shop.id}/fitness/check"


async def checks_of(composed: App, shop: Shop) -> list[Any]:
    query = select(t.fitness_checks).where(t.fitness_checks.c.shop_id == shop.id)
    async with composed.engine.connect() as conn:
        return list(await conn.execute(query.order_by(t.fitness_checks.c.created_at)))


async def audited(composed: App, shop: Shop) -> int:
    log = t.audit_log.c
    query = select(func.count()).where(
        log.action == "fitness.checked", log.object_id == str(shop.id)
    )
    async with composed.engine.connect() as conn:
        return int((await conn.execute(query)).scalar() or 0)


def medians_shown(page: str) -> list[int]:
    return [int(m) for m in re.findall(r"city median (\d+)", page)]


async def extra_shop(composed: App, tenant: Tenant, name: str) -> Shop:
    return await shops.create_shop(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"slug": unique("laden"), "name": name, "category": "books", "lat": 52.1, "lon": 8.7},
    )


async def test_owner_takes_the_check_and_sees_scores_and_steps(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    csrf = await login(client, tenant.users["retailer-owner"])
    before = await client.get(result_url(tenant.shop_a), headers=EN)
    form = await client.get(check_url(tenant.shop_a), headers=EN)
    # when
    sent = await client.post(
        check_url(tenant.shop_a), data={**WORST, "csrf_token": csrf}, headers=EN
    )
    page = await client.get(result_url(tenant.shop_a) + "?saved=1", headers=EN)
    # then
    assert before.status_code == 200
    assert "How digitally fit is your shop?" in before.text
    assert form.status_code == 200
    assert form.text.count('type="radio"') == sum(len(q.options) for q in QUESTIONS)
    assert "How up to date are your opening hours on Google and here?" in form.text
    assert sent.status_code == 303
    assert sent.headers["location"] == f"{result_url(tenant.shop_a)}?saved=1"
    (row,) = await checks_of(composed, tenant.shop_a)
    assert row.answers == WORST
    assert row.created_by == tenant.users["retailer-owner"].id
    assert row.city_id == tenant.city.id
    # Reviews and social media rest on the answers alone: the worst answers give 0.
    assert row.scores["reviews"] == 0
    assert row.scores["social"] == 0
    # The profile has a street and readable hours but no phone, website or pictures.
    assert row.scores["visibility"] == 25
    assert await audited(composed, tenant.shop_a) == 1
    assert page.status_code == 200
    assert "Your check has been saved" in page.text
    assert f'<span class="fitness-total">{row.scores["overall"]}</span>' in page.text
    assert "You have not published an offer yet." in page.text
    assert f'href="/portal/shops/{tenant.shop_a.id}/content"' in page.text
    assert "Comparison from 5 participating shops" in page.text
    assert medians_shown(page.text) == []


async def test_the_steps_name_the_shops_own_gaps_and_link_where_they_are_done(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    await fitness.take_check(composed.ctx, tenant.users["city-admin"], tenant.shop_a.id, BEST)
    await login(client, tenant.users["retailer-owner"])
    # when
    page = await client.get(result_url(tenant.shop_a), headers=EN)
    # then
    assert page.status_code == 200
    assert "You have no pictures yet." in page.text
    assert "Your shop has no QR code or NFC tag yet." in page.text
    assert f'href="/portal/shops/{tenant.shop_a.id}/touchpoints"' in page.text
    assert f'href="/portal/shops/{tenant.shop_a.id}"' in page.text


async def test_the_questionnaire_is_prefilled_with_the_last_answers(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    answers = {**BEST, "reviews_reply": "good"}
    owner = tenant.users["retailer-owner"]
    await fitness.take_check(composed.ctx, owner, tenant.shop_a.id, answers)
    await login(client, tenant.users["retailer-owner"])
    # when
    form = await client.get(check_url(tenant.shop_a), headers=EN)
    # then
    checked = re.findall(r'name="([a-z_]+)" value="([a-z]+)" id="[^"]+" checked', form.text)
    assert dict(checked) == answers


async def test_missing_and_unknown_answers_save_nothing_and_keep_the_form(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    csrf = await login(client, tenant.users["retailer-owner"])
    sent = {**BEST, "social_plan": "jeden-tag", "mood": "good"}
    del sent["reviews_ask"]
    # when
    response = await client.post(
        check_url(tenant.shop_a), data={**sent, "csrf_token": csrf}, headers=EN
    )
    # then
    assert response.status_code == 422
    assert "Please check your input." in response.text
    assert "Please choose one of the answers to this question." in response.text
    assert "This is not one of the answers offered; please choose one." in response.text
    assert "This question is not part of the check." in response.text
    assert 'id="e-reviews_ask"' in response.text
    assert 'id="e-social_plan"' in response.text
    kept = r'name="hours_current" value="always" id="f-hours_current" checked'
    assert re.search(kept, response.text)
    assert await checks_of(composed, tenant.shop_a) == []
    assert await audited(composed, tenant.shop_a) == 0


async def test_a_cashier_reads_the_result_but_cannot_take_the_check(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    await fitness.take_check(composed.ctx, tenant.users["retailer-owner"], tenant.shop_a.id, BEST)
    csrf = await login(client, tenant.users["retailer-staff"])
    # when
    result = await client.get(result_url(tenant.shop_a), headers=EN)
    form = await client.get(check_url(tenant.shop_a), headers=EN)
    posted = await client.post(
        check_url(tenant.shop_a), data={**WORST, "csrf_token": csrf}, headers=EN
    )
    # then
    assert result.status_code == 200
    assert "Your next steps" in result.text
    assert check_url(tenant.shop_a) not in result.text
    assert form.status_code == 403
    assert posted.status_code == 403
    assert len(await checks_of(composed, tenant.shop_a)) == 1


async def test_another_shops_check_looks_missing(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    await fitness.take_check(composed.ctx, tenant.users["city-admin"], tenant.shop_b.id, WORST)
    csrf = await login(client, tenant.users["retailer-owner"])
    # when
    result = await client.get(result_url(tenant.shop_b), headers=EN)
    posted = await client.post(
        check_url(tenant.shop_b), data={**BEST, "csrf_token": csrf}, headers=EN
    )
    # then
    assert result.status_code == 404
    assert posted.status_code == 404
    assert len(await checks_of(composed, tenant.shop_b)) == 1


async def test_without_the_csrf_token_nothing_is_saved(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    await login(client, tenant.users["retailer-owner"])
    response = await client.post(check_url(tenant.shop_a), data=BEST, headers=EN)
    assert response.status_code == 403
    assert await checks_of(composed, tenant.shop_a) == []


async def test_the_city_median_appears_with_five_shops_and_not_with_four(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given four shops of the city with a check
    admin = tenant.users["city-admin"]
    others = [await extra_shop(composed, tenant, f"Buchladen {n}") for n in range(3)]
    for shop in (tenant.shop_a, tenant.shop_b, *others[:2]):
        await fitness.take_check(composed.ctx, admin, shop.id, BEST)
    await login(client, tenant.users["retailer-owner"])
    with_four = await client.get(result_url(tenant.shop_a), headers=EN)
    # when a fifth takes part
    await fitness.take_check(composed.ctx, admin, others[2].id, WORST)
    with_five = await client.get(result_url(tenant.shop_a), headers=EN)
    # then
    assert medians_shown(with_four.text) == []
    assert "Comparison from 5 participating shops" in with_four.text
    assert "So far 4 of the city" in with_four.text
    found = await fitness.shop_fitness(composed.ctx, admin, tenant.shop_a.id)
    assert found.medians is not None
    assert medians_shown(with_five.text) == [round(v) for v in found.medians.values()]
    assert "Comparison from 5 participating shops" not in with_five.text
    assert others[2].name not in with_five.text


async def test_taking_the_check_twice_shows_the_trend(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    owner = tenant.users["retailer-owner"]
    first = await fitness.take_check(composed.ctx, owner, tenant.shop_a.id, WORST)
    second = await fitness.take_check(composed.ctx, owner, tenant.shop_a.id, BEST)
    await login(client, owner)
    # when
    page = await client.get(result_url(tenant.shop_a), headers=EN)
    # then
    overall = (first.scores.overall, second.scores.overall)
    assert overall[0] < overall[1]
    assert page.text.count("<circle ") == 2
    assert f"from {overall[0]} to {overall[1]} points" in page.text
    assert f"up from {overall[0]}" in page.text
    assert len(re.findall(r"<tr>\s*<th scope=\"row\">", page.text)) == 2


async def test_offers_and_redeemed_coupons_count_as_signals(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given an offer of shop A of today, and one of its coupons redeemed at the till
    offer = await published_offer(composed, tenant, tenant.shop_a, "Brillenputztuch")
    saved = await saved_coupon(composed, offer)
    await coupons.redeem_coupon(composed.ctx, tenant.users["retailer-staff"], saved.code)
    owner = tenant.users["retailer-owner"]
    # when
    check = await fitness.take_check(composed.ctx, owner, tenant.shop_a.id, BEST)
    found = await fitness.shop_fitness(composed.ctx, owner, tenant.shop_a.id)
    await login(client, owner)
    page = await client.get(result_url(tenant.shop_a), headers=EN)
    # then
    assert found.signals.offers_30d == 1
    assert found.signals.last_offer_days == 0
    assert found.signals.redeemed_30d == 1
    assert check.scores.by_dimension["offers"] > 50
    assert "You published 1 offer in the last 30 days." in page.text
    assert "Coupons redeemed at your till in the last 30 days: 1." in page.text


async def test_city_staff_see_the_distribution_and_workshop_topics(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    admin = tenant.users["city-admin"]
    await fitness.take_check(composed.ctx, admin, tenant.shop_a.id, WORST)
    await fitness.take_check(composed.ctx, admin, tenant.shop_a.id, BEST)  # only the latest counts
    await fitness.take_check(composed.ctx, admin, tenant.shop_b.id, WORST)
    await login(client, tenant.users["city-editor"])
    # when
    page = await client.get(f"/console/{tenant.city.slug}/fitness", headers=EN)
    # then
    assert page.status_code == 200
    assert "2 of 2 shops have taken the digital-fitness check." in page.text
    rows = re.findall(r'<th scope="row">([^<]+)</th>((?:\s*<td>\d+</td>){4})', page.text)
    counts = {label: [int(n) for n in re.findall(r"\d+", cells)] for label, cells in rows}
    assert counts["Reviews and replies"] == [1, 0, 0, 1]
    assert counts["Social media"] == [1, 0, 0, 1]
    topic = r"<li><strong>([^<]+)</strong>: (\d+) of 2 shops below 50 points"
    topics = re.findall(topic, page.text)
    # Every area has one weak shop; offers (none published, no coupon redeemed) score lowest.
    assert len(topics) == 3
    assert topics[0] == ("Offers and coupons", "1")
    assert tenant.shop_a.name in page.text
    assert tenant.shop_b.name in page.text
    assert "from 5 shops" in page.text


async def test_retailers_do_not_open_the_city_overview(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    await fitness.take_check(composed.ctx, tenant.users["city-admin"], tenant.shop_b.id, WORST)
    await login(client, tenant.users["retailer-owner"])
    page = await client.get(f"/console/{tenant.city.slug}/fitness", headers=EN)
    assert page.status_code == 403
    assert tenant.shop_b.name not in page.text
