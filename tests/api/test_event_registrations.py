"""Registration for the city's events: register, full, deadline, cancel by the one-time link,
the participant list and CSV for city staff only, retailers' workshops, rate limit, purge."""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import html
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.domain.content import Content, ContentKind
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.registrations import KEEP_DAYS, Registration
from marktplatz.services import registrations, retention
from marktplatz.services.accounts import hash_token
from marktplatz.services.content import ContentInput
from marktplatz.store import tables as t
from support import Tenant, login, make_tenant, new_client, unique

EN = {"accept-language": "en"}


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web) as c:
        yield c


def soon(days: float = 10) -> datetime:
    return (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)


async def city_event(
    composed: App,
    tenant: Tenant,
    audience: str | None = "public",
    capacity: int | None = None,
    closes_at: datetime | None = None,
    starts_at: datetime | None = None,
    title: str = "Digital-Werkstatt",
) -> Content:
    """A published event of the city with registration in Marktplatz (audience None: none)."""
    starts = starts_at or soon()
    data = ContentInput(
        kind=ContentKind.EVENT,
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=2),
        place="Rathaus, Saal 2",
    )
    terms = None if audience is None else (audience, capacity, closes_at)
    return await registrations.create_city_event(
        composed.ctx, tenant.users["city-admin"], tenant.city.id, data, terms
    )


def register_url(tenant: Tenant, event: Content) -> str:
    return f"/{tenant.city.slug}/events/{event.id}/register"


async def register(
    client: httpx.AsyncClient,
    tenant: Tenant,
    event: Content,
    name: str = "Anna Muster",
    email: str | None = None,
    consent: bool = True,
    csrf: str = "",
) -> httpx.Response:
    data = {"name": name, "email": email or f"{unique('anna')}@example.org"}
    if consent:
        data["consent"] = "1"
    if csrf:
        data["csrf_token"] = csrf
    return await client.post(register_url(tenant, event), data=data, headers=EN)


def cancel_link(page: str) -> str:
    match = re.search(r'class="cancel-link" href="([^"]+)"', page)
    assert match, page
    return html.unescape(match[1]).removeprefix("http://testserver")


async def people(composed: App, event: Content) -> list[Registration]:
    async with composed.ctx.uow() as uow:
        return await uow.registrations.list_for_event(event.id)


async def test_a_visitor_registers_and_gets_the_cancel_link_once(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    # given
    event = await city_event(composed, tenant, capacity=20)
    form = await client.get(register_url(tenant, event), headers=EN)
    assert form.status_code == 200
    assert "20 places left" in form.text
    assert 'name="consent"' in form.text
    # when
    done = await register(client, tenant, event, email="Anna@Example.org")
    # then
    assert done.status_code == 201, done.text
    assert done.headers["cache-control"] == "no-store"
    assert "x-offline-ok" not in done.headers
    link = cancel_link(done.text)
    token = link.rsplit("/", 1)[1]
    (person,) = await people(composed, event)
    assert (person.name, person.email, person.user_id) == ("Anna Muster", "anna@example.org", None)
    async with composed.ctx.uow() as uow:
        stored = await uow.registrations.by_token(hash_token(token))
    assert stored == person
    async with composed.engine.connect() as conn:
        hashes = (await conn.execute(select(t.registrations.c.token_hash))).scalars().all()
    assert token not in hashes  # only the hash of the link is kept


async def test_bad_input_keeps_the_values_and_saves_nothing(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant)
    # when: no consent
    refused = await register(client, tenant, event, name="Bert Beispiel", consent=False)
    # then
    assert refused.status_code == 422
    assert "Please agree that the city may contact you about this event" in refused.text
    assert 'value="Bert Beispiel"' in refused.text
    assert await people(composed, event) == []


async def test_a_full_event_refuses_and_the_calendar_says_so(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant, capacity=1, title="Kleiner Kurs")
    assert (await register(client, tenant, event)).status_code == 201
    # when
    late = await register(client, tenant, event, name="Zu Spät")
    # then
    assert late.status_code == 409
    assert "This event is full." in late.text
    assert len(await people(composed, event)) == 1
    calendar = await client.get(f"/{tenant.city.slug}/events", headers=EN)
    assert "Fully booked" in calendar.text
    assert register_url(tenant, event) not in calendar.text


async def test_after_the_deadline_nobody_can_register(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant, closes_at=soon(-1))
    page = await client.get(register_url(tenant, event), headers=EN)
    assert "Registration for this event has closed." in page.text
    assert 'name="email"' not in page.text
    refused = await register(client, tenant, event)
    assert refused.status_code == 409
    assert await people(composed, event) == []


async def test_one_address_registers_once(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant)
    assert (await register(client, tenant, event, email="zwei@example.org")).status_code == 201
    again = await register(client, tenant, event, email="ZWEI@example.org")
    assert again.status_code == 409
    assert "registered for this event already" in again.text
    assert len(await people(composed, event)) == 1


async def test_the_cancel_link_deletes_the_registration_and_works_once(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant, capacity=1)
    link = cancel_link((await register(client, tenant, event, name="Cora Cancel")).text)
    # when
    shown = await client.get(link, headers=EN)
    assert shown.status_code == 200
    assert "Cora Cancel" in shown.text
    cancelled = await client.post(f"{link}/cancel", headers=EN)
    # then
    assert cancelled.status_code == 200
    assert "is cancelled" in cancelled.text
    assert await people(composed, event) == []
    assert (await client.get(link)).status_code == 404
    assert (await client.post(f"{link}/cancel")).status_code == 404
    assert (await register(client, tenant, event)).status_code == 201  # the place is free again


async def test_an_unknown_or_foreign_cancel_link_is_not_found(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant)
    link = cancel_link((await register(client, tenant, event)).text)
    other = await make_tenant(composed)
    token = link.rsplit("/", 1)[1]
    assert (await client.get(f"/{tenant.city.slug}/registrations/x{token}")).status_code == 404
    assert (await client.get(f"/{other.city.slug}/registrations/{token}")).status_code == 404
    assert (
        await client.post(f"/{other.city.slug}/registrations/{token}/cancel")
    ).status_code == 404
    assert len(await people(composed, event)) == 1


async def test_an_event_without_registration_in_marktplatz_has_no_form(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant, audience=None)
    assert (await client.get(register_url(tenant, event))).status_code == 404
    assert (await register(client, tenant, event)).status_code == 404


async def test_city_staff_read_the_participants_and_download_them(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    event = await city_event(composed, tenant, capacity=5)
    await register(client, tenant, event, name="Dora Dabei", email="dora@example.org")
    for role in ("city-admin", "city-editor"):
        async with new_client(web) as staff:
            await login(staff, tenant.users[role])
            base = f"/console/{tenant.city.slug}/events"
            listing = await staff.get(base, headers=EN)
            assert listing.status_code == 200
            assert "1 of 5" in listing.text
            page = await staff.get(f"{base}/{event.id}/participants", headers=EN)
            assert page.status_code == 200
            assert "Dora Dabei" in page.text
            assert "dora@example.org" in page.text
            export = await staff.get(f"{base}/{event.id}/participants.csv")
            assert export.status_code == 200
            assert export.headers["content-type"] == "text/csv; charset=utf-8"
            rows = list(csv.reader(io.StringIO(export.text.lstrip("\ufeff")), delimiter=";"))
            assert rows[0] == ["name", "email", "shop", "registered_at"]
            assert [r[:3] for r in rows[1:]] == [["Dora Dabei", "dora@example.org", ""]]
    async with composed.engine.connect() as conn:
        logged = await conn.execute(
            select(t.audit_log.c.action, t.audit_log.c.detail).where(
                t.audit_log.c.object_id == str(event.id),
                t.audit_log.c.action == "registrations.exported",
            )
        )
        assert sorted(logged.all()) == [("registrations.exported", "rows=1")] * 2
        details = (await conn.execute(select(t.audit_log.c.detail))).scalars().all()
    assert not any("dora@example.org" in d for d in details)  # no address in the audit log


@pytest.mark.parametrize("path", ["participants", "participants.csv"])
async def test_retailers_and_other_cities_never_see_participants(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any, path: str
) -> None:
    event = await city_event(composed, tenant)
    await register(client, tenant, event, name="Geheim Person")
    url = f"/console/{tenant.city.slug}/events/{event.id}/{path}"
    other = await make_tenant(composed)
    for user, status in [
        (tenant.users["retailer-owner"], 403),
        (tenant.users["retailer-staff"], 403),
        (other.users["city-admin"], 404),
    ]:
        async with new_client(web) as someone:
            await login(someone, user)
            answer = await someone.get(url)
            assert answer.status_code == status
            assert "Geheim Person" not in answer.text
    async with new_client(web) as other_admin:
        await login(other_admin, other.users["city-admin"])
        wrong_city = f"/console/{other.city.slug}/events/{event.id}/{path}"
        assert (await other_admin.get(wrong_city)).status_code == 404
    anonymous = await client.get(url)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login")


async def test_a_retailer_registers_for_a_workshop_with_the_account(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    event = await city_event(composed, tenant, audience="retailers", title="Google-Profil pflegen")
    # anonymous visitors are sent to the login first
    anonymous = await client.get(register_url(tenant, event))
    assert anonymous.status_code == 303
    assert anonymous.headers["location"] == f"/login?next={register_url(tenant, event)}"
    assert (await register(client, tenant, event)).status_code == 303
    # city staff without a shop may not take a retailer's place
    async with new_client(web) as editor:
        csrf = await login(editor, tenant.users["city-editor"])
        assert (await register(editor, tenant, event, csrf=csrf)).status_code == 403
    owner = tenant.users["retailer-owner"]
    async with new_client(web) as shop:
        csrf = await login(shop, owner)
        page = await shop.get(register_url(tenant, event), headers=EN)
        assert f"You register as {owner.display_name} ({owner.email})" in page.text
        assert 'name="email"' not in page.text
        done = await register(shop, tenant, event, name="ignored", csrf=csrf)
        assert done.status_code == 201
        again = await shop.get(register_url(tenant, event), headers=EN)
        assert "You are registered for this event" in again.text
    (person,) = await people(composed, event)
    assert (person.email, person.user_id, person.shop_id) == (
        owner.email,
        owner.id,
        tenant.shop_a.id,
    )


async def test_registrations_per_client_are_rate_limited(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    event = await city_event(composed, tenant)
    for _ in range(60):  # the limit of coupon saves, counted apart: 60 a minute
        assert (await register(client, tenant, event, consent=False)).status_code == 422
    throttled = await register(client, tenant, event)
    assert throttled.status_code == 429
    assert "Too many registrations at once" in throttled.text
    assert await people(composed, event) == []


async def test_participants_are_purged_keep_days_after_the_event(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    # given an event in two days and one in ten days, one participant each
    early = await city_event(composed, tenant, starts_at=soon(2), title="Früh")
    later = await city_event(composed, tenant, starts_at=soon(KEEP_DAYS), title="Später")
    await register(client, tenant, early)
    await register(client, tenant, later)
    # when the clock stands one day past KEEP_DAYS after the early event's end
    assert early.window.ends_at is not None
    moved = FixedClock(early.window.ends_at + timedelta(days=KEEP_DAYS, hours=1))
    purged = await retention.purge(dataclasses.replace(composed.ctx, clock=moved))
    # then
    assert purged.registrations >= 1
    assert await people(composed, early) == []
    assert len(await people(composed, later)) == 1


async def test_the_console_creates_an_event_with_registration(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    base = f"/console/{tenant.city.slug}/events"
    form = {
        "title": "Späte Stunde: Einkaufen bis 22 Uhr",
        "body_html": "Alle Läden haben **lange** offen.",
        "language": "de",
        "starts_at": soon(5).strftime("%Y-%m-%dT18:00"),
        "ends_at": soon(5).strftime("%Y-%m-%dT22:00"),
        "place": "Innenstadt",
        "signup": "public",
        "capacity": "0",
        "closes_at": "",
    }
    async with new_client(web) as admin:
        csrf = await login(admin, tenant.users["city-admin"])
        bad = await admin.post(base, data={**form, "csrf_token": csrf}, headers=EN)
        assert bad.status_code == 422
        assert "Enter a number of places from 1 to 10000" in bad.text
        assert 'value="Späte Stunde: Einkaufen bis 22 Uhr"' in bad.text
        assert (
            await registrations.city_events(
                composed.ctx, tenant.users["city-admin"], tenant.city.id
            )
            == []
        )
        made = await admin.post(base, data={**form, "capacity": "40", "csrf_token": csrf})
        assert made.status_code == 303
    ((event, terms, count),) = await registrations.city_events(
        composed.ctx, tenant.users["city-admin"], tenant.city.id
    )
    assert (event.title, event.status.value, count) == (form["title"], "published", 0)
    assert terms is not None
    assert terms.capacity == 40
    calendar = await client.get(f"/{tenant.city.slug}/events", headers=EN)
    assert register_url(tenant, event) in calendar.text


async def test_the_last_places_go_to_exactly_as_many_as_there_are_at_once(
    composed: App, tenant: Tenant
) -> None:
    # given an event with two places and six people registering at the same moment
    event = await city_event(composed, tenant, capacity=2, title="Begehrter Kurs")

    async def one(i: int) -> bool:
        person = (f"Person {i}", f"{unique('race')}@example.org", True)
        try:
            await registrations.register(
                composed.ctx, None, tenant.city.id, event.id, person, unique("client")
            )
        except InvalidInput:
            return False
        return True

    # when
    results = await asyncio.gather(*(one(i) for i in range(6)))
    # then two got a place, four were told it is full, and no more than two are stored
    assert sorted(results) == [False] * 4 + [True] * 2
    assert len(await people(composed, event)) == 2


async def test_the_city_opens_changes_and_ends_registration_of_an_event(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    # given a city event without registration in Marktplatz
    event = await city_event(composed, tenant, audience=None, title="Lichterfest")
    url = f"/console/{tenant.city.slug}/events/{event.id}"
    async with new_client(web) as admin:
        csrf = await login(admin, tenant.users["city-editor"])
        page = await admin.get(f"{url}/participants", headers=EN)
        assert '<option value="none" selected>' in page.text

        async def send(**form: str) -> httpx.Response:
            data = {"signup": "public", "capacity": "", "closes_at": "", **form}
            return await admin.post(
                f"{url}/registration", data={**data, "csrf_token": csrf}, headers=EN
            )

        # when the city opens it with two places, two visitors take them
        assert (await send(capacity="2")).status_code == 303
        assert (await register(client, tenant, event)).status_code == 201
        assert (await register(client, tenant, event)).status_code == 201
        # then the places cannot fall below those taken, nor registration end
        fewer = await send(signup="retailers", capacity="1")
        assert fewer.status_code == 422
        assert "Registrations so far: 2. Give at least as many places." in fewer.text
        assert 'value="1"' in fewer.text
        ended = await send(signup="none")
        assert ended.status_code == 422
        assert "registration cannot be switched off" in ended.text
        late = await send(closes_at=soon(20).strftime("%Y-%m-%dT%H:%M"))
        assert late.status_code == 422
        assert "Registration must close before the event starts." in late.text
        async with composed.ctx.uow() as uow:
            terms = await uow.registrations.terms(event.id)
        assert terms is not None
        assert (terms.audience.value, terms.capacity) == ("public", 2)
        assert (await register(client, tenant, event)).status_code == 409
        # and more places open it again
        assert (await send(capacity="3")).status_code == 303
        assert (await register(client, tenant, event)).status_code == 201

    # a second event: without registrations it can be ended
    other = await city_event(composed, tenant, title="Laternenumzug")
    async with new_client(web) as admin:
        csrf = await login(admin, tenant.users["city-admin"])
        ended = await admin.post(
            f"/console/{tenant.city.slug}/events/{other.id}/registration",
            data={"signup": "none", "csrf_token": csrf},
        )
        assert ended.status_code == 303
    assert (await client.get(register_url(tenant, other))).status_code == 404


async def stored_event(composed: App, event: Content) -> Content:
    async with composed.ctx.uow() as uow:
        found = await uow.contents.get(event.id)
    assert found is not None
    return found


async def test_city_staff_move_an_event_and_its_participants_stay(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    # given an event with one registration and a deadline two days before it
    starts = soon(10).replace(second=0)  # the form has minutes
    deadline = starts - timedelta(days=2)
    event = await city_event(composed, tenant, closes_at=deadline, starts_at=starts)
    await register(client, tenant, event, name="Emil Eifrig", email="emil@example.org")
    url = f"/console/{tenant.city.slug}/events/{event.id}"
    later = (starts + timedelta(days=1)).astimezone(tenant.city.tz).strftime("%Y-%m-%dT%H:%M")
    earlier = (starts - timedelta(days=5)).astimezone(tenant.city.tz).strftime("%Y-%m-%dT%H:%M")
    form = {"title": "Digital-Werkstatt (verlegt)", "place": "Rathaus, Saal 3", "language": "de"}
    async with new_client(web) as staff:
        csrf = await login(staff, tenant.users["city-editor"])
        # when it is moved a day later, and then before its own deadline
        moved = await staff.post(url, data={**form, "starts_at": later, "csrf_token": csrf})
        too_early = await staff.post(
            url,
            data={**form, "title": "Zu früh", "starts_at": earlier, "csrf_token": csrf},
            headers={"accept-language": "de"},
        )
        page = await staff.get(f"{url}/participants", headers=EN)
    # then the first change is stored, the second refused with its reason and nothing of it kept
    assert moved.status_code == 303
    assert too_early.status_code == 422
    assert "Anmeldeschluss" in too_early.text
    assert 'value="Zu früh"' in too_early.text  # the form keeps what was typed
    after = await stored_event(composed, event)
    assert after.title == "Digital-Werkstatt (verlegt)"
    assert after.place == "Rathaus, Saal 3"
    assert after.window.starts_at == starts + timedelta(days=1)
    assert [p.name for p in await people(composed, event)] == ["Emil Eifrig"]
    assert "Digital-Werkstatt (verlegt)" in page.text


async def test_a_retailer_cannot_change_a_city_event(
    composed: App, tenant: Tenant, web: Any
) -> None:
    # given
    event = await city_event(composed, tenant)
    async with new_client(web) as owner:
        csrf = await login(owner, tenant.users["retailer-owner"])
        # when
        answer = await owner.post(
            f"/console/{tenant.city.slug}/events/{event.id}",
            data={
                "title": "Gekapert",
                "starts_at": "2030-01-01T10:00",
                "place": "x",
                "csrf_token": csrf,
            },
        )
    # then
    assert answer.status_code == 403
    assert (await stored_event(composed, event)).title == event.title
