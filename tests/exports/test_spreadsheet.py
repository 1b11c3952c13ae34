"""The one formula neutraliser every export uses (core/spreadsheet.py), and engagement still uses it."""

from __future__ import annotations

import pytest

from guanxi.core.spreadsheet import BOM, safe_cell


@pytest.mark.parametrize("text", ["=1+1", "+86 138", "-3", "@SUM(A1)", "\tcmd", "\rcmd"])
def test_formula_starts_get_an_apostrophe(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(("value", "expected"), [("张伟", "张伟"), (None, ""), (42, "42"), ("a=b", "a=b")])
def test_ordinary_values_pass_unchanged(value: object, expected: str) -> None:
    assert safe_cell(value) == expected


def test_engagement_uses_the_same_implementation() -> None:
    from guanxi.engagement import export

    assert export.safe_cell is safe_cell
    assert export.BOM == BOM == "\ufeff"
