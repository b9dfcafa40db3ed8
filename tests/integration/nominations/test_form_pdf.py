"""The printable 推荐表: a PDF with a Chinese text layer, the photo embedded, opinions and seals from decisions."""

from __future__ import annotations

import io
import uuid

import pytest
from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from nominations.service_layer.projections import on_review_decided
from PIL import Image
from pypdf import PdfReader

from shared.bus.envelope import CloudEvent
from tests.integration.nominations.conftest import COUNTY, OTHER_COUNTY, SCHOOL
from tests.integration.nominations.flow import JIAOZUO_FORM, create, give_certificate, open_round, submit
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (40, 90, 160)).save(out, format="PNG")
    return out.getvalue()


def _decided(nid: str, round_id: str, stage: int, outcome: str, seal: str, opinion: str) -> CloudEvent:
    return CloudEvent(
        type="approvals.review.decided",
        source="/cio/approvals",
        subject=str(uuid.uuid4()),
        data={
            "case_id": str(uuid.uuid4()),
            "task_id": str(uuid.uuid4()),
            "nomination_id": nid,
            "round_id": round_id,
            "school_org_path": "/4108/410802/4108020001",
            "stage_index": stage,
            "stage_key": ["unit", "county_review", "city_review"][stage],
            "stage_name": ["所在单位意见", "县（市、区）教育行政部门审核意见", "市教育局审核意见"][stage],
            "decision": "approve",
            "opinion": opinion,
            "decided_by": "reviewer",
            "on_behalf_of": None,
            "decided_at": "2022-09-20T10:00:00+08:00",
            "outcome": outcome,
            "seal_unit_name": seal,
            "seal_date": "2022-09-20",
        },
    )


def _text(pdf: bytes) -> tuple[str, int]:
    reader = PdfReader(io.BytesIO(pdf))
    text = "".join(page.extract_text() or "" for page in reader.pages)
    # WeasyPrint shares one resource dictionary between pages: count distinct images.
    images = len({image.name for page in reader.pages for image in page.images})
    return "".join(text.split()), images


def test_form_pdf_has_the_chinese_text_layer_photo_opinions_and_scope(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    give_certificate(service)
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    nid = created.json["id"]
    h = issuer.headers("school-admin", SCHOOL)
    r = client.patch(
        f"/api/nominations/{nid}", json={"form": JIAOZUO_FORM}, headers={**h, "If-Match": created.headers["ETag"]}
    )
    r = client.put(
        f"/api/nominations/{nid}/photo",
        data=_png(),
        content_type="image/png",
        headers={**h, "If-Match": r.headers["ETag"]},
    )
    r = client.post(
        f"/api/nominations/{nid}/attestation",
        json={"signer_name": "张三", "confirm": True},
        headers={**h, "If-Match": r.headers["ETag"]},
    )
    assert submit(client, issuer, nid, r.headers["ETag"]).status_code == 200

    # Before any decision the opinion rows are blank lines with 盖章 and 年 月 日.
    draft = client.get(f"/api/nominations/{nid}/form.pdf", headers=h)
    assert draft.status_code == 200 and draft.mimetype == "application/pdf"
    text, images = _text(draft.data)
    assert "焦作市首席教育信息官推荐表" in text
    for expected in ("姓名", "张三", "推进智慧校园建设", "市级优秀教师", "焦作市教育局", "13800008000", "（盖章）"):
        assert expected in text, expected
    assert "同意" not in text and images == 1

    with service.uow() as uow:
        on_review_decided(_decided(nid, round_["id"], 0, "in_review", "解放区第一实验小学", "推荐"), uow)
        on_review_decided(_decided(nid, round_["id"], 1, "in_review", "解放区教育局", "材料属实"), uow)
        uow.commit()
    decided, _ = _text(client.get(f"/api/nominations/{nid}/form.pdf", headers=h).data)
    assert "同意。推荐" in decided and "同意。材料属实" in decided
    assert "解放区教育局（盖章）" in decided and "2022年9月20日" in decided

    # A reviewer whose role does not need personal data sees it masked, as in the detail view.
    audited, _ = _text(
        client.get(f"/api/nominations/{nid}/form.pdf", headers=issuer.headers("aud", ("auditor", "/4108"))).data
    )
    assert "138****8000" in audited and "13800008000" not in audited and "个人信息已脱敏" in audited

    assert client.get(f"/api/nominations/{nid}/form.pdf", headers=issuer.headers("c", COUNTY)).status_code == 200
    assert client.get(f"/api/nominations/{nid}/form.pdf", headers=issuer.headers("o", OTHER_COUNTY)).status_code == 404
    assert client.get(f"/api/nominations/{nid}/form.pdf").status_code == 401
