"""k-anonymity of report cells: nothing based on fewer than K visitors is shown or derivable."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import TypeVar

K = 5

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True, slots=True)
class Cell:
    """A count, and how many distinct visitors it comes from (as far as they can be told)."""

    count: int
    visitors: int


def suppressed(cells: Mapping[Key, Cell]) -> tuple[dict[Key, int | None], int | None]:
    """The counts to show per key (None: suppressed) and the total (None: suppressed).

    A cell from 1 to K-1 visitors is hidden (an empty cell is no one's secret). The total would
    give away what is hidden as `total - shown`, so while the hidden cells may come from fewer
    than K visitors together, the smallest other non-empty cell is hidden too. The total itself
    is shown only when it surely comes from K visitors or more (or from none).

    Cells may share visitors (one visitor meets several touchpoints, is seen in several hours),
    so the visitors of several cells together are counted as the largest cell's: the only
    number that is sure. A cell's `visitors` must itself be a sure lower bound
    (domain/rollups.combine makes one for rows of several hours).
    """
    hidden = {key for key, cell in cells.items() if 0 < cell.visitors < K}

    def together() -> int:
        return max((cells[key].visitors for key in hidden), default=0)

    while hidden and together() < K:
        shown = [key for key, cell in cells.items() if key not in hidden and cell.visitors > 0]
        if not shown:
            break
        hidden.add(min(shown, key=lambda key: (cells[key].visitors, cells[key].count)))
    visitors = max((cell.visitors for cell in cells.values()), default=0)
    safe = (visitors >= K or visitors == 0) and (not hidden or together() >= K)
    total = sum(cell.count for cell in cells.values()) if safe else None
    return {key: None if key in hidden else cell.count for key, cell in cells.items()}, total
