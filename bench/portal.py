"""Portal benchmark: how much JavaScript and CSS the sign-in page and the 推荐表 wizard load (gzipped), and how long
a warm-cache navigation takes until the wizard is interactive, in the Chromium the browser tests use.

Starts the whole platform exactly as the browser tests do (tests/e2e/conftest.running_stack: every service under
gunicorn with its worker, nginx serving the built portal `portal/dist`, its own databases and RabbitMQ vhost,
all removed at the end), opens a Jiaozuo round as the demo city reviewer and a nomination of the demo school, then:

  1. sign-in page, cold cache: every script and stylesheet response, each gzipped here at level 6 (what nginx
     sends with gzip on; summing Content-Length would miss chunked responses);
  2. the wizard (/school/nominations/<id>) signed in, cold cache: the same sum (the shell and the wizard's chunks);
  3. the wizard again, warm cache, `--runs` times: from navigation start until the form step is visible and the
     candidate picker is enabled; median and max.

Prints one JSON line on stdout; progress goes to stderr. Build the portal first (`make portal`).

  .venv/bin/python -m bench.portal [--runs 7]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from playwright.sync_api import Browser, Page, Response, sync_playwright

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, DESKTOP
from tests.e2e.conftest import DEMO_PASSWORD, running_stack
from tests.e2e.test_policies_e2e import Client, open_round

ROOT = Path(__file__).resolve().parent.parent
GOAL_SIGN_IN_KB = 350


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def assets_loaded(browser: Browser, base: str, path: str, cookie_user: str | None) -> tuple[int, int, float]:
    """(gzipped bytes, raw bytes, seconds) of the JS and CSS a cold page at `path` loads until the network is idle."""
    context = browser.new_context(base_url=base, locale="zh-CN", viewport=DESKTOP)
    try:
        page = context.new_page()
        if cookie_user:
            signed = page.request.post("/api/auth/session", data={"username": cookie_user, "password": DEMO_PASSWORD})
            assert signed.status == 204, signed.text()
        bodies: list[Response] = []
        page.on("response", lambda r: bodies.append(r) if r.request.resource_type in ("script", "stylesheet") else None)
        started = time.perf_counter()
        page.goto(path, wait_until="networkidle")
        elapsed = time.perf_counter() - started
        raw = [r.body() for r in bodies]
        return sum(len(gzip.compress(b, 6)) for b in raw), sum(len(b) for b in raw), elapsed
    finally:
        context.close()


def wizard_ready(page: Page, path: str) -> float:
    started = time.perf_counter()
    page.goto(path, wait_until="commit")
    page.locator("[data-test='step-candidate'] .el-select__wrapper").wait_for(state="visible")
    page.wait_for_function("() => !document.querySelector('[data-test=step-candidate] .is-disabled')")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    dist = ROOT / "portal" / "dist"
    if not (dist / "index.html").is_file():
        raise SystemExit("build the portal first: make portal")
    # The stack's migrations print to stdout; keep it for the one JSON line (child processes inherit fd 1).
    stdout = os.dup(1)
    os.dup2(2, 1)
    infra = {
        "amqp": "amqp://guest:guest@127.0.0.1:5672/",
        "pg": "postgresql://postgres@127.0.0.1:5432/postgres",
        "docker": "",  # local servers (tests/conftest.infra without a Docker engine)
    }
    try:
        with (
            tempfile.TemporaryDirectory(prefix="cio-bench-portal-") as run,
            running_stack(infra, Path(run), portal_dir=dist) as stack,  # its own vhost, made and removed
        ):
            log(f"stack up at {stack.gateway}")
            round_ = open_round(Client(stack, "city.reviewer"), "jiaozuo-2022", "4108", f"bench {uuid.uuid4().hex[:6]}")
            school = Client(stack, "school.admin")
            created = school.call(
                "POST", "/api/nominations", expect=201, json={"round_id": round_["id"], "school_org_code": "4108020001"}
            )
            wizard = f"/school/nominations/{created.json()['id']}"
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    sign_in_gz, sign_in_raw, sign_in_s = assets_loaded(browser, stack.gateway, "/login", None)
                    log(f"sign-in page: {sign_in_gz / 1024:.1f} KiB gzipped")
                    wizard_gz, wizard_raw, _ = assets_loaded(browser, stack.gateway, wizard, "school.admin")
                    log(f"wizard: {wizard_gz / 1024:.1f} KiB gzipped")
                    context = browser.new_context(base_url=stack.gateway, locale="zh-CN", viewport=DESKTOP)
                    page = context.new_page()
                    page.request.post("/api/auth/session", data={"username": "school.admin", "password": DEMO_PASSWORD})
                    wizard_ready(page, wizard)  # fills the cache
                    page.goto("/inbox", wait_until="networkidle")
                    times = [wizard_ready(page, wizard) for _ in range(args.runs)]
                    context.close()
                finally:
                    browser.close()
    finally:
        sys.stdout.flush()
        os.dup2(stdout, 1)
    result = {
        "bench": "portal",
        "sign_in_js_css_gzip_kb": round(sign_in_gz / 1024, 1),
        "sign_in_js_css_raw_kb": round(sign_in_raw / 1024, 1),
        "sign_in_goal_kb": GOAL_SIGN_IN_KB,
        "sign_in_within_goal": sign_in_gz / 1024 <= GOAL_SIGN_IN_KB,
        "sign_in_cold_load_ms": round(sign_in_s * 1000),
        "wizard_js_css_gzip_kb": round(wizard_gz / 1024, 1),
        "wizard_js_css_raw_kb": round(wizard_raw / 1024, 1),
        "wizard_warm_interactive_ms_median": round(statistics.median(times) * 1000),
        "wizard_warm_interactive_ms_max": round(max(times) * 1000),
        "runs": args.runs,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
