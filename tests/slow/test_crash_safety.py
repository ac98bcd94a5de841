"""Crash safety of POST /e: SIGKILL under load loses nothing acknowledged; the check can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "crash_ingest.py"
EVENTS = 20_000
KILLS = 15
ARGS = ["--events", str(EVENTS), "--kills", str(KILLS)]


def crash_run(mode: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *ARGS, "--mode", mode, "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 1, done.stdout + done.stderr
    outcome: dict[str, Any] = json.loads(lines[0])
    return outcome


@pytest.mark.slow
def test_every_acknowledged_event_survives_sigkill_exactly_once() -> None:
    # given 8 clients sending batches of 10 while the server is SIGKILLed and restarted
    # when
    outcome = crash_run("safe")
    # then
    assert outcome["kills"] >= KILLS
    assert outcome["client_errors"] == []
    assert outcome["acknowledged"] == EVENTS
    assert outcome["present"] == outcome["acknowledged"]
    assert outcome["duplicates"] == 0
    assert outcome["integrity"] == "ok"


@pytest.mark.slow
def test_acknowledging_before_commit_loses_events_so_the_check_can_fail() -> None:
    # given the server in the control mode: answers before COMMIT
    # when
    outcome = crash_run("control")
    # then
    assert outcome["kills"] >= KILLS
    assert outcome["integrity"] == "ok"
    assert outcome["missing"] > 0
