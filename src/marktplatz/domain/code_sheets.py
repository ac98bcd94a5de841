"""Sheets of QR codes to cut apart: which touchpoints go on one, and each label's content."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from uuid import UUID

from marktplatz.domain.errors import N_, InvalidInput, NotFound
from marktplatz.domain.fleet import FleetQuery, FleetRow, select_rows
from marktplatz.domain.posters import Line
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind

# 25 pages of eight: a whole town centre's pavement codes, yet a PDF made in about a second.
MAX_CODES = 200
ZONE_LINE = N_("Zone: %(zone)s")
NO_ZONE = N_("No zone")
SHEET_TITLE = N_("QR codes of %(city)s")
_NONE_SELECTED = N_("Please select at least one QR code to print.")
_NONE_LISTED = N_(
    "There is no QR code in this list. Change the filters, or select the codes to print."
)
_TOO_MANY = N_(
    "You chose %(count)s QR codes; at most %(max)s fit into one PDF. "
    "Please print them in parts, for example zone by zone."
)
_NOT_QR = N_(
    "Only QR codes are printed on the sheet. Please deselect these touchpoints: %(names)s."
)
UNKNOWN = N_(
    "Some of the selected touchpoints are not in this city's fleet. "
    "Please reload the fleet page and select the codes again."
)


class UnknownCodes(NotFound):
    """A selected id is no touchpoint of this city: missing and foreign ones look the same."""


class Scope(StrEnum):
    SELECTED = "selected"  # the ticked rows
    LIST = "list"  # every QR code the filtered list shows


@dataclass(frozen=True, slots=True)
class CodePick:
    """What the fleet page sent: the ticked ids, which of its buttons, and its filters."""

    scope: Scope
    ids: tuple[str, ...]
    query: FleetQuery

    @classmethod
    def of(cls, scope: str, ids: Sequence[str], query: FleetQuery) -> CodePick:
        chosen = Scope.LIST if scope == Scope.LIST else Scope.SELECTED
        return cls(chosen, tuple(dict.fromkeys(_canonical(value) for value in ids)), query)


def _canonical(value: str) -> str:
    """A UUID in its usual spelling; anything else stays as sent, and is unknown."""
    try:
        return str(UUID(value))
    except ValueError:
        return value


def pick_codes(
    rows: Sequence[FleetRow], zone_names: dict[UUID, str], pick: CodePick
) -> list[Touchpoint]:
    """The touchpoints to print, in the order of the fleet table.

    The ticked ids are looked up in the whole fleet, not only the filtered rows: a filter
    changed in another tab must not quietly drop a code somebody chose.
    """
    if pick.scope is Scope.LIST:
        listed = select_rows(rows, pick.query, zone_names)
        found = [row.touchpoint for row in listed if row.touchpoint.kind is TouchpointKind.QR]
        _check_count(len(found), _NONE_LISTED)
        return found
    _check_count(len(pick.ids), _NONE_SELECTED)
    in_order = FleetQuery(sort=pick.query.sort, descending=pick.query.descending)
    ordered = select_rows(rows, in_order, zone_names)
    fleet = {str(row.touchpoint.id): row.touchpoint for row in ordered}
    if any(value not in fleet for value in pick.ids):
        raise UnknownCodes("touchpoint")
    chosen = set(pick.ids)
    found = [point for key, point in fleet.items() if key in chosen]
    others = [point.name for point in found if point.kind is not TouchpointKind.QR]
    if others:
        raise InvalidInput("id", _NOT_QR, names=", ".join(others))
    return found


def _check_count(count: int, none: str) -> None:
    if not count:
        raise InvalidInput("id", none)
    if count > MAX_CODES:
        raise InvalidInput("id", _TOO_MANY, count=count, max=MAX_CODES)


@dataclass(frozen=True, slots=True)
class LabelGrid:
    """A4 cut into equal labels; lengths in millimetres, type sizes in points.

    `margin_mm` stays blank round the page (few printers print to the edge); `pad_mm` stays
    blank inside each label along its cut lines, so a cut a little off the line never
    touches the code or its text. `qr_mm` is the code's side with its quiet zone.
    """

    width_mm: float = 210
    height_mm: float = 297
    margin_mm: float = 10
    columns: int = 2
    rows: int = 4
    pad_mm: float = 5
    qr_mm: float = 44
    gap_mm: float = 3
    name_pt: float = 11
    code_pt: float = 16
    text_pt: float = 8.5

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def label_mm(self) -> tuple[float, float]:
        """(width, height) of one label."""
        return (
            (self.width_mm - 2 * self.margin_mm) / self.columns,
            (self.height_mm - 2 * self.margin_mm) / self.rows,
        )


GRID = LabelGrid()


@dataclass(frozen=True, slots=True)
class Label:
    """One code to cut out: its name, zone and code beside it, the address to type below."""

    code_data: str
    beside: tuple[Line, ...]
    below: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class CodeSheet:
    """The labels in reading order, filled into pages of the grid."""

    grid: LabelGrid
    labels: tuple[Label, ...]
    title: str

    def pages(self) -> list[tuple[Label, ...]]:
        size = self.grid.per_page
        return [self.labels[start : start + size] for start in range(0, len(self.labels), size)]


def code_label(
    grid: LabelGrid, *, url: str, code: str, name: str, zone: str, url_label: str
) -> Label:
    """The code's short address (as on the posters) in the code and below it for typing;
    beside it what the team that sets it into the pavement needs: name, zone, code."""
    beside = (
        Line(name, grid.name_pt, bold=True),
        Line(zone, grid.text_pt),
        Line(code, grid.code_pt, bold=True),
    )
    below = (Line(url_label, grid.text_pt * 0.85), Line(url, grid.text_pt, bold=True))
    return Label(url, beside, below)
