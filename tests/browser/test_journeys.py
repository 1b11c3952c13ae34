"""The issue's browser journeys: a sales rep's day, masking by role, visibility across teams."""

from __future__ import annotations

import re
from typing import Any

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_update
from tests.browser.conftest import shot


def _seed(make_customer: Any) -> dict[str, Any]:
    return {
        "zhang": make_customer(
            "owner",
            name="张伟",
            company="深圳星河科技有限公司",
            phone="13812348000",
            email="zhang.wei@example.com",
            province="广东",
            city="深圳",
            grade="A",
            lifecycle_stage="active",
            value_tier="high",
            tags=["重点客户"],
        ),
        "wang": make_customer(
            "owner", name="王芳", company="杭州远航", province="浙江", city="杭州", grade="B"
        ),
        "liu": make_customer("outsider", name="刘洋", province="广东", grade="A"),
    }


def test_sales_rep_journey(open_as: Any, site: Any, world: Any, make_customer: Any) -> None:
    people = _seed(make_customer)
    page = open_as("owner")
    rows = page.locator("#customer-table tbody td.name a")
    assert sorted(rows.all_inner_texts()) == ["张伟", "王芳"]
    shot(page, "journey-01-list-zh")

    # Filter the list: an htmx partial update, the URL follows the filters.
    page.select_option("select[name=grade]", "A")
    page.wait_for_url(re.compile(r".*grade=A.*"))
    page.wait_for_function("document.querySelectorAll('#customer-table tbody td.name a').length === 1")
    assert rows.all_inner_texts() == ["张伟"]
    assert "1 位客户" in page.inner_text("#result-count")

    # Open the customer.
    page.click("text=张伟")
    page.wait_for_url(f"{site.url}/customers/{people['zhang'].pk}/")
    assert page.inner_text("#customer-name") == "张伟"
    assert "138****8000" in page.inner_text("#contact-info")
    shot(page, "journey-02-customer-zh")

    # Edit inline.
    page.click("#edit-inline")
    page.wait_for_selector("#inline-edit")
    page.fill("#f-title", "采购总监")
    page.click("#save-inline")
    page.wait_for_selector("#inline-edit", state="detached")
    assert "采购总监" in page.inner_text("#customer-main")
    assert Customer.objects.get(pk=people["zhang"].pk).title == "采购总监"
    page.wait_for_selector("#tab-panel >> text=更新了")

    # Hit a concurrency conflict: the manager saves while the rep is editing.
    page.click("#edit-inline")
    page.wait_for_selector("#inline-edit")
    current = Customer.objects.get(pk=people["zhang"].pk)
    customer_update(
        actor=world.actor("manager", via="ui"),
        customer_id=current.pk,
        data={"notes": "经理补充：下周拜访"},
        expected_version=current.version,
    )
    page.fill("#f-title", "副总经理")
    page.click("#save-inline")
    page.wait_for_selector("#conflict")
    assert "manager" in page.inner_text("#conflict")
    shot(page, "journey-03-conflict-zh")
    page.click("#conflict-overwrite")
    page.wait_for_selector("#inline-edit", state="detached")
    fresh = Customer.objects.get(pk=people["zhang"].pk)
    assert fresh.title == "副总经理"
    assert fresh.notes == "经理补充：下周拜访"  # overwrite sends only the rep's own changes

    # Create a duplicate and see the warning that links the existing record.
    page.goto(f"{site.url}/customers/new/")
    page.fill("#f-name", "张伟（新）")
    page.fill("#f-phone", "138 1234 8000")
    page.click("#save")
    page.wait_for_selector("#duplicate-warning")
    link = page.locator(f"#duplicate-warning a[href='/customers/{people['zhang'].pk}/']")
    assert link.count() == 1
    shot(page, "journey-04-duplicate-zh")

    # Switch the language: the choice is remembered for the user.
    page.goto(f"{site.url}/customers/")
    page.click("#lang-toggle")
    page.wait_for_selector("h1:text('Customers')")
    shot(page, "journey-05-list-en")
    page.click("#lang-toggle")
    page.wait_for_selector("h1:text('客户')")


def test_readonly_sees_masked_phone_admin_reveals_full(open_as: Any, site: Any, make_customer: Any) -> None:
    people = _seed(make_customer)
    url = f"{site.url}/customers/{people['zhang'].pk}/"

    readonly = open_as("readonly", lang="en")
    readonly.goto(url)
    info = readonly.inner_text("#contact-info")
    assert "138****8000" in info and "13812348000" not in info
    assert readonly.locator("#reveal").count() == 0
    shot(readonly, "masked-readonly-en")

    admin = open_as("admin")
    admin.goto(url)
    assert "138****8000" in admin.inner_text("#contact-info")
    admin.click("#reveal")
    admin.wait_for_selector("#contact-info >> text=13812348000")
    assert "zhang.wei@example.com" in admin.inner_text("#contact-info")
    assert AuditEvent.objects.filter(action="reveal", actor_name="admin").count() == 1
    admin.wait_for_selector("#tab-panel >> text=查看了完整联系方式")
    shot(admin, "revealed-admin-zh")


def test_rep_of_another_team_gets_404(open_as: Any, site: Any, make_customer: Any) -> None:
    people = _seed(make_customer)
    page = open_as("outsider")
    assert page.locator("#customer-table >> text=张伟").count() == 0
    response = page.goto(f"{site.url}/customers/{people['zhang'].pk}/")
    assert response.status == 404
    assert "404" in page.inner_text("body")
    shot(page, "outsider-404-zh")


def test_global_search_and_bulk_tag(open_as: Any, site: Any, make_customer: Any) -> None:
    people = _seed(make_customer)
    page = open_as("owner")
    page.fill("#global-search", "8000")
    page.wait_for_selector("#search-results .search-hit")
    assert "张伟" in page.inner_text("#search-results")
    page.keyboard.press("Escape")

    page.check(f"input[name=ids][value='{people['wang'].pk}']")
    page.wait_for_selector("#bulk.visible")
    page.select_option("#bulk select[name=action]", "tag_add")
    page.fill("#bulk input[name=tag]", "展会")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#bulk button.primary")
    page.wait_for_selector(".flash")
    assert "展会" in set(Customer.objects.get(pk=people["wang"].pk).tags.values_list("name", flat=True))
