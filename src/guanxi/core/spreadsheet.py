"""Spreadsheet output shared by every export: the UTF-8 BOM Excel needs, and formula neutralising.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be run by Excel,
LibreOffice or Google Sheets as a formula (CSV injection, OWASP). Every exported text cell goes
through :func:`safe_cell`, which prefixes such text with an apostrophe: the spreadsheet then shows
it as the text it was.
"""

from __future__ import annotations

BOM = "\ufeff"  # Excel reads a CSV as UTF-8 (Chinese intact) only when it starts with this
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell a spreadsheet will not run: text starting with = + - @ tab or CR gets a leading '."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
