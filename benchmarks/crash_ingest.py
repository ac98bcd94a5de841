"""Crash safety of POST /e: kill the server with SIGKILL under load; nothing acknowledged is lost.

Run: .venv/bin/python benchmarks/crash_ingest.py [--events 200000] [--kills 60] [--mode both]

8 clients send batches of 10 events to a real `python -m marktplatz serve` (SQLite in a temporary
var dir, loopback only) while a killer SIGKILLs the server every 0.5–1.5 s and restarts it.
Clients retry on connection errors and 503 with the same event ids and remember every event whose
request got a 2xx. At the end every acknowledged event must be stored exactly once and
`PRAGMA integrity_check` must say ok. The control mode starts the server with
MARKTPLATZ_UNSAFE_ACK_BEFORE_COMMIT=true (ack, then commit), and the same check must fail.
The clients pace themselves so that the events spread over at least --kills restarts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

CLIENTS = 8
BATCH = 10
CITY = "musterstadt"
MAX_SECONDS = 30 * 60  # a hard stop for the whole run of one mode
START_TIMEOUT = 60.0
SERVE = [sys.executable, "-m", "marktplatz", "serve", "--host", "127.0.0.1"]


@dataclass
class Outcome:
    mode: str
    sent: int
    acknowledged: int
    present: int
    duplicates: int
    kills: int
    integrity: str
    seconds: float
    client_errors: list[str] = field(default_factory=list)

    @property
    def missing(self) -> int:
        return self.acknowledged - self.present

    @property
    def passed(self) -> bool:
        return (
            self.missing == 0
            and self.duplicates == 0
            and self.integrity == "ok"
            and not self.client_errors
        )


class Server:
    """A `marktplatz serve` subprocess on loopback that can be killed and started again."""

    def __init__(self, var_dir: Path, port: int, *, unsafe: bool) -> None:
        self.port = port
        self.env = {
            **os.environ,
            "MARKTPLATZ_VAR_DIR": str(var_dir),
            "MARKTPLATZ_ENVIRONMENT": "development",
            "MARKTPLATZ_UNSAFE_ACK_BEFORE_COMMIT": "true" if unsafe else "false",
        }
        self.log = (var_dir / "serve.log").open("ab")
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: ASYNC220 (returns at once)
            [*SERVE, "--port", str(self.port)],
            env=self.env,
            stdout=self.log,
            stderr=self.log,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("the server exited while starting; see serve.log")
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return
            await asyncio.sleep(0.02)
        raise RuntimeError("the server did not start in time")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
        self.process = None


class Pace:
    """A shared token bucket: `rate` events per second with at most 0.1 s of burst."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next = time.monotonic()

    async def take(self, count: int) -> None:
        now = time.monotonic()
        self.next = max(self.next, now - 0.1)
        due = self.next
        self.next += count * self.interval
        if due > now:
            await asyncio.sleep(due - now)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def make_batches(total: int) -> list[list[dict[str, Any]]]:
    now = datetime.now(UTC).isoformat()
    batches = []
    for _ in range(total // BATCH):
        touchpoint = str(uuid.uuid4())
        batches.append(
            [
                {
                    "event_id": str(uuid.uuid4()),
                    "kind": "touchpoint.contact",
                    "city": CITY,
                    "occurred_at": now,
                    "touchpoint_id": touchpoint,
                    "channel": "beacon",
                    "proximity": "near",
                    "rssi": -70,
                }
                for _ in range(BATCH)
            ]
        )
    return batches


async def client(
    port: int, batches: list[list[dict[str, Any]]], pace: Pace, acked: set[str], errors: list[str]
) -> None:
    """Send each batch until it is acknowledged; retry with the same ids after a failure."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10.0) as http:
        for batch in batches:
            await pace.take(len(batch))
            for _ in range(100_000):  # bounded: the killer restarts the server within seconds
                try:
                    response = await http.post("/e", json=batch)
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
                    continue
                if response.status_code == 503:
                    await asyncio.sleep(0.05)
                    continue
                if response.is_success and response.json().get("accepted") == len(batch):
                    acked.update(e["event_id"] for e in batch)
                else:
                    errors.append(f"{response.status_code}: {response.text[:200]}")
                break


async def killer(server: Server, min_kills: int, clients_done: asyncio.Event) -> int:
    kills = 0
    deadline = time.monotonic() + MAX_SECONDS
    while (kills < min_kills or not clients_done.is_set()) and time.monotonic() < deadline:
        await server.start()
        await asyncio.sleep(random.uniform(0.5, 1.5))
        server.kill()
        kills += 1
    return kills


async def load(var_dir: Path, total: int, min_kills: int, *, unsafe: bool) -> Outcome:
    server = Server(var_dir, free_port(), unsafe=unsafe)
    batches = make_batches(total)
    # Events spread over at least `min_kills` restarts of about a second of uptime each.
    pace = Pace(total / (min_kills * 1.1))
    acked: set[str] = set()
    errors: list[str] = []
    done = asyncio.Event()
    started = time.monotonic()
    killing = asyncio.create_task(killer(server, min_kills, done))
    try:
        await asyncio.wait_for(
            asyncio.gather(
                *(
                    client(server.port, batches[i::CLIENTS], pace, acked, errors)
                    for i in range(CLIENTS)
                )
            ),
            timeout=MAX_SECONDS,
        )
    finally:
        done.set()
        kills = await killing
        server.kill()
    present, duplicates, integrity = check(var_dir / "marktplatz.sqlite3", acked)
    return Outcome(
        mode="control" if unsafe else "safe",
        sent=len(batches) * BATCH,
        acknowledged=len(acked),
        present=present,
        duplicates=duplicates,
        kills=kills,
        integrity=integrity,
        seconds=time.monotonic() - started,
        client_errors=errors[:5],
    )


def check(database: Path, acked: set[str]) -> tuple[int, int, str]:
    """(acknowledged ids present, ids stored more than once, integrity_check)."""
    with contextlib.closing(sqlite3.connect(database)) as db:
        integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
        db.execute("CREATE TEMP TABLE acked (event_id TEXT PRIMARY KEY)")
        # SQLAlchemy's Uuid keeps 32 hex digits on SQLite.
        db.executemany("INSERT INTO acked VALUES (?)", ((uuid.UUID(e).hex,) for e in acked))
        present = db.execute(
            "SELECT count(*) FROM events WHERE event_id IN (SELECT event_id FROM acked)"
        ).fetchone()[0]
        duplicates = db.execute(
            "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id "
            "HAVING count(*) > 1)"
        ).fetchone()[0]
    return present, duplicates, integrity


def run_mode(total: int, min_kills: int, *, unsafe: bool) -> Outcome:
    with tempfile.TemporaryDirectory(prefix="marktplatz-crash-") as tmp:
        var_dir = Path(tmp)
        subprocess.run(
            [sys.executable, "-m", "marktplatz", "demo"],
            env={**os.environ, "MARKTPLATZ_VAR_DIR": tmp},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return asyncio.run(load(var_dir, total, min_kills, unsafe=unsafe))


def report(outcome: Outcome) -> None:
    verdict = "PASS" if outcome.passed else "FAIL"
    print(
        f"{outcome.mode:7} {verdict}: {outcome.acknowledged:,} of {outcome.sent:,} events "
        f"acknowledged, {outcome.present:,} of them stored, {outcome.missing:,} missing, "
        f"{outcome.duplicates} duplicates, integrity_check {outcome.integrity}, "
        f"{outcome.kills} kills, {outcome.seconds:.0f} s"
    )
    for error in outcome.client_errors:
        print(f"        unexpected answer {error}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--kills", type=int, default=60)
    parser.add_argument("--mode", choices=["safe", "control", "both"], default="both")
    parser.add_argument("--json", action="store_true", help="also print one JSON line per mode")
    args = parser.parse_args()
    modes = {"safe": [False], "control": [True], "both": [False, True]}[args.mode]
    ok = True
    for unsafe in modes:
        outcome = run_mode(args.events, args.kills, unsafe=unsafe)
        report(outcome)
        if args.json:
            print(json.dumps({**outcome.__dict__, "missing": outcome.missing}))
        # The control mode proves the check can fail: it must lose acknowledged events.
        ok = ok and (outcome.passed != unsafe) and outcome.kills >= args.kills
    print("crash safety:", "as expected" if ok else "NOT as expected")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
