"""What a person sees in a real browser."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_member_switches_to_chinese_and_sees_only_own_projects(sign_in, live_server):
    page = sign_in("member")
    cards = page.get_by_test_id("project-card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text("Web shop")

    page.select_option("#language-switcher", "zh-hans")  # submits through portal.js
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=2).first).to_have_text("我的项目")
    expect(page.get_by_test_id("project-card")).to_have_count(1)
    expect(page.get_by_test_id("project-card").first).to_contain_text("Web shop")
    expect(page.locator("body")).not_to_contain_text("Data lab")

    page.goto(f"{live_server.url}/projects/")
    rows = page.get_by_test_id("object-table").locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("web-shop")


def test_no_console_errors_or_csp_violations_on_the_dashboard(sign_in, live_server):
    errors = []
    page = sign_in("admin")
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.reload()
    page.goto(f"{live_server.url}/operations/")
    page.fill("input[name=q]", "nothing-matches")  # HTMX filters the table in place
    expect(page.get_by_test_id("object-table")).to_contain_text("Nothing here yet.")
    assert errors == []
