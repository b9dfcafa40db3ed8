"""Render an AppointmentLetter to PDF with WeasyPrint (as nominations prints the 推荐表): page one the 聘任文件,
page two the 聘书. Autoescaped Jinja2, Noto Sans CJK through fontconfig, nothing fetched from anywhere."""

from __future__ import annotations

import logging

from jinja2 import Environment

from approvals.domain.letters import AppointmentLetter

FONT_FAMILY = '"Noto Sans CJK SC", "Noto Sans CJK", sans-serif'

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{{ l.title }}</title>
<style>
@page { size: A4; margin: 25mm 22mm; }
* { font-family: {{ font_family|safe }}; font-weight: normal; font-style: normal; }
body { font-size: 14pt; color: #000; line-height: 1.8; }
.issuer { text-align: center; font-size: 26pt; color: #c00; letter-spacing: 2pt; margin-top: 6mm; }
.number { text-align: center; margin: 4mm 0 2mm; }
hr { border: 0; border-top: 1.2pt solid #c00; margin: 0 0 8mm; }
h1 { text-align: center; font-size: 18pt; margin: 0 0 8mm; }
p.text { text-indent: 2em; margin: 0 0 4mm; }
.sign { text-align: right; margin-top: 20mm; }
.certificate { page-break-before: always; text-align: center; }
.certificate h1 { font-size: 40pt; letter-spacing: 20pt; margin: 30mm 0 20mm; }
.certificate p { text-align: left; text-indent: 2em; font-size: 16pt; }
.certificate .sign { margin-top: 40mm; }
.small { font-size: 11pt; text-align: left; margin-top: 20mm; }
</style></head>
<body>
<div class="issuer">{{ l.issuer_name }}文件</div>
<div class="number">{{ l.document_number }}</div>
<hr>
<h1>{{ l.title }}</h1>
<p>{{ l.addressee }}</p>
<p class="text">{{ l.body }}</p>
<div class="sign">{{ l.issuer_name }}<br>{{ l.issued_on }}</div>
<div class="certificate">
<h1>聘书</h1>
<p>{{ l.certificate_text }}</p>
<div class="sign">{{ l.issuer_name }}<br>{{ l.issued_on }}</div>
<div class="small">聘任文件：{{ l.document_number }}</div>
</div>
</body></html>
"""

logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
_template = Environment(autoescape=True).from_string(TEMPLATE)


def render_html(letter: AppointmentLetter) -> str:
    return _template.render(l=letter, font_family=FONT_FAMILY)


def render_pdf(letter: AppointmentLetter) -> bytes:
    from weasyprint import HTML  # heavy import: only the processes that print pay for it
    from weasyprint.urls import URLFetcher

    pdf = HTML(string=render_html(letter), url_fetcher=URLFetcher(allowed_protocols=[])).write_pdf()
    assert pdf is not None
    return bytes(pdf)
