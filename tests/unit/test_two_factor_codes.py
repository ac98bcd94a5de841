"""Unit tests for TOTP code checking (drift window, replay refusal), recovery codes and sealing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from marktplatz.adapters.clock import FixedClock
from marktplatz.adapters.secretbox import AesGcmSecretBox
from marktplatz.domain.two_factor import (
    grouped_secret,
    matching_step,
    new_recovery_codes,
    new_secret,
    provisioning_uri,
    recovery_hash,
    time_step,
)

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
# 10 s into a 30-second step, so that neighbours are exactly one step away.
AT = datetime(2026, 11, 29, 12, 0, 10, tzinfo=UTC)


def code(clock: FixedClock, steps: int = 0) -> str:
    return pyotp.TOTP(SECRET).at(clock.now() + timedelta(seconds=30 * steps))


def test_the_current_code_matches_its_step() -> None:
    # given
    clock = FixedClock(AT)

    # when / then
    assert matching_step(SECRET, code(clock), clock.now(), None) == time_step(AT)
    assert matching_step(SECRET, f" {code(clock)[:3]} {code(clock)[3:]} ", clock.now(), None)


def test_one_step_of_drift_either_way_is_accepted() -> None:
    clock = FixedClock(AT)
    assert matching_step(SECRET, code(clock, -1), clock.now(), None) == time_step(AT) - 1
    assert matching_step(SECRET, code(clock, +1), clock.now(), None) == time_step(AT) + 1


def test_two_steps_away_is_refused() -> None:
    clock = FixedClock(AT)
    assert matching_step(SECRET, code(clock, -2), clock.now(), None) is None
    assert matching_step(SECRET, code(clock, +2), clock.now(), None) is None


def test_a_code_of_a_used_step_is_refused_until_the_clock_moves_on() -> None:
    # given the current step was used
    clock = FixedClock(AT)
    used = matching_step(SECRET, code(clock), clock.now(), None)

    # when the same code, or the one before, comes again
    # then both are refused, while the next step's code still works
    assert matching_step(SECRET, code(clock), clock.now(), used) is None
    assert matching_step(SECRET, code(clock, -1), clock.now(), used) is None
    assert matching_step(SECRET, code(clock, +1), clock.now(), used) == time_step(AT) + 1
    # and half a minute later the code of that time works again
    clock.advance(timedelta(seconds=30))
    assert matching_step(SECRET, code(clock), clock.now(), used) == time_step(AT) + 1


def test_malformed_and_wrong_codes_are_refused() -> None:
    clock = FixedClock(AT)
    right = code(clock)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for candidate in ("", "12345", "1234567", "abcdef", wrong, right + "0"):
        assert matching_step(SECRET, candidate, clock.now(), None) is None


def test_recovery_codes_are_ten_different_long_codes_hashed_without_their_spelling() -> None:
    # when
    codes = new_recovery_codes()

    # then
    assert len(set(codes)) == 10
    assert all(len(c) == 19 and c.count("-") == 3 for c in codes)
    first = codes[0]
    assert recovery_hash(first.upper().replace("-", " ")) == recovery_hash(first)
    assert recovery_hash(first) != recovery_hash(codes[1])
    assert first not in recovery_hash(first)


def test_the_enrolment_address_names_issuer_and_account() -> None:
    secret = new_secret()
    assert len(secret) == 32
    uri = provisioning_uri(secret, "inhaberin@example.org")
    assert uri.startswith("otpauth://totp/Marktplatz:inhaberin%40example.org?secret=")
    assert "issuer=Marktplatz" in uri
    assert grouped_secret("ABCDEFGHIJ") == "ABCD EFGH IJ"


def test_a_sealed_secret_opens_only_with_its_key_and_its_user() -> None:
    # given
    box = AesGcmSecretBox(b"k" * 48, b"marktplatz two-factor secret")
    sealed = box.seal(SECRET.encode(), b"user-1")

    # then
    assert SECRET.encode() not in sealed
    assert box.open(sealed, b"user-1") == SECRET.encode()
    other_key = AesGcmSecretBox(b"x" * 48, b"marktplatz two-factor secret")
    for opener, context in ((box, b"user-2"), (other_key, b"user-1")):
        with pytest.raises(ValueError, match="does not open"):
            opener.open(sealed, context)
