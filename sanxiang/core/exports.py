"""Every CSV and XLSX the platform writes goes through here (issue 9, §5:
exports are safe to open).

Spreadsheet software runs a cell that begins with ``=``, ``+``, ``-`` or
``@`` as a formula (and tab or carriage return before one of them), so a
party name such as ``=HYPERLINK("http://…")`` in a public export would run
on the reader's machine (CSV/formula injection). ``safe_cell`` prefixes such
a text with one apostrophe, which spreadsheets show as a text marker and do
not run; numbers, dates and other texts are written as they are. The rule
is invertible: a text that already begins with apostrophes followed by one
of those characters gets one more, and ``restore_cell`` (used by the
platform's own importers, so export → import gives the same records)
removes exactly one.

Writers:

- ``csv_chunks(header, rows)``: the CSV text piece by piece (UTF-8 BOM, so
  Excel opens it correctly; CRLF line ends; every text cell made safe), for
  ``StreamingHttpResponse``; ``csv_bytes`` for a whole file;
  ``streaming_csv_response`` for a view.
- ``workbook(buffer, ...)``: an XlsxWriter workbook with safe defaults
  (strings never turned into formulas, numbers or links) whose worksheets
  make every string cell safe, whichever write method the caller uses.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Iterable, Iterator

DANGEROUS_FIRST = "=+-@\t\r"
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")
_QUOTED = re.compile(r"'+[=+\-@\t\r]")
BOM = "\ufeff"


def safe_cell(value):
    """A cell value that no spreadsheet runs as a formula (texts only; other
    values are returned as they are, None as "")."""
    if value is None:
        return ""
    if isinstance(value, str) and _NEEDS_QUOTE.match(value):
        return "'" + value
    return value


def restore_cell(text):
    """The inverse of ``safe_cell`` for text read back from one of our files."""
    if isinstance(text, str) and _QUOTED.match(text):
        return text[1:]
    return text


def safe_row(row: Iterable) -> list:
    return [safe_cell(v) for v in row]


class _Echo:
    def write(self, value):
        return value


def csv_chunks(header: Iterable | None, rows: Iterable[Iterable], *, bom: bool = True,
               rows_per_chunk: int = 200) -> Iterator[str]:
    """The CSV text in chunks of ``rows_per_chunk`` rows (for streaming)."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    first = BOM if bom else ""
    if header is not None:
        first += writer.writerow(safe_row(header))
    if first:
        yield first
    chunk: list[str] = []
    for row in rows:
        chunk.append(writer.writerow(safe_row(row)))
        if len(chunk) >= rows_per_chunk:
            yield "".join(chunk)
            chunk = []
    if chunk:
        yield "".join(chunk)


def csv_bytes(header: Iterable | None, rows: Iterable[Iterable], *, bom: bool = True) -> bytes:
    return "".join(csv_chunks(header, rows, bom=bom)).encode("utf-8")


def streaming_csv_response(header: Iterable | None, rows: Iterable[Iterable], *, filename: str):
    """A StreamingHttpResponse of the CSV: every row, never held in memory whole."""
    from django.http import StreamingHttpResponse
    from django.utils.http import content_disposition_header

    response = StreamingHttpResponse((chunk.encode("utf-8") for chunk in csv_chunks(header, rows)),
                                     content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


SAFE_WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


def _safe_worksheet_class():
    from xlsxwriter.worksheet import Worksheet

    class SafeWorksheet(Worksheet):
        """Every string cell goes through safe_cell, whichever write method
        (write, write_string, write_row, write_column) put it there."""

        def _write_string(self, row, col, string, cell_format=None):
            return super()._write_string(row, col, safe_cell(string), cell_format)

        def _write_formula(self, *args, **kwargs):  # pragma: no cover - nothing of ours writes formulas
            raise ValueError("exports never contain formulas")

        def _write_array_formula(self, *args, **kwargs):  # pragma: no cover
            raise ValueError("exports never contain formulas")

    return SafeWorksheet


def workbook(buffer: io.BytesIO, **options):
    """An XlsxWriter workbook writing into ``buffer`` with safe defaults
    (they cannot be overridden) and safe worksheets."""
    import xlsxwriter

    options = {"in_memory": True, **options, **SAFE_WORKBOOK_OPTIONS}
    book = xlsxwriter.Workbook(buffer, options)
    book.worksheet_class = _safe_worksheet_class()
    return book
