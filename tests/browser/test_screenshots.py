"""Screenshots of every main page in both languages, at desktop and phone width (CI artefacts).

Each page is also checked for what a screenshot would show: no horizontal overflow at phone
width, no raw template syntax, and the page's own heading in the right language."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.services import custom_field_create
from guanxi.customers.models import Contact
from tests.browser.conftest import shot


@pytest.fixture
def demo(world: Any, make_customer: Any) -> dict[str, Any]:
    custom_field_create(
        actor=world.actor("admin"),
        data={"key": "channel", "label": "偏好渠道", "field_type": "choice", "choices": ["电话", "微信"]},
    )
    company = make_customer(
        "owner",
        kind="company",
        name="深圳华信科技有限公司",
        phone="0755-86001234",
        industry="制造业",
        province="广东",
        city="深圳",
        grade="A",
        value_tier="high",
        lifecycle_stage="active",
        tags=["重点客户", "展会"],
        custom={"channel": "微信"},
        notes="年底有扩产计划，关注自动化设备。",
    )
    Contact.objects.create(
        organization=world.org, customer=company, name="赵敏", title="采购经理", phone="13900001111"
    )
    from guanxi.engagement.models import Notification
    from guanxi.engagement.services import activity_create

    activity_create(
        actor=world.actor("owner"),
        customer_id=company.pk,
        data={
            "kind": "visit",
            "subject": "上门拜访，确认扩产计划",
            "content": "与采购经理赵敏沟通，年底预计采购 3 条自动化产线。",
            "next_step": "下周一前发送报价",
        },
    )
    Notification.objects.create(
        organization=world.org,
        user=world.admin.user,
        kind="task",
        title="提醒：回访深圳华信科技有限公司",
        body="今天 16:00 前完成电话回访",
        link=f"/customers/{company.pk}/",
    )
    names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "黄勇", "周艳"]
    for i, name in enumerate(names):
        make_customer(
            "owner" if i % 2 else "teammate",
            name=name,
            company=f"杭州远航{i}号贸易有限公司",
            phone=f"1381234{8000 + i}",
            province=["广东", "浙江", "上海"][i % 3],
            city=["广州", "杭州", "上海"][i % 3],
            grade="ABCD"[i % 4],
            lifecycle_stage=["lead", "new", "active", "at_risk"][i % 4],
            tags=[["重点客户"], [], ["展会"], ["老客户", "展会"]][i % 4],
        )
    return {"company": company}


PAGES = {
    "customers": ("/customers/", "客户", "Customers"),
    "customer": ("/customers/{company}/", "深圳华信科技有限公司", "深圳华信科技有限公司"),
    "new": ("/customers/new/", "新建客户", "New customer"),
    "contacts": ("/contacts/", "联系人", "Contacts"),
    "trash": ("/trash/", "回收站", "Recycle bin"),
    "users": ("/settings/users/", "用户与团队", "Users & teams"),
    "fields": ("/settings/fields/", "自定义字段", "Custom fields"),
    "tags": ("/settings/tags/", "标签", "Tags"),
    "org": ("/settings/organisation/", "组织", "Organisation"),
}


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
@pytest.mark.parametrize(("width", "label"), [(1440, "desktop"), (390, "phone")])
def test_main_pages(open_as: Any, site: Any, demo: Any, lang: str, width: int, label: str) -> None:
    page = open_as("admin", lang=lang, width=width, height=844 if width < 500 else 900)
    for name, (path, zh, en) in PAGES.items():
        page.goto(site.url + path.format(company=demo["company"].pk))
        heading = page.inner_text("h1")
        assert (zh if lang == "zh-hans" else en) in heading, (name, heading)
        body = page.inner_text("body")
        assert "{%" not in body and "{{" not in body, name
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 1, (name, label, overflow)
        shot(page, f"page-{name}-{lang}-{label}")
    page.goto(site.url + "/customers/")
    page.click("#notifications > summary")
    shot(page, f"page-notifications-{lang}-{label}")
    page.keyboard.press("Escape")
    page.fill("#global-search", "杭州")
    page.wait_for_selector("#search-results .search-hit")
    shot(page, f"page-search-{lang}-{label}")
    page.goto(f"{site.url}/customers/{demo['company'].pk}/")
    page.click("#tab-history")
    page.wait_for_selector("table.diff")
    shot(page, f"page-customer-history-{lang}-{label}")
    page.click("#edit-inline")
    page.wait_for_selector("#inline-edit")
    shot(page, f"page-customer-edit-{lang}-{label}")


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_login_page(chromium: Any, site: Any, lang: str) -> None:
    for width, label in [(1440, "desktop"), (390, "phone")]:
        context = chromium.new_context(viewport={"width": width, "height": 800})
        context.add_cookies([{"name": "django_language", "value": lang, "url": site.url}])
        page = context.new_page()
        page.goto(f"{site.url}/login/")
        page.fill("input[name=username]", "owner")
        page.fill("input[name=password]", "wrong")
        page.click("button[type=submit]")
        page.wait_for_selector(".error")
        assert ("用户名或密码错误" if lang == "zh-hans" else "Wrong username or password") in page.inner_text(
            ".error"
        )
        shot(page, f"page-login-{lang}-{label}")
        context.close()
