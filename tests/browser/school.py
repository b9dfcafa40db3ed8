"""What the school administrator's browser tests share: accounts and schools of their own made through the API,
a real PNG for the photo, and filling any policy's form field in the wizard by the field's type.

Every test makes its own schools (new orgs under the demo counties, or a new university), so the tests share the
session's stack with the other browser tests without touching their data.
"""

from __future__ import annotations

import struct
import uuid
import zlib
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import Stack
from tests.e2e.test_policies_e2e import PASSWORD, Client, candidate, new_user, tag

__all__ = ["PASSWORD", "Client", "School", "candidate", "fill_field", "new_school", "png", "tag"]


@dataclass
class School:
    code: str
    name: str
    admin_username: str
    admin: Client


def new_school(
    stack: Stack,
    admin: Client,
    parent_code: str | None,
    name: str,
    *,
    level: str = "school",
    role: str = "school_admin",
) -> School:
    """A new org with an administrator account (the nominator's role there), known to every service by event."""
    code = f"T{uuid.uuid4().hex[:10].upper()}"
    admin.call(
        "POST", "/api/orgs", expect=201, json={"code": code, "name": name, "level": level, "parent_code": parent_code}
    )
    user = new_user(admin, code, f"{name}管理员")
    admin.call("POST", f"/api/users/{user['id']}/grants", expect=201, json={"role": role, "org_code": code})
    return School(code, name, user["username"], Client(stack, user["username"], PASSWORD))


def png(width: int = 60, height: int = 80) -> bytes:
    """A real PNG (a blue rectangle), so the preview shows an image."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"\x1f\x4e\x9c" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def choose_option(page: Page, field: str, label: str) -> None:
    """Pick `label` in the Element Plus select of the form field at `field`."""
    page.locator(f"[data-field='{field}'] .el-select__wrapper").click()
    page.locator(".el-select-dropdown__item:visible", has_text=label).first.click()


def fill_field(page: Page, spec: dict[str, Any], value: Any, path: str | None = None) -> None:
    """Enter `value` into the wizard's field for `spec` (a policy form field) the way a person would."""
    path = path or spec["name"]
    where = page.locator(f"[data-field='{path}']")
    kind = spec["type"]
    if kind in ("string", "phone", "email"):
        where.locator("input").fill(str(value))
    elif kind == "text":
        where.locator("textarea").fill(str(value))
    elif kind == "integer":
        box = where.locator("input")
        box.fill(str(value))
        box.press("Tab")
    elif kind == "date":
        box = where.locator("input")
        box.click()  # the calendar opens as a dialog named after its field
        expect(page.get_by_role("dialog", name=spec["label_zh"])).to_be_visible()
        box.fill(str(value))
        box.press("Enter")
        expect(box).to_have_value(str(value))
        box.press("Escape")  # and leave the field, as a person clicking on would: the picker's panel closes
        expect(page.locator(".el-picker__popper:visible")).to_have_count(0)
    elif kind == "boolean":
        where.locator(".el-radio", has_text="是" if value else "否").click()
    elif kind == "choice":
        label = next(c["label_zh"] for c in spec["choices"] if c["value"] == value)
        choose_option(page, path, label)
    elif kind == "list":
        for index, entry in enumerate(value):
            page.locator(f"[data-test='add-{spec['name']}']").click()
            for item in spec["items"]:
                if item["name"] in entry:
                    fill_field(page, item, entry[item["name"]], f"{path}.{index}.{item['name']}")
    else:
        raise AssertionError(f"no way to fill a {kind} field")
