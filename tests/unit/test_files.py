"""Files through the API (shared.files): how an upload is read and how each kind of file is sent back."""

from __future__ import annotations

import io

from flask import Flask

from shared import files

app = Flask(__name__)


def test_an_upload_is_the_multipart_field_or_else_the_raw_body() -> None:
    with app.test_request_context(method="PUT", data={"file": (io.BytesIO(b"%PDF-1.7"), "证明.pdf")}):
        assert files.received("file") == ("证明.pdf", b"%PDF-1.7")
    with app.test_request_context(method="PUT", data=b"\x89PNG", content_type="image/png"):
        assert files.received("file") == (None, b"\x89PNG")
    with app.test_request_context(method="PUT"):
        assert files.received("file") == (None, b"")


def test_a_stored_upload_keeps_its_chinese_name_and_is_neither_cached_nor_sniffed() -> None:
    response = files.uploaded(b"data", "application/pdf", "整改报告.pdf", disposition="attachment")
    assert (
        response.headers["Content-Disposition"]
        == "attachment; filename*=UTF-8''%E6%95%B4%E6%94%B9%E6%8A%A5%E5%91%8A.pdf"
    )
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "application/pdf"
    photo = files.uploaded(b"img", "image/png")
    assert "Content-Disposition" not in photo.headers and photo.headers["Cache-Control"] == "private, no-store"


def test_a_printable_letter_is_private_and_a_table_is_an_attachment() -> None:
    letter = files.document(b"%PDF", "application/pdf", "appointment-1.pdf", disposition="inline", private=True)
    assert letter.headers["Content-Disposition"] == 'inline; filename="appointment-1.pdf"'
    assert letter.headers["Cache-Control"] == "private, no-store"
    with app.test_request_context():
        table = files.table("csv", "summary-1", "汇总表", ["姓名"], [["=SUM(A1)"]])
        assert table.headers["Content-Disposition"] == 'attachment; filename="summary-1.csv"'
        assert table.mimetype == "text/csv"
        assert b"".join(table.response).decode("utf-8-sig").splitlines() == ["姓名", "'=SUM(A1)"]
