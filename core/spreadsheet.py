"""CSV files the project writes, made safe to open in a spreadsheet: no cell becomes a formula."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

# OWASP's rule for CSV injection: a cell that starts with one of these is read by Excel,
# LibreOffice or Sheets as a formula (``=HYPERLINK(...)``, ``+cmd|...``, ``@SUM(...)``). A
# leading apostrophe makes it text; spreadsheets show the cell without it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """``value`` as the text of a CSV cell that a spreadsheet shows as text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class SpreadsheetWriter:
    """A ``csv.writer`` whose every cell goes through ``spreadsheet_cell``."""

    def __init__(self, out: TextIO, **options: Any) -> None:
        self._writer = csv.writer(out, **options)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([spreadsheet_cell(value) for value in row])
