"""Reading the tables bureaus upload: CSV (UTF-8 or GB18030) and XLSX (openpyxl, read-only, streamed)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import openpyxl

XLSX_MAGIC = b"PK\x03\x04"


class UnreadableFile(ValueError):
    """The upload is not a CSV or XLSX file we can read; `zh` says so in Chinese."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.zh = zh


def detect_format(content: bytes, filename: str = "") -> str:
    if content.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def read_table(content: bytes, file_format: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header (trimmed) and the data rows with their line numbers (header = 1); blank rows skipped."""
    if file_format == "xlsx":
        return _read_xlsx(content)
    return _read_csv(content)


def _read_csv(content: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = content.decode("gb18030")  # what spreadsheet exports in China often are
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                "the file is neither UTF-8 nor GB18030 text", "文件既不是UTF-8也不是GB18030编码"
            ) from exc
    reader = csv.reader(io.StringIO(text))
    header = [str(h).strip() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for index, raw in enumerate(reader, start=2):
            values = [_cell(v) for v in raw]
            if any(v not in ("", None) for v in values):
                yield index, values

    return header, rows()


def _read_xlsx(content: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile("the file is not a readable XLSX workbook", "文件不是可读取的XLSX工作簿") from exc
    sheet = workbook.worksheets[0]
    iterator = sheet.iter_rows(values_only=True)
    first = next(iterator, None) or ()
    header = [str(h).strip() if h is not None else "" for h in first]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for index, raw in enumerate(iterator, start=2):
                values = [_cell(v) for v in raw]
                if any(v not in ("", None) for v in values):
                    yield index, values
        finally:
            workbook.close()

    return header, rows()
