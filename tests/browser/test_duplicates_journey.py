"""Duplicate review in a real browser: run the scan, read the pairs, say "Not a duplicate", go to merge."""

from __future__ import annotations

import datetime as dt
from typing import Any

from guanxi.customers.models import DuplicateCandidate
from tests.browser.conftest import shot


def _seed(make_customer: Any) -> dict[str, Any]:
    return {
        "zhang": make_customer(
            "owner",
            name="张伟",
            company="北京星河科技有限公司",
            phone="138 1234 8000",
            city="北京",
            address="朝阳区建国路88号",
            birthday="1988-05-03",
        ),
        "zhang2": make_customer(
            "owner",
            name="張偉",
            company="星河科技",
            phone="+86 138-1234-8000",
            city="北京",
            address="朝阳区建国路 88 号",
            birthday="1988-05-03",
        ),
        "liu": make_customer("admin", name="Liu Yang", email="liu.yang@example.com", city="上海"),
        "liu2": make_customer(
            "admin", name="刘洋", email="liu.yang@example.com", city="上海", phone="139 0000 1234"
        ),
        "smith": make_customer(
            "admin",
            name="Jonathan Smith",
            email="j.smith@example.co.uk",
            city="London",
            birthday=dt.date(1975, 3, 9).isoformat(),
        ),
        "smith2": make_customer("admin", name="Jonathon Smyth", email="j.smith@example.co.uk", city="London"),
        "wang": make_customer("owner", name="王芳", phone="13800001111", city="北京"),
        "wang2": make_customer("teammate", name="王芳", phone="13900002222", city="广州"),
    }


def test_manager_scans_and_reviews(open_as: Any, site: Any, world: Any, make_customer: Any) -> None:
    people = _seed(make_customer)
    page = open_as("admin", width=1440)
    page.click("#nav-duplicates")
    page.wait_for_selector("#dup-empty")
    page.click("#run-scan")
    page.wait_for_selector("#scan-status[data-state=succeeded]")
    page.wait_for_selector(".dup-pair")
    pairs = page.locator(".dup-pair")
    assert pairs.count() == 3  # 张伟/張偉, Liu Yang/刘洋, Jonathan Smith/Jonathon Smyth — not the two 王芳
    zhang = DuplicateCandidate.objects.get(customer_a=people["zhang"], customer_b=people["zhang2"])
    card = page.locator(f"#pair-{zhang.pk}")
    assert "zhangwei" in card.inner_text()
    assert "+86 138" in card.inner_text()
    shot(page, "duplicates-list-zh", full_page=True)

    # Not a duplicate: the card turns into a decision with Undo, in place.
    smith = DuplicateCandidate.objects.get(customer_a=people["smith"], customer_b=people["smith2"])
    page.click(f"#pair-{smith.pk} [data-dismiss]")
    page.wait_for_selector(f"#pair-{smith.pk}[data-status=dismissed]")
    smith.refresh_from_db()
    assert smith.status == "dismissed"
    shot(page, "duplicates-dismissed-zh")

    # A second scan keeps the decision.
    page.click("#run-scan")
    page.wait_for_selector("#scan-status[data-state=succeeded]")
    assert page.locator(f"#pair-{smith.pk}").count() == 0
    smith.refresh_from_db()
    assert smith.status == "dismissed"

    # Merge goes to the merge page for the two records.
    href = page.get_attribute(f"#pair-{zhang.pk} [data-merge]", "href")
    assert href == f"/customers/{people['zhang'].pk}/merge/{people['zhang2'].pk}/"

    # The rules page (admin).
    page.click("#dup-rules")
    page.wait_for_selector("#dup-settings")
    shot(page, "duplicates-rules-zh")


def test_review_in_english_and_on_a_phone(open_as: Any, site: Any, world: Any, make_customer: Any) -> None:
    from guanxi.customers.dedupe.scan import run_scan

    _seed(make_customer)
    run_scan(world.org.pk)
    page = open_as("owner", lang="en", width=1440)
    page.goto(f"{site.url}/duplicates/")
    page.wait_for_selector(".dup-pair")
    text = page.inner_text("#dup-list")
    assert "same name in pinyin (zhangwei)" in text
    assert "Liu Yang" not in text  # the owner sees only pairs of customers they can see
    assert page.locator("#run-scan").count() == 0
    shot(page, "duplicates-list-en", full_page=True)

    phone = open_as("admin", lang="zh-hans", width=390, height=844)
    phone.goto(f"{site.url}/duplicates/")
    phone.wait_for_selector(".dup-pair")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page scrolls sideways on a phone ({width}px)"
    shot(phone, "duplicates-list-phone-zh", full_page=True)
    en_phone = open_as("admin", lang="en", width=390, height=844)
    en_phone.goto(f"{site.url}/duplicates/")
    en_phone.wait_for_selector(".dup-pair")
    shot(en_phone, "duplicates-list-phone-en")
