"""The console's audit log: scope, filters, pages, CSV export, refused roles, refused requests."""

from __future__ import annotations

import csv
import html
import io
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from test_authz_matrix import registered

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.domain.audit import AuditEntry
from marktplatz.services import cities, city_people, visitors
from marktplatz.settings import Settings
from marktplatz.store import tables as t
from marktplatz.web.app import create_app
from support import (
    PASSWORD,
    SQUARE,
    Tenant,
    login,
    make_tenant,
    new_client,
    page_view_row,
    unique,
)

EN = {"accept-language": "en"}


@pytest.fixture
async def client(web: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with new_client(web) as c:
        yield c


def audit_url(tenant: Tenant, query: str = "") -> str:
    return f"/console/{tenant.city.slug}/audit{query}"


def shown_objects(page: str) -> list[str]:
    """The object ids in the table, top to bottom."""
    return [html.unescape(m) for m in re.findall(r'<code class="audit-id">([^<]*)</code>', page)]


def shown_actions(page: str) -> list[str]:
    """The action codes in the table, top to bottom."""
    return re.findall(r'<code class="hint">([^<]*)</code>', page)


async def append(composed: App, **values: Any) -> None:
    """A line written through the log's only write path, as a use case would."""
    entry = {
        "at": datetime.now(UTC),
        "actor_id": None,
        "city_id": None,
        "action": "zone.created",
        "object_type": "zone",
        "object_id": unique("obj"),
        "detail": "",
        **values,
    }
    async with composed.ctx.uow(write=True) as uow:
        await uow.audit.append(AuditEntry(**entry))
        await uow.commit()


async def count_rows(composed: App, action: str, object_id: str | None = None) -> int:
    log = t.audit_log.c
    query = select(func.count()).select_from(t.audit_log).where(log.action == action)
    if object_id is not None:
        query = query.where(log.object_id == object_id)
    async with composed.engine.connect() as conn:
        return int((await conn.execute(query)).scalar_one())


async def test_admin_sees_who_did_what_to_which_object_newest_first(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given two zones made by the city admin, the second one last
    admin = tenant.users["city-admin"]
    first = await cities.create_zone(
        composed.ctx, admin, tenant.city.id, {"slug": unique("a"), "name": "A", "geometry": SQUARE}
    )
    second = await cities.create_zone(
        composed.ctx, admin, tenant.city.id, {"slug": unique("b"), "name": "B", "geometry": SQUARE}
    )
    await login(client, admin)
    # when
    page = await client.get(audit_url(tenant, "?object=zone"), headers=EN)
    # then the newest line comes first, in plain words, with the actor's name and address
    assert page.status_code == 200
    assert shown_objects(page.text)[:2] == [str(second.id), str(first.id)]
    assert "Zone created" in page.text
    assert admin.email in page.text
    assert f'href="/console/{tenant.city.slug}/audit"' in page.text  # the console navigation
    assert '<option value="logins">Logins</option>' in page.text
    assert '<option value="content.approve">Content approved</option>' in page.text


async def test_a_city_sees_its_own_rows_and_its_peoples_logins_only(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, web: Any
) -> None:
    # given another city whose admin made a zone and logged in, and a failed login there
    other = await make_tenant(composed)
    foreign_zone = await cities.create_zone(
        composed.ctx,
        other.users["city-admin"],
        other.city.id,
        {"slug": unique("z"), "name": "Fremd", "geometry": SQUARE},
    )
    async with new_client(web) as elsewhere:
        await login(elsewhere, other.users["city-editor"])
    async with new_client(web) as elsewhere:
        await elsewhere.post(
            "/api/v1/session", json={"email": other.users["city-admin"].email, "password": "x"}
        )
        # a failed login of one of our own people, and one of an address nobody has
        await elsewhere.post(
            "/api/v1/session", json={"email": tenant.users["retailer-staff"].email, "password": "x"}
        )
        await elsewhere.post(
            "/api/v1/session", json={"email": "niemand@example.org", "password": "x"}
        )
    # and a visitor's data-rights request, which belongs to no city
    await visitors.record_consent(
        composed.ctx,
        visitor=uuid.uuid4().hex,
        secret="s" * 43,
        purposes={"analytics": True},
        text_version="v1",
    )
    await login(client, tenant.users["city-admin"])
    # when
    page = (await client.get(audit_url(tenant), headers=EN)).text
    logins = (await client.get(audit_url(tenant, "?group=logins"), headers=EN)).text
    # then
    assert str(foreign_zone.id) not in page
    assert other.users["city-editor"].email not in page
    assert other.users["city-admin"].email not in page
    assert "niemand@example.org" not in page
    assert "consent.changed" not in shown_actions(page)
    assert tenant.users["retailer-staff"].email in shown_objects(logins)
    assert tenant.users["city-admin"].email in logins  # our admin's own login just now
    assert set(shown_actions(logins)) <= {
        "login.succeeded",
        "login.failed",
        "login.password_accepted",
        "login.second_factor_failed",
    }


async def test_filters_narrow_by_group_action_person_object_and_days(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given lines of the city on three days, by two people
    admin, editor = tenant.users["city-admin"], tenant.users["city-editor"]
    mark = unique("filter")
    days = [datetime(2026, 3, d, 11, tzinfo=UTC) for d in (1, 2, 3)]
    for day in days:
        for who, action in ((admin, "content.approve"), (editor, "content.updated")):
            await append(
                composed,
                at=day,
                actor_id=who.id,
                city_id=tenant.city.id,
                action=action,
                object_type="offer",
                object_id=f"{mark}-{who.display_name}-{day.day}",
            )
    await login(client, admin)

    async def shown(query: str) -> list[str]:
        response = await client.get(audit_url(tenant, f"?object={mark}&{query}"), headers=EN)
        assert response.status_code == 200, response.text
        return shown_objects(response.text)

    # then
    assert await shown("group=approvals") == [f"{mark}-city-admin-{d}" for d in (3, 2, 1)]
    assert await shown("action=content.updated") == [f"{mark}-city-editor-{d}" for d in (3, 2, 1)]
    assert await shown(f"actor={editor.email.split('@')[0].upper()}") == [
        f"{mark}-city-editor-{d}" for d in (3, 2, 1)
    ]
    assert await shown("since=2026-03-02&until=2026-03-02") == [
        f"{mark}-city-editor-2",
        f"{mark}-city-admin-2",
    ]
    assert await shown("since=2026-03-03&group=approvals") == [f"{mark}-city-admin-3"]
    assert await shown("until=2026-02-28") == []


async def test_a_disabled_persons_refused_login_and_role_changes_show_in_their_city(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, web: Any
) -> None:
    # given a cashier the city admin disabled, who then tries to log in
    admin, cashier = tenant.users["city-admin"], tenant.users["retailer-staff"]
    other = await make_tenant(composed)
    await city_people.set_active(composed.ctx, admin, tenant.city.id, cashier.id, active=False)
    async with new_client(web) as till:
        refused = await till.post(
            "/api/v1/session", json={"email": cashier.email, "password": PASSWORD}
        )
    assert refused.status_code != 200
    # when
    await login(client, admin)
    logins = await client.get(audit_url(tenant, f"?group=logins&object={cashier.id}"), headers=EN)
    roles = await client.get(audit_url(tenant, f"?group=roles&object={cashier.id}"), headers=EN)
    async with new_client(web) as elsewhere:
        await login(elsewhere, other.users["city-admin"])
        theirs = await elsewhere.get(audit_url(other, f"?object={cashier.id}"), headers=EN)
    # then
    assert shown_actions(logins.text) == ["login.refused_disabled"]
    assert "Login refused: account disabled" in logins.text
    assert shown_actions(roles.text) == ["user.disabled", "user.created"]
    assert shown_actions(theirs.text) == []


async def test_data_rights_requests_show_in_each_city_whose_data_they_concern(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, web: Any
) -> None:
    # given a visitor with events in this city, and another city they never visited
    other = await make_tenant(composed)
    visitor, secret = uuid.uuid4().hex, "k" * 43
    ctx = composed.ctx
    await visitors.record_consent(
        ctx, visitor=visitor, secret=secret, purposes={"analytics": True}, text_version="v1"
    )
    async with composed.engine.begin() as conn:
        row = page_view_row(tenant.city.id, datetime.now(UTC), visitor)
        await conn.execute(t.events.insert(), [row])
    # when they export, then erase their data
    await visitors.export_data(ctx, visitor=visitor, secret=secret)
    await visitors.erase_data(ctx, visitor=visitor, secret=secret)
    await login(client, tenant.users["city-admin"])
    ours = await client.get(audit_url(tenant, "?group=data-rights"), headers=EN)
    async with new_client(web) as elsewhere:
        await login(elsewhere, other.users["city-admin"])
        theirs = await elsewhere.get(audit_url(other, "?group=data-rights"), headers=EN)
    # then this city sees both requests (by a hash, never the pseudonym), the other city none
    assert shown_actions(ours.text)[:2] == ["visitor.erased", "visitor.exported"]
    assert "Visitor data erased" in ours.text
    assert visitor not in ours.text
    assert "visitor.erased" not in shown_actions(theirs.text)
    assert "visitor.exported" not in shown_actions(theirs.text)


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("since=31.03.2026", "since", "Please give a date like 2026-03-31."),
        ("since=2026-03-02&until=2026-03-01", "until", "The end date must not be before"),
        ("group=everything", "group", "Please choose one of the listed kinds of entry."),
    ],
)
async def test_a_wrong_filter_is_named_and_kept(
    client: httpx.AsyncClient, tenant: Tenant, query: str, field: str, message: str
) -> None:
    # given
    await login(client, tenant.users["city-admin"])
    # when
    page = await client.get(audit_url(tenant, f"?{query}&actor=jemand"), headers=EN)
    # then
    assert page.status_code == 422
    assert f'<p class="field-error" id="e-{field}">{message}' in page.text
    assert 'value="jemand"' in page.text
    assert "<table" not in page.text


async def test_pages_go_back_in_time_without_gaps_or_repeats(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given 120 lines of the city with one mark
    mark = unique("page")
    for n in range(120):
        await append(composed, city_id=tenant.city.id, object_id=f"{mark}-{n:03d}")
    await login(client, tenant.users["city-admin"])
    # when following the "older" links
    seen: list[list[str]] = []
    url: str | None = audit_url(tenant, f"?object={mark}")
    while url:
        page = await client.get(url, headers=EN)
        seen.append(shown_objects(page.text))
        older = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = audit_url(tenant, html.unescape(older[1])) if older else None
    # then
    assert [len(rows) for rows in seen] == [50, 50, 20]
    assert [o for rows in seen for o in rows] == [f"{mark}-{n:03d}" for n in reversed(range(120))]
    last = await client.get(audit_url(tenant, f"?object={mark}&before=5"), headers=EN)
    assert "Newest entries" in last.text


async def test_csv_holds_the_filtered_rows_safely_for_spreadsheets(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given a line whose detail looks like a formula, and one outside the filter
    mark = unique("csv")
    admin = tenant.users["city-admin"]
    await append(
        composed,
        actor_id=admin.id,
        city_id=tenant.city.id,
        action="content.reject",
        object_type="offer",
        object_id=f"{mark}-1",
        detail='=HYPERLINK("http://evil.example","Klick")',
    )
    await append(composed, city_id=tenant.city.id, object_id=f"{mark}-2", detail="@SUM(A1)")
    await login(client, admin)
    exports = await count_rows(composed, "audit.exported")
    # when
    response = await client.get(
        f"/console/{tenant.city.slug}/audit.csv?object={mark}&group=approvals", headers=EN
    )
    # then
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Time (UTC)",
        "Action",
        "Action (code)",
        "Person",
        "E-mail",
        "Object",
        "Object id",
        "Detail",
    ]
    assert len(rows) == 2
    assert rows[1][1:] == [
        "Content rejected",
        "content.reject",
        admin.display_name,
        admin.email,
        "Offer",
        f"{mark}-1",
        '\'=HYPERLINK("http://evil.example","Klick")',
    ]
    # and the export itself is on the record
    assert await count_rows(composed, "audit.exported") == exports + 1


async def test_csv_speaks_german_by_default(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    mark = unique("de")
    await append(composed, city_id=tenant.city.id, object_id=mark, detail="-1")
    await login(client, tenant.users["city-admin"])
    # when
    response = await client.get(f"/console/{tenant.city.slug}/audit.csv?object={mark}")
    # then the cell that starts like a formula is text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][-1] == "'-1"
    assert rows[1][2] == "zone.created"


@pytest.mark.parametrize(
    ("role", "status"),
    [("city-editor", 403), ("retailer-owner", 403), ("retailer-staff", 403)],
)
@pytest.mark.parametrize("path", ["audit", "audit.csv"])
async def test_only_the_citys_admins_read_the_log(
    client: httpx.AsyncClient, tenant: Tenant, composed: App, role: str, status: int, path: str
) -> None:
    # given
    await login(client, tenant.users[role])
    exports = await count_rows(composed, "audit.exported")
    # when
    response = await client.get(f"/console/{tenant.city.slug}/{path}")
    # then
    assert response.status_code == status
    assert await count_rows(composed, "audit.exported") == exports


async def test_another_citys_admin_finds_no_such_log(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given
    other = await make_tenant(composed)
    await login(client, other.users["city-admin"])
    # when
    page = await client.get(audit_url(tenant))
    export = await client.get(f"/console/{tenant.city.slug}/audit.csv")
    # then
    assert (page.status_code, export.status_code) == (404, 404)


async def test_the_audit_nav_link_is_for_admins_only(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    # given
    await login(client, tenant.users["city-editor"])
    # when
    page = await client.get(f"/console/{tenant.city.slug}", headers=EN)
    # then
    assert page.status_code == 200
    assert f"/console/{tenant.city.slug}/audit" not in page.text


@pytest.fixture
async def timed(settings: Settings) -> AsyncIterator[tuple[Any, FixedClock]]:
    """An app on the same database whose clock stands still until a test moves it."""
    clock = FixedClock(datetime.now(UTC))
    app: Any = create_app(settings, clock=clock)
    try:
        yield app, clock
    finally:
        await app.state.marktplatz.close()


async def test_a_refused_request_is_logged_once_a_minute_without_its_query(
    timed: tuple[Any, FixedClock], tenant: Tenant, composed: App
) -> None:
    # given a shop owner of the city, who may not run its console
    app, clock = timed
    owner = tenant.users["retailer-owner"]
    path = f"/console/{tenant.city.slug}/zones"
    async with new_client(app) as c:
        await login(c, owner)
        # when they try three times within a minute, then once more after it
        for _ in range(3):
            refused = await c.get(f"{path}?token=geheim")
            assert refused.status_code == 403
        clock.advance(timedelta(seconds=61))
        await c.get(f"{path}?token=geheim")
        # and an anonymous visitor is sent to the login, which is no refusal
        async with new_client(app) as anon:
            assert (await anon.get(path)).status_code == 303
    # then the route's pattern is logged: no query string, no slug or id from the address
    pattern = "/console/{city}/zones"
    log = t.audit_log.c
    query = select(log.actor_id, log.object_type, log.object_id).where(
        log.action == "access.denied", log.actor_id == owner.id
    )
    async with composed.engine.connect() as conn:
        rows = [tuple(row) for row in await conn.execute(query)]
    assert rows == [(owner.id, "path", pattern)] * 2


async def test_the_city_admin_sees_refused_requests_of_its_people(
    client: httpx.AsyncClient, tenant: Tenant, web: Any
) -> None:
    # given a cashier who tried to open the city's rules, via the API too
    async with new_client(web) as till:
        await login(till, tenant.users["retailer-staff"])
        assert (await till.get(f"/console/{tenant.city.slug}/rules")).status_code == 403
        users = await till.get(f"/api/v1/cities/{tenant.city.slug}/users")
        assert users.status_code == 403
    await login(client, tenant.users["city-admin"])
    # when
    page = await client.get(audit_url(tenant, "?group=denied"), headers=EN)
    # then
    assert shown_objects(page.text) == ["/api/v1/cities/{city}/users", "/console/{city}/rules"]
    assert "Request refused" in page.text
    assert tenant.users["retailer-staff"].email in page.text


async def test_the_password_is_never_in_the_log(
    client: httpx.AsyncClient, tenant: Tenant, composed: App
) -> None:
    # given logins, one refusal and an export
    await login(client, tenant.users["city-admin"])
    await client.get(f"/console/{tenant.city.slug}/audit.csv")
    # then
    log = t.audit_log.c
    query = select(func.count()).where(
        log.detail.contains(PASSWORD) | log.object_id.contains(PASSWORD)
    )
    async with composed.engine.connect() as conn:
        assert (await conn.execute(query)).scalar_one() == 0


def test_no_route_of_the_app_changes_the_audit_log(web: Any) -> None:
    # given every route of the app, with the methods it answers
    routes = registered(web)
    # then the log has its page and its export, and both only read
    assert {(m, p) for m, p in routes if "audit" in p} == {
        ("GET", "/console/{city}/audit"),
        ("GET", "/console/{city}/audit.csv"),
    }
