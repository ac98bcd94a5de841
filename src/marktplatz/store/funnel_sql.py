"""The funnel as one DuckDB query over any relation of visits (pseudonym, kind, ts, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import duckdb

from marktplatz.domain.funnels import Matcher


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def _condition(matcher: Matcher, params: list[object]) -> str:
    params.append(matcher.kind.value)
    parts = ["kind = ?"]
    # A subquery, not a list: DuckDB checks `x IN (SELECT ...)` with a hash join, while
    # `list_contains` or a constant IN list in a projection is evaluated row by row (30× slower).
    for column, values in (("touchpoint", matcher.touchpoints), ("content", matcher.contents)):
        if values is not None:
            params.append(sorted(values))
            parts.append(f"{column} IN (SELECT unnest(?::VARCHAR[]))")
    return "(" + " AND ".join(parts) + ") IS TRUE"


def funnel_query(
    source: str, matchers: Sequence[Matcher], window: timedelta, start: datetime, end: datetime
) -> tuple[str, list[object]]:
    """SQL and parameters counting the visitors of each step in `source`.

    `source` is a relation with columns pseudonym, kind, ts (naive UTC timestamp), touchpoint
    (32 hex digits) and content. Level k holds the events that end a valid chain of steps
    1..k, each with the latest start its chain can have: a later start leaves the most of the
    window. That start never falls as the events go on, so an ASOF join with the last event of
    the level before finds it (strictly earlier: "after" means later in time). The semantics
    are those of domain.funnels.reference_counts.
    """
    params: list[object] = []
    flags = ", ".join(f"({_condition(m, params)}) AS s{i}" for i, m in enumerate(matchers))
    levels = ["l0 AS MATERIALIZED (SELECT v, ts, ts AS s FROM e WHERE s0 AND ts >= ? AND ts < ?)"]
    params += [_naive(start), _naive(end + window), _naive(start), _naive(end)]
    for i in range(1, len(matchers)):
        levels.append(
            f"l{i} AS MATERIALIZED (SELECT c.v, c.ts, p.s "  # noqa: S608
            f"FROM (SELECT v, ts FROM e WHERE s{i}) c "
            f"ASOF JOIN l{i - 1} p ON c.v = p.v AND c.ts > p.ts "
            f"WHERE c.ts <= p.s + to_microseconds({window // timedelta(microseconds=1)}))"
        )
    counted = (f"(SELECT count(DISTINCT v) FROM l{i})" for i in range(len(matchers)))  # noqa: S608
    counts = ", ".join(counted)
    any_step = " OR ".join(f"s{i}" for i in range(len(matchers)))
    sql = (
        f"WITH f AS MATERIALIZED (SELECT hash(pseudonym) AS v, ts, {flags} FROM {source} "  # noqa: S608
        f"WHERE ts >= ? AND ts < ?), e AS MATERIALIZED (SELECT * FROM f WHERE {any_step}), "
        + ", ".join(levels)
        + f" SELECT {counts}"
    )
    return sql, params


def count_funnel(
    con: duckdb.DuckDBPyConnection,
    source: str,
    matchers: Sequence[Matcher],
    window: timedelta,
    start: datetime,
    end: datetime,
) -> list[int]:
    """Run the funnel query on an open connection; visitors per step, not yet suppressed."""
    sql, params = funnel_query(source, matchers, window, start, end)
    row = con.execute(sql, params).fetchone()
    return [int(value) for value in row] if row else [0] * len(matchers)
