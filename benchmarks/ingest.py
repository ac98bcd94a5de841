"""Benchmark POST /e against a bare ASGI endpoint and raw inserts measured in the same run.

Run: .venv/bin/python benchmarks/ingest.py [--backend sqlite|postgresql|both] [--seconds 10]
Needs wrk (Debian: apt-get install -y wrk); PostgreSQL at 127.0.0.1:5432 (user postgres, trust),
where a throw-away database is created and dropped. Everything listens on 127.0.0.1 only.

For each backend, under the same load generator (wrk, one uvicorn worker, uvloop + httptools):
- single-event and 50-event requests to `marktplatz serve` (every event with a fresh id);
- the same requests to a bare ASGI endpoint that reads the body and answers 204 (baseline);
- the same rows written without HTTP: executemany (SQLite) or COPY (PostgreSQL) in transactions
  of 5,000 rows (baseline).
Targets: single events ≥ 0.5 × the bare endpoint's req/s; 50-event batches ≥ 0.7 × raw inserts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

CITY = "musterstadt"
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
RAW_ROWS = 200_000
RAW_CHUNK = 5_000

LUA = r"""
local batch, prefix, city, now = 1, "00000000", "", ""
local counter, tid = 0, 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  batch = tonumber(args[1]); prefix = args[2]; city = args[3]; now = args[4]
end
local event = '{"event_id":"%s-%04x-4000-8000-%012x","kind":"touchpoint.contact",'
  .. '"city":"%s","occurred_at":"%s","touchpoint_id":"%s-0000-4000-8000-000000000001",'
  .. '"channel":"beacon","proximity":"near","rssi":-70}'
local headers = {["Content-Type"] = "application/json"}
request = function()
  local parts = {}
  for i = 1, batch do
    counter = counter + 1
    parts[i] = string.format(event, prefix, tid, counter, city, now, prefix)
  end
  local body
  if batch == 1 then body = parts[1] else body = "[" .. table.concat(parts, ",") .. "]" end
  return wrk.format("POST", "/e", headers, body)
end
"""


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Reads the whole body and answers 204: the HTTP cost without any of ours."""
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@dataclass
class Load:
    requests_per_s: float
    p99_ms: float
    bad: int

    def events(self, batch: int) -> float:
        return self.requests_per_s * batch


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"{command} did not start")
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wrk(port: int, batch: int, seconds: int, connections: int, script: Path) -> Load:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    args = [str(batch), secrets.token_hex(4), CITY, now]
    return load(port, "/e", script, args, seconds, connections)


def load(
    port: int, path: str, script: Path, args: list[str], seconds: int, connections: int
) -> Load:
    """wrk -t2 against 127.0.0.1:<port><path> with a Lua script and its arguments, after a
    2-second warm-up (caches, connections, the daily salt): requests/s, p99 and errors."""
    base = ["wrk", "-t2", f"-c{connections}", "--latency", "-s", str(script)]
    target = f"http://127.0.0.1:{port}{path}"

    def run(duration: int) -> str:
        done = subprocess.run(
            [*base, f"-d{duration}s", target, "--", *args],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout

    run(2)
    out = run(seconds)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    assert p99 is not None, out
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if errors:
        print(f"    wrk: {errors.group(0)}")
    return Load(rate, float(p99.group(1)) * scale, int(bad.group(1)) if bad else 0)


def raw_rows(city_id: uuid.UUID, now: datetime, sqlite: bool) -> list[tuple[Any, ...]]:
    """The same rows the writer stores for the wrk events, ready for the driver."""
    touchpoint = uuid.uuid4()
    rows = []
    for _ in range(RAW_ROWS):
        event_id = uuid.uuid4()
        row = (event_id, "touchpoint.contact", city_id, now, now, touchpoint, None, "beacon")
        # … rssi, count, path, pseudonym, daily_hash, schema_version, decision_id, reasons
        rows.append((*row, "near", -70, None, None, None, None, 1, None, None))
    if not sqlite:
        return rows
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    return [(r[0].hex, r[1], r[2].hex, stamp, stamp, r[5].hex, *r[6:]) for r in rows]


def raw_sqlite(database: Path, city_id: uuid.UUID, synchronous: str) -> float:
    rows = raw_rows(city_id, datetime.now(UTC), sqlite=True)
    marks = ", ".join("?" * len(rows[0]))
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={synchronous}")
        insert = f"INSERT INTO events VALUES ({marks}) ON CONFLICT (event_id) DO NOTHING"  # noqa: S608
        start = time.perf_counter()
        for i in range(0, len(rows), RAW_CHUNK):
            db.execute("BEGIN IMMEDIATE")
            db.executemany(insert, rows[i : i + RAW_CHUNK])
            db.execute("COMMIT")
        return len(rows) / (time.perf_counter() - start)


async def raw_postgresql(url: str) -> float:
    import asyncpg

    db = await asyncpg.connect(url)
    try:
        city_id = await db.fetchval("SELECT id FROM cities WHERE slug = $1", CITY)
        rows = raw_rows(city_id, datetime.now(UTC), sqlite=False)
        start = time.perf_counter()
        for i in range(0, len(rows), RAW_CHUNK):
            async with db.transaction():
                await db.copy_records_to_table("events", records=rows[i : i + RAW_CHUNK])
        return len(rows) / (time.perf_counter() - start)
    finally:
        await db.close()


async def admin(sql: str) -> None:
    import asyncpg

    db = await asyncpg.connect(PG_ADMIN)
    try:
        await db.execute(sql)
    finally:
        await db.close()


def sqlite_city(database: Path) -> uuid.UUID:
    with contextlib.closing(sqlite3.connect(database)) as db:
        return uuid.UUID(db.execute("SELECT id FROM cities WHERE slug = ?", (CITY,)).fetchone()[0])


def report(name: str, bare: dict[int, Load], ours: dict[int, Load], raw: float) -> None:
    print(f"== {name}")
    for batch in (1, 50):
        b, o = bare[batch], ours[batch]
        print(
            f"  {batch:>2}-event requests: POST /e {o.requests_per_s:,.0f} req/s = "
            f"{o.events(batch):,.0f} events/s, p99 {o.p99_ms:.1f} ms"
            + (f" ({o.bad} non-2xx)" if o.bad else "")
        )
        print(
            f"      bare ASGI 204: {b.requests_per_s:,.0f} req/s = {b.events(batch):,.0f} "
            f"events/s, p99 {b.p99_ms:.1f} ms; ratio {o.requests_per_s / b.requests_per_s:.2f}"
        )
        print(
            f"      raw insert without HTTP: {raw:,.0f} events/s; ratio {o.events(batch) / raw:.2f}"
        )
    single = ours[1].requests_per_s / bare[1].requests_per_s
    batches = ours[50].events(50) / raw
    print(
        f"  targets: single {single:.2f} × bare (≥ 0.5: {'met' if single >= 0.5 else 'NOT met'}), "
        f"50-batch {batches:.2f} × raw (≥ 0.7: {'met' if batches >= 0.7 else 'NOT met'})"
    )


WORKERS = 1


def measure(name: str, env: dict[str, str], seconds: int, connections: int, raw: Any) -> None:
    subprocess.run(
        [sys.executable, "-m", "marktplatz", "demo"], env=env, check=True, stdout=subprocess.DEVNULL
    )
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "events.lua"
        script.write_text(LUA)
        bare_port, port = free_port(), free_port()
        bare_command = [
            sys.executable,
            __file__,
            "--bare-server",
            str(bare_port),
            "--workers",
            str(WORKERS),
        ]
        bare: dict[int, Load] = {}
        ours: dict[int, Load] = {}
        with server(bare_command, dict(os.environ), bare_port):
            for batch in (1, 50):
                bare[batch] = wrk(bare_port, batch, seconds, connections, script)
        serve = [sys.executable, "-m", "marktplatz", "serve", "--port", str(port)]
        serve += ["--workers", str(WORKERS)]
        with server(serve, env, port):
            for batch in (1, 50):
                ours[batch] = wrk(port, batch, seconds, connections, script)
    report(name, bare, ours, raw())


def sqlite_block(seconds: int, connections: int, durability: str) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="marktplatz-bench-") as tmp,
        tempfile.TemporaryDirectory(prefix="marktplatz-raw-") as raw_dir,
    ):
        env = {**os.environ, "MARKTPLATZ_VAR_DIR": tmp, "MARKTPLATZ_DURABILITY": durability}
        raw_env = {**env, "MARKTPLATZ_VAR_DIR": raw_dir}
        synchronous = "FULL" if durability == "strict" else "NORMAL"

        def raw() -> float:
            subprocess.run(
                [sys.executable, "-m", "marktplatz", "demo"],
                env=raw_env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            database = Path(raw_dir) / "marktplatz.sqlite3"
            return raw_sqlite(database, sqlite_city(database), synchronous)

        measure(f"SQLite (durability={durability})", env, seconds, connections, raw)


def postgresql_block(seconds: int, connections: int) -> None:
    names = [f"marktplatz_bench_{secrets.token_hex(4)}" for _ in range(2)]
    for name in names:
        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        url, raw_url = (f"postgresql://postgres@127.0.0.1:5432/{n}" for n in names)
        env = {
            **os.environ,
            "MARKTPLATZ_DATABASE_URL": url.replace("postgresql", "postgresql+asyncpg", 1),
        }
        raw_env = {
            **env,
            "MARKTPLATZ_DATABASE_URL": raw_url.replace("postgresql", "postgresql+asyncpg", 1),
        }

        def raw() -> float:
            subprocess.run(
                [sys.executable, "-m", "marktplatz", "demo"],
                env=raw_env,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            return asyncio.run(raw_postgresql(raw_url))

        with tempfile.TemporaryDirectory() as tmp:
            env["MARKTPLATZ_VAR_DIR"] = raw_env["MARKTPLATZ_VAR_DIR"] = tmp
            measure("PostgreSQL (one INSERT per group)", env, seconds, connections, raw)
    finally:
        for name in names:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--durability", choices=["normal", "strict"], default="normal")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, ours and bare")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global WORKERS
    WORKERS = args.workers
    if args.bare_server:
        import uvicorn

        uvicorn.run(
            "ingest:bare_app",
            app_dir=str(Path(__file__).parent),
            workers=args.workers,
            host="127.0.0.1",
            port=args.bare_server,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_level="warning",
        )
        return
    load = f"wrk -t2 -c{args.connections} -d{args.seconds}s"
    workers = "one uvicorn worker" if WORKERS == 1 else f"{WORKERS} uvicorn workers"
    print(f"{os.cpu_count()} cores; {load}; {workers} (uvloop, httptools)")
    if args.backend in ("sqlite", "both"):
        sqlite_block(args.seconds, args.connections, args.durability)
    if args.backend in ("postgresql", "both"):
        postgresql_block(args.seconds, args.connections)


if __name__ == "__main__":
    main()
