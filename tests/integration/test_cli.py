"""The `marktplatz` command, run as a user would: demo, check, create-user, --help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run(var_dir: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKTPLATZ_")}
    env["MARKTPLATZ_VAR_DIR"] = str(var_dir)
    return subprocess.run(
        [sys.executable, "-m", "marktplatz", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    var_dir = tmp_path_factory.mktemp("cli")
    first = run(var_dir, "demo")
    assert first.returncode == 0, first.stderr
    return var_dir, first.stdout


def test_demo_loads_musterstadt_and_prints_one_account_per_role(demo_dir: tuple[Path, str]) -> None:
    # given the output of the first `marktplatz demo`
    _, output = demo_dir
    # then
    assert "Loaded demo city 'musterstadt': 60 shops, 3 zones, 30 touchpoints." in output
    for role in ("city-admin", "city-editor", "retailer-owner", "retailer-staff"):
        assert f"  {role}" in output


def test_demo_twice_changes_nothing(demo_dir: tuple[Path, str]) -> None:
    # given
    var_dir, _ = demo_dir
    # when
    second = run(var_dir, "demo")
    # then
    assert second.returncode == 0
    assert "already loaded; nothing changed" in second.stdout


def test_check_reports_a_healthy_installation(demo_dir: tuple[Path, str]) -> None:
    var_dir, _ = demo_dir
    result = run(var_dir, "check")
    assert result.returncode == 0, result.stderr
    assert "database:    ok" in result.stdout
    assert "settings:    ok" in result.stdout


def test_create_user_refuses_a_weak_password_and_accepts_a_good_one(
    demo_dir: tuple[Path, str],
) -> None:
    # given
    var_dir, _ = demo_dir
    base = (
        "create-user",
        "--email",
        "neu@example.org",
        "--role",
        "retailer-staff",
        "--city",
        "musterstadt",
        "--shop",
        "apotheke-am-markt",
    )
    # when
    weak = run(var_dir, *base, "--password", "kurz")
    good = run(var_dir, *base, "--password", "Lindenblatt-7-Tresen")
    # then
    assert weak.returncode == 1
    assert "password: The password needs at least 10 characters." in weak.stderr
    assert good.returncode == 0, good.stderr
    assert "Created neu@example.org as retailer-staff." in good.stdout


def test_check_fails_clearly_in_production_with_default_secret(tmp_path: Path) -> None:
    env_args = ("check",)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKTPLATZ_")}
    env.update(MARKTPLATZ_ENVIRONMENT="production", MARKTPLATZ_VAR_DIR=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "marktplatz", *env_args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "MARKTPLATZ_SECRET_KEY" in result.stderr


def test_rollup_fills_and_a_backfill_names_what_it_cannot_do(demo_dir: tuple[Path, str]) -> None:
    # given the demo city
    var_dir, _ = demo_dir
    # when the rollups run, and a backfill asks for a range long past the kept raw events
    filled = run(var_dir, "rollup")
    refused = run(
        var_dir, "rollup", "--city", "musterstadt", "--start", "2001-01-01T00:00+01:00",
        "--end", "2001-01-02T00:00+01:00",
    )  # fmt: skip
    half = run(var_dir, "rollup", "--city", "musterstadt")
    # then the first fills, the second refuses with the reason, the third says what is missing
    assert filled.returncode == 0, filled.stderr
    assert filled.stdout.startswith("Filled ")
    assert refused.returncode == 1
    assert "are no longer kept" in refused.stderr
    assert half.returncode == 2
    assert "needs --city, --start and --end" in half.stderr


@pytest.mark.parametrize("command", ["serve", "migrate", "demo", "create-user", "check", "rollup"])
def test_every_command_has_help(tmp_path: Path, command: str) -> None:
    result = run(tmp_path, command, "--help")
    assert result.returncode == 0
    assert "Usage" in result.stdout
