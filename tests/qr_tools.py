"""Reading printed QR codes back in tests: poppler renders a PDF page, zbar decodes the picture."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def require_tools(*names: str) -> None:
    """Fail in CI, skip elsewhere, when a command-line decoder is not installed."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    reason = (
        f"{', '.join(missing)} not installed (apt-get install zbar-tools poppler-utils); "
        "cannot decode QR codes"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def zbar(png: Path) -> str:
    """What zbarimg reads from a picture (stdout only; exit status 0 means a code was found)."""
    result = subprocess.run(
        ["zbarimg", "--raw", "-q", str(png)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, f"zbarimg found no code in {png.name}: {result.stderr}"
    return result.stdout


def pdf_to_png(pdf: Path) -> Path:
    """The first page of a PDF as a 150 dpi PNG, rendered by poppler."""
    prefix = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", str(pdf), str(prefix)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    (page,) = pdf.parent.glob(f"{prefix.name}-*.png")
    return page


def pdf_text(pdf: Path) -> str:
    """The text of a PDF as poppler extracts it (proves the fonts map back to Unicode)."""
    result = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout
