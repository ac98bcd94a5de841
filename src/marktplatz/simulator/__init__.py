"""Visitor simulator: plausible journeys through a city, sent to a running server over HTTP."""

from __future__ import annotations

import asyncio
import json
import math
import random
import secrets
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from marktplatz.domain.journey import MAX_AGE, MAX_BATCH, Channel, EventKind, Proximity
from marktplatz.simulator.coupons import (
    REDEEM_SHARE,
    SAVE_SHARE,
    Ask,
    CouponTally,
    LoginFailed,
    Session,
    log_in,
    log_out,
    retry_after,
    save_and_redeem,
)

MAX_DAYS = MAX_AGE.days
# Old events must still be younger than seven days when the server receives them.
AGE_MARGIN = timedelta(hours=1)
CONSENT_TEXT_VERSION = "simulator-1"
MAX_ATTEMPTS = 8
BEACON_KINDS = frozenset({"ibeacon", "eddystone-uid", "altbeacon"})
LINK_CHANNELS = {"qr": Channel.QR, "nfc": Channel.NFC}
# Relative footfall by local hour (shops open about 9–19) and by weekday (Monday = 0).
HOUR_WEIGHT = {9: 0.5, 10: 0.8, 11: 1.0, 12: 1.0, 13: 0.9, 14: 0.8, 15: 0.9, 16: 1.0, 17: 0.9}
HOUR_WEIGHT |= {18: 0.6, 19: 0.3}
DAY_WEIGHT = (1.0, 1.0, 1.0, 1.0, 1.1, 1.6, 0.25)
WALKING_SPEED = 1.3  # metres per second
WHO = {"admin": "a city admin of --city", "cashier": "staff of a shop in --city"}


class SimulationError(Exception):
    """Something a person must fix before a simulation can run (message is shown as is)."""


@dataclass(frozen=True, slots=True)
class Options:
    base_url: str
    city: str = "musterstadt"
    visitors: int = 100
    days: int = 1
    rate: float | None = None
    seed: int | None = None
    without_consent: float = 0.3
    admin_email: str | None = None
    admin_password: str | None = None
    cashier_email: str | None = None
    cashier_password: str | None = None
    concurrency: int = 4
    journal: Path | None = None


@dataclass(frozen=True, slots=True, order=True)
class Place:
    """A touchpoint or shop with a position; `ref` is the touchpoint id or the shop slug."""

    ref: str
    kind: str
    lat: float
    lon: float
    zone: str | None = None
    code: str = ""
    target: str = ""


@dataclass(frozen=True, slots=True)
class World:
    """What a visitor client can know about the city (touchpoints only with an admin login)."""

    city: str
    tz: ZoneInfo
    shops: list[Place]
    mile: list[Place]
    links: list[Place]


@dataclass
class Visitor:
    consents: bool
    personalisation: bool
    events: list[dict[str, Any]] = field(default_factory=list)
    scans: dict[str, str] = field(default_factory=dict)  # event id → code followed first
    asks: list[Ask] = field(default_factory=list)
    pseudonym: str | None = None


@dataclass
class Summary:
    seed: int
    visitors: int = 0
    without_consent: int = 0
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    unsent: int = 0
    retries: int = 0
    scans_followed: int = 0
    scans_failed: int = 0
    seconds: float = 0.0
    coupons: CouponTally = field(default_factory=CouponTally)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.rejected or self.unsent or self.scans_failed or self.coupons.problems)

    def lines(self) -> list[str]:
        rate = self.sent / self.seconds if self.seconds else 0.0
        return [
            f"visitors: {self.visitors} ({self.without_consent} without consent), seed {self.seed}",
            f"events sent: {self.sent}  accepted: {self.accepted}  rejected: {self.rejected}  "
            f"unsent: {self.unsent}  retries: {self.retries}",
            f"qr scans followed: {self.scans_followed}  failed: {self.scans_failed}",
            *self.coupons.lines(),
            f"duration: {self.seconds:.1f} s  ({rate:.0f} events/s)",
            *(f"note: {n}" for n in self.notes + self.coupons.notes),
            *(f"problem: {p}" for p in (self.problems + self.coupons.problems)[:10]),
        ]


async def simulate(options: Options, transport: httpx.AsyncBaseTransport | None = None) -> Summary:
    """Discover the city, plan the journeys, register consents and send every event."""
    seed = options.seed if options.seed is not None else secrets.randbelow(2**31)
    summary = Summary(seed=seed)
    started = time.monotonic()
    client = httpx.AsyncClient(base_url=options.base_url, timeout=30, transport=transport)
    async with client:
        world = await _discover(client, options, summary)
        cashier = await _cashier(client, options, summary)
        try:
            # Journeys only, not ids: those are fresh each run, as on real devices.
            rng = random.Random(seed)  # noqa: S311 (reproducible simulation, not security)
            visitors = plan(world, rng, options, datetime.now(UTC))
            summary.visitors = len(visitors)
            summary.without_consent = sum(not v.consents for v in visitors)
            await _register_consents(client, visitors, options.concurrency, summary)
            _write_journal(options.journal, visitors)
            await _send_all(client, visitors, options, summary)
            asks = [(v.asks, v.pseudonym) for v in visitors]
            await save_and_redeem(
                client, world.city, asks, cashier, options.concurrency, summary.coupons
            )
        finally:
            if cashier is not None:
                await log_out(client, cashier)
    summary.seconds = time.monotonic() - started
    return summary


# Discovery: only what a client can learn over HTTP.


async def _discover(client: httpx.AsyncClient, options: Options, summary: Summary) -> World:
    city = await _get_json(client, f"/api/v1/cities/{options.city}")
    shops = await _get_json(client, f"/api/v1/cities/{options.city}/shops")
    places = sorted(Place(s["slug"], "shop", s["lat"], s["lon"]) for s in shops)
    points: list[dict[str, Any]] = []
    if options.admin_email:
        points = await _admin_touchpoints(client, options, options.admin_email)
    else:
        summary.notes.append(
            "touchpoint ids are not public: no beacon contacts or QR scans were sent "
            "(give --admin-email/--admin-password of a city admin to include them)"
        )
    active = [_place(p) for p in points if p["status"] == "active"]
    beacons = [p for p in active if p.kind in BEACON_KINDS]
    links = sorted((p for p in active if p.kind in LINK_CHANNELS), key=lambda p: (p.lon, p.lat))
    return World(city["slug"], ZoneInfo(city["timezone"]), places, beacon_mile(beacons), links)


async def _get_json(client: httpx.AsyncClient, path: str, **kwargs: Any) -> Any:
    try:
        response = await client.get(path, **kwargs)
    except httpx.TransportError as exc:
        raise SimulationError(
            f"Cannot reach {client.base_url} ({type(exc).__name__}); is `marktplatz serve` "
            "running there? Give the address with --base-url."
        ) from exc
    if response.status_code == 404:
        raise SimulationError(f"Not found: {path}. Is the city name right (--city)?")
    if response.status_code != 200:
        raise SimulationError(f"GET {path} answered {response.status_code}.")
    return response.json()


async def _admin_touchpoints(
    client: httpx.AsyncClient, options: Options, email: str
) -> list[dict[str, Any]]:
    """The city's touchpoints through a city-admin session, logged out right after."""
    admin = await _log_in(client, email, options.admin_password, "admin")
    try:
        path = f"/api/v1/cities/{options.city}/touchpoints"
        points = await _get_json(client, path, headers=admin.headers)
    finally:
        await log_out(client, admin)
    return list(points)


async def _cashier(client: httpx.AsyncClient, options: Options, summary: Summary) -> Session | None:
    """The till's login, before any event is sent, so that a wrong password stops the run."""
    if options.cashier_email:
        return await _log_in(client, options.cashier_email, options.cashier_password, "cashier")
    summary.notes.append("no coupons were redeemed (give --cashier-email/--cashier-password)")
    return None


async def _log_in(client: httpx.AsyncClient, email: str, password: str | None, who: str) -> Session:
    if not password:
        raise SimulationError(
            f"Give the {who}'s password with --{who}-password or in the environment variable "
            f"MARKTPLATZ_SIMULATE_{who.upper()}_PASSWORD."
        )
    try:
        return await log_in(client, email, password)
    except LoginFailed as exc:
        raise SimulationError(
            f"Login as {email} failed (HTTP {exc}); check --{who}-email and --{who}-password "
            f"({WHO[who]})."
        ) from exc


def _place(point: dict[str, Any]) -> Place:
    zone = str(point["zone_id"]) if point.get("zone_id") else None
    return Place(
        str(point["id"]), point["kind"], point["lat"], point["lon"], zone, point["code"],
        point["target"],
    )  # fmt: skip


def beacon_mile(beacons: list[Place]) -> list[Place]:
    """The beacons in walking order, west to east: zone by zone, nearest neighbour within."""
    zones: dict[str | None, list[Place]] = {}
    for beacon in beacons:
        zones.setdefault(beacon.zone or f"lone:{beacon.ref}", []).append(beacon)
    ordered = sorted(zones.values(), key=lambda group: sum(p.lon for p in group) / len(group))
    mile: list[Place] = []
    for group in ordered:
        left = sorted(group, key=lambda p: (p.lon, p.lat))
        here = mile[-1] if mile else left[0]
        while left:
            here = min(left, key=partial(metres, here))
            left.remove(here)
            mile.append(here)
    return mile


def metres(a: Place, b: Place) -> float:
    dy = (a.lat - b.lat) * 110_540
    dx = (a.lon - b.lon) * 111_320 * math.cos(math.radians(a.lat))
    return math.hypot(dx, dy)


# Planning: pure, from the seeded random generator.


def plan(world: World, rng: random.Random, options: Options, now: datetime) -> list[Visitor]:
    """One journey per visitor, arrivals over the last `days` days following the day curve."""
    start = now - timedelta(days=min(options.days, MAX_DAYS)) + AGE_MARGIN
    end = now - timedelta(minutes=1)
    visitors = []
    for _ in range(options.visitors):
        consents = rng.random() >= options.without_consent
        visitor = Visitor(consents=consents, personalisation=rng.random() < 0.5)
        # A generator per visitor: who consents stays the same when the city changes.
        own = random.Random(rng.getrandbits(64))  # noqa: S311 (simulation, not security)
        Journey(world, own, visitor).walk(_arrival(own, world.tz, start, end), earliest=start)
        visitor.events = _within(visitor.events, start, end)
        visitors.append(visitor)
    return visitors


def _arrival(rng: random.Random, tz: ZoneInfo, start: datetime, end: datetime) -> datetime:
    span = (end - start).total_seconds()
    while True:
        moment = start + timedelta(seconds=rng.uniform(0, span))
        local = moment.astimezone(tz)
        weight = HOUR_WEIGHT.get(local.hour, 0.02) * DAY_WEIGHT[local.weekday()]
        if rng.random() * 1.6 < weight:
            return moment


def _within(events: list[dict[str, Any]], start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Shift a journey that would end in the future back, and drop what is then too old."""
    if not events:
        return []
    last = max(datetime.fromisoformat(e["occurred_at"]) for e in events)
    shift = max(last - end, timedelta(0))
    kept = []
    for event in events:
        moment = datetime.fromisoformat(event["occurred_at"]) - shift
        if moment >= start:
            kept.append(event | {"occurred_at": moment.isoformat()})
    return kept


class Journey:
    """Builds one visitor's events: maybe a visit from the sofa, then a walk along the mile."""

    def __init__(self, world: World, rng: random.Random, visitor: Visitor) -> None:
        self.world, self.rng, self.visitor = world, rng, visitor

    def walk(self, arrival: datetime, earliest: datetime) -> None:
        if self.rng.random() < 0.5 or not self.world.mile:
            # From home up to three days before, but inside the simulated span: a visit from the
            # sofa that fell before it would be dropped, and a visitor could send nothing at all.
            before = timedelta(hours=self.rng.uniform(0.5, 72))
            self.sofa(max(arrival - before, earliest))
        now = arrival
        for beacon in self.stretch():
            now = self.pass_beacon(beacon, now)

    def sofa(self, at: datetime) -> None:
        self.event(at, EventKind.PAGE_VIEW, path=f"/{self.world.city}")
        for _ in range(self.rng.randint(1, 3) if self.world.shops else 0):
            at += timedelta(seconds=self.rng.uniform(5, 120))
            self.look_at_shop(self.rng.choice(self.world.shops), at)

    def stretch(self) -> list[Place]:
        """A part of the mile in one direction, entered in its first half."""
        mile = self.world.mile if self.rng.random() < 0.5 else self.world.mile[::-1]
        if not mile:
            return []
        first = self.rng.randrange(0, max(1, len(mile) // 2))
        length = self.rng.randint(min(4, len(mile) - first), len(mile) - first)
        return mile[first : first + length]

    def pass_beacon(self, beacon: Place, at: datetime) -> datetime:
        closest = self.rng.uniform(0.3, 6)
        for distance in (self.rng.uniform(10, 25), closest * 2 + 3, closest, closest * 3 + 4):
            at += timedelta(seconds=self.rng.uniform(2, 10))
            self.sighting(beacon, distance, at)
        for link in self.world.links:
            if metres(beacon, link) < 40 and self.rng.random() < 0.12:
                at = self.scan(link, at + timedelta(seconds=self.rng.uniform(5, 30)))
        if self.rng.random() < 0.25:
            self.ask(beacon)
            at = self.browse(beacon, at)
        return at + timedelta(seconds=self.rng.uniform(30, 70))

    def sighting(self, beacon: Place, distance: float, at: datetime) -> None:
        # Log-distance path loss: -59 dBm at one metre, exponent 2.2, a little fading.
        rssi = round(-59 - 22 * math.log10(distance) + self.rng.gauss(0, 3))
        self.event(
            at, EventKind.TOUCHPOINT_CONTACT, touchpoint_id=beacon.ref, channel=Channel.BEACON,
            proximity=_proximity(distance), rssi=max(-127, min(20, rssi)),
        )  # fmt: skip

    def scan(self, link: Place, at: datetime) -> datetime:
        contact = self.event(
            at,
            EventKind.TOUCHPOINT_CONTACT,
            touchpoint_id=link.ref,
            channel=LINK_CHANNELS[link.kind],
        )
        self.visitor.scans[contact["event_id"]] = link.code
        self.ask(link)
        if link.target.startswith("/"):
            at += timedelta(seconds=self.rng.uniform(1, 4))
            self.event(at, EventKind.PAGE_VIEW, path=link.target[:200])
            slug = _shop_slug(self.world.city, link.target)
            if slug:
                self.event(at, EventKind.CONTENT_VIEWED, content_id=slug)
        return at

    def browse(self, beacon: Place, at: datetime) -> datetime:
        """A stop: the visitor looks up a shop nearby in the app, then goes in for a while."""
        near = sorted(self.world.shops, key=lambda s: metres(beacon, s))[:3]
        if near:
            self.look_at_shop(self.rng.choice(near), at + timedelta(seconds=10))
        return at + timedelta(minutes=self.rng.uniform(1, 8))

    def look_at_shop(self, shop: Place, at: datetime) -> None:
        self.event(at, EventKind.PAGE_VIEW, path=f"/{self.world.city}/shops/{shop.ref}")
        self.event(at + timedelta(seconds=1), EventKind.CONTENT_VIEWED, content_id=shop.ref)
        if self.rng.random() < 0.3:
            later = at + timedelta(seconds=self.rng.uniform(5, 60))
            self.event(later, EventKind.CONTENT_SAVED, content_id=shop.ref)

    def ask(self, touchpoint: Place) -> None:
        """The app asks what to show here; whether a coupon in it is saved and redeemed is
        drawn now, so that the seed fixes it. The asks are sent after the events, "now"."""
        save, redeem = self.rng.random() < SAVE_SHARE, self.rng.random() < REDEEM_SHARE
        self.visitor.asks.append(Ask(touchpoint.ref, save, redeem, self.rng.random()))

    def event(self, at: datetime, kind: EventKind, **fields: Any) -> dict[str, Any]:
        made = {
            "event_id": str(uuid.uuid4()),
            "kind": kind.value,
            "city": self.world.city,
            "occurred_at": at.astimezone(UTC).isoformat(),
            **{k: v.value if isinstance(v, StrEnum) else v for k, v in fields.items()},
        }
        self.visitor.events.append(made)
        return made


def _proximity(distance: float) -> Proximity:
    if distance < 0.5:
        return Proximity.IMMEDIATE
    return Proximity.NEAR if distance < 4 else Proximity.FAR


def _shop_slug(city: str, path: str) -> str | None:
    prefix = f"/{city}/shops/"
    rest = path.removeprefix(prefix)
    return rest[:64] if path.startswith(prefix) and rest and "/" not in rest else None


# Consent: the only place where a pseudonym comes to exist.


async def register_consent(client: httpx.AsyncClient, visitor: Visitor) -> bool | None:
    """Grant consent for a new random device id; None when the server has no consent API.

    The id and the secret are random as on a real device, never derived from anything.
    """
    pseudonym, secret = secrets.token_hex(16), secrets.token_urlsafe(24)
    body = {
        "visitor": pseudonym,
        "secret": secret,
        "purposes": {"analytics": True, "personalisation": visitor.personalisation},
        "text_version": CONSENT_TEXT_VERSION,
    }
    response = await client.post("/api/v1/visitor/consent", json=body)
    if response.status_code == 404:
        return None
    if response.is_success:
        visitor.pseudonym = pseudonym
    return response.is_success


async def _register_consents(
    client: httpx.AsyncClient, visitors: list[Visitor], concurrency: int, summary: Summary
) -> None:
    willing = [v for v in visitors if v.consents]
    if not willing:
        return
    # Without the consent API no pseudonym is sent at all: always on the safe side.
    if await register_consent(client, willing[0]) is None:
        summary.notes.append("consent API not available (404): no pseudonyms were sent")
        return
    limit = asyncio.Semaphore(concurrency)

    async def one(visitor: Visitor) -> bool | None:
        async with limit:
            return await register_consent(client, visitor)

    results = await asyncio.gather(*(one(v) for v in willing[1:]))
    failed = sum(result is not True for result in results)
    if failed:
        summary.notes.append(f"{failed} consents were refused: those visitors stay anonymous")


# Sending: batches in time order, a token bucket, retries with the same event ids.


@dataclass(frozen=True, slots=True)
class Outgoing:
    event: dict[str, Any]
    code: str | None


def _outgoing(visitors: list[Visitor]) -> list[Outgoing]:
    items = [
        Outgoing(_with_pseudonym(e, v.pseudonym), v.scans.get(e["event_id"]))
        for v in visitors
        for e in v.events
    ]
    return sorted(items, key=lambda o: o.event["occurred_at"])


def _with_pseudonym(event: dict[str, Any], pseudonym: str | None) -> dict[str, Any]:
    return event | {"visitor": pseudonym} if pseudonym else event


def _batches(items: list[Outgoing], size: int) -> Iterator[list[Outgoing]]:
    for first in range(0, len(items), size):
        yield items[first : first + size]


class TokenBucket:
    """At most `rate` tokens a second on average, in bursts of at most `capacity`."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate, self.capacity, self.tokens = rate, capacity, capacity
        self.at = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self, count: int) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
                self.at = now
                if self.tokens >= count:
                    self.tokens -= count
                    return
                await asyncio.sleep((count - self.tokens) / self.rate)


async def _send_all(
    client: httpx.AsyncClient, visitors: list[Visitor], options: Options, summary: Summary
) -> None:
    size = MAX_BATCH if options.rate is None else max(1, min(MAX_BATCH, int(options.rate)))
    bucket = TokenBucket(options.rate, size) if options.rate else None
    queue: asyncio.Queue[list[Outgoing]] = asyncio.Queue()
    for batch in _batches(_outgoing(visitors), size):
        queue.put_nowait(batch)

    async def worker() -> None:
        while not queue.empty():
            batch = queue.get_nowait()
            if bucket:
                await bucket.take(len(batch))
            await _follow_scans(client, batch, summary)
            await _send_batch(client, [o.event for o in batch], summary)

    await asyncio.gather(*(worker() for _ in range(max(1, options.concurrency))))


async def _follow_scans(client: httpx.AsyncClient, batch: list[Outgoing], summary: Summary) -> None:
    """A scan opens /q/<code> first, as the phone's camera app would."""
    for item in batch:
        if not item.code:
            continue
        try:
            response = await client.get(f"/q/{item.code}", follow_redirects=False)
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 307:
            summary.scans_followed += 1
        else:
            summary.scans_failed += 1
            summary.problems.append(f"/q/{item.code} did not redirect")


async def _send_batch(client: httpx.AsyncClient, events: list[dict[str, Any]], s: Summary) -> None:
    s.sent += len(events)
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            s.retries += 1
        try:
            response = await client.post("/e", json=events)
        except httpx.TransportError:
            await asyncio.sleep(min(0.25 * 2**attempt, 10))
            continue
        if response.status_code in (200, 422):
            _count(response.json(), s)
            return
        if response.status_code < 500:
            s.rejected += len(events)
            s.problems.append(f"POST /e answered {response.status_code}: {response.text[:200]}")
            return
        await asyncio.sleep(retry_after(response, attempt))
    s.unsent += len(events)
    s.problems.append(f"{len(events)} events not sent after {MAX_ATTEMPTS} attempts")


def _count(answer: dict[str, Any], summary: Summary) -> None:
    summary.accepted += int(answer["accepted"])
    summary.rejected += len(answer["rejected"])
    summary.problems += [f"rejected: {r['field']}: {r['message']}" for r in answer["rejected"]]


def _write_journal(path: Path | None, visitors: list[Visitor]) -> None:
    """Every event as it is sent, and whether its visitor wanted to consent (for checks)."""
    if path is None:
        return
    with path.open("w", encoding="utf-8") as out:
        for visitor in visitors:
            for event in visitor.events:
                line = {
                    "event": _with_pseudonym(event, visitor.pseudonym),
                    "consents": visitor.consents,
                }
                out.write(json.dumps(line) + "\n")
