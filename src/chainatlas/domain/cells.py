"""Text that a spreadsheet would take for a formula, made inert in every file we write (CSV / formula injection).

A firm name or project note that starts with "=" ("=HYPERLINK(…)", "=cmd|' /C calc'!A0") becomes a live formula
when Excel or WPS opens the export, or when a user edits the cell. Text starting with = + - @, a tab or a carriage
return is written as text that stays text: in an .xlsx as a string cell with Excel's quote prefix (shown as it
is, never parsed), in a CSV with a leading apostrophe, as OWASP advises (a CSV has no cell types).
"""

from __future__ import annotations

from typing import Any

FORMULA_LEAD = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_LEAD)


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell: formula-like text behind an apostrophe, anything else as it is."""
    return "'" + value if formula_like(value) else value
