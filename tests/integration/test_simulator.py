"""`marktplatz simulate` against a real `marktplatz serve` with the demo city, over HTTP."""

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
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from marktplatz.simulator import Options, Place, World, beacon_mile, plan, simulate

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
        rows = dict(db.execute("SELECT event_id, pseudonym FROM events").fetchall())
    assert len(rows) == accepted
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
