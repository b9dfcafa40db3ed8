"""Spreadsheets in and out: the one CSV/XLSX writer every export uses, and the one reader of uploads.

Writing: a cell of user text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is what
Excel and LibreOffice run as a formula (CSV injection), so such text is written behind a single quote,
as OWASP recommends; openpyxl would otherwise store `=…` as a live formula in an XLSX file.

Reading: CSV in UTF-8 or GB18030; XLSX through openpyxl in read-only mode, but only after the ZIP's
own directory says the workbook is not a decompression bomb (a 1 MB upload can expand to gigabytes).
"""

from __future__ import annotations

import csv
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import openpyxl
from openpyxl import Workbook

CHUNK = 64 * 1024
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAGIC = b"PK\x03\x04"


def escape_cell(value: Any) -> Any:
    """Text that a spreadsheet would evaluate is written as text (a leading quote); anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _escaped(row: Iterable[Any]) -> list[Any]:
    return [escape_cell(v) for v in row]


def csv_stream(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 with BOM so Excel opens the Chinese text correctly; yields ~64 KiB chunks."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(_escaped(header))
    for row in rows:
        writer.writerow(_escaped(row))
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_stream(title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """openpyxl's write-only mode spools rows to disk; the finished file is then streamed and deleted."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31] or "Sheet1")
    sheet.append(_escaped(header))
    for row in rows:
        sheet.append(_escaped(row))
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        workbook.save(path)
        with open(path, "rb") as stream:
            while chunk := stream.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


class UnreadableFile(ValueError):
    """The upload is not a CSV or XLSX file we can read; `zh` says so in Chinese."""

    def __init__(self, message: str, zh: str) -> None:
        super().__init__(message)
        self.zh = zh


@dataclass(frozen=True)
class ArchiveLimits:
    """What an uploaded workbook may expand to. Real bureau sheets of 50,000 rows stay far below these."""

    max_uncompressed_bytes: int = 100 * 1024 * 1024
    max_entries: int = 500
    max_ratio: float = 100.0  # per entry, for entries above ratio_floor_bytes
    ratio_floor_bytes: int = 1024 * 1024


def check_xlsx_archive(content: bytes, limits: ArchiveLimits = ArchiveLimits()) -> None:
    """Refuse a workbook whose ZIP directory declares too many entries, too much data or too high a
    compression ratio, before anything is decompressed. zipfile never yields more than an entry's
    declared size (a lying header ends in a CRC error), so the declared sizes bound what openpyxl reads."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise UnreadableFile("the file is not a readable XLSX workbook", "文件不是可读取的XLSX工作簿") from exc
    if len(entries) > limits.max_entries:
        raise UnreadableFile(
            f"the workbook has more than {limits.max_entries} parts", f"工作簿包含的部件超过{limits.max_entries}个"
        )
    total = sum(e.file_size for e in entries)
    if total > limits.max_uncompressed_bytes:
        mib = limits.max_uncompressed_bytes // (1024 * 1024)
        raise UnreadableFile(f"the workbook expands to more than {mib} MiB", f"工作簿解压后超过{mib} MiB")
    for entry in entries:
        if entry.file_size > limits.ratio_floor_bytes and entry.file_size > limits.max_ratio * max(
            entry.compress_size, 1
        ):
            raise UnreadableFile(
                f"a part of the workbook is compressed more than {limits.max_ratio:g}:1 (a decompression bomb)",
                f"工作簿中的部件压缩比超过{limits.max_ratio:g}:1，疑似压缩炸弹",
            )


def detect_format(content: bytes, filename: str = "") -> str:
    if content.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx"):
        return "xlsx"
    return "csv"


def _cell(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    return value


def read_table(
    content: bytes, file_format: str, limits: ArchiveLimits = ArchiveLimits()
) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """The header (trimmed) and the data rows with their line numbers (header = 1); blank rows skipped."""
    if file_format == "xlsx":
        return _read_xlsx(content, limits)
    return _read_csv(content)


def decode_text(content: bytes) -> str:
    """An uploaded text file: UTF-8 (a BOM or not), else GB18030, which spreadsheet exports in China often are."""
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            return content.decode("gb18030")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(
                "the file is neither UTF-8 nor GB18030 text", "文件既不是UTF-8也不是GB18030编码"
            ) from exc


def _read_csv(content: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    reader = csv.reader(io.StringIO(decode_text(content)))
    header = [str(h).strip() for h in next(reader, [])]

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for index, raw in enumerate(reader, start=2):
            values = [_cell(v) for v in raw]
            if any(v not in ("", None) for v in values):
                yield index, values

    return header, rows()


def _read_xlsx(content: bytes, limits: ArchiveLimits) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    check_xlsx_archive(content, limits)
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
