"""Benchmark POST /decide over HTTP against a bare ASGI endpoint under the same load, same run.

Run: .venv/bin/python benchmarks/decide_http.py [--seconds 10] [--connections 32]
Needs wrk (Debian: apt-get install -y wrk). Everything listens on 127.0.0.1 only.

`marktplatz serve` (one uvicorn worker, uvloop + httptools, SQLite) with the demo city answers
decisions for the demo's touchpoints in turn (each one a scan: a pull by a visitor without
consent; every pick is recorded as an exposure event). The baseline is the bare ASGI app of
benchmarks/ingest.py (reads the body, answers 204) under the same wrk load and bodies.
Target: decisions per second ≥ 0.5 × the bare endpoint's requests per second.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import free_port, load, server

INGEST = Path(__file__).resolve().parent / "ingest.py"
CITY = "musterstadt"
TARGET = 0.5

LUA = r"""
local ids, city, n = {}, "", 0
function init(args)
  city = args[1]
  for id in string.gmatch(args[2], "[^,]+") do ids[#ids + 1] = id end
end
local headers = {["Content-Type"] = "application/json"}
request = function()
  n = n + 1
  local body = '{"city":"' .. city .. '","touchpoint_id":"' .. ids[(n % #ids) + 1] .. '"}'
  return wrk.format("POST", "/decide", headers, body)
end
"""


def touchpoints(database: Path) -> list[str]:
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT t.id FROM touchpoints t JOIN cities c ON c.id = t.city_id "
            "WHERE c.slug = ? AND t.status = 'active'",
            (CITY,),
        ).fetchall()
    return [str(uuid.UUID(hex=row[0])) for row in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="marktplatz-decide-") as tmp:
        env = {**os.environ, "MARKTPLATZ_VAR_DIR": tmp}
        subprocess.run(
            [sys.executable, "-m", "marktplatz", "demo"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        ids = touchpoints(Path(tmp) / "marktplatz.sqlite3")
        script = Path(tmp) / "decide.lua"
        script.write_text(LUA)
        wrk_args = [CITY, ",".join(ids)]
        bare_port, port = free_port(), free_port()
        with server(
            [sys.executable, str(INGEST), "--bare-server", str(bare_port)],
            dict(os.environ),
            bare_port,
        ):
            bare = load(bare_port, "/decide", script, wrk_args, args.seconds, args.connections)
        serve = [sys.executable, "-m", "marktplatz", "serve", "--port", str(port)]
        with server(serve, env, port):
            ours = load(port, "/decide", script, wrk_args, args.seconds, args.connections)
    ratio = ours.requests_per_s / bare.requests_per_s
    print(
        f"{len(ids)} touchpoints of the demo city, wrk -t2 -c{args.connections} -d{args.seconds}s"
    )
    print(f"bare ASGI endpoint   {bare.requests_per_s:10,.0f} req/s   p99 {bare.p99_ms:7.1f} ms")
    print(
        f"POST /decide         {ours.requests_per_s:10,.0f} req/s   p99 {ours.p99_ms:7.1f} ms"
        f"   non-2xx {ours.bad}"
    )
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"ratio {ratio:.2f} ({verdict} the target of ≥ {TARGET})")
    return 0 if ours.bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
