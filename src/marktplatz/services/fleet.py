"""Use cases of the touchpoint fleet: health at a glance, CSV in and out, sheets of QR codes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from uuid import UUID

from marktplatz.domain.accounts import User
from marktplatz.domain.cities import City
from marktplatz.domain.code_sheets import (
    GRID,
    NO_ZONE,
    SHEET_TITLE,
    ZONE_LINE,
    CodePick,
    CodeSheet,
    Label,
    code_label,
    pick_codes,
)
from marktplatz.domain.errors import N_, DomainError
from marktplatz.domain.fleet import FleetRow, fleet_rows, stats_window
from marktplatz.domain.fleet_csv import Problem, RowDraft, export_csv, parse_file
from marktplatz.domain.posters import URL_LABEL
from marktplatz.domain.touchpoints import Touchpoint, new_code
from marktplatz.services.access import access_city
from marktplatz.services.audit import audit
from marktplatz.services.context import Context
from marktplatz.services.ports import UnitOfWork
from marktplatz.services.posters import PrintedPoster, Translate
from marktplatz.services.touchpoints import zone_containing


async def _rows(ctx: Context, uow: UnitOfWork, city: City) -> list[FleetRow]:
    now = ctx.clock.now()
    stats = await uow.touchpoints.contact_stats(city.id, stats_window(now, city.tz))
    return fleet_rows(await uow.touchpoints.list_for_city(city.id), stats, now)


async def fleet_health(ctx: Context, actor: User | None, city_id: UUID) -> list[FleetRow]:
    """Every touchpoint of the city with its last contact, contacts per day and health (staff)."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        return await _rows(ctx, uow, city)


async def export_fleet(ctx: Context, actor: User | None, city_id: UUID) -> bytes:
    """The whole fleet as a CSV file that the import reads back (city staff)."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        rows = await _rows(ctx, uow, city)
        zones = {z.id: z.name for z in await uow.zones.list_for_city(city_id)}
        shops = {s.id: s.slug for s in await uow.shops.list_for_city(city_id)}
    return export_csv(rows, zones, shops, city.tz)


async def print_code_sheet(
    ctx: Context,
    actor: User | None,
    city_id: UUID,
    pick: CodePick,
    language: str,
    translate: Translate,
) -> PrintedPoster:
    """A4 pages of the chosen QR codes to cut apart (city staff; printing changes nothing).

    Each code holds the touchpoint's short address, exactly as its poster does, so a code
    set into the pavement keeps working when its target changes.
    """
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        rows = await _rows(ctx, uow, city)
        zones = {z.id: z.name for z in await uow.zones.list_for_city(city_id)}
    points = pick_codes(rows, zones, pick)

    def text(msgid: str, **params: str) -> str:
        found = translate(language, msgid)
        return found % params if params else found

    def label(point: Touchpoint) -> Label:
        zone = zones.get(point.zone_id) if point.zone_id else None
        return code_label(
            GRID,
            url=point.short_url(ctx.base_url) or "",
            code=point.code,
            name=point.name,
            zone=text(ZONE_LINE, zone=zone) if zone else text(NO_ZONE),
            url_label=text(URL_LABEL),
        )

    labels = tuple(label(point) for point in points)
    sheet = CodeSheet(GRID, labels, text(SHEET_TITLE, city=city.name))
    # Slugs hold only a-z, 0-9 and hyphens (clean_slug), so the name is a plain header value.
    return PrintedPoster(f"qr-codes-{city.slug}.pdf", ctx.posters.sheet(sheet))


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import would do; it does nothing while `problems` is not empty."""

    problems: list[Problem]
    created: int
    updated: int


class ImportRefused(DomainError):
    """The file has problems: nothing was imported."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class _Checked:
    drafts: list[RowDraft]
    problems: list[Problem]
    existing: dict[str, Touchpoint]
    shops: dict[str, UUID]


async def _check(uow: UnitOfWork, city: City, data: bytes) -> _Checked:
    """The file's own problems and those only the store can tell: unknown shops, identifiers
    of another city's touchpoints, a kind that would change."""
    parsed = parse_file(data, city.tz)
    shops = {s.slug: s.id for s in await uow.shops.list_for_city(city.id)}
    problems, existing = list(parsed.problems), {}
    for draft in parsed.drafts:
        if draft.shop and draft.shop not in shops:
            message = N_("No shop of this city has the short name “%(shop)s”.")
            problems.append(Problem(draft.row, "shop", message, {"shop": draft.shop}))
        found = await uow.touchpoints.by_identifier(draft.identifier) if draft.identifier else None
        if found is not None and found.city_id != city.id:
            message = N_("Another touchpoint already uses this identifier.")
            problems.append(Problem(draft.row, "identifier", message))
        elif found is not None and found.kind is not draft.kind:
            message = N_("This touchpoint is a %(kind)s; its kind cannot change.")
            problems.append(Problem(draft.row, "kind", message, {"kind": found.kind.value}))
        elif found is not None:
            existing[draft.identifier] = found
    problems.sort(key=lambda p: (p.row, p.column))
    return _Checked(parsed.drafts, problems, existing, shops)


async def check_import(ctx: Context, actor: User | None, city_id: UUID, data: bytes) -> ImportPlan:
    """The dry run: every problem by row and column, or how many rows would be new or changed."""
    async with ctx.uow() as uow:
        city = await access_city(uow, actor, city_id)
        checked = await _check(uow, city, data)
    updated = len(checked.existing)
    return ImportPlan(checked.problems, len(checked.drafts) - updated, updated)


def _new(ctx: Context, city: City, draft: RowDraft, shop_id: UUID | None) -> Touchpoint:
    now = ctx.clock.now()
    code = draft.identifier.removeprefix("code:") if draft.identifier.startswith("code:") else ""
    if not draft.identifier:
        code = new_code()
    return Touchpoint(
        id=uuid.uuid4(),
        city_id=city.id,
        shop_id=shop_id,
        zone_id=None,
        kind=draft.kind,
        name=draft.name,
        identifier=draft.identifier or f"code:{code}",
        code=code,
        target=draft.target,
        location=draft.location,
        placement=draft.placement,
        status=draft.status,
        created_at=now,
        updated_at=now,
    )


def _merged(ctx: Context, base: Touchpoint, draft: RowDraft, shop_id: UUID | None) -> Touchpoint:
    """`base` with the values of the columns the file has; the others stay as they are."""
    given = draft.columns
    changes: dict[str, object] = {
        "name": draft.name,
        "location": draft.location,
        **({"shop_id": shop_id} if "shop" in given else {}),
        **({"placement": draft.placement} if "placement" in given else {}),
        **({"status": draft.status} if "status" in given else {}),
        **({"target": draft.target} if "target" in given else {}),
    }
    if "expected_interval_hours" in given:
        changes["expected_interval_hours"] = draft.expected_interval_hours
    if "battery_percent" in given:
        changes["battery_percent"] = draft.battery_percent
        reported = draft.battery_at or ctx.clock.now()
        changes["battery_at"] = reported if draft.battery_percent is not None else None
    return replace(base, **changes, updated_at=ctx.clock.now())  # type: ignore[arg-type]


async def import_fleet(ctx: Context, actor: User | None, city_id: UUID, data: bytes) -> ImportPlan:
    """Create or update (by identifier) every row in one transaction, audited; all or nothing:
    ImportRefused with every problem when any row is not clean."""
    forget: list[str] = []
    async with ctx.uow(write=True) as uow:
        city = await access_city(uow, actor, city_id)
        checked = await _check(uow, city, data)
        if checked.problems:
            raise ImportRefused(checked.problems)
        zones = await uow.zones.list_for_city(city.id)
        for draft in checked.drafts:
            shop_id = checked.shops.get(draft.shop)
            current = checked.existing.get(draft.identifier)
            point = _merged(ctx, current or _new(ctx, city, draft, shop_id), draft, shop_id)
            point = replace(point, zone_id=zone_containing(zones, point.location))
            if current is None:
                await uow.touchpoints.add(point)
            else:
                await uow.touchpoints.update(point)
                if point.code and (point.target, point.status) != (current.target, current.status):
                    forget.append(point.code)
            action = "touchpoint.updated" if current else "touchpoint.created"
            await audit(uow, ctx, actor, city.id, action, "touchpoint", point.id, ["csv import"])
        await uow.commit()
        # As in update_touchpoint: right after COMMIT, no old target is served from the cache.
        for code in forget:
            ctx.codes.forget(code)
    updated = len(checked.existing)
    return ImportPlan([], len(checked.drafts) - updated, updated)
