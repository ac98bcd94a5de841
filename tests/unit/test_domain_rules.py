"""Unit tests for the pure domain rules: geo, touchpoint ids, text, passwords, HTML, categories."""

from __future__ import annotations

import math
from typing import Any

import pytest

from marktplatz.domain.accounts import MAX_PASSWORD, MIN_PASSWORD, check_password_rules
from marktplatz.domain.categories import CATEGORIES, CategoryInfo, ShopCategory, category_info
from marktplatz.domain.errors import InvalidInput
from marktplatz.domain.geo import MAX_ZONE_VERTICES, Location, make_location, parse_polygon
from marktplatz.domain.text import clean_email, clean_slug, clean_url, slugify
from marktplatz.domain.touchpoints import (
    CODE_ALPHABET,
    CODE_LENGTH,
    TouchpointKind,
    canonical_identifier,
    clean_target,
    identifier_parts,
    is_code,
    new_code,
)

UUID_HEX = "F7826DA64FA24E988024BC5B71E0893E"
UUID_CANONICAL = "f7826da6-4fa2-4e98-8024-bc5b71e0893e"
SQUARE_RING = [[8.74, 52.10], [8.76, 52.10], [8.76, 52.11], [8.74, 52.11], [8.74, 52.10]]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def rejected(call: Any, *args: Any, **kwargs: Any) -> InvalidInput:
    """The InvalidInput a call raises; fails the test if it raises nothing."""
    with pytest.raises(InvalidInput) as caught:
        call(*args, **kwargs)
    return caught.value


# --- geo: locations -------------------------------------------------------------------------


def test_make_location_accepts_the_bounds_and_rounds_to_seven_places() -> None:
    # given coordinates on the edges of the valid range and one with too many decimals
    # when
    corner = make_location(-90, 180)
    other_corner = make_location(90.0, -180.0)
    precise = make_location(52.123456789, 8.987654321)

    # then
    assert corner == Location(-90.0, 180.0)
    assert other_corner == Location(90.0, -180.0)
    assert precise == Location(52.1234568, 8.9876543)
    assert isinstance(corner.lat, float)


@pytest.mark.parametrize(
    ("lat", "lon", "field", "message"),
    [
        (90.0001, 8.0, "location.lat", "Latitude must be between -90 and 90."),
        (-91, 8.0, "location.lat", "Latitude must be between -90 and 90."),
        (123.4, 8.0, "location.lat", "Latitude must be between -90 and 90."),
        (52.0, 180.5, "location.lon", "Longitude must be between -180 and 180."),
        (52.0, -181, "location.lon", "Longitude must be between -180 and 180."),
        (math.nan, 8.0, "location.lat", "Latitude must be between -90 and 90."),
        (52.0, math.nan, "location.lon", "Longitude must be between -180 and 180."),
        (math.inf, 8.0, "location.lat", "Latitude must be between -90 and 90."),
        (52.0, -math.inf, "location.lon", "Longitude must be between -180 and 180."),
        (True, 8.0, "location", "Latitude and longitude must be numbers."),
        (52.0, False, "location", "Latitude and longitude must be numbers."),
        ("52.1", 8.0, "location", "Latitude and longitude must be numbers."),
        (52.0, "abc", "location", "Latitude and longitude must be numbers."),
        (None, 8.0, "location", "Latitude and longitude must be numbers."),
    ],
)
def test_make_location_rejects_bad_coordinates(
    lat: object, lon: object, field: str, message: str
) -> None:
    # given a bad latitude or longitude
    # when
    error = rejected(make_location, lat, lon)

    # then
    assert (error.field, error.message) == (field, message)


def test_make_location_reports_under_the_given_field_name() -> None:
    # given a city centre with a bad latitude
    # when
    error = rejected(make_location, 91, 8, "center")

    # then
    assert error.field == "center.lat"


# --- geo: polygons --------------------------------------------------------------------------


def test_parse_polygon_returns_a_valid_polygon_unchanged() -> None:
    # given a closed, simple square
    # when
    parsed = parse_polygon(polygon(SQUARE_RING))

    # then
    assert parsed == {"type": "Polygon", "coordinates": [SQUARE_RING]}


def test_parse_polygon_accepts_geojson_text_and_drops_foreign_members() -> None:
    # given the square as a JSON string with an extra member
    text = '{"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]], "x": 1}'

    # when
    parsed = parse_polygon(text)

    # then
    assert parsed == {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"type": "Point", "coordinates": [8.75, 52.1]}, "The shape must be a GeoJSON Polygon."),
        (
            {"type": "MultiPolygon", "coordinates": [[SQUARE_RING]]},
            "The shape must be a GeoJSON Polygon.",
        ),
        ([SQUARE_RING], "The shape must be a GeoJSON Polygon."),
        (None, "The shape must be a GeoJSON Polygon."),
        ("{not json", "The shape is not valid GeoJSON."),
        ({"type": "Polygon", "coordinates": []}, "The polygon has no coordinates."),
        ({"type": "Polygon"}, "The polygon has no coordinates."),
        (polygon([[0, 0], [1, 0], [0, 0]]), "Every ring needs at least four positions."),
        (polygon([[0, 0], [1, 0], [1, 1], [0, 1]]), "Every ring must end where it starts."),
        (polygon([[0, 0], [1, 0], [1], [0, 0]]), "Every position must be [longitude, latitude]."),
    ],
)
def test_parse_polygon_rejects_shapes_that_are_not_closed_polygons(
    geometry: object, message: str
) -> None:
    # given something that is not a usable polygon
    # when
    error = rejected(parse_polygon, geometry)

    # then
    assert (error.field, error.message) == ("geometry", message)


def test_parse_polygon_names_the_self_intersection_of_a_bowtie() -> None:
    # given a bowtie: its edges cross at (0.5, 0.5)
    bowtie = polygon([[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]])

    # when
    error = rejected(parse_polygon, bowtie, "zone")

    # then
    assert error.field == "zone"
    assert error.message.startswith("The outline crosses itself near latitude %(lat)s")
    assert error.params == {"lat": 0.5, "lon": 0.5}


def test_parse_polygon_rejects_positions_outside_the_earth() -> None:
    # given a ring with a latitude of 95°
    ring = [[0, 0], [1, 0], [1, 95], [0, 1], [0, 0]]

    # when
    error = rejected(parse_polygon, polygon(ring))

    # then
    assert (error.field, error.message) == ("geometry.lat", "Latitude must be between -90 and 90.")


def test_parse_polygon_limits_the_number_of_vertices() -> None:
    # given a circle with one vertex more than allowed (the closing point included)
    steps = MAX_ZONE_VERTICES
    ring = [
        [
            8.75 + 0.001 * math.cos(2 * math.pi * i / steps),
            52.1 + 0.001 * math.sin(2 * math.pi * i / steps),
        ]
        for i in range(steps)
    ]
    ring.append(ring[0])

    # when
    too_many = rejected(parse_polygon, polygon(ring))
    at_limit = parse_polygon(polygon([*ring[: steps - 1], ring[0]]))

    # then
    assert str(too_many) == f"geometry: The polygon has more than {MAX_ZONE_VERTICES} points."
    assert len(at_limit["coordinates"][0]) == MAX_ZONE_VERTICES


# --- touchpoints: identifiers and codes -----------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "ids", "expected"),
    [
        (
            TouchpointKind.IBEACON,
            {"uuid": UUID_HEX, "major": 1, "minor": 2},
            f"ibeacon:{UUID_CANONICAL}:1:2",
        ),
        (
            TouchpointKind.IBEACON,
            {"uuid": UUID_CANONICAL.upper(), "major": "0", "minor": 65535},
            f"ibeacon:{UUID_CANONICAL}:0:65535",
        ),
        (
            TouchpointKind.ALTBEACON,
            {"id1": UUID_HEX.lower(), "id2": 7, "id3": 8},
            f"altbeacon:{UUID_CANONICAL}:7:8",
        ),
        (
            TouchpointKind.EDDYSTONE_UID,
            {"namespace": "0xEDD1EBEAC04E5DEFA017", "instance": "0B-DB-87-53-9B-67"},
            "eddystone-uid:edd1ebeac04e5defa017:0bdb87539b67",
        ),
        (TouchpointKind.QR, {}, "code:k7m2x9pq"),
        (TouchpointKind.NFC, {}, "code:k7m2x9pq"),
        (TouchpointKind.KIOSK, {"uuid": UUID_HEX}, "code:k7m2x9pq"),
    ],
)
def test_canonical_identifier_has_one_spelling_per_kind(
    kind: TouchpointKind, ids: dict[str, Any], expected: str
) -> None:
    # given the raw ids of a touchpoint, in whatever spelling the installer typed
    # when
    identifier = canonical_identifier(kind, ids, "k7m2x9pq")

    # then
    assert identifier == expected


@pytest.mark.parametrize(
    ("kind", "ids", "field", "message"),
    [
        (
            TouchpointKind.IBEACON,
            {"uuid": "not-a-uuid", "major": 1, "minor": 2},
            "ibeacon.uuid",
            "This is not a valid UUID.",
        ),
        (
            TouchpointKind.IBEACON,
            {"major": 1, "minor": 2},
            "ibeacon.uuid",
            "This is not a valid UUID.",
        ),
        (
            TouchpointKind.IBEACON,
            {"uuid": UUID_HEX, "major": 65536, "minor": 2},
            "ibeacon.major",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            TouchpointKind.IBEACON,
            {"uuid": UUID_HEX, "major": 1, "minor": -1},
            "ibeacon.minor",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            TouchpointKind.IBEACON,
            {"uuid": UUID_HEX, "major": True, "minor": 2},
            "ibeacon.major",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            TouchpointKind.IBEACON,
            {"uuid": UUID_HEX, "major": 1.5, "minor": 2},
            "ibeacon.major",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            TouchpointKind.IBEACON,
            {"uuid": UUID_HEX, "major": "eins", "minor": 2},
            "ibeacon.major",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            TouchpointKind.ALTBEACON,
            {"id1": "xyz", "id2": 1, "id3": 2},
            "altbeacon.id1",
            "This is not a valid UUID.",
        ),
        (
            TouchpointKind.ALTBEACON,
            {"id1": UUID_HEX, "id2": 1, "id3": 70000},
            "altbeacon.id3",
            "Enter a whole number from 0 to 65535.",
        ),
        (
            TouchpointKind.EDDYSTONE_UID,
            {"namespace": "edd1ebeac04e5defa0", "instance": "0bdb87539b67"},
            "eddystone.namespace",
            "Enter exactly %(n)s hexadecimal digits.",
        ),
        (
            TouchpointKind.EDDYSTONE_UID,
            {"namespace": "edd1ebeac04e5defa01700", "instance": "0bdb87539b67"},
            "eddystone.namespace",
            "Enter exactly %(n)s hexadecimal digits.",
        ),
        (
            TouchpointKind.EDDYSTONE_UID,
            {"namespace": "edd1ebeac04e5defa017", "instance": "0bdb87539b6g"},
            "eddystone.instance",
            "Enter exactly %(n)s hexadecimal digits.",
        ),
    ],
)
def test_canonical_identifier_rejects_bad_beacon_ids(
    kind: TouchpointKind, ids: dict[str, Any], field: str, message: str
) -> None:
    # given beacon ids with one wrong part
    # when
    error = rejected(canonical_identifier, kind, ids, "")

    # then
    assert (error.field, error.message) == (field, message)


def test_eddystone_namespace_error_says_how_many_digits() -> None:
    # given a namespace of 18 instead of 20 hex digits
    ids = {"namespace": "edd1ebeac04e5defa0", "instance": "0bdb87539b67"}

    # when
    error = rejected(canonical_identifier, TouchpointKind.EDDYSTONE_UID, ids, "")

    # then
    assert str(error) == "eddystone.namespace: Enter exactly 20 hexadecimal digits."
    assert dict(error.params) == {"n": 20}


@pytest.mark.parametrize(
    ("identifier", "parts"),
    [
        (f"ibeacon:{UUID_CANONICAL}:1:2", {"uuid": UUID_CANONICAL, "major": 1, "minor": 2}),
        (f"altbeacon:{UUID_CANONICAL}:7:8", {"id1": UUID_CANONICAL, "id2": 7, "id3": 8}),
        (
            "eddystone-uid:edd1ebeac04e5defa017:0bdb87539b67",
            {"namespace": "edd1ebeac04e5defa017", "instance": "0bdb87539b67"},
        ),
        ("code:k7m2x9pq", {"code": "k7m2x9pq"}),
    ],
)
def test_identifier_parts_reverses_the_canonical_form(
    identifier: str, parts: dict[str, Any]
) -> None:
    # given a canonical identifier
    # when
    found = identifier_parts(identifier)

    # then
    assert found == parts


def test_new_code_uses_only_the_readable_alphabet() -> None:
    # given many fresh codes
    # when
    codes = {new_code() for _ in range(500)}

    # then
    assert len(codes) == 500
    assert all(len(code) == CODE_LENGTH == 8 for code in codes)
    assert set("".join(codes)) <= set(CODE_ALPHABET)
    assert not set("01ilo") & set(CODE_ALPHABET)
    assert all(is_code(code) for code in codes)


@pytest.mark.parametrize(
    "value",
    ["", "k7m2x9p", "k7m2x9pqr", "K7M2X9PQ", "k7m2x9p0", "k7m2x9pl", "k7m2x9p-", " k7m2x9p"],
)
def test_is_code_refuses_other_shapes(value: str) -> None:
    # given a string that is not 8 characters of the code alphabet
    # when
    result = is_code(value)

    # then
    assert result is False


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/stadt/shops/optik-a", "/stadt/shops/optik-a"),
        ("https://example.org/x", "https://example.org/x"),
    ],
)
def test_clean_target_accepts_site_paths_and_web_addresses(target: str, expected: str) -> None:
    # given a target a QR code may point to
    # when
    cleaned = clean_target(target)

    # then
    assert cleaned == expected


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "A QR or NFC touchpoint needs a target address."),
        (None, "A QR or NFC touchpoint needs a target address."),
        ("javascript:alert(1)", "Enter a web address starting with https://."),
        ("//evil.example/", "Enter a web address starting with https://."),
        ("data:text/html,x", "Enter a web address starting with https://."),
    ],
)
def test_clean_target_refuses_empty_and_foreign_schemes(target: object, message: str) -> None:
    # given an empty or dangerous target
    # when
    error = rejected(clean_target, target)

    # then
    assert (error.field, error.message) == ("target", message)


# --- text -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Café Kränzchen & Söhne", "cafe-kraenzchen-soehne"),
        ("Straßen-Café", "strassen-cafe"),
        ("  Ärzte  Haus!! ", "aerzte-haus"),
        ("!!!", "shop"),
        ("x" * 70, "x" * 60),
    ],
)
def test_slugify_proposes_ascii_slugs(name: str, slug: str) -> None:
    # given a shop name
    # when
    proposal = slugify(name)

    # then
    assert proposal == slug


def test_clean_slug_accepts_lower_case_words_with_single_hyphens() -> None:
    # given a slug with surrounding blanks
    # when
    slug = clean_slug("  apotheke-am-markt ")

    # then
    assert slug == "apotheke-am-markt"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("Apotheke", "Use 2–60 lower-case letters, digits and hyphens (e.g. apotheke-am-markt)."),
        ("a", "Use 2–60 lower-case letters, digits and hyphens (e.g. apotheke-am-markt)."),
        ("a--b", "Use 2–60 lower-case letters, digits and hyphens (e.g. apotheke-am-markt)."),
        ("-ab", "Use 2–60 lower-case letters, digits and hyphens (e.g. apotheke-am-markt)."),
        ("café", "Use 2–60 lower-case letters, digits and hyphens (e.g. apotheke-am-markt)."),
        ("a" * 61, "At most %(max)s characters, please."),
        (None, "Please fill in this field."),
        (42, "This must be text."),
    ],
)
def test_clean_slug_rejects_other_shapes(value: object, message: str) -> None:
    # given a bad slug
    # when
    error = rejected(clean_slug, value)

    # then
    assert (error.field, error.message) == ("slug", message)


def test_clean_email_lower_cases_and_allows_empty_unless_required() -> None:
    # given an address with capitals and blanks, and an empty one
    # when
    address = clean_email(" Anna.Muster@Example.ORG ")
    empty = clean_email("")
    missing = rejected(clean_email, "", required=True)

    # then
    assert address == "anna.muster@example.org"
    assert empty == ""
    assert (missing.field, missing.message) == ("email", "Please fill in this field.")


@pytest.mark.parametrize("value", ["anna@localhost", "a b@example.org", "a@@example.org", "@x.de"])
def test_clean_email_rejects_malformed_addresses(value: str) -> None:
    # given a malformed address
    # when
    error = rejected(clean_email, value)

    # then
    assert (error.field, error.message) == ("email", "This is not a valid e-mail address.")


def test_clean_url_keeps_http_and_https_addresses() -> None:
    # given web addresses
    # when
    secure = clean_url("https://example.org/a?b=1")
    plain = clean_url("http://example.org")
    empty = clean_url("  ")

    # then
    assert (secure, plain, empty) == ("https://example.org/a?b=1", "http://example.org", "")


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        " javascript:alert(1)",
        "ftp://example.org",
        "https://",
        "/relative",
        "https://exa mple.org",
    ],
)
def test_clean_url_rejects_scripts_other_schemes_and_relative_paths(value: str) -> None:
    # given an address that is not an absolute http(s) URL
    # when
    error = rejected(clean_url, value)

    # then
    assert (error.field, error.message) == (
        "website",
        "Enter a web address starting with https://.",
    )


# --- passwords ------------------------------------------------------------------------------


def test_a_long_unusual_password_passes() -> None:
    # given a password that breaks no rule
    # when
    result = check_password_rules("Sonnenblume-42-Markt", "anna.muster@example.org")

    # then
    assert result is None


@pytest.mark.parametrize(
    ("password", "email", "message"),
    [
        ("x" * (MIN_PASSWORD - 1), "", "The password needs at least %(min)s characters."),
        ("Ab3-" * 33, "", "The password may have at most %(max)s characters."),
        ("Passwort123", "", "This password is too easy to guess."),
        ("MARKTPLATZ", "", "This password is too easy to guess."),
        ("abababababab", "", "This password is too easy to guess."),
        (
            "anna.muster-42-X",
            "anna.muster@example.org",
            "The password must not contain your e-mail name.",
        ),
        ("xx-ANNA-1234-yy", "anna@example.org", "The password must not contain your e-mail name."),
    ],
)
def test_password_rules_say_what_to_change(password: str, email: str, message: str) -> None:
    # given a password that breaks one rule
    # when
    error = rejected(check_password_rules, password, email)

    # then
    assert (error.field, error.message) == ("password", message)


def test_password_length_limits_are_inclusive() -> None:
    # given passwords of exactly the minimum and maximum length
    shortest = "Ab3-Xy9+Qr"[:MIN_PASSWORD]
    longest = ("Ab3-Xy9+Qr" * 13)[:MAX_PASSWORD]

    # when / then (no error)
    check_password_rules(shortest)
    check_password_rules(longest)
    assert (len(shortest), len(longest)) == (10, 128)


def test_a_short_email_name_is_not_held_against_the_password() -> None:
    # given an e-mail name of three letters, which the password happens to contain
    # when
    result = check_password_rules("abc-Sonnenblume-42", "abc@example.org")

    # then
    assert result is None


# --- categories -----------------------------------------------------------------------------


def test_every_category_has_tag_and_labels() -> None:
    # given the category vocabulary
    # when
    infos = {category: category_info(category) for category in ShopCategory}

    # then
    assert set(CATEGORIES) == set(ShopCategory)
    for info in infos.values():
        assert isinstance(info, CategoryInfo)
        assert info.osm_key in {"shop", "amenity", "tourism"}
        assert info.osm_value
        assert info.label_de
        assert info.label_en


def test_osm_tags_of_known_categories() -> None:
    # given a few categories
    # when
    tags = {
        c: category_info(c).osm_tag
        for c in (ShopCategory.PHARMACY, ShopCategory.OPTICIAN, ShopCategory.TOURIST_INFO)
    }

    # then
    assert tags == {
        ShopCategory.PHARMACY: "amenity=pharmacy",
        ShopCategory.OPTICIAN: "shop=optician",
        ShopCategory.TOURIST_INFO: "tourism=information",
    }


def test_only_health_categories_are_flagged() -> None:
    # given the category vocabulary
    # when
    health = {c for c, info in CATEGORIES.items() if info.health}

    # then
    assert health == {ShopCategory.PHARMACY, ShopCategory.OPTICIAN}


def test_osm_tags_are_unique() -> None:
    # given every category's tag
    # when
    tags = [info.osm_tag for info in CATEGORIES.values()]

    # then
    assert len(tags) == len(set(tags))
