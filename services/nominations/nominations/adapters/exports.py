"""The summary table (汇总表) as CSV and XLSX, written row by row so memory stays flat at any size."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator

from openpyxl import Workbook

CHUNK = 64 * 1024


def csv_stream(header: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    """UTF-8 with BOM so Excel opens the Chinese text correctly; yields ~64 KiB chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_stream(title: str, header: list[str], rows: Iterable[list[str]]) -> Iterator[bytes]:
    """openpyxl's write-only mode spools rows to disk; the finished file is then streamed and deleted."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "汇总表")
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)
