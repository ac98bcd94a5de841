"""Charts rendered with vl-convert (offline): SVG safe to inline in a page, PNG for reports."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import orjson
import reportlab
import vl_convert

from marktplatz.domain.chart_base import ChartSpec

VegaLocale = Literal["de-DE", "en-US"]
MAX_CACHED = 256  # ≈ 20–60 KB per SVG: a few MB at most, and every dashboard chart of a city
_ROOT = re.compile(r"<svg\b[^>]*>")


@lru_cache(maxsize=1)
def _fonts() -> None:
    """Bitstream Vera from reportlab, so that PNGs have their labels even on a machine without
    DejaVu Sans (the font the charts name first, with the same metrics)."""
    vl_convert.register_font_directory(str(Path(reportlab.__file__).resolve().parent / "fonts"))


def _locale(spec: ChartSpec) -> VegaLocale:
    return "de-DE" if spec.locale == "de-DE" else "en-US"


@lru_cache(maxsize=2)
def _numbers(locale: VegaLocale) -> dict[str, Any]:
    """Vega's number format locale; German with a space before "%", as the labels have it."""
    found: dict[str, Any] = vl_convert.get_format_locale(locale)
    return {**found, "percent": "\u00a0%"} if locale == "de-DE" else found


def spec_key(spec: ChartSpec) -> str:
    """A hash of everything that shapes the picture and its text."""
    # The builders lay their dicts out in a fixed order, so equal specs give equal bytes.
    payload = orjson.dumps([spec.vega, spec.title, spec.alt, spec.locale])
    return hashlib.sha256(payload).hexdigest()


def accessible(svg: str, spec: ChartSpec, key: str) -> str:
    """The SVG with role="img", labelled by a <title> and described by a <desc> of its own.

    vl-convert escapes every label it draws; title and text alternative are escaped here. The ids
    come from the spec's hash, so two different charts on one page never share one.
    """
    ident = f"chart-{key[:12]}"
    root = _ROOT.search(svg)
    if root is None:
        raise ValueError("vl-convert returned no <svg> element")
    opening = (
        f'{root.group(0)[:-1]} role="img" aria-labelledby="{ident}-title" '
        f'aria-describedby="{ident}-desc">'
    )
    head = (
        f'<title id="{ident}-title">{escape(spec.title)}</title>'
        f'<desc id="{ident}-desc">{escape(spec.alt)}</desc>'
    )
    return svg[: root.start()] + opening + head + svg[root.end() :]


class VlConvertCharts:
    """Renders chart specs; SVGs are kept by spec hash in a bounded LRU, safe across threads.

    A render blocks for ≈ 60 ms (≈ 1 s for the first, which starts the engine): call it from a
    worker thread in async code. A cached SVG costs a hash of its spec.
    """

    def __init__(self, max_cached: int = MAX_CACHED) -> None:
        self._max = max_cached
        self._svgs: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.renders = 0  # SVGs actually rendered (cache misses)

    def svg(self, spec: ChartSpec) -> str:
        """The chart as an SVG element to inline in HTML."""
        key = spec_key(spec)
        with self._lock:
            found = self._svgs.get(key)
            if found is not None:
                self._svgs.move_to_end(key)
                return found
        _fonts()
        raw = vl_convert.vegalite_to_svg(
            dict(spec.vega), format_locale=_numbers(_locale(spec)), time_format_locale=_locale(spec)
        )
        made = accessible(raw, spec, key)
        with self._lock:
            self.renders += 1
            self._svgs[key] = made
            self._svgs.move_to_end(key)
            while len(self._svgs) > self._max:
                self._svgs.popitem(last=False)
        return made

    def png(self, spec: ChartSpec, scale: float = 2.0) -> bytes:
        """The chart as a PNG (for PDF reports); `scale` 2 prints sharp at its natural size."""
        _fonts()
        png: bytes = vl_convert.vegalite_to_png(
            dict(spec.vega),
            scale=scale,
            format_locale=_numbers(_locale(spec)),
            time_format_locale=_locale(spec),
        )
        return png
