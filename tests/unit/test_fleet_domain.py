"""Fleet health rules and the fleet CSV: pure functions, no database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from marktplatz.domain.fleet import (
    ContactStats,
    FleetQuery,
    Health,
    fleet_rows,
    health_of,
    select_rows,
    stats_window,
    worst_silent,
)
from marktplatz.domain.fleet_csv import MAX_BYTES, MAX_ROWS, export_csv, parse_file
from marktplatz.domain.geo import Location
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind, TouchpointStatus, new_code

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
HEADER = "identifier;kind;name;lat;lon;status;target;expected_interval_hours;battery_percent"


def point(
    kind: TouchpointKind = TouchpointKind.QR,
    name: str = "Markt",
    status: TouchpointStatus = TouchpointStatus.ACTIVE,
    interval: int | None = None,
) -> Touchpoint:
    return Touchpoint(
        id=uuid.uuid4(),
        city_id=uuid.uuid4(),
        shop_id=None,
        zone_id=None,
        kind=kind,
        name=name,
        identifier=f"code:{new_code()}",
        code="",
        target="/",
        location=Location(52.1, 8.7),
        placement="",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        expected_interval_hours=interval,
    )


@pytest.mark.parametrize(
    ("silent_hours", "health"),
    [
        (1, Health.OK),
        (72, Health.OK),
        (73, Health.WARNING),
        (216, Health.WARNING),
        (217, Health.ALERT),
    ],
)
def test_a_qr_code_is_silent_past_its_kinds_interval(silent_hours: int, health: Health) -> None:
    assert health_of(point(), NOW - timedelta(hours=silent_hours), NOW) is health


def test_an_own_interval_wins_over_the_kinds_default() -> None:
    beacon = point(TouchpointKind.IBEACON, interval=2)
    assert health_of(beacon, NOW - timedelta(hours=3), NOW) is Health.WARNING
    assert health_of(point(TouchpointKind.IBEACON), NOW - timedelta(hours=3), NOW) is Health.OK


def test_never_seen_and_inactive() -> None:
    assert health_of(point(), None, NOW) is Health.NEVER_SEEN
    off = point(status=TouchpointStatus.RETIRED)
    assert health_of(off, NOW - timedelta(days=99), NOW) is Health.INACTIVE


def test_worst_silent_puts_alerts_first_then_the_longest_overdue() -> None:
    a, b, c, d = (point(name=n) for n in "abcd")
    stats = {
        a.id: ContactStats(NOW - timedelta(hours=80)),
        b.id: ContactStats(NOW - timedelta(hours=300)),
        c.id: ContactStats(NOW - timedelta(hours=100)),
        d.id: ContactStats(NOW - timedelta(hours=1)),
    }
    worst = worst_silent(fleet_rows([a, b, c, d], stats, NOW))
    assert [r.touchpoint.name for r in worst] == ["b", "c", "a"]


def test_stats_window_uses_local_midnights() -> None:
    window = stats_window(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), BERLIN)  # 00:30 on the 30th
    assert window.today_start == datetime(2026, 11, 30, tzinfo=BERLIN)
    assert window.yesterday_start == datetime(2026, 11, 29, tzinfo=BERLIN)
    assert window.week_start == datetime(2026, 11, 23, tzinfo=BERLIN)


def test_select_rows_filters_and_sorts() -> None:
    rows = fleet_rows([point(name="Bern"), point(TouchpointKind.NFC, name="Aachen")], {}, NOW)
    by_name = select_rows(rows, FleetQuery.of("", "", "", "", "name", "desc"), {})
    assert [r.touchpoint.name for r in by_name] == ["Bern", "Aachen"]
    nfc = select_rows(rows, FleetQuery.of("nfc", "", "", "", "bogus", ""), {})
    assert [r.touchpoint.name for r in nfc] == ["Aachen"]


def test_a_windows_1252_file_with_semicolons_and_decimal_commas_parses() -> None:
    text = f"{HEADER}\r\n;qr;Straße am Tor;52,1;8,7;;/;;80\r\n"
    parsed = parse_file(text.encode("cp1252"), BERLIN)
    assert parsed.problems == []
    (draft,) = parsed.drafts
    assert (draft.name, draft.location, draft.battery_percent) == (
        "Straße am Tor",
        Location(52.1, 8.7),
        80,
    )


def test_a_utf8_file_with_bom_and_commas_parses() -> None:
    beacon = "ibeacon:F7826DA6-4FA2-4E98-8024-BC5B71E0893E:1:2"
    text = f"\ufeffkind,name,lat,lon,identifier\nibeacon,Bake,52.1,8.7,{beacon}\n"
    parsed = parse_file(text.encode("utf-8"), BERLIN)
    assert parsed.problems == []
    assert parsed.drafts[0].identifier == "ibeacon:f7826da6-4fa2-4e98-8024-bc5b71e0893e:1:2"


def test_every_bad_cell_is_reported_by_row_and_column() -> None:
    text = "\n".join(
        [
            HEADER,
            ";laser;X;52;8;;/;;",
            ";qr;Gut;52;8;active;/;0;101",
            "code:k7qf9m2x;qr;Eins;52;8;;/;;",
            "code:k7qf9m2x;qr;Zwei;52;8;;/;;",
            ";ibeacon;Bake;52;8;;;;",
        ]
    )
    problems = parse_file(text.encode(), BERLIN).problems
    assert sorted((p.row, p.column) for p in problems) == [
        (2, "kind"),
        (3, "battery_percent"),
        (3, "expected_interval_hours"),
        (5, "identifier"),
        (6, "identifier"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"name;lat;lon\nx;1;2\n", "The column “%(column)s” is missing."),
        (b"x" * (MAX_BYTES + 1), "The file is larger than %(max)s kB; please split it."),
        (
            ("kind;name;lat;lon\n" + "qr;a;1;2\n" * (MAX_ROWS + 1)).encode(),
            "The file has %(n)s rows; at most %(max)s can be imported at once.",
        ),
    ],
)
def test_whole_file_problems(data: bytes, message: str) -> None:
    assert parse_file(data, BERLIN).problems[0].message == message


def test_the_export_reads_back_as_an_import() -> None:
    rows = fleet_rows([point(name="Rathaus; Süd")], {}, NOW)
    data = export_csv(rows, {}, {}, BERLIN)
    parsed = parse_file(data, BERLIN)
    assert parsed.problems == []
    assert parsed.drafts[0].name == "Rathaus; Süd"
    assert parsed.drafts[0].identifier == rows[0].touchpoint.identifier
