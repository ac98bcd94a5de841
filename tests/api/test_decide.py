"""Content through its lifecycle and POST /decide over HTTP, on the real database."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, ContentKind, ContentStatus
from marktplatz.domain.errors import Forbidden, InvalidInput, NotFound
from marktplatz.domain.touchpoints import Touchpoint
from marktplatz.services import content as content_service
from marktplatz.services import shops, touchpoints, visitors
from marktplatz.services.content import ContentInput, CouponInput
from marktplatz.services.decisions import drain
from marktplatz.store import tables as t
from support import Tenant, make_tenant, make_user, open_all_day, unique
from support import qr_point as point


def offer(title: str = "Gleitsichtbrillen -15 %", **changes: Any) -> ContentInput:
    return ContentInput(kind=ContentKind.OFFER, title=title, **changes)


async def published(composed: App, tenant: Tenant, data: ContentInput, shop: bool = True):  # type: ignore[no-untyped-def]
    owner = tenant.users["retailer-owner"] if shop else tenant.users["city-admin"]
    item = await content_service.create_content(
        composed.ctx, owner, tenant.city.id, tenant.shop_a.id if shop else None, data
    )
    return await content_service.act_on_content(composed.ctx, owner, item.id, Action.SUBMIT)


async def decide(
    client: httpx.AsyncClient, tenant: Tenant, tp: Touchpoint, **extra: object
) -> httpx.Response:
    body = {"city": tenant.city.slug, "touchpoint_id": str(tp.id), **extra}
    return await client.post("/decide", json=body)


async def test_a_published_offer_is_shown_with_its_reasons_and_recorded(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an always-open shop with a published offer and a touchpoint next to it
    await open_all_day(composed, tenant)
    tp = await point(composed, tenant)
    item = await published(composed, tenant, offer(radius_m=200))
    assert item.status is ContentStatus.PUBLISHED
    # when a visitor scans the code
    response = await decide(client, tenant, tp)
    # then the offer is picked, each reason explained in German
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [p["content_id"] for p in answer["picks"]] == [str(item.id)]
    reasons = answer["picks"][0]["reasons"]
    assert [r["code"] for r in reasons] == ["nearby", "open-now", "fresh"]
    assert reasons[0]["text"] == "Das Geschäft ist 0 m von hier entfernt."
    assert reasons[1]["text"] == "Das Geschäft hat jetzt geöffnet."
    english = (await decide(client, tenant, tp, language="en")).json()
    assert english["picks"][0]["reasons"][1]["text"] == "The shop is open now."
    # and every pick is recorded as a content.exposed event
    await drain()
    async with composed.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(t.events.c.kind, t.events.c.touchpoint_id).where(
                    t.events.c.content_id == str(item.id)
                )
            )
        ).all()
    assert rows == [("content.exposed", tp.id), ("content.exposed", tp.id)]


async def test_why_am_i_seeing_this_is_answered_from_what_was_recorded(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a decision that showed an offer
    await open_all_day(composed, tenant)
    tp = await point(composed, tenant)
    item = await published(composed, tenant, offer(radius_m=200))
    shown = (await decide(client, tenant, tp, language="en")).json()
    await drain()
    # when the visitor asks why, in German
    response = await client.get(
        f"/api/v1/decisions/{shown['decision_id']}", headers={"accept-language": "de"}
    )
    # then the recorded reasons come back, translated, as they were when it was shown
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [p["content_id"] for p in answer["picks"]] == [str(item.id)]
    codes = [r["code"] for r in answer["picks"][0]["reasons"]]
    assert codes == [r["code"] for r in shown["picks"][0]["reasons"]]
    assert answer["picks"][0]["reasons"][1]["text"] == "Das Geschäft hat jetzt geöffnet."
    # and a decision nobody made is not found
    missing = await client.get(f"/api/v1/decisions/{uuid.uuid4()}")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "not found"}


async def test_a_change_is_visible_within_a_second(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    await open_all_day(composed, tenant)
    tp = await point(composed, tenant)
    item = await published(composed, tenant, offer())
    assert len((await decide(client, tenant, tp)).json()["picks"]) == 1
    # when the owner withdraws it
    await content_service.act_on_content(
        composed.ctx, tenant.users["retailer-owner"], item.id, Action.WITHDRAW
    )
    await asyncio.sleep(1.05)
    # then visitors no longer see it
    assert (await decide(client, tenant, tp)).json()["picks"] == []


async def test_a_new_or_switched_off_touchpoint_is_followed_within_a_second(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    await open_all_day(composed, tenant)
    await published(composed, tenant, offer())
    first = await point(composed, tenant)
    assert (await decide(client, tenant, first)).status_code == 200
    # when the city adds a touchpoint and switches the first one off
    second = await point(composed, tenant)
    await touchpoints.update_touchpoint(
        composed.ctx, tenant.users["city-admin"], first.id, {"status": "inactive"}
    )
    await asyncio.sleep(1.05)
    # then the new one is served and the old one looks unknown
    assert (await decide(client, tenant, second)).status_code == 200
    assert (await decide(client, tenant, first)).status_code == 404


async def test_a_pharmacy_offer_waits_for_the_city_and_then_shows(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given a pharmacy with its owner
    admin = tenant.users["city-admin"]
    pharmacy = await shops.create_shop(
        composed.ctx,
        admin,
        tenant.city.id,
        {
            "slug": unique("apotheke"),
            "name": "Apotheke am Markt",
            "category": "pharmacy",
            "lat": 52.105,
            "lon": 8.75,
            "opening_hours": "24/7",
        },
    )
    owner = await make_user(composed, "retailer-owner", tenant.city, pharmacy)
    await open_all_day(composed, tenant)
    tp = await point(composed, tenant)
    # when it submits an offer
    item = await content_service.create_content(
        composed.ctx, owner, tenant.city.id, pharmacy.id, offer("Sonnencreme -10 %")
    )
    submitted = await content_service.act_on_content(composed.ctx, owner, item.id, Action.SUBMIT)
    # then it waits for approval, flagged by the category rule, and is not shown
    assert submitted.status is ContentStatus.SUBMITTED
    assert submitted.flags == ("category:pharmacy",)
    queue = await content_service.city_contents(
        composed.ctx, tenant.users["city-editor"], tenant.city.id, ContentStatus.SUBMITTED
    )
    assert [c.id for c in queue] == [item.id]
    assert (await decide(client, tenant, tp)).json()["picks"] == []
    # and the pharmacist cannot approve it; the city editor can
    with pytest.raises(Forbidden):
        await content_service.act_on_content(composed.ctx, owner, item.id, Action.APPROVE)
    await content_service.act_on_content(
        composed.ctx, tenant.users["city-editor"], item.id, Action.APPROVE
    )
    await asyncio.sleep(1.05)
    assert [p["title"] for p in (await decide(client, tenant, tp)).json()["picks"]] == [
        "Sonnencreme -10 %"
    ]


async def test_a_pharmacy_may_not_offer_a_prescription_medicine(
    composed: App, tenant: Tenant
) -> None:
    admin = tenant.users["city-admin"]
    pharmacy = await shops.create_shop(
        composed.ctx,
        admin,
        tenant.city.id,
        {
            "slug": unique("apotheke"),
            "name": "Apotheke",
            "category": "pharmacy",
            "lat": 52.1,
            "lon": 8.7,
        },
    )
    with pytest.raises(InvalidInput) as exc:
        await content_service.create_content(
            composed.ctx,
            admin,
            tenant.city.id,
            pharmacy.id,
            offer("Blutdrucksenker günstiger", prescription_only=True),
        )
    assert exc.value.field == "prescription_only"
    assert await content_service.shop_contents(composed.ctx, admin, pharmacy.id) == []


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"starts_at": "later"}, None),
        ({"coupon": CouponInput(stock=-5)}, "coupon.stock"),
        ({"interests": ["health"]}, "interests"),
        ({"zone_ids": [uuid.uuid4()]}, "zone_ids"),
    ],
)
async def test_bad_content_is_refused_and_nothing_is_stored(
    composed: App, tenant: Tenant, changes: dict[str, Any], field: str | None
) -> None:
    owner = tenant.users["retailer-owner"]
    if field is None:  # a window ending before it starts
        now = composed.ctx.clock.now()
        changes, field = {"starts_at": now, "ends_at": now - timedelta(hours=1)}, "ends_at"
    with pytest.raises(InvalidInput) as exc:
        await content_service.create_content(
            composed.ctx, owner, tenant.city.id, tenant.shop_a.id, offer(**changes)
        )
    assert exc.value.field == field
    assert await content_service.shop_contents(composed.ctx, owner, tenant.shop_a.id) == []


async def test_another_citys_zone_counts_as_unknown(composed: App, tenant: Tenant) -> None:
    other = await make_tenant(composed)
    zone = await __import__("marktplatz.services.cities", fromlist=["create_zone"]).create_zone(
        composed.ctx,
        other.users["city-admin"],
        other.city.id,
        {
            "slug": unique("zone"),
            "name": "Fremd",
            "description": "",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[8.74, 52.1], [8.76, 52.1], [8.76, 52.11], [8.74, 52.1]]],
            },
        },
    )
    with pytest.raises(InvalidInput) as exc:
        await content_service.create_content(
            composed.ctx,
            tenant.users["retailer-owner"],
            tenant.city.id,
            tenant.shop_a.id,
            offer(zone_ids=[zone.id]),
        )
    assert (exc.value.field, exc.value.params) == ("zone_ids", {"value": str(zone.id)})


async def test_retailers_write_only_for_their_own_shop(composed: App, tenant: Tenant) -> None:
    owner, staff = tenant.users["retailer-owner"], tenant.users["retailer-staff"]
    with pytest.raises(NotFound):
        await content_service.create_content(
            composed.ctx, owner, tenant.city.id, tenant.shop_b.id, offer()
        )
    with pytest.raises(Forbidden):
        await content_service.create_content(
            composed.ctx, staff, tenant.city.id, tenant.shop_a.id, offer()
        )
    with pytest.raises(Forbidden):
        await content_service.create_content(composed.ctx, owner, tenant.city.id, None, offer())
    assert await content_service.shop_contents(composed.ctx, owner, tenant.shop_a.id) == []


async def test_an_unknown_or_foreign_touchpoint_gets_the_same_404(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    other = await make_tenant(composed)
    foreign = await point(composed, other)
    missing = await client.post(
        "/decide", json={"city": tenant.city.slug, "touchpoint_id": str(uuid.uuid4())}
    )
    crossed = await client.post(
        "/decide", json={"city": tenant.city.slug, "touchpoint_id": str(foreign.id)}
    )
    assert missing.status_code == crossed.status_code == 404
    assert missing.json() == crossed.json() == {"detail": "Unbekannter Touchpoint."}


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        (b"{not json", 400, "The body is not valid JSON."),
        (
            b'{"city": "x", "code": "abc", "touchpoint_id": "'
            + str(uuid.UUID(int=1)).encode()
            + b'"}',
            422,
            None,
        ),
        (b'{"city": "x"}', 422, None),
        (b'{"city": "x", "location": {"lat": 95, "lon": 8}}', 422, None),
        (b'{"city": "nirgendwo", "location": {"lat": 52, "lon": 8}}', 404, "Unbekannte Stadt."),
    ],
)
async def test_bad_decision_requests(
    client: httpx.AsyncClient, body: bytes, status: int, detail: str | None
) -> None:
    response = await client.post(
        "/decide", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == status, response.text
    if detail is not None:
        assert response.json()["detail"] == detail
    else:
        assert response.json()["detail"][0]["field"] in ("contact", "location.lat")


async def stories_and_a_consenting_visitor(composed: App, tenant: Tenant) -> tuple[Touchpoint, str]:
    """Five city-wide stories, a touchpoint, and a visitor who consented to personalisation."""
    tp = await point(composed, tenant)
    for n in range(5):
        await published(
            composed,
            tenant,
            ContentInput(kind=ContentKind.STORY, title=f"Geschichte {n}"),
            shop=False,
        )
    visitor = uuid.uuid4().hex
    await visitors.record_consent(
        composed.ctx,
        visitor=visitor,
        secret=secrets.token_hex(32),
        purposes={"personalisation": True},
        text_version="2026-11",
    )
    await asyncio.sleep(1.05)  # the engine sees the new content within a second
    return tp, visitor


async def test_the_budget_holds_under_concurrent_pushes_for_one_visitor(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given five city-wide items and a visitor who consented to personalisation
    await open_all_day(composed, tenant)
    tp, visitor = await stories_and_a_consenting_visitor(composed, tenant)
    # when twenty beacon sightings arrive at once
    answers = await asyncio.gather(
        *(decide(client, tenant, tp, mode="push", visitor=visitor) for _ in range(20))
    )
    # then at most the day's budget of 3 items was pushed in total
    assert all(a.status_code == 200 for a in answers)
    assert sum(len(a.json()["picks"]) for a in answers) == 3
    # and a visitor without consent is pushed nothing
    anonymous = await decide(client, tenant, tp, mode="push")
    assert anonymous.json()["picks"] == []


async def test_a_used_up_coupon_is_neither_pushed_nor_shown(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given an offer with one coupon, which has been taken, and a consenting visitor
    tp, visitor = await stories_and_a_consenting_visitor(composed, tenant)
    await open_all_day(composed, tenant)
    await content_service.set_rules(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {
            "quiet_start": None,
            "quiet_end": None,
            "control_share": 0,
            "max_picks": 10,
            "push_budget_per_day": 10,
        },
    )
    item = await published(composed, tenant, offer(coupon=CouponInput(stock=1)))
    await composed.ctx.decisions.claim(item.id, None, [])
    await asyncio.sleep(1.05)
    # when the visitor passes the beacon, and someone scans the code
    pushed = (await decide(client, tenant, tp, mode="push", visitor=visitor)).json()
    pulled = (await decide(client, tenant, tp)).json()
    # then the offer is in neither answer, while the city's stories still are
    for answer in (pushed, pulled):
        assert answer["picks"]
        assert str(item.id) not in [p["content_id"] for p in answer["picks"]]


async def test_pushes_one_after_another_stop_at_the_budget(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given one item per push, a budget of 3 and five city-wide stories
    await open_all_day(composed, tenant)
    await content_service.set_rules(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"quiet_start": None, "quiet_end": None, "control_share": 0, "max_picks": 1},
    )
    tp, visitor = await stories_and_a_consenting_visitor(composed, tenant)
    # when the beacon is seen five times in a row
    answers = [
        (await decide(client, tenant, tp, mode="push", visitor=visitor)).json() for _ in range(5)
    ]
    # then three pushes arrive, one each, and the budget left is told truthfully
    assert [len(a["picks"]) for a in answers] == [1, 1, 1, 0, 0]
    assert [a["budget_left"] for a in answers] == [2, 1, 0, 0, 0]


async def test_the_control_group_records_the_offer_it_did_not_see(
    client: httpx.AsyncClient, composed: App, tenant: Tenant
) -> None:
    # given half of all contacts in the control group, and one offer next to the touchpoint
    await open_all_day(composed, tenant)
    await content_service.set_rules(
        composed.ctx,
        tenant.users["city-admin"],
        tenant.city.id,
        {"quiet_start": None, "quiet_end": None, "control_share": 0.5},
    )
    tp = await point(composed, tenant)
    item = await published(composed, tenant, offer(radius_m=200))
    # when twenty visitors scan the code
    answers = [(await decide(client, tenant, tp)).json() for _ in range(20)]
    await drain()
    # then each decision either showed the offer or held it back, and says which in its events
    async with composed.engine.connect() as conn:
        query = select(t.events.c.kind, t.events.c.decision_id).where(
            t.events.c.content_id == str(item.id)
        )
        rows = (await conn.execute(query)).all()
    shown = {a["decision_id"] for a in answers if a["picks"]}
    held = {a["decision_id"] for a in answers if not a["picks"]}
    # 20 draws of one half: both groups occur (the chance that one does not is 2 × 2^-20)
    assert shown
    assert held
    assert {str(d) for k, d in rows if k == "content.exposed"} == shown
    assert {str(d) for k, d in rows if k == "content.withheld"} == held
    assert len(rows) == 20
