"""Lost races on unique keys end as the same clear Conflict as a checked duplicate, never a 500."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

from marktplatz.bootstrap import App
from marktplatz.domain.errors import Conflict
from marktplatz.services import accounts, touchpoints
from support import Tenant, unique

BEACON_UUID = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"


async def test_concurrent_beacons_with_one_identifier_store_exactly_one(
    tenant: Tenant, composed: App
) -> None:
    # given ten staff members registering the same beacon at once
    admin = tenant.users["city-admin"]
    minor = int(unique("m").split("-")[1], 16) % 60000
    data = {
        "kind": "ibeacon",
        "name": "Laterne",
        "lat": 52.105,
        "lon": 8.75,
        "ibeacon": {"uuid": BEACON_UUID, "major": 7, "minor": minor},
    }
    # when
    results = await asyncio.gather(
        *(
            touchpoints.create_touchpoint(composed.ctx, admin, tenant.city.id, data)
            for _ in range(10)
        ),
        return_exceptions=True,
    )
    # then
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert len(created) == 1
    assert all(isinstance(r, Conflict) and r.field == "identifier" for r in refused)
    fleet = await touchpoints.list_touchpoints(composed.ctx, admin, tenant.city.id)
    assert [t.id for t in fleet if t.identifier.endswith(f":7:{minor}")] == [created[0].id]


async def test_concurrent_accounts_with_one_email_store_exactly_one(
    tenant: Tenant, composed: App
) -> None:
    # given
    email = f"{unique('race')}@example.org"
    # when
    results = await asyncio.gather(
        *(
            accounts.create_user(
                composed.ctx,
                email=email,
                password="Wiesenweg-Elf-2026",
                display_name="R",
                role="city-editor",
                city_slug=tenant.city.slug,
            )
            for _ in range(5)
        ),
        return_exceptions=True,
    )
    # then
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))


async def test_the_database_itself_refuses_a_duplicate_identifier(
    tenant: Tenant, composed: App
) -> None:
    # given a stored QR touchpoint
    admin = tenant.users["city-admin"]
    stored = await touchpoints.create_touchpoint(
        composed.ctx,
        admin,
        tenant.city.id,
        {"kind": "qr", "name": "Pflaster", "lat": 52.105, "lon": 8.75, "target": "/x"},
    )
    # when a copy with a new id but the same identifier skips the service's check
    copy = replace(stored, id=uuid.uuid4())
    async with composed.ctx.uow(write=True) as uow:
        try:
            await uow.touchpoints.add(copy)
        except Conflict as exc:
            refused = exc
        else:
            raise AssertionError("duplicate identifier was stored")
    # then the unique key answered with the same Conflict a checked duplicate gets
    assert refused.field == "identifier"
