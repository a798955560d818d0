"""CSV every export writes: cells a spreadsheet would run as a formula are defused first.

A customer chooses their chat id and their text; exported as is, `=HYPERLINK(...)` or `=1+2`
becomes a live formula when an operator opens the file in Excel or LibreOffice (CSV injection).
OWASP's advice: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
leading `'`, which spreadsheets show as text and never evaluate.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """The cell as text, with a `'` in front if a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_document(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """CSV with a header row; the csv module quotes commas, quotes and newlines, `safe_cell` formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([safe_cell(name) for name in header])
    writer.writerows([safe_cell(cell) for cell in row] for row in rows)
    return buffer.getvalue()
