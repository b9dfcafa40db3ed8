"""The bureau's dashboard in Chromium (工作看板, ECharts through vue-echarts, bundled): every figure it shows is
counted again from the APIs' lists — schools with a CIO in office against all schools in scope (identity's org list
and approvals' appointments), the open rounds' nominations per status (nominations' list per round), this year's
training compliance (the compliance items) and this year's finalised evaluations per grade (the evaluations list).
Photographed as artifacts/screenshots/bureau-dashboard.png.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from playwright.sync_api import Page

from shared import clock
from tests.browser.test_review_chains import NewPage, Person, check
from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import Client, poll

CITY = "/4108"


def every(client: Client, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a cursor-paginated list."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.call(
            "GET", path, params={**params, "limit": 500, **({"cursor": cursor} if cursor else {})}
        ).json()
        items.extend(page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            return items


def counted_from_lists(admin: Client, city: Client) -> dict[str, str]:
    """The dashboard's figures, counted from the services' lists (not from their aggregate endpoints)."""
    year = clock.today().year
    schools = {
        o["code"]
        for level in ("school", "university")
        for o in every(admin, "/api/orgs", level=level)
        if o["path"].startswith(f"{CITY}/")
    }
    appointed = {a["org_code"] for a in every(city, "/api/appointments", status="active")} & schools
    figures = {"coverage-units": str(len(schools)), "coverage-appointed": str(len(appointed))}
    rounds = city.call("GET", "/api/rounds", params={"status": "open", "limit": 8}).json()["items"]
    statuses: Counter[str] = Counter()
    for round_ in rounds:
        statuses.update(n["status"] for n in every(city, "/api/nominations", round_id=round_["id"]))
    figures |= {f"status-{s}": str(n) for s, n in statuses.items() if s != "withdrawn"}
    compliance = city.call("GET", "/api/training-compliance", params={"year": year}).json()["items"]
    figures["compliance-met"] = str(sum(1 for i in compliance if i["meets"]))
    figures["compliance-unmet"] = str(sum(1 for i in compliance if not i["meets"]))
    grades = Counter(e["grade"] for e in every(city, "/api/evaluations", period=year, status="finalised") if e["grade"])
    figures |= {f"grade-{g}": str(n) for g, n in grades.items()}
    return figures


def shown(page: Page, names: list[str]) -> dict[str, str]:
    page.reload()
    page.locator("[data-test=coverage-units]").wait_for()
    return {n: page.locator(f"[data-test='{n}']").inner_text().strip() for n in names}


def test_the_dashboards_figures_agree_with_the_api_lists(portal_stack: Stack, new_page: NewPage) -> None:
    admin, city = Client(portal_stack, "admin"), Client(portal_stack, "city.reviewer")
    reviewer = Person(portal_stack, "city.reviewer")
    page = reviewer.browse(new_page, "/bureau/dashboard")

    def agreeing() -> dict[str, str] | None:
        before = counted_from_lists(admin, city)
        on_page = shown(page, list(before))
        after = counted_from_lists(admin, city)
        return on_page if before == on_page == after else None

    figures = poll(agreeing, "the dashboard agrees with the lists")
    assert int(figures["coverage-units"]) > 0
    check(page, "bureau-dashboard")
