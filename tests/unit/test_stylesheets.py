"""The stylesheets parse: every block is closed, so no rule ends up inside someone else's
media query (an unclosed `@media (max-width: 480px) {` once limited every later rule to phones)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = sorted((Path(__file__).resolve().parents[2] / "src/marktplatz/web/static/css").glob("*.css"))
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_STRING = re.compile(r"\"(?:\\.|[^\"\\])*\"|'(?:\\.|[^'\\])*'")


def unclosed(text: str) -> list[int]:
    """Lines where a block opened that is never closed, or where a `}` closes nothing."""
    code = _STRING.sub('""', _COMMENT.sub(lambda m: "\n" * m[0].count("\n"), text))
    opened: list[int] = []
    stray: list[int] = []
    for number, line in enumerate(code.splitlines(), start=1):
        for char in line:
            if char == "{":
                opened.append(number)
            elif char == "}":
                if opened:
                    opened.pop()
                else:
                    stray.append(number)
    return opened + stray


def test_the_check_finds_an_unclosed_media_query() -> None:
    assert unclosed("a { b: c; }\n@media (max-width: 480px) {\n  d { e: f; }\n") == [2]


@pytest.mark.parametrize("path", CSS, ids=[p.name for p in CSS])
def test_every_block_is_closed(path: Path) -> None:
    assert unclosed(path.read_text(encoding="utf-8")) == []
