"""Render a FormSheet to PDF with WeasyPrint: an autoescaped Jinja2 HTML template, one CJK font face.

Needs Debian's fonts-noto-cjk (Noto Sans CJK SC, found through fontconfig) and libharfbuzz-subset0 (without it
WeasyPrint subsets the font ~40x slower). Only the regular face is used, so the embedded subset stays small.
The template lives here rather than in a package data file so it ships with the module whatever the install.
"""

from __future__ import annotations

import base64
import logging

from jinja2 import Environment

from nominations.adapters.images import photo_pixels
from nominations.domain.form_sheet import FormSheet, SubTable
from nominations.domain.model import MAX_PHOTO_PIXELS

FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans CJK", sans-serif'

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ sheet.title }}</title>
<style>
@page { size: A4; margin: 16mm 14mm; }
* { font-family: {{ font_family|safe }}; font-weight: normal; font-style: normal; }
body { font-size: 10.5pt; color: #000; }
h1 { text-align: center; font-size: 17pt; margin: 0 0 4mm; letter-spacing: 1pt; }
.meta { font-size: 10pt; margin-bottom: 2mm; }
.masked { float: right; font-size: 8pt; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
td, th { border: 0.6pt solid #000; padding: 1.5mm 1.5mm; vertical-align: middle; word-wrap: break-word; }
td.label { text-align: center; width: 12%; }
td.photo { text-align: center; width: 16%; }
td.photo img { max-width: 26mm; max-height: 36mm; }
td.long { white-space: pre-wrap; height: 30mm; vertical-align: top; }
table.sub td, table.sub th { border: 0.4pt solid #000; font-size: 9.5pt; }
table.sub th { font-weight: normal; }
td.sub { padding: 0; }
.sign { padding: 3mm 0; }
td.opinion { height: 26mm; vertical-align: top; }
.seal { text-align: right; margin-top: 10mm; }
.note { margin-top: 3mm; font-size: 9.5pt; }
</style></head>
<body>
<h1>{{ sheet.title }}</h1>
<div class="meta">填表日期：{{ sheet.filled_on }}
{%- if sheet.masked %}<span class="masked">个人信息已脱敏</span>{% endif %}</div>
<table>
<colgroup><col><col><col><col><col><col><col></colgroup>
{% for row in sheet.rows %}<tr>
{% for cell in row.cells %}{% if cell is subtable %}<td class="sub" colspan="{{ cell.colspan }}">
<table class="sub"><tr>{% for h in cell.header %}<th>{{ h }}</th>{% endfor %}</tr>
{% for item in cell.rows %}<tr>{% for v in item %}<td>{{ v }}</td>{% endfor %}</tr>{% endfor %}
{% if not cell.rows %}<tr>{% for h in cell.header %}<td>&nbsp;</td>{% endfor %}</tr>{% endif %}
</table></td>
{% elif cell.label %}<td class="label" colspan="{{ cell.colspan }}">{{ cell.text }}</td>
{% else %}<td class="{{ 'long' if cell.colspan >= 5 and cell.text|length > 40 else 'value' }}"
 colspan="{{ cell.colspan }}">{{ cell.text }}</td>{% endif %}{% endfor %}
{% if row.photo %}<td class="photo" rowspan="{{ row.photo_rowspan }}">{% if photo %}<img src="{{ photo }}"
 alt="照片">{% else %}（电子照片）{% endif %}</td>{% endif %}
</tr>{% endfor %}
<tr><td colspan="7" class="sign">{{ sheet.attestation_label }}：{{ sheet.signer }}</td></tr>
{% for o in sheet.opinions %}<tr><td class="label">{{ o.label }}</td>
<td class="opinion" colspan="6">{{ o.text }}<div class="seal">{{ o.seal }}（盖章）<br>{{ o.date }}</div></td></tr>
{% endfor %}
</table>
{% if sheet.note %}<div class="note">{{ sheet.note }}</div>{% endif %}
</body></html>
"""

log = logging.getLogger(__name__)

# WeasyPrint logs every rendering step at INFO; one line per step per request is noise in the service's log.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

_env = Environment(autoescape=True)  # every value comes from a user's form: escaped, never markup
_env.tests["subtable"] = lambda value: isinstance(value, SubTable)
_template = _env.from_string(TEMPLATE)


def render_html(sheet: FormSheet, photo: tuple[str, bytes] | None) -> str:
    data_uri = None
    if photo is not None and not _printable(photo[1]):
        # Stored before uploads were capped, or unreadable: the renderer would decode every pixel of it.
        log.warning("photo left out of the printed form: unreadable or over the pixel cap")
        photo = None
    if photo is not None:
        content_type, data = photo
        data_uri = f"data:{content_type};base64,{base64.b64encode(data).decode()}"
    return _template.render(sheet=sheet, photo=data_uri, font_family=FONT_FAMILY)


def _printable(data: bytes) -> bool:
    pixels = photo_pixels(data)
    return pixels is not None and pixels <= MAX_PHOTO_PIXELS


def render_pdf(sheet: FormSheet, photo: tuple[str, bytes] | None) -> bytes:
    from weasyprint import HTML  # heavy import: only the processes that print pay for it
    from weasyprint.urls import URLFetcher

    # Only the embedded photo (a data: URI) is loaded: a render never reaches the network or the disk.
    fetcher = URLFetcher(allowed_protocols=["data"])
    pdf = HTML(string=render_html(sheet, photo), url_fetcher=fetcher).write_pdf()
    assert pdf is not None
    return bytes(pdf)
