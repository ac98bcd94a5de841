"""`marktplatz import-footfall`, run as an operator would: dry run, import, problems by row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_cli import run

COUNTER = "Passantenzähler Lange Straße West"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo installation and the e-mail of its city admin."""
    var_dir = tmp_path_factory.mktemp("footfall-cli")
    loaded = run(var_dir, "demo")
    assert loaded.returncode == 0, loaded.stderr
    found = re.search(r"^  city-admin\s+(\S+)", loaded.stdout, re.M)
    assert found, loaded.stdout
    return var_dir, found[1]


def test_a_dry_run_stores_nothing_and_the_import_stores_each_hour_once(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    # given a cp1252 file of two hours of a demo counter
    var_dir, admin = demo
    csv_file = tmp_path / "zaehler.csv"
    csv_file.write_bytes(
        f"Standort;Zeitpunkt;Passanten\n{COUNTER};01.05.2024 10:00;12\n"
        f"{COUNTER};01.05.2024 11:00;15\n".encode("cp1252")
    )
    args = ("import-footfall", str(csv_file), "--city", "musterstadt", "--as", admin)
    # when
    dry = run(var_dir, *args, "--dry-run")
    first = run(var_dir, *args)
    again = run(var_dir, *args)
    # then
    assert dry.returncode == 0, dry.stderr
    assert "Would import 2 rows: 2 new hours, 0 already stored." in dry.stdout
    assert "read as Windows-1252" in dry.stdout
    assert first.returncode == 0, first.stderr
    assert "Imported 2 rows: 2 new hours, 0 already stored." in first.stdout
    assert "Imported 2 rows: 0 new hours, 2 already stored." in again.stdout


def test_problems_are_printed_by_row_and_nothing_is_imported(
    demo: tuple[Path, str], tmp_path: Path
) -> None:
    # given
    var_dir, admin = demo
    csv_file = tmp_path / "kaputt.csv"
    csv_file.write_text(
        f"Standort;Zeitpunkt;Passanten\n{COUNTER};02.05.2024 10:00;-1\n"
        "Nirgendwo;02.05.2024 10:00;3\n",
        encoding="utf-8",
    )
    args = ("import-footfall", str(csv_file), "--city", "musterstadt", "--as", admin)
    # when
    result = run(var_dir, *args)
    checked = run(var_dir, *args, "--dry-run")
    # then
    assert result.returncode == 1
    assert "row 2, Passanten: A count cannot be negative." in result.stderr
    assert "row 3, Standort: “Nirgendwo” (rows naming it: 1) is not a people counter" in (
        result.stderr
    )
    assert "2 problems; nothing was imported." in result.stderr
    assert checked.returncode == 1
    assert "2 problems; nothing was imported." in checked.stderr


def test_an_unknown_account_is_refused(demo: tuple[Path, str], tmp_path: Path) -> None:
    # given
    var_dir, _ = demo
    csv_file = tmp_path / "zaehler.csv"
    csv_file.write_text(f"Standort;Zeitpunkt;Passanten\n{COUNTER};03.05.2024 10:00;1\n")
    # when
    result = run(
        var_dir, "import-footfall", str(csv_file), "--city", "musterstadt", "--as", "x@example.org"
    )
    # then
    assert result.returncode == 1
    assert "Refused: user" in result.stderr
