"""Unit tests for the message catalogues: complete German, matching placeholders, up to date."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from marktplatz.web.i18n import LOCALE_DIR, translations

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = LOCALE_DIR / "messages.pot"
PLACEHOLDER = re.compile(r"%\((\w+)\)[a-z]")


def catalogue(language: str) -> Catalog:
    with (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=language)


def msgids(catalog: Catalog) -> set[str]:
    return {str(message.id) for message in catalog if message.id}


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def extract_from_sources(target: Path) -> Catalog:
    """Run the same extraction as the Makefile/README step, into `target`."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "--no-location",
            "--sort-output",
            "-o",
            str(target),
            "src",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with target.open("rb") as handle:
        return read_po(handle)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    return msgids(extract_from_sources(tmp_path_factory.mktemp("i18n") / "messages.pot"))


def test_every_german_message_is_translated_and_none_is_fuzzy() -> None:
    # given
    german = catalogue("de")

    # when
    untranslated = sorted(str(m.id) for m in german if m.id and not m.string)
    fuzzy = sorted(str(m.id) for m in german if m.id and m.fuzzy)

    # then
    assert len(msgids(german)) > 0
    assert untranslated == [], f"German msgstr missing for: {untranslated}"
    assert fuzzy == [], f"fuzzy German entries: {fuzzy}"


def test_every_german_translation_keeps_exactly_the_placeholders_of_its_msgid() -> None:
    # given
    german = catalogue("de")

    # when
    mismatched = [
        (str(m.id), str(m.string))
        for m in german
        if m.id and m.string and placeholders(str(m.id)) != placeholders(str(m.string))
    ]

    # then
    assert mismatched == [], f"placeholders differ: {mismatched}"


def test_every_german_translation_can_be_formatted_with_its_placeholders() -> None:
    # given
    german = [m for m in catalogue("de") if m.id and m.string and placeholders(str(m.id))]

    # when
    broken = []
    for message in german:
        values = dict.fromkeys(placeholders(str(message.id)), "x")
        try:
            str(message.string) % values
        except (KeyError, ValueError, TypeError) as exc:
            broken.append((str(message.id), repr(exc)))

    # then
    assert german, "expected some messages with placeholders"
    assert broken == [], f"cannot format: {broken}"


def test_the_message_template_is_up_to_date_with_the_sources(extracted: set[str]) -> None:
    # given
    with TEMPLATE.open("rb") as handle:
        template = msgids(read_po(handle))

    # when
    missing = sorted(extracted - template)
    stale = sorted(template - extracted)

    # then
    assert missing == [], f"messages.pot lacks (re-run pybabel extract): {missing}"
    assert stale == [], f"messages.pot has msgids no source uses: {stale}"


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_catalogue_holds_exactly_the_marked_messages(
    extracted: set[str], language: str
) -> None:
    # given
    catalog = catalogue(language)

    # when
    missing = sorted(extracted - msgids(catalog))
    stale = sorted(msgids(catalog) - extracted)

    # then
    assert missing == [], f"{language}/messages.po lacks (pybabel update, translate): {missing}"
    assert stale == [], f"{language}/messages.po has msgids no source uses: {stale}"


def test_german_pages_render_the_translation() -> None:
    # given
    german = translations("de")

    # when
    label = german.gettext("Open now")
    until = german.gettext("until %(time)s") % {"time": "18:30"}

    # then
    assert label == "Jetzt geöffnet"
    assert until == "bis 18:30"


def test_english_pages_fall_back_to_the_english_msgid() -> None:
    # given
    english = translations("en")

    # when
    label = english.gettext("Open now")

    # then
    assert label == "Open now"
