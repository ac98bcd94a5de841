"""Posters, stickers and sheets of codes as PDF with reportlab: vector QR codes, embedded fonts."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import reportlab
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from marktplatz.adapters.qr import qr_modules
from marktplatz.domain.code_sheets import CodeSheet, Label, LabelGrid
from marktplatz.domain.posters import Line, Poster

# Bitstream Vera ships inside reportlab: no system font, no download. It covers German
# (ä ö ü ß „ “ – €) and Western Europe, and is embedded (as a subset) in every PDF, as print
# shops require.
_FONT_DIR = Path(reportlab.__file__).resolve().parent / "fonts"
REGULAR, BOLD = "MarktplatzVera", "MarktplatzVera-Bold"
LEADING = 1.2
PARAGRAPH = 0.35  # space between paragraphs, in ems of the following one
MAX_LINES = 2  # a paragraph that needs more lines is set smaller instead
SMALLEST = 0.4  # a block of text shrinks to no less than this share of its type sizes
GAP = 4 * mm  # between the code's quiet zone and the text


@lru_cache(maxsize=1)
def glyphs() -> frozenset[int]:
    """The code points both weights of the font can draw (registers the fonts once)."""
    fonts = [
        TTFont(REGULAR, str(_FONT_DIR / "Vera.ttf")),
        TTFont(BOLD, str(_FONT_DIR / "VeraBd.ttf")),
    ]
    for font in fonts:
        pdfmetrics.registerFont(font)
    regular, bold = (set(font.face.charToGlyph) for font in fonts)
    return frozenset(regular & bold)


def printable(text: str) -> str:
    """The text with characters the font lacks replaced by their base letter, or left out
    (a shop name like "Ŝtudio ✂" prints as "Studio"): never an empty box on a poster."""
    drawable = glyphs()
    kept = []
    for ch in text:
        base = ch if ord(ch) in drawable else unicodedata.normalize("NFKD", ch)[:1]
        if base and ord(base) in drawable:
            kept.append(base)
    return " ".join("".join(kept).split())


@dataclass(frozen=True, slots=True)
class _Row:
    """One wrapped line, ready to draw."""

    text: str
    font: str
    size: float
    before: float  # extra space above: between paragraphs

    @property
    def height(self) -> float:
        return self.before + self.size * LEADING


def _wrap(lines: Sequence[Line], scale: float, width: float) -> list[list[_Row]]:
    wrapped = []
    for number, line in enumerate(lines):
        font, size = (BOLD if line.bold else REGULAR), line.size_pt * scale
        parts = simpleSplit(printable(line.text), font, size, width)
        before = [size * PARAGRAPH if number and not i else 0.0 for i in range(len(parts))]
        wrapped.append(
            [_Row(part, font, size, gap) for part, gap in zip(parts, before, strict=True)]
        )
    return wrapped


def _fits(wrapped: list[list[_Row]], width: float, height: float) -> bool:
    rows = [row for paragraph in wrapped for row in paragraph]
    return (
        all(len(paragraph) <= MAX_LINES for paragraph in wrapped)
        and all(pdfmetrics.stringWidth(r.text, r.font, r.size) <= width for r in rows)
        and _height(rows) <= height
    )


def _height(rows: Sequence[_Row]) -> float:
    return sum(row.height for row in rows)


def _set(lines: Sequence[Line], width: float, height: float) -> list[_Row]:
    """The block's rows at the largest scale (at most its own sizes) at which it fits."""
    scale = 1.0
    wrapped = _wrap(lines, scale, width)
    while scale > SMALLEST and not _fits(wrapped, width, height):
        scale *= 0.92
        wrapped = _wrap(lines, scale, width)
    return [row for paragraph in wrapped for row in paragraph]


def _draw_rows(canvas: Canvas, rows: Sequence[_Row], centre_x: float, top: float) -> None:
    y = top
    for row in rows:
        y -= row.height
        canvas.setFont(row.font, row.size)
        # The baseline sits a fifth of a line above the row's foot: room for descenders.
        canvas.drawCentredString(centre_x, y + row.size * LEADING * 0.22, row.text)


def _draw_block(
    canvas: Canvas, lines: Sequence[Line], box: tuple[float, float, float, float]
) -> None:
    """Lines centred horizontally and vertically in box = (left, bottom, width, height)."""
    left, bottom, width, height = box
    rows = _set(lines, width, height)
    top = bottom + (height + _height(rows)) / 2
    _draw_rows(canvas, rows, left + width / 2, top)


def _draw_code(canvas: Canvas, data: str, left: float, top: float, side: float) -> None:
    """The code as vector squares: each run of dark modules in a row is one rectangle, all in
    one path, so no hairline seams appear between modules at any print resolution."""
    rows = qr_modules(data)
    module = side / len(rows)
    path = canvas.beginPath()
    for r, row in enumerate(rows):
        y = top - (r + 1) * module
        start: int | None = None
        for column, dark in enumerate((*row, False)):
            if dark and start is None:
                start = column
            elif not dark and start is not None:
                path.rect(left + start * module, y, (column - start) * module, module)
                start = None
    canvas.drawPath(path, stroke=0, fill=1)


def _canvas(out: io.BytesIO, width: float, height: float, title: str) -> Canvas:
    glyphs()
    canvas = Canvas(out, pagesize=(width, height), pageCompression=1, initialFontName=REGULAR)
    canvas.setTitle(printable(title))
    canvas.setCreator("Marktplatz")
    return canvas


def _black(canvas: Canvas) -> None:
    """Pure black ink (K only), set anew on every page: crisp module edges, no colour fringes
    from misregistered plates."""
    canvas.setFillColorCMYK(0, 0, 0, 1)


def render_poster(poster: Poster) -> bytes:
    """One page: lines above the code, the code, lines below it, the footer at the margin."""
    sheet = poster.sheet
    width, height, margin = sheet.width_mm * mm, sheet.height_mm * mm, sheet.margin_mm * mm
    side, code_top = sheet.qr_mm * mm, height - sheet.qr_top_mm * mm
    text_width = width - 2 * margin
    footer_top = margin + sheet.footer_mm * mm
    out = io.BytesIO()
    canvas = _canvas(out, width, height, poster.title)
    _black(canvas)
    above_bottom = code_top + GAP
    _draw_block(
        canvas, poster.above, (margin, above_bottom, text_width, height - margin - above_bottom)
    )
    _draw_code(canvas, poster.code_data, (width - side) / 2, code_top, side)
    below_top = code_top - side - GAP
    _draw_block(canvas, poster.below, (margin, footer_top, text_width, below_top - footer_top))
    _draw_block(canvas, poster.footer, (margin, margin, text_width, sheet.footer_mm * mm))
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_cut_lines(canvas: Canvas, grid: LabelGrid) -> None:
    """Thin grey dashes along every cut, run out to the paper's edge so a guillotine finds them."""
    width, height, margin = grid.width_mm * mm, grid.height_mm * mm, grid.margin_mm * mm
    label_width, label_height = (length * mm for length in grid.label_mm)
    canvas.saveState()
    canvas.setStrokeColorCMYK(0, 0, 0, 0.45)
    canvas.setLineWidth(0.3)
    canvas.setDash(3, 2)
    for column in range(grid.columns + 1):
        x = margin + column * label_width
        canvas.line(x, 0, x, height)
    for row in range(grid.rows + 1):
        y = margin + row * label_height
        canvas.line(0, y, width, y)
    canvas.restoreState()


def _draw_label(canvas: Canvas, label: Label, grid: LabelGrid, left: float, top: float) -> None:
    """The code at the label's top left, its lines beside it, the address across the foot."""
    label_width, label_height = (length * mm for length in grid.label_mm)
    pad, side, gap = grid.pad_mm * mm, grid.qr_mm * mm, grid.gap_mm * mm
    inner_left, inner_top = left + pad, top - pad
    _draw_code(canvas, label.code_data, inner_left, inner_top, side)
    beside_left = inner_left + side + gap
    beside_width = left + label_width - pad - beside_left
    _draw_block(canvas, label.beside, (beside_left, inner_top - side, beside_width, side))
    bottom = top - label_height + pad
    below = (inner_left, bottom, label_width - 2 * pad, inner_top - side - bottom)
    _draw_block(canvas, label.below, below)


def render_code_sheet(sheet: CodeSheet) -> bytes:
    """A4 pages of labels in a grid, row by row, with cut lines between them."""
    grid = sheet.grid
    width, height, margin = grid.width_mm * mm, grid.height_mm * mm, grid.margin_mm * mm
    label_width, label_height = (length * mm for length in grid.label_mm)
    out = io.BytesIO()
    canvas = _canvas(out, width, height, sheet.title)
    for labels in sheet.pages():
        _draw_cut_lines(canvas, grid)
        _black(canvas)
        for number, label in enumerate(labels):
            row, column = divmod(number, grid.columns)
            left, top = margin + column * label_width, height - margin - row * label_height
            _draw_label(canvas, label, grid, left, top)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


class ReportlabPosters:
    """The poster printer handed to services."""

    def pdf(self, poster: Poster) -> bytes:
        return render_poster(poster)

    def sheet(self, sheet: CodeSheet) -> bytes:
        return render_code_sheet(sheet)

    def unprintable(self, text: str) -> str:
        drawable = glyphs()
        return "".join(dict.fromkeys(ch for ch in text if ord(ch) not in drawable))
