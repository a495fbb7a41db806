"""Reading CSV and XLSX files as a header and a stream of rows, never the whole file at once.

CSV: the encoding is UTF-8 (a BOM is dropped), else Windows-1252 if the bytes are not
UTF-8; the delimiter is sniffed from the first lines (comma, semicolon, tab, pipe).
XLSX: openpyxl in read-only mode, cached formula results (a formula never computed is
reported, not imported as its text). Problems with the file itself raise
:class:`~engine.errors.ImportFileError` naming the file and what is wrong.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from engine.errors import InvalidValueError

SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
csv.field_size_limit(10 * 1024 * 1024)


class ImportFileError(InvalidValueError):
    """The file cannot be read as a table (wrong kind, encoding, quoting, no header)."""


@dataclass
class Table:
    """A header and its rows, each with its 1-based line (the header is line 1)."""

    header: list[str]
    rows: Iterator[tuple[int, list[Any]]]
    close: Any = None


def open_table(path: Path | str) -> Table:
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return _xlsx(path)
    return _csv(path)


def _encoding(sample: bytes) -> str:
    try:
        sample.decode("utf-8")
        return "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 4:  # a character cut by the end of the sample
            return "utf-8-sig"
        return "cp1252"


def _csv(path: Path) -> Table:
    raw = path.open("rb")
    sample = raw.read(SNIFF_BYTES)
    raw.seek(0)
    if b"\x00" in sample:
        raw.close()
        raise ImportFileError(f"{path.name}: this is not a text (CSV) file; save it as CSV (UTF-8) or XLSX")
    encoding = _encoding(sample)
    text: IO[str] = io.TextIOWrapper(raw, encoding=encoding, newline="")
    head = sample.decode(encoding, errors="replace")
    try:
        dialect: Any = csv.Sniffer().sniff(head.split("\n", 20)[0] if head else ",", delimiters=DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text, dialect)
    try:
        header = next(reader)
    except StopIteration:
        text.close()
        raise ImportFileError(f"{path.name}: the file is empty (it needs a header row of column names)") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        text.close()
        raise ImportFileError(f"{path.name}: line 1: {exc}") from None

    def rows() -> Iterator[tuple[int, list[Any]]]:
        line = 1
        try:
            for cells in reader:
                line = reader.line_num
                yield line, cells
        except csv.Error as exc:
            raise ImportFileError(f"{path.name}: line {line + 1}: {exc} (check the quoting)") from None
        except UnicodeDecodeError:
            raise ImportFileError(f"{path.name}: after line {line}: the text is not in UTF-8; "
                                  "save the file as CSV UTF-8") from None
        finally:
            text.close()

    return Table([h.strip() for h in header], rows(), text.close)


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(f"{path.name}: this is not an XLSX spreadsheet ({type(exc).__name__})") from None
    sheet = book.worksheets[0]
    values = sheet.iter_rows(values_only=True)
    try:
        header = [("" if v is None else str(v)).strip() for v in next(values)]
    except StopIteration:
        book.close()
        raise ImportFileError(f"{path.name}: the sheet is empty (it needs a header row of column names)") from None
    while header and not header[-1]:
        header.pop()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for line, cells in enumerate(values, 2):
                yield line, [_cell(v) for v in cells[: len(header)]]
        finally:
            book.close()

    return Table(header, rows(), book.close)


def _cell(value: Any) -> Any:
    """A spreadsheet value as the importer takes it: text, numbers, and dates as ISO text."""
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) \
            else value.date().isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def estimate_rows(path: Path | str) -> int:
    """Data rows in the file, for progress bars: cheap, never exact (a newline in a quoted
    cell counts too), at least 1; a file that cannot be read gives 1 (reading it reports why)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            from openpyxl import load_workbook

            book = load_workbook(path, read_only=True)
            rows = (book.worksheets[0].max_row or 1) - 1
            book.close()
            return max(rows, 1)
        except Exception:
            return 1
    try:
        with path.open("rb") as f:
            return max(sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b"")) - 1, 1)
    except OSError:
        return 1
