"""Reading printed QR codes back in tests: poppler renders a PDF page, zbar decodes the picture."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from marktplatz.domain.code_sheets import LabelGrid


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
    (page,) = _render(pdf, "-f", "1", "-l", "1")
    return page


def pdf_pages(pdf: Path) -> list[Path]:
    """Every page of a PDF as a 150 dpi PNG, in page order."""
    return _render(pdf)


def _render(pdf: Path, *pages: str) -> list[Path]:
    prefix = pdf.with_suffix("")
    subprocess.run(
        ["pdftoppm", "-png", "-r", "150", *pages, str(pdf), str(prefix)],
        capture_output=True,
        check=True,
        timeout=60,
    )
    # poppler pads the page numbers to one width, so the names sort in page order.
    return sorted(pdf.parent.glob(f"{prefix.name}-*.png"))


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


def cut_apart(page: Path, grid: LabelGrid, count: int) -> list[str]:
    """What zbar reads from each of the first `count` labels of a sheet's page, cut out along
    its grid in reading order, as a person with scissors would (one code per label)."""
    found = []
    with Image.open(page) as picture:
        per_mm = picture.width / grid.width_mm
        width, height = grid.label_mm
        for number in range(count):
            row, column = divmod(number, grid.columns)
            left = (grid.margin_mm + column * width) * per_mm
            top = (grid.margin_mm + row * height) * per_mm
            box = (
                round(left),
                round(top),
                round(left + width * per_mm),
                round(top + height * per_mm),
            )
            label = page.with_name(f"{page.stem}-label-{number}.png")
            picture.crop(box).save(label)
            found.append(zbar(label))
    return found
