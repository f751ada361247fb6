"""Reading a CSV file as people make it: any of three delimiters, BOM or not.

Spreadsheets differ: LibreOffice writes UTF-8 with ',', Polish Excel writes ';'
and, in its older "CSV" format, Windows-1250 instead of UTF-8. Every row keeps
the number of the line it starts on, so errors can point at it.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from dataclasses import dataclass, field

from mailservice.errors import ContactImportError

log = logging.getLogger(__name__)

DELIMITERS = (",", ";", "\t")
# What Polish Excel saves when the user picks plain "CSV" rather than "CSV UTF-8".
FALLBACK_ENCODING = "cp1250"


@dataclass
class CsvRow:
    """One record: its first line in the file, its cells by column, extra cells."""

    line: int
    cells: dict[str, str]
    extra_cells: int = 0


@dataclass
class CsvTable:
    """A whole file: header columns, rows, and how it was read."""

    columns: list[str]
    rows: list[CsvRow] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","


def read_csv(data: bytes, known_columns: tuple[str, ...]) -> CsvTable:
    """Parse a CSV file whose line 1 is a header naming (some of) `known_columns`."""
    text, encoding = _decode(data)
    if not text.strip():
        raise ContactImportError("the file is empty; line 1 must be the header")

    delimiter = _guess_delimiter(text.splitlines()[0], known_columns)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    columns = [column_key(cell) for cell in next(reader)]
    table = CsvTable(columns=columns, encoding=encoding, delimiter=delimiter)

    previous_line = reader.line_num
    for cells in reader:
        first_line, previous_line = previous_line + 1, reader.line_num
        if any(cell.strip() for cell in cells):
            table.rows.append(_row(first_line, columns, cells))
    return table


def column_key(header: str) -> str:
    """A header cell as a column name: "Postal code" and "postal-code" are one."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def _decode(data: bytes) -> tuple[str, str]:
    try:
        # utf-8-sig drops the byte-order mark Excel puts before "CSV UTF-8" files.
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode(FALLBACK_ENCODING)
    except UnicodeDecodeError:
        raise ContactImportError(
            "the file is neither UTF-8 nor Windows-1250; save it as CSV UTF-8"
        ) from None
    log.warning("contacts file is not UTF-8; read it as %s", FALLBACK_ENCODING)
    return text, FALLBACK_ENCODING


def _guess_delimiter(header: str, known_columns: tuple[str, ...]) -> str:
    # The delimiter is the one that cuts the header into known column names;
    # a tie (no known names at all) goes to the one that occurs most.
    def score(delimiter: str) -> tuple[int, int]:
        cells = next(csv.reader([header], delimiter=delimiter))
        known = sum(column_key(cell) in known_columns for cell in cells)
        return known, header.count(delimiter)

    return max(DELIMITERS, key=score)


def _row(line: int, columns: list[str], cells: list[str]) -> CsvRow:
    values = {column: "" for column in columns}
    for column, cell in zip(columns, cells):
        values[column] = cell.strip()
    # Spreadsheets often end rows with empty cells; only filled ones are extra.
    extra = sum(1 for cell in cells[len(columns) :] if cell.strip())
    return CsvRow(line, values, extra)
