"""Participants see on their registration page when their event's time or place changed, or
it was withdrawn; the console tells the organiser how many that is; the .ics follows."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from test_event_registrations import (
    EN,
    cancel_link,
    city_event,
    register,
    register_url,
    soon,
    stored_event,
)

from marktplatz.bootstrap import App
from marktplatz.domain.content import Action, Content
from marktplatz.services import content as content_service
from marktplatz.services import registrations
from marktplatz.services.content import ContentInput
from support import Tenant, login, new_client

DE = {"accept-language": "de"}


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web) as c:
        yield c


def _local(tenant: Tenant, at: Any) -> str:
    return str(at.astimezone(tenant.city.tz).strftime("%Y-%m-%dT%H:%M"))


async def _edit(web: Any, tenant: Tenant, event: Content, **fields: str) -> httpx.Response:
    """Save the event's form in the console as a city editor, with `fields` changed."""
    starts, ends = event.window.starts_at, event.window.ends_at
    assert starts is not None
    assert ends is not None
    form = {
        "title": event.title,
        "body_html": "",
        "language": "de",
        "place": event.place,
        "starts_at": _local(tenant, starts),
        "ends_at": _local(tenant, ends),
        **fields,
    }
    async with new_client(web) as staff:
        csrf = await login(staff, tenant.users["city-editor"])
        url = f"/console/{tenant.city.slug}/events/{event.id}"
        return await staff.post(url, data={**form, "csrf_token": csrf})


async def _event(composed: App, tenant: Tenant) -> Content:
    return await city_event(composed, tenant, starts_at=soon(10).replace(second=0))


def _notice(page: str) -> str:
    match = re.search(r'<section class="alert warn change-notice".*?</section>', page, re.S)
    return match[0] if match else ""


async def test_a_moved_event_shows_the_old_and_the_new_time_and_place(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    # given a visitor registered for an event at 10 days, Rathaus, Saal 2
    event = await _event(composed, tenant)
    link = cancel_link((await register(client, tenant, event, name="Anna Muster")).text)
    assert _notice((await client.get(link, headers=EN)).text) == ""
    later = event.window.starts_at + timedelta(days=1)  # type: ignore[operator]
    # when the city moves it a day later and into the library
    saved = await _edit(
        web,
        tenant,
        event,
        starts_at=_local(tenant, later),
        ends_at=_local(tenant, later + timedelta(hours=2)),
        place="Stadtbibliothek",
    )
    assert saved.status_code == 303
    page = await client.get(link, headers=EN)
    # then their registration page says what changed, with the old and the new values
    notice = _notice(page.text)
    assert 'role="alert"' in notice
    assert "Changed since you registered" in notice
    assert "Changed: time" in notice
    old_day = f"{event.window.starts_at.astimezone(tenant.city.tz).day}"  # type: ignore[union-attr]
    new_day = f"{later.astimezone(tenant.city.tz).day}"
    assert re.search(rf"was \w+, {old_day} \w+, .*now \w+, {new_day} \w+", notice), notice
    assert "Changed: place</strong> – was Rathaus, Saal 2, now Stadtbibliothek" in notice


async def test_only_a_new_title_and_text_show_no_notice(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    # given
    event = await _event(composed, tenant)
    link = cancel_link((await register(client, tenant, event)).text)
    # when only the title and the text change
    saved = await _edit(web, tenant, event, title="Digital-Werkstatt Plus", body_html="Neu!")
    # then
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("?saved=1")  # nobody to tell
    page = await client.get(link, headers=EN)
    assert "Digital-Werkstatt Plus" in page.text
    assert _notice(page.text) == ""
    assert "Changed" not in page.text


async def test_a_withdrawn_event_is_shown_as_cancelled(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    # given
    event = await _event(composed, tenant)
    link = cancel_link((await register(client, tenant, event)).text)
    # when the city withdraws it
    await content_service.act_on_content(
        composed.ctx, tenant.users["city-admin"], event.id, Action.WITHDRAW
    )
    page = await client.get(link, headers=EN)
    # then
    assert page.status_code == 200
    notice = _notice(page.text)
    assert "Cancelled: this event does not take place as announced." in notice
    assert "Please do not go there." in notice


async def test_a_registration_from_before_the_change_only_sees_it(
    composed: App, tenant: Tenant, client: httpx.AsyncClient
) -> None:
    # given one registered before the move, one after
    event = await _event(composed, tenant)
    early = cancel_link((await register(client, tenant, event)).text)
    data = ContentInput(
        kind=event.kind,
        title=event.title,
        starts_at=event.window.starts_at,
        ends_at=event.window.ends_at,
        place="Marktplatz, Bühne",
    )
    done = await registrations.update_city_event(
        composed.ctx, tenant.users["city-admin"], tenant.city.id, event.id, data
    )
    assert done.told == 1
    late = cancel_link((await register(client, tenant, event)).text)
    # then
    assert "Changed: place" in _notice((await client.get(early, headers=EN)).text)
    assert _notice((await client.get(late, headers=EN)).text) == ""


async def test_a_retailer_sees_the_change_on_the_register_page(
    composed: App, tenant: Tenant, web: Any
) -> None:
    # given a retailer registered for a workshop
    event = await city_event(composed, tenant, audience="retailers", starts_at=soon(10))
    async with new_client(web) as shop:
        csrf = await login(shop, tenant.users["retailer-owner"])
        assert (await register(shop, tenant, event, csrf=csrf)).status_code == 201
        # when its place changes
        await _edit(web, tenant, event, place="Gewerbehof")
        page = await shop.get(register_url(tenant, event), headers=EN)
    # then
    assert "You are registered for this event" in page.text
    assert "Changed: place</strong> – was Rathaus, Saal 2, now Gewerbehof" in _notice(page.text)


async def test_the_console_tells_how_many_registered_an_edit_affects(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    # given two registered
    event = await _event(composed, tenant)
    for name in ("Anna Muster", "Bert Beispiel"):
        assert (await register(client, tenant, event, name=name)).status_code == 201
    page_url = f"/console/{tenant.city.slug}/events/{event.id}/participants"
    async with new_client(web) as staff:
        await login(staff, tenant.users["city-editor"])
        before = await staff.get(page_url, headers=EN)
        # when the place changes
        saved = await _edit(web, tenant, event, place="Stadtbibliothek")
        after = await staff.get(saved.headers["location"], headers=EN)
    # then the edit form warned before, and the saved page says how many see the change
    assert "2 people are registered. A change of time or place affects them" in before.text
    assert 'aria-describedby="event-change-note"' in before.text
    assert saved.headers["location"] == f"{page_url}?saved=1&told=2"
    assert (
        "Time or place changed: 2 registered participants see the old and the new details"
        in after.text
    )


async def test_the_ics_carries_the_new_time_and_place_with_a_higher_sequence(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    # given
    event = await _event(composed, tenant)
    ics_url = f"/{tenant.city.slug}/events/{event.id}.ics"
    first = (await client.get(ics_url)).text
    assert "SEQUENCE:0" in first
    assert "LOCATION:Rathaus\\, Saal 2" in first
    # when the title changes, and then the place
    await _edit(web, tenant, event, title="Digital-Werkstatt Plus")
    retitled = (await client.get(ics_url)).text
    await _edit(web, tenant, event, place="Stadtbibliothek")
    moved = (await client.get(ics_url)).text
    # then only the change of place raises the sequence
    assert "SEQUENCE:0" in retitled
    assert "SEQUENCE:1" in moved
    assert "LOCATION:Stadtbibliothek" in moved
    assert (await stored_event(composed, event)).sequence == 1


async def test_the_notice_is_german_first(
    composed: App, tenant: Tenant, client: httpx.AsyncClient, web: Any
) -> None:
    # given
    event = await _event(composed, tenant)
    link = cancel_link((await register(client, tenant, event)).text)
    await _edit(web, tenant, event, place="Stadtbibliothek")
    # when
    page = await client.get(link, headers=DE)
    # then the place names appear in the notice whatever the language
    assert 'lang="de"' in page.text
    assert "Stadtbibliothek" in _notice(page.text)
