"""`marktplatz simulate` against the demo city: a real `marktplatz serve`, or the app in-process."""

from __future__ import annotations

import json
import os
import random
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from marktplatz.adapters.clock import FixedClock
from marktplatz.bootstrap import App
from marktplatz.services import demo
from marktplatz.settings import Settings
from marktplatz.simulator import (
    Options,
    Place,
    SimulationError,
    Summary,
    World,
    beacon_mile,
    plan,
    simulate,
)
from marktplatz.store import tables as t
from marktplatz.web.app import create_app

ADMIN_LINE = re.compile(r"^\s+city-admin\s+(?P<email>\S+@\S+)\s+(?P<password>\S+)\s*$", re.M)


@dataclass(frozen=True)
class Server:
    base_url: str
    var_dir: Path
    env: dict[str, str]
    admin_email: str
    admin_password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_up(process: subprocess.Popen[bytes], base_url: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            with urllib.request.urlopen(f"{base_url}/api/v1/cities", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    pytest.fail(f"the server did not answer within 30 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`marktplatz demo`, then `marktplatz serve` on a free port in a fresh var dir (SQLite)."""
    var_dir = tmp_path_factory.mktemp("simulate")
    base_url = f"http://127.0.0.1:{_free_port()}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKTPLATZ_")}
    env |= {
        "MARKTPLATZ_VAR_DIR": str(var_dir),
        "MARKTPLATZ_ENVIRONMENT": "test",
        "MARKTPLATZ_BASE_URL": base_url,
        "PYTHONUNBUFFERED": "1",
    }
    demo = subprocess.run(
        [sys.executable, "-m", "marktplatz", "demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr
    admin = ADMIN_LINE.search(demo.stdout)
    assert admin, demo.stdout
    log = var_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "marktplatz", "serve", "--port", base_url.rsplit(":", 1)[1]],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        _wait_until_up(process, base_url, log)
        yield Server(base_url, var_dir, env, admin["email"], admin["password"])
    finally:
        process.terminate()
        process.wait(timeout=10)


def _summary_number(output: str, name: str) -> int:
    found = re.search(rf"\b{name}: (\d+)", output)
    assert found, output
    return int(found[1])


def test_simulate_sends_journeys_that_are_all_stored(server: Server) -> None:
    # given the demo city on a running server, and a city admin's login for the touchpoints
    journal = server.var_dir / "journal.jsonl"
    env = server.env | {"MARKTPLATZ_SIMULATE_ADMIN_PASSWORD": server.admin_password}
    # when
    run = subprocess.run(
        [
            sys.executable, "-m", "marktplatz", "simulate", "--visitors", "30", "--days", "2",
            "--seed", "7", "--base-url", server.base_url, "--admin-email", server.admin_email,
            "--journal", str(journal),
        ],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    # then every event sent was accepted and is in the database, once
    assert run.returncode == 0, run.stdout + run.stderr
    accepted = _summary_number(run.stdout, "accepted")
    assert _summary_number(run.stdout, "rejected") == 0
    sent = [json.loads(line) for line in journal.read_text().splitlines()]
    assert accepted == _summary_number(run.stdout, "events sent") == len(sent)
    with sqlite3.connect(server.var_dir / "marktplatz.sqlite3") as db:
        stored = db.execute("SELECT event_id, pseudonym, kind FROM events").fetchall()
    rows = {event_id: pseudonym for event_id, pseudonym, _ in stored}
    ids = {uuid.UUID(s["event"]["event_id"]).hex for s in sent}
    assert len(ids & rows.keys()) == accepted
    # and what else is stored the server recorded itself, for the decisions asked (a contact
    # that falls into the control group records what it would have shown as withheld)
    assert _summary_number(run.stdout, "decisions asked") > 0
    assert {kind for event_id, _, kind in stored if event_id not in ids} <= {
        "content.exposed",
        "content.withheld",
        "content.saved",
    }
    # and the journeys contain beacon walks, followed QR/NFC scans, views and saves
    kinds = Counter(s["event"]["kind"] + "/" + str(s["event"].get("channel")) for s in sent)
    assert {"page.view/None", "content.viewed/None", "touchpoint.contact/beacon"} <= kinds.keys()
    scans = kinds["touchpoint.contact/qr"] + kinds["touchpoint.contact/nfc"]
    assert scans == _summary_number(run.stdout, "qr scans followed") > 0
    # and no event of a visitor who never consented carries a pseudonym
    refusing = [uuid.UUID(s["event"]["event_id"]).hex for s in sent if not s["consents"]]
    assert refusing
    assert [rows[event_id] for event_id in refusing] == [None] * len(refusing)


def _world() -> World:
    beacons = [Place(f"b{i}", "ibeacon", 52.105, 8.745 + i * 0.001, "z") for i in range(6)]
    return World(
        city="musterstadt",
        tz=ZoneInfo("Europe/Berlin"),
        shops=[Place("laden", "shop", 52.105, 8.747)],
        mile=beacon_mile(beacons[::-1]),
        links=[Place("q1", "qr", 52.105, 8.746, code="abc", target="/musterstadt/shops/laden")],
    )


def _shape(events: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [tuple(v for k, v in sorted(e.items()) if k != "event_id") for e in events]


def test_the_same_seed_plans_the_same_journeys_in_the_window() -> None:
    # given
    now = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    options = Options(base_url="http://unused", visitors=40, days=3)
    # when
    first = plan(_world(), random.Random(7), options, now)
    second = plan(_world(), random.Random(7), options, now)
    # then
    assert [_shape(v.events) for v in first] == [_shape(v.events) for v in second]
    assert [v.consents for v in first] == [v.consents for v in second]
    assert [v.asks for v in first] == [v.asks for v in second]
    assert {a.touchpoint for v in first for a in v.asks} == {"q1", *(f"b{i}" for i in range(6))}
    times = [datetime.fromisoformat(e["occurred_at"]) for v in first for e in v.events]
    assert now.replace(day=18, hour=16) <= min(times)
    assert max(times) < now
    assert [p.ref for p in _world().mile] == [f"b{i}" for i in range(6)]


async def test_without_a_consent_api_no_pseudonym_is_sent() -> None:
    # given a server that answers 404 to consent and records what it receives at /e
    received: list[dict[str, Any]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/e":
            batch = json.loads(request.content)
            received.extend(batch)
            return httpx.Response(200, json={"accepted": len(batch), "rejected": []})
        if request.url.path.endswith("/shops"):
            return httpx.Response(200, json=[{"slug": "laden", "lat": 52.1, "lon": 8.7}])
        if request.url.path == "/api/v1/cities/musterstadt":
            return httpx.Response(200, json={"slug": "musterstadt", "timezone": "Europe/Berlin"})
        return httpx.Response(404, json={"detail": "Not Found"})

    options = replace(Options(base_url="http://sim.test"), visitors=20, without_consent=0.0)
    # when
    summary = await simulate(options, httpx.MockTransport(handle))
    # then
    assert summary.ok
    assert summary.without_consent == 0
    assert summary.accepted == len(received) > 0
    assert [e for e in received if "visitor" in e] == []
    assert "consent API not available (404): no pseudonyms were sent" in summary.notes


async def test_a_busy_server_gets_the_same_events_again() -> None:
    # given a server that answers the first POST /e with 503 and the second one with 200
    bodies: list[list[dict[str, Any]]] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/e":
            bodies.append(json.loads(request.content))
            if len(bodies) == 1:
                return httpx.Response(503, headers={"retry-after": "0"}, json={"detail": "busy"})
            return httpx.Response(200, json={"accepted": len(bodies[-1]), "rejected": []})
        if request.url.path.endswith("/shops"):
            return httpx.Response(200, json=[{"slug": "laden", "lat": 52.1, "lon": 8.7}])
        return httpx.Response(200, json={"slug": "musterstadt", "timezone": "Europe/Berlin"})

    options = replace(Options(base_url="http://sim.test"), visitors=3, concurrency=1, seed=1)
    # when
    summary = await simulate(options, httpx.MockTransport(handle))
    # then
    assert (summary.retries, summary.accepted, summary.unsent) == (1, summary.sent, 0)
    assert bodies[0] == bodies[1]


async def test_a_cashier_without_a_password_stops_the_run_before_anything_is_sent() -> None:
    # given a server that would answer everything
    requests: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(f"{request.method} {request.url.path}")
        if request.url.path.endswith("/shops"):
            return httpx.Response(200, json=[])
        return httpx.Response(200, json={"slug": "musterstadt", "timezone": "Europe/Berlin"})

    options = Options(base_url="http://sim.test", cashier_email="kasse@musterstadt.example")
    # when / then
    with pytest.raises(SimulationError, match="MARKTPLATZ_SIMULATE_CASHIER_PASSWORD"):
        await simulate(options, httpx.MockTransport(handle))
    assert [r for r in requests if r.startswith("POST")] == []


async def test_saves_past_the_servers_limit_are_counted_and_not_waited_for() -> None:
    # given a server whose every save answers 429 (limit per client reached)
    saves: list[dict[str, Any]] = []
    point = {"id": str(uuid.uuid4()), "kind": "qr", "lat": 52.1, "lon": 8.7, "status": "active"}
    point |= {"code": "abc", "target": "/musterstadt/shops/laden"}
    beacon = point | {"id": str(uuid.uuid4()), "kind": "ibeacon", "code": "", "target": ""}
    pick = {"content_id": str(uuid.uuid4()), "kind": "offer", "shop_id": None}
    answers = {
        "/api/v1/session": {"csrf_token": "t", "user": {"memberships": []}},
        "/api/v1/cities/musterstadt/touchpoints": [point, beacon],
        "/api/v1/cities/musterstadt/shops": [{"slug": "laden", "lat": 52.1, "lon": 8.7}],
        "/api/v1/cities/musterstadt": {"slug": "musterstadt", "timezone": "Europe/Berlin"},
        "/decide": {"decision_id": str(uuid.uuid4()), "picks": [pick]},
    }

    def handle(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/e":
            return httpx.Response(200, json={"accepted": len(json.loads(request.content))} | {
                "rejected": []})  # fmt: skip
        if path == "/api/v1/coupons":
            saves.append(json.loads(request.content))
            return httpx.Response(429, headers={"retry-after": "60"}, json={"detail": "wait"})
        if path.startswith("/q/"):
            return httpx.Response(307, headers={"location": "/musterstadt"})
        if path in answers:
            return httpx.Response(200, json=answers[path])
        return httpx.Response(404, json={"detail": "Not Found"})

    options = Options(
        base_url="http://sim.test", visitors=200, seed=3, admin_email="a@b.example",
        admin_password="x",
    )  # fmt: skip
    # when
    summary = await simulate(options, httpx.MockTransport(handle))
    # then each refused save was tried once, counted, and the run is still fine
    assert summary.ok, summary.lines()
    assert summary.coupons.throttled == len(saves) > 0
    assert summary.coupons.saved == summary.coupons.kept == 0
    assert summary.seconds < 30
    assert any("MARKTPLATZ_COUPON_SAVE_RATE_LIMIT" in line for line in summary.lines())


# Coupons: the demo city in the app itself, on the test database (SQLite or PostgreSQL), at a
# fixed time on a weekday morning, when the optician and the fashion house are open.

OPTICIAN = "optik-brillenhaus-krueger"


@dataclass(frozen=True)
class Demo:
    web: Any
    composed: App
    accounts: dict[str, demo.DemoAccount]


def _next_weekday_morning() -> datetime:
    """11:00 in Musterstadt on the next Tuesday to Friday: later than the journeys' events,
    which the simulator dates before the real now, and less than five days after them."""
    tz = ZoneInfo("Europe/Berlin")
    day = datetime.now(tz).date() + timedelta(days=1)
    while day.weekday() not in (1, 2, 3, 4):
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=tz)


@pytest.fixture(scope="module")
async def city(settings: Settings) -> AsyncIterator[Demo]:
    # Saves come from one client address here: the limit per client would slow the runs down.
    roomy = settings.model_copy(update={"coupon_save_rate_limit": "10000/minute"})
    web: Any = create_app(roomy, clock=FixedClock(_next_weekday_morning()))
    composed: App = web.state.marktplatz
    data = json.loads(resources.files("marktplatz").joinpath("data/musterstadt.json").read_text())
    loaded = await demo.load_demo(composed.ctx, data, OPTICIAN)
    assert loaded.created
    yield Demo(web, composed, {a.role: a for a in loaded.accounts})
    await composed.close()


async def _coupons(city: Demo) -> dict[Any, dict[str, Any]]:
    async with city.composed.engine.connect() as conn:
        rows = (await conn.execute(select(t.coupons))).mappings().all()
    return {row["id"]: dict(row) for row in rows}


async def _id_of(city: Demo, table: Any, column: Any, value: str) -> Any:
    async with city.composed.engine.connect() as conn:
        return (await conn.execute(select(table.c.id).where(column == value))).scalar_one()


async def _run(city: Demo, **changes: Any) -> tuple[Summary, list[dict[str, Any]]]:
    """One simulation in-process; the coupon rows it added."""
    admin = city.accounts["city-admin"]
    options = Options(
        base_url="http://testserver", visitors=60, seed=11, admin_email=admin.email,
        admin_password=admin.password,
    )  # fmt: skip
    before = await _coupons(city)
    summary = await simulate(replace(options, **changes), httpx.ASGITransport(app=city.web))
    added = [row for key, row in (await _coupons(city)).items() if key not in before]
    return summary, added


async def test_visitors_save_coupons_and_the_demo_cashier_redeems_those_of_the_own_shop(
    city: Demo,
) -> None:
    # given the demo cashier of the optician
    cashier = city.accounts["retailer-staff"]
    optician = await _id_of(city, t.shops, t.shops.c.slug, OPTICIAN)
    cashier_id = await _id_of(city, t.users, t.users.c.email, cashier.email)
    # when
    summary, added = await _run(
        city, cashier_email=cashier.email, cashier_password=cashier.password
    )
    # then every save is a coupon row, found at a touchpoint by a decision
    tally = summary.coupons
    assert summary.ok, summary.lines()
    assert tally.asked > tally.saved == len(added) > 0
    assert [r for r in added if r["touchpoint_id"] is None or r["decision_id"] is None] == []
    # and some were redeemed, each by the cashier and of the optician
    redeemed = [r for r in added if r["status"] == "redeemed"]
    assert len(redeemed) == tally.redeemed > 0
    assert {(r["shop_id"], r["redeemed_by"]) for r in redeemed} == {(optician, cashier_id)}
    # and those of other shops were kept, not brought to this till
    assert "foreign-shop" not in tally.refused
    assert tally.kept + tally.redeemed + sum(tally.refused.values()) == tally.saved
    assert {r["shop_id"] for r in added if r["status"] == "saved"} - {optician}
    assert f"coupons redeemed: {tally.redeemed}  kept: {tally.kept}" in "\n".join(summary.lines())


async def test_coupons_of_visitors_without_consent_carry_no_pseudonym(city: Demo) -> None:
    # when nobody consents, and then everybody does
    refusing, anonymous = await _run(city, without_consent=1.0, seed=12)
    consenting, known = await _run(city, without_consent=0.0, seed=12)
    # then only the consenting visitors' coupons are linked to their pseudonym
    assert refusing.ok
    assert consenting.ok
    assert len(anonymous) == refusing.coupons.saved > 0
    assert [r["pseudonym"] for r in anonymous] == [None] * len(anonymous)
    assert len(known) == consenting.coupons.saved > 0
    assert [r for r in known if r["pseudonym"] is None] == []


async def test_without_a_cashier_coupons_are_saved_and_none_is_redeemed(city: Demo) -> None:
    # when
    summary, added = await _run(city, seed=13)
    # then
    assert summary.ok
    assert len(added) == summary.coupons.saved == summary.coupons.kept > 0
    assert (summary.coupons.redeemed, summary.coupons.refused) == (0, {})
    assert {r["status"] for r in added} == {"saved"}
    assert any("no coupons were redeemed" in note for note in summary.notes)
