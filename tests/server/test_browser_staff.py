"""The admin's 员工 tab in Chromium, over a real server (issue 9 item 3: languages by admin).

An admin opens the tab, sees every account with its languages and last
login, gives a teller Shanghainese with a checkbox and saves; the change is
in the API and the audit log, and shows under the recent changes. Saving a
teller with no language shows the server's 422 line and stores nothing. A
teller who logs in has no 员工 tab. The page runs under the server's CSP,
so an inline script or style in staff.js would fail here.
"""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy import text

from server.auth import create_user

from .browser_support import CHROMIUM, launch_chromium, screenshot_path
from .conftest import PASSWORD, Live

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} missing: apt install chromium"),
    # One database is enough for a page; the route itself runs on both (test_staff_list.py).
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]


def _log_in(page: Page, username: str) -> None:
    page.goto("/console")
    page.fill("#login-username", username)
    page.fill("#login-password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#tabs:not([hidden])")


def test_admin_gives_a_teller_shanghainese_and_a_teller_sees_no_staff_tab(live: Live) -> None:
    admin_headers = live.staff("root", "admin")
    with live.app.state.sessions() as session:
        create_user(session, "li", "teller", PASSWORD, ["mandarin"])
        create_user(session, "pm", "product", PASSWORD, ["mandarin"])
    problems: list[str] = []
    refused: list[tuple[str, int]] = []
    with sync_playwright() as pw:
        browser = launch_chromium(pw)
        try:
            page = browser.new_page(base_url=live.url, locale="zh-CN")
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on(
                "response",
                lambda r: (
                    refused.append(
                        (r.request.method + " " + r.url.removeprefix(live.url), r.status)
                    )
                    if r.status >= 400 and "/api/admin/" in r.url
                    else None
                ),
            )
            page.on("pageerror", lambda e: problems.append(str(e)))
            _log_in(page, "root")
            tab = page.locator("#tabs [data-view=staff]")
            assert tab.is_visible() and tab.inner_text() == "员工"
            tab.click()
            row = page.locator("#staff-table tr.staff-row[data-username=li]")
            row.wait_for()
            assert page.locator("#staff-table tr.staff-row").count() == 3
            boxes = row.locator("input[name=language]")
            # The checkboxes are the server's languages, with their names.
            assert [boxes.nth(i).get_attribute("value") for i in range(boxes.count())] == [
                "mandarin",
                "shanghainese",
            ]
            assert "上海话" in row.inner_text() and "从未登录" in row.inner_text()
            assert row.locator("input[value=mandarin]").is_checked()
            assert not row.locator("input[value=shanghainese]").is_checked()
            # A product account is not routed callers: no checkboxes to set.
            pm = page.locator("#staff-table tr.staff-row[data-username=pm]")
            assert pm.locator("input").count() == 0
            # The admin is online (this very session).
            assert "在线" in page.locator("tr.staff-row[data-username=root]").inner_text()

            row.locator("input[value=shanghainese]").check()
            row.locator("button.staff-save").click()
            saved = row.locator(".staff-status [role=status]")
            saved.wait_for()
            assert "普通话、上海话" in saved.inner_text()
            change = page.locator("#staff-changes li.change[data-username=li]")
            change.wait_for()
            assert "root" in change.first.inner_text() and "上海话" in change.first.inner_text()
            page.screenshot(path=screenshot_path("staff-tab-saved"))

            # No language at all: the server's 422 line, and nothing stored.
            row.locator("input[value=mandarin]").uncheck()
            row.locator("input[value=shanghainese]").uncheck()
            row.locator("button.staff-save").click()
            alert = row.locator(".staff-status [role=alert]")
            alert.wait_for()
            assert "422" in alert.inner_text()
            assert "give at least one language; valid: mandarin, shanghainese" in alert.inner_text()
            # The boxes are put back as the server has them.
            assert row.locator("input[value=mandarin]").is_checked()
            assert row.locator("input[value=shanghainese]").is_checked()
            page.screenshot(path=screenshot_path("staff-tab-error"))

            teller = browser.new_page(base_url=live.url, locale="zh-CN")
            _log_in(teller, "li")
            assert teller.locator("#tabs [data-view=queue]").is_visible()
            assert teller.locator("#tabs [data-view=staff]").is_hidden()
            assert teller.locator("#staff-view").is_hidden()
            assert teller.locator("#staff-table").count() == 0
        finally:
            browser.close()

    # No script error and no CSP refusal (failed requests are logged too: /api/me
    # before login, the favicon); the refused save is the only failed admin call.
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
    assert refused == [("PATCH /api/admin/users/li", 422)]
    staff = httpx.get(f"{live.url}/api/admin/staff", headers=admin_headers).json()
    languages = {m["username"]: m["languages"] for m in staff["staff"]}
    assert languages["li"] == ["mandarin", "shanghainese"]
    with live.app.state.sessions() as session:
        actors = session.scalars(
            text("SELECT actor FROM audit_log WHERE action = 'user.languages'")
        ).all()
    assert actors == ["root"]  # the refused save stored nothing
    assert staff["changes"][0]["before"]["languages"] == ["mandarin"]
    assert staff["changes"][0]["after"]["languages"] == ["mandarin", "shanghainese"]
    assert ("root", "staff.listed") in live.audit()
