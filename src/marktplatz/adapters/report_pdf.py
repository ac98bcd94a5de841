"""The monthly report as an A4 PDF with reportlab: key figures, tables, notes, page numbers."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from marktplatz.adapters.pdf import BOLD, REGULAR, glyphs, printable
from marktplatz.domain.analytics_tables import HIDDEN, Grid
from marktplatz.domain.reports import Report

MARGIN = 18 * mm
INK = colors.HexColor("#1a1a1a")
RULE = colors.HexColor("#8a8a8a")
SHADE = colors.HexColor("#eef3f9")
_STYLES = {
    "title": ParagraphStyle("title", fontName=BOLD, fontSize=18, leading=22, textColor=INK),
    "subtitle": ParagraphStyle("subtitle", fontName=REGULAR, fontSize=11, leading=14),
    "h2": ParagraphStyle("h2", fontName=BOLD, fontSize=12.5, leading=16, spaceBefore=10),
    "body": ParagraphStyle("body", fontName=REGULAR, fontSize=9, leading=11.5),
    "cell": ParagraphStyle("cell", fontName=REGULAR, fontSize=8.5, leading=10.5),
    "head": ParagraphStyle("head", fontName=BOLD, fontSize=8.5, leading=10.5),
}


def _text(value: str, style: str) -> Paragraph:
    # Paragraph reads markup: shop names and titles are escaped, never interpreted.
    return Paragraph(escape(printable(value)), _STYLES[style])


def _table(header: list[str], rows: list[list[str]], totals: list[str] | None) -> Table:
    data: list[list[object]] = [[_text(h, "head") for h in header]]
    data += [[_text(row[0], "cell"), *row[1:]] for row in rows]
    if totals is not None:
        data.append([_text(totals[0], "head"), *totals[1:]])
    width = A4[0] - 2 * MARGIN
    first = width * 0.4
    rest = (width - first) / max(1, len(header) - 1)
    table = Table(data, colWidths=[first] + [rest] * (len(header) - 1), repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8.5),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, SHADE]),
    ]
    if totals is not None:
        style += [
            ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
            ("FONT", (1, -1), (-1, -1), BOLD, 8.5),
        ]
    table.setStyle(TableStyle(style))
    return table


def _grid(grid: Grid, lang: str) -> list[Flowable]:
    def number(value: int | None) -> str:
        if value is None:
            return HIDDEN
        return f"{value:,}".replace(",", "." if lang == "de" else ",")

    rows = [[label, *map(number, cells)] for label, cells in grid.rows]
    totals = None if grid.totals is None else [grid.total_label, *map(number, grid.totals)]
    parts: list[Flowable] = [_text(grid.title, "h2")]
    if grid.note:
        parts.append(_text(grid.note, "body"))
    parts += [Spacer(1, 2 * mm), _table(grid.columns, rows, totals)]
    return parts


def _picture(png: bytes) -> Image:
    """A chart at the text width, its height in proportion."""
    picture = Image(io.BytesIO(png))
    width = A4[0] - 2 * MARGIN
    # Charts come at twice their size (crisp in print): half a pixel per point, at most the width.
    scale = min(0.5, width / picture.imageWidth)
    picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
    return picture


def render_report(report: Report) -> bytes:
    """The report as PDF bytes, with the fonts embedded (as a subset)."""
    glyphs()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=printable(report.title),
        author="Marktplatz",
        lang=report.language,
    )
    figures = [[f.label, f.value, f.before, f.median] for f in report.figures]
    story: list[Flowable] = [
        _text(report.title, "title"),
        _text(report.subtitle, "subtitle"),
        Spacer(1, 4 * mm),
        _text(report.heading_figures, "h2"),
        _table(list(report.figure_columns), figures, None),
    ]
    for alt, png in report.pictures:
        story += [Spacer(1, 4 * mm), _picture(png), _text(alt, "body")]
    for grid in report.grids:
        story += _grid(grid, report.language)
    story.append(Spacer(1, 6 * mm))
    story += [_text(note, "body") for note in report.notes]
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()


def _footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
    canvas.saveState()
    canvas.setFont(REGULAR, 8)
    canvas.setFillColor(RULE)
    canvas.drawRightString(A4[0] - MARGIN, MARGIN / 2, str(doc.page))
    canvas.drawString(MARGIN, MARGIN / 2, "Marktplatz")
    canvas.restoreState()


class ReportlabReports:
    """The report printer handed to services."""

    def pdf(self, report: Report) -> bytes:
        return render_report(report)
