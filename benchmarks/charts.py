"""Benchmark chart rendering per kind against a bare one-bar chart rendered in the same run.

Run: .venv/bin/python benchmarks/charts.py [--renders 10] [--lookups 2000]
For each chart kind of domain/charts.py, with dashboard-sized data (5 zones × 168 hours, 28 days
of two series, 12 bars with a median, a 4-step funnel, a 6 × 6 path matrix, two uplifts):
- build: building the spec from the figures (pure Python);
- cold: the kind's first SVG render in this process (the very first also starts the engine);
- warm: the median of further renders of new specs of that kind (cache misses);
- cached: the median of `svg()` calls for a spec already rendered (the hash and the lookup);
- png: one PNG at scale 2, as the PDF report takes it.
Baseline: a bare Vega-Lite bar chart of one bar, without our config, rendered with vl-convert.
Targets: a warm render ≤ 5 × the baseline; a cached chart ≥ 100 × faster than a warm render
(ratios, because other work on these shared 2 cores slows every figure alike).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta

import vl_convert

from marktplatz.adapters.charts import VlConvertCharts
from marktplatz.domain.charts import (
    Bar,
    ChartLocale,
    ChartSpec,
    Flow,
    HeatRow,
    Marker,
    Rate,
    Series,
    Week,
    bars,
    event_uplift,
    flow,
    funnel,
    heatmap,
    time_series,
    uplift,
)

LOCALE = ChartLocale("de")
ZONES = ["Markt", "Bahnhof", "Altstadt", "Hafen", "Schlossplatz", "Neustadt"]
BARE = {
    "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
    "data": {"values": [{"a": "x", "b": 1}]},
    "mark": "bar",
    "encoding": {
        "y": {"field": "a", "type": "nominal"},
        "x": {"field": "b", "type": "quantitative"},
    },
}


def count(rng: random.Random) -> int | None:
    value = rng.randint(0, 2_000)
    return None if 0 < value < 40 else value  # about 2 % hidden, as on a quiet morning


def kinds(seed: int) -> dict[str, Callable[[], ChartSpec]]:
    rng = random.Random(seed)
    days = [date(2026, 3, 1) + timedelta(days=d) for d in range(28)]
    return {
        "heatmap": lambda: heatmap(
            f"Besucher {rng.random()}",
            [HeatRow(zone, [count(rng) for _ in range(168)]) for zone in ZONES[:5]],
            row_title="Zone",
            value_title="Besucher",
            locale=LOCALE,
        ),
        "time_series": lambda: time_series(
            f"Kontakte {rng.random()}",
            [
                Series("Kontakte", [(d, count(rng)) for d in days]),
                Series("Zähler", [(d, rng.randint(500, 9_000)) for d in days]),
            ],
            x_title="Tag",
            y_title="Anzahl",
            locale=LOCALE,
        ),
        "bars": lambda: bars(
            f"Touchpoints {rng.random()}",
            [Bar(f"Touchpoint {n}", count(rng)) for n in range(12)],
            value_title="Kontakte",
            locale=LOCALE,
            marker=Marker("Median", 900),
        ),
        "funnel": lambda: funnel(
            f"Trichter {rng.random()}",
            [
                ("Webbesuch", 20_000),
                ("Innenstadt", rng.randint(4_000, 9_000)),
                ("Geschäft", rng.randint(900, 2_000)),
                ("Einlösung", count(rng)),
            ],
            value_title="Besucher",
            share_title="Anteil",
            locale=LOCALE,
        ),
        "flow": lambda: flow(
            f"Wege {rng.random()}",
            [Flow(a, b, count(rng)) for a in ZONES for b in ZONES if a != b],
            source_title="von",
            target_title="nach",
            value_title="Personen",
            locale=LOCALE,
        ),
        "uplift": lambda: uplift(
            f"Kampagne {rng.random()}",
            Rate("Gesehen", rng.random() / 10),
            Rate("Kontrollgruppe", rng.random() / 10),
            rate_title="Quote",
            locale=LOCALE,
        ),
        "event_uplift": lambda: event_uplift(
            f"Stadtfest {rng.random()}",
            [Week(f"KW {w}", rng.randint(4_000, 9_000), w == 14) for w in range(10, 15)],
            value_title="Passanten",
            locale=LOCALE,
        ),
    }


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def render_new(charts: VlConvertCharts, make: Callable[[], ChartSpec]) -> float:
    """The time to render a spec not seen before (its building not counted)."""
    spec = make()
    return timed(lambda: charts.svg(spec))


def measure(
    charts: VlConvertCharts,
    make: Callable[[], ChartSpec],
    renders: int,
    lookups: int,
    baseline: float,
) -> str:
    build = statistics.median(timed(make) for _ in range(renders))
    cold = render_new(charts, make)
    warm = statistics.median(render_new(charts, make) for _ in range(renders))
    spec = make()
    charts.svg(spec)
    cached = statistics.median(timed(lambda: charts.svg(spec)) for _ in range(lookups))
    png = timed(lambda: charts.png(spec))
    return (
        f"{build * 1000:6.2f}ms {cold * 1000:6.0f}ms {warm * 1000:6.0f}ms "
        f"{warm / baseline:6.1f}× {cached * 1e6:7.0f}µs {png * 1000:6.0f}ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=10)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} cores; load {load}; vl-convert {vl_convert.__version__}")

    engine_start = timed(lambda: vl_convert.vegalite_to_svg(BARE))
    baseline = statistics.median(
        timed(lambda: vl_convert.vegalite_to_svg(BARE)) for _ in range(args.renders)
    )
    print(
        f"baseline (bare one-bar chart): first {engine_start * 1000:.0f} ms "
        f"(starts the engine), then {baseline * 1000:.1f} ms"
    )
    print(
        f"{'kind':<13} {'build':>8} {'cold':>8} {'warm':>8} {'× base':>7} {'cached':>9} {'png':>8}"
    )
    charts = VlConvertCharts(max_cached=4 * args.renders)
    for name, make in kinds(args.seed).items():
        print(f"{name:<13} {measure(charts, make, args.renders, args.lookups, baseline)}")


if __name__ == "__main__":
    main()
