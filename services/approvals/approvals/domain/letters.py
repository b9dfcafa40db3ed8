"""聘任文件 and 聘书: the appointment as the appointing body issues it (贺兰 「由教育体育局发文聘任」, 宜春学院
「正式聘任并公布」), with its document number (发文字号), the term and the issuing body. Pure Python: the text of
the letter; adapters/letter_pdf.py lays it out."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from approvals.domain.model import Appointment


def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def term_years(starts_on: dt.date, ends_on: dt.date) -> int | None:
    """Whole years of a term that ends the day before an anniversary (2024-09-01 – 2027-08-31: 3), else None."""
    following = ends_on + dt.timedelta(days=1)
    years = following.year - starts_on.year
    return years if years > 0 and (following.month, following.day) == (starts_on.month, starts_on.day) else None


@dataclass(frozen=True)
class AppointmentLetter:
    document_number: str
    issuer_name: str
    title: str  # 关于聘任…的通知
    addressee: str
    body: str
    certificate_text: str  # 聘书
    term_text: str
    issued_on: str


def letter_of(appointment: Appointment, *, school_name: str, issuer_name: str) -> AppointmentLetter:
    """The appointment's letter: `school_name` is the appointed unit's, `issuer_name` the appointing body's."""
    name = appointment.person_name
    if appointment.ends_on is None:
        term = f"自{zh_date(appointment.starts_on)}起，至免聘或取消任命止"
    else:
        years = term_years(appointment.starts_on, appointment.ends_on)
        length = f"任期{years}年，" if years else "任期"
        term = f"{length}自{zh_date(appointment.starts_on)}至{zh_date(appointment.ends_on)}"
    ordinal = f"（第{appointment.term_number}届）" if appointment.term_number > 1 else ""
    return AppointmentLetter(
        document_number=appointment.document_number,
        issuer_name=issuer_name,
        title=f"关于聘任{name}同志为{school_name}首席信息官的通知",
        addressee=f"{school_name}：",
        body=(
            f"经{school_name}提名、审核，决定聘任{name}同志为{school_name}首席信息官（CIO）{ordinal}，{term}。"
            "任期中若有变更，请及时报备。"
        ),
        certificate_text=f"兹聘任{name}同志为{school_name}首席信息官（CIO）{ordinal}，{term}。",
        term_text=term,
        issued_on=zh_date(appointment.created_at.date()),
    )
