"""Neutralising spreadsheet formulas in exported cells (CSV injection)."""

from __future__ import annotations

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """The cell text, prefixed with an apostrophe when a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text
