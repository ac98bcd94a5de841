"""Touchpoints: beacons, QR codes, NFC tags and other physical or digital points of contact."""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from marktplatz.domain.errors import N_, InvalidInput
from marktplatz.domain.geo import Location
from marktplatz.domain.text import clean_url

CODE_ALPHABET = (
    "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: readable when typed off a sticker
)
CODE_LENGTH = 8
_CODE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
_HEX = re.compile(r"^[0-9a-f]+$")


class TouchpointKind(StrEnum):
    IBEACON = "ibeacon"
    EDDYSTONE_UID = "eddystone-uid"
    EDDYSTONE_URL = "eddystone-url"
    ALTBEACON = "altbeacon"
    QR = "qr"
    NFC = "nfc"
    WIFI_PORTAL = "wifi-portal"
    PEOPLE_COUNTER = "people-counter"
    WEBCAM = "webcam"
    VOICE = "voice"
    KIOSK = "kiosk"
    WEB_WIDGET = "web-widget"


# Kinds a phone reaches through /q/<code>: their code is printed or broadcast as a URL.
LINK_KINDS = frozenset({TouchpointKind.QR, TouchpointKind.NFC, TouchpointKind.EDDYSTONE_URL})
BEACON_KINDS = frozenset(
    {TouchpointKind.IBEACON, TouchpointKind.EDDYSTONE_UID, TouchpointKind.ALTBEACON}
)


class TouchpointStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class Touchpoint:
    """One touchpoint; `identifier` is canonical and unique across the whole installation."""

    id: UUID
    city_id: UUID
    shop_id: UUID | None
    zone_id: UUID | None
    kind: TouchpointKind
    name: str
    identifier: str
    code: str
    target: str
    location: Location
    placement: str
    status: TouchpointStatus
    created_at: datetime
    updated_at: datetime
    # None: the kind's default (domain/fleet.py). Battery as last reported, set by CSV import.
    expected_interval_hours: int | None = None
    battery_percent: int | None = None
    battery_at: datetime | None = None

    @property
    def is_link(self) -> bool:
        return self.kind in LINK_KINDS

    def short_url(self, base_url: str) -> str | None:
        """The printed or broadcast address of a link touchpoint: <base_url>/q/<code>."""
        return f"{base_url.rstrip('/')}/q/{self.code}" if self.is_link else None


def new_code() -> str:
    """A short random code for /q/<code>; about 40 bits, never derived from anything."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def is_code(value: str) -> bool:
    """Whether a string has the shape of a touchpoint code."""
    return bool(_CODE.match(value))


def clean_typed_code(value: object) -> str:
    """The code a visitor typed off a sticker: case, spaces and dashes do not matter, and the
    whole printed short address (…/q/<code>) works too."""
    text = value.strip().lower() if isinstance(value, str) and len(value) <= 200 else ""
    if "/q/" in text:
        text = text.rsplit("/q/", 1)[1].split("?")[0].split("#")[0].rstrip("/")
    code = "".join(ch for ch in text if ch not in " -\t")
    if not is_code(code):
        raise InvalidInput(
            "code",
            N_(
                "This is not a code of ours: a code has %(length)s letters and digits, "
                "like %(example)s. Please check it and type it again."
            ),
            length=CODE_LENGTH,
            example="k7qf9m2x",
        )
    return code


def canonical_identifier(kind: TouchpointKind, ids: dict[str, Any], code: str) -> str:
    """The one canonical identifier string of a touchpoint, from its kind's raw ids."""
    if kind is TouchpointKind.IBEACON:
        return _ibeacon(ids)
    if kind is TouchpointKind.ALTBEACON:
        return _altbeacon(ids)
    if kind is TouchpointKind.EDDYSTONE_UID:
        return _eddystone_uid(ids)
    return f"code:{code}"


def _ibeacon(ids: dict[str, Any]) -> str:
    proximity = _uuid(ids.get("uuid"), "ibeacon.uuid")
    major = _uint16(ids.get("major"), "ibeacon.major")
    minor = _uint16(ids.get("minor"), "ibeacon.minor")
    return f"ibeacon:{proximity}:{major}:{minor}"


def _altbeacon(ids: dict[str, Any]) -> str:
    id1 = _uuid(ids.get("id1"), "altbeacon.id1")
    id2 = _uint16(ids.get("id2"), "altbeacon.id2")
    id3 = _uint16(ids.get("id3"), "altbeacon.id3")
    return f"altbeacon:{id1}:{id2}:{id3}"


def _eddystone_uid(ids: dict[str, Any]) -> str:
    namespace = _hex(ids.get("namespace"), 20, "eddystone.namespace")
    instance = _hex(ids.get("instance"), 12, "eddystone.instance")
    return f"eddystone-uid:{namespace}:{instance}"


def _uuid(value: object, field: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as exc:
        raise InvalidInput(field, N_("This is not a valid UUID.")) from exc


def _uint16(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(field, N_("Enter a whole number from 0 to 65535."))
    try:
        number = int(value)
    except ValueError as exc:
        raise InvalidInput(field, N_("Enter a whole number from 0 to 65535.")) from exc
    if not 0 <= number <= 65535:
        raise InvalidInput(field, N_("Enter a whole number from 0 to 65535."))
    return number


def _hex(value: object, length: int, field: str) -> str:
    text = str(value or "").lower().replace("0x", "").replace("-", "").replace(" ", "")
    if len(text) != length or not _HEX.match(text):
        raise InvalidInput(field, N_("Enter exactly %(n)s hexadecimal digits."), n=length)
    return text


def identifier_parts(identifier: str) -> dict[str, Any]:
    """The raw ids of a canonical identifier, for display and editing."""
    scheme, _, rest = identifier.partition(":")
    parts = rest.split(":")
    if scheme == "ibeacon":
        return {"uuid": parts[0], "major": int(parts[1]), "minor": int(parts[2])}
    if scheme == "altbeacon":
        return {"id1": parts[0], "id2": int(parts[1]), "id3": int(parts[2])}
    if scheme == "eddystone-uid":
        return {"namespace": parts[0], "instance": parts[1]}
    return {"code": rest}


def clean_target(value: object, field: str = "target") -> str:
    """Where a link touchpoint sends a phone: a site path or an https address."""
    target = clean_url(value, field, allow_relative=True)
    if not target:
        raise InvalidInput(field, N_("A QR or NFC touchpoint needs a target address."))
    return target
