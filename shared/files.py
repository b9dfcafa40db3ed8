"""Files through the API: an upload a view receives, and the files it sends back (documents we generate — tables as
CSV/XLSX, printable PDFs — and files a user uploaded).

One place decides how they travel, so every service answers alike: a generated document is named by us (plain ASCII,
`filename="…"`); an uploaded file keeps its own name (RFC 5987 `filename*`, Chinese included), is never cached and
never sniffed into something the browser would run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Literal
from urllib.parse import quote

from flask import Response, request, stream_with_context

from shared import tabular


def received(field: str) -> tuple[str | None, bytes]:
    """An upload as multipart field `field`, or else the raw request body: (the file's name if it has one, its
    bytes; empty when nothing was sent)."""
    part = request.files.get(field)
    if part is not None:
        return part.filename, part.read()
    return None, request.get_data()


TABLE_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
PRIVATE = "private, no-store"

Disposition = Literal["inline", "attachment"]


def document(
    body: bytes | Iterable[bytes], mimetype: str, filename: str, *, disposition: Disposition, private: bool = False
) -> Response:
    """A file we generate; `private` for one that holds a person's data (a letter, a form), kept out of caches."""
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    if private:
        response.headers["Cache-Control"] = PRIVATE
    return response


def table(fmt: str, name: str, title: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A table as a CSV or XLSX download named `<name>.<fmt>`, streamed as it is written (`title`: the sheet)."""
    body = tabular.xlsx_stream(title, header, rows) if fmt == "xlsx" else tabular.csv_stream(header, rows)
    return document(stream_with_context(body), TABLE_TYPES[fmt], f"{name}.{fmt}", disposition="attachment")


def uploaded(
    data: bytes, content_type: str, filename: str | None = None, *, disposition: Disposition = "inline"
) -> Response:
    """A file as a user uploaded it (its type read from its content when it was stored)."""
    response = Response(data, mimetype=content_type)
    if filename is not None:
        response.headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(filename)}"
    response.headers["Cache-Control"] = PRIVATE
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
