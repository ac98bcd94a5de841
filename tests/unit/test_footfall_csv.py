"""Reading pedestrian-counter exports: header variants, encodings, DST hours, problems by row."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from marktplatz.domain.fleet_csv import Problem
from marktplatz.domain.footfall_csv import (
    MAX_ROWS,
    CountRow,
    ParsedCounts,
    count_event_id,
    match_counters,
    parse_counts,
)
from marktplatz.domain.geo import make_location
from marktplatz.domain.touchpoints import Touchpoint, TouchpointKind, TouchpointStatus

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
DATA = Path(__file__).parent.parent / "data"


def parse(text: str, encoding: str = "utf-8", now: datetime = NOW) -> ParsedCounts:
    return parse_counts(text.encode(encoding), BERLIN, now)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def problems(parsed: ParsedCounts) -> list[tuple[int, str, str]]:
    return [
        (p.row, p.column, p.message % p.params if p.params else p.message) for p in parsed.problems
    ]


def counter(name: str, kind: TouchpointKind = TouchpointKind.PEOPLE_COUNTER) -> Touchpoint:
    return Touchpoint(
        id=uuid.uuid4(),
        city_id=uuid.UUID(int=1),
        shop_id=None,
        zone_id=None,
        kind=kind,
        name=name,
        identifier=f"code:{name.lower()[:8]}",
        code=name.lower()[:8],
        target="",
        location=make_location(52.1, 8.7),
        placement="",
        status=TouchpointStatus.ACTIVE,
        created_at=NOW,
        updated_at=NOW,
    )


def test_the_hystreet_export_with_bom_and_offsets_gives_utc_hours() -> None:
    # given the English hystreet export (UTF-8 with BOM, ";", ISO times with offsets)
    data = (DATA / "footfall_hystreet.csv").read_bytes()
    # when
    parsed = parse_counts(data, BERLIN, NOW)
    # then the autumn hour 02:00 comes twice, an hour apart in UTC; extra columns are listed
    assert parsed.problems == []
    assert parsed.encoding == "utf-8"
    assert parsed.ignored == ["weekday", "temperature in ºc", "weather condition", "incidents"]
    assert [(r.row, r.location, r.hour, r.count) for r in parsed.rows] == [
        (2, "Bäckerstraße", utc(2024, 10, 26, 23), 120),
        (3, "Bäckerstraße", utc(2024, 10, 27, 0), 80),
        (4, "Bäckerstraße", utc(2024, 10, 27, 1), 75),
        (5, "Bäckerstraße", utc(2024, 10, 27, 2), 60),
        (6, "Markt Nord", utc(2024, 5, 1, 8), 1523),
        (7, "Markt Nord", utc(2024, 5, 1, 9), 1688),
    ]


def test_a_german_portal_file_in_windows_1252_with_commas_reads_local_times() -> None:
    # given a German open-data export: cp1252 umlauts, ",", local times with the repeated hour
    data = (DATA / "footfall_portal_cp1252.csv").read_bytes()
    # when
    parsed = parse_counts(data, BERLIN, NOW)
    # then the first 02:00 is summer time, the second winter time; the spring night skips 02:00
    assert parsed.problems == []
    assert parsed.encoding == "cp1252"
    assert parsed.ignored == ["Wochentag"]
    assert parsed.location_column == "Standort"
    assert [(r.location, r.hour, r.count) for r in parsed.rows] == [
        ("Bäckerstraße", utc(2024, 10, 26, 23), 120),
        ("Bäckerstraße", utc(2024, 10, 27, 0), 80),
        ("Bäckerstraße", utc(2024, 10, 27, 1), 75),
        ("Bäckerstraße", utc(2024, 10, 27, 2), 60),
        ("Markt Nord", utc(2024, 3, 31, 0), 12),
        ("Markt Nord", utc(2024, 3, 31, 1), 9),
    ]


def test_header_names_are_matched_without_regard_to_case_spaces_or_underscores() -> None:
    # given
    text = "  STANDORT ;Zeit-Stempel;anzahl_  passanten\nMarkt;2024-05-01 10:00;7\n"
    # when
    parsed = parse(text)
    # then
    assert parsed.problems == []
    assert parsed.rows == [CountRow(2, "Markt", utc(2024, 5, 1, 8), 7)]


def test_missing_columns_are_reported_once_with_what_was_found_and_what_is_expected() -> None:
    # when
    parsed = parse("Ort;Datum;Wert\nMarkt;01.05.2024;3\n")
    # then
    assert problems(parsed) == [
        (
            1,
            "",
            "The header row lacks a column for: Zeitpunkt / timestamp; Passanten / pedestrians "
            "count. It has: “Ort”, “Datum”, “Wert”. Expected are the columns location, time and "
            "count, named for example Standort, Zeitpunkt and Passanten, or location, timestamp "
            "and pedestrians count.",
        )
    ]
    assert parsed.rows == []


def test_a_column_given_twice_is_a_header_problem() -> None:
    # when
    parsed = parse("Standort;Zeitpunkt;Passanten;Anzahl\nMarkt;01.05.2024 10:00;3;4\n")
    # then
    assert problems(parsed) == [
        (1, "Anzahl", "Two columns hold the same thing: “Passanten” and “Anzahl”.")
    ]


def test_every_row_problem_names_its_line_and_column() -> None:
    # given one clean row (line 2) and one bad row of each kind; line 4 is blank
    text = "\n".join(
        [
            "Standort;Zeitpunkt;Passanten",
            "Markt;01.05.2024 10:00;10",
            "Markt;01.05.2024 11:00;zehn",
            "",
            "Markt;01.05.2024 12:00;-3",
            "Markt;gestern;4",
            "Markt;01.05.2024 12:30;4",
            "Markt;01.05.2024 10:00;11",
            "Markt;31.03.2024 02:00;5",
            "Markt;29.11.2026 13:00;5",
            "Markt;01.05.2024 13:00",
            ";01.05.2024 14:00;5",
            "Markt;01.05.2024 15:00;",
            "Markt;01.05.2024 16:00;2000000",
        ]
    )
    # when
    parsed = parse(text)
    # then
    assert problems(parsed) == [
        (3, "Passanten", "“zehn” is not a whole number of people."),
        (5, "Passanten", "A count cannot be negative."),
        (
            6,
            "Zeitpunkt",
            "“gestern” is not a time; write it like 01.05.2024 10:00 or 2024-05-01T10:00+02:00.",
        ),
        (7, "Zeitpunkt", "“01.05.2024 12:30” is not the start of a full hour."),
        (8, "Zeitpunkt", "The same location and hour as in row 2."),
        (
            9,
            "Zeitpunkt",
            "31.03.2024 02:00 does not exist here: the clocks went forward an hour that night.",
        ),
        (
            10,
            "Zeitpunkt",
            "The hour 29.11.2026 13:00 has not ended yet; only past hours can be imported.",
        ),
        (11, "", "This row has 2 fields, but at least 3 are needed."),
        (12, "Standort", "The location is missing."),
        (
            13,
            "Passanten",
            "The count is empty; leave the row out if the counter has no figure for the hour.",
        ),
        (14, "Passanten", "2000000 people in one hour is more than a counter can see."),
    ]
    assert [r.row for r in parsed.rows] == [2]


def test_the_repeated_autumn_hour_a_third_time_is_a_duplicate() -> None:
    # given
    rows = [f"Markt;27.10.2024 02:00;{n}" for n in (1, 2, 3)]
    # when
    parsed = parse("\n".join(["Standort;Zeitpunkt;Passanten", *rows]))
    # then
    assert problems(parsed) == [(4, "Zeitpunkt", "The same location and hour as in row 3.")]


def test_the_same_hour_at_two_locations_is_fine_and_names_ignore_case() -> None:
    # given
    text = "Standort;Zeitpunkt;Passanten\nMarkt;01.05.2024 10:00;1\nBahnhof;01.05.2024 10:00;2\n"
    text += "markt ;01.05.2024 10:00;3\n"
    # when
    parsed = parse(text)
    # then
    assert problems(parsed) == [(4, "Zeitpunkt", "The same location and hour as in row 2.")]


def test_file_problems_are_row_zero() -> None:
    # given
    too_many = "Standort;Zeitpunkt;Passanten\n" + "Markt;01.05.2024 10:00;1\n" * (MAX_ROWS + 1)
    # when / then
    assert problems(parse("")) == [(0, "", "The file is empty.")]
    assert problems(parse("Standort;Zeitpunkt;Passanten\n;;\n")) == [
        (0, "", "The file has a header row but no counts.")
    ]
    assert problems(parse(too_many)) == [
        (0, "", f"The file has {MAX_ROWS + 1} rows; at most {MAX_ROWS} can be imported at once.")
    ]
    assert problems(parse('Standort;Zeitpunkt;Passanten\n"Markt;01.05.2024 10:00;1\n')) == [
        (0, "", "The file is not valid CSV (a quote is not closed).")
    ]
    assert problems(parse_counts(b"x" * 5_000_001, BERLIN, NOW)) == [
        (0, "", "The file is larger than 5000 kB; please split it.")
    ]


def test_locations_match_counters_by_name_or_identifier() -> None:
    # given two counters and a QR code named like a location
    north, bakery = counter("Markt Nord"), counter("Bäckerstraße")
    qr = counter("Rathaus", TouchpointKind.QR)
    text = "\n".join(
        [
            "Standort;Zeitpunkt;Passanten",
            "MARKT NORD;01.05.2024 10:00;1",
            f"{bakery.identifier.upper()};01.05.2024 10:00;2",
            "Rathaus;01.05.2024 10:00;3",
            "Rathaus;01.05.2024 11:00;4",
        ]
    )
    # when
    counts, found = match_counters(parse(text), [north, bakery, qr])
    # then the QR code is no counter: one problem for both rows, listing the counters
    assert [(c.row, c.touchpoint_id, c.count) for c in counts] == [
        (2, north.id, 1),
        (3, bakery.id, 2),
    ]
    assert found == [
        Problem(
            4,
            "Standort",
            "“%(location)s” (rows naming it: %(rows)s) is not a people counter of this city. "
            "Its people counters are: %(counters)s.",
            {"location": "Rathaus", "rows": 2, "counters": "Bäckerstraße, Markt Nord"},
        )
    ]


def test_a_name_two_counters_share_asks_for_the_identifier() -> None:
    # given
    one, two = counter("Markt"), counter("Markt")
    parsed = parse("Standort;Zeitpunkt;Passanten\nMarkt;01.05.2024 10:00;1\n")
    # when
    counts, found = match_counters(parsed, [one, two])
    # then
    assert counts == []
    assert [(p.row, p.params["counters"]) for p in found] == [
        (2, f"Markt ({one.identifier}), Markt ({two.identifier})")
    ]


def test_event_ids_depend_on_city_counter_and_hour_only() -> None:
    # given
    city, point = uuid.uuid4(), uuid.uuid4()
    hour = utc(2024, 5, 1, 8)
    # when / then
    assert count_event_id(city, point, hour) == count_event_id(city, point, hour.astimezone(BERLIN))
    assert count_event_id(city, point, hour) != count_event_id(city, point, utc(2024, 5, 1, 9))
    assert count_event_id(city, point, hour) != count_event_id(uuid.uuid4(), point, hour)


def test_a_date_without_an_hour_is_not_taken_for_midnight() -> None:
    # when a daily export is given
    parsed = parse("Standort;Zeitpunkt;Passanten\nMarkt;2024-05-01;4000\nMarkt;01.05.2024;4000\n")
    # then
    message = "“%s” is not a time; write it like 01.05.2024 10:00 or 2024-05-01T10:00+02:00."
    assert problems(parsed) == [
        (2, "Zeitpunkt", message % "2024-05-01"),
        (3, "Zeitpunkt", message % "01.05.2024"),
    ]
