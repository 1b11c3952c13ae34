"""The public pool (公海) in a real browser: a sales rep claims a customer and finds it in their list."""

from __future__ import annotations

from typing import Any

from guanxi.customers.models import Customer
from guanxi.customers.pool import pool_claim
from tests.browser.conftest import shot
from tests.pool.conftest import limits, to_pool  # noqa: F401


def _seed(world: Any, make_customer: Any, to_pool: Any, limits: Any) -> dict[str, Any]:  # noqa: F811
    limits(daily_claim_limit=10, max_owned=200, reclaim_block_days=30)
    make_customer("owner", name="张伟", company="深圳星河科技有限公司", province="广东", grade="A")
    return {
        "wang": to_pool(
            name="王芳",
            company="上海晨光贸易有限公司",
            phone="139 0000 1234",
            province="上海",
            city="上海",
            industry="贸易",
            grade="A",
            lifecycle_stage="potential",
            tags=["展会"],
        ),
        "li": to_pool(name="李强", company="杭州远航物流", province="浙江", city="杭州", grade="B"),
        "chen": to_pool(kind="company", name="成都天府软件有限公司", province="四川", city="成都", grade="C"),
    }


def test_rep_claims_from_the_pool(
    open_as: Any,
    site: Any,
    world: Any,
    make_customer: Any,
    to_pool: Any,  # noqa: F811
    limits: Any,  # noqa: F811
) -> None:
    people = _seed(world, make_customer, to_pool, limits)
    page = open_as("owner")
    page.goto(f"{site.url}/pool/")
    assert page.inner_text("h1") == "公海"
    assert "今日已领取 0/10" in page.inner_text("#pool-quota")
    assert "持有 1/200" in page.inner_text("#pool-quota")
    assert "139****1234" in page.inner_text(f"#pool-row-{people['wang'].pk}")
    shot(page, "pool-list-zh")

    # Filter: an htmx partial update, the URL follows.
    page.select_option("#pool-filters select[name=grade]", "A")
    page.wait_for_function("document.querySelectorAll('#pool-table tbody tr[id^=pool-row]').length === 1")
    assert "grade=A" in page.url
    page.select_option("#pool-filters select[name=grade]", "")
    page.wait_for_function("document.querySelectorAll('#pool-table tbody tr[id^=pool-row]').length === 3")

    # Someone else is faster: the service's message shows in the row.
    pool_claim(actor=world.actor("teammate"), customer_id=people["li"].pk)
    page.click(f"[data-claim='{people['li'].pk}']")
    page.wait_for_selector(f"#pool-act-{people['li'].pk} .pool-msg")
    assert "已被他人抢先领取" in page.inner_text(f"#pool-row-{people['li'].pk}")

    # Claim: the row turns into a link, the quota banner follows.
    page.click(f"[data-claim='{people['wang'].pk}']")
    page.wait_for_selector(f"#pool-row-{people['wang'].pk}.pool-moved")
    assert "已领取" in page.inner_text(f"#pool-row-{people['wang'].pk}")
    assert "今日已领取 1/10" in page.inner_text("#pool-quota")
    assert "持有 2/200" in page.inner_text("#pool-quota")
    assert Customer.objects.get(pk=people["wang"].pk).owner_id == world.owner.user_id
    shot(page, "pool-claimed-zh")

    page.click(f"[data-open='{people['wang'].pk}']")
    page.wait_for_url(f"{site.url}/customers/{people['wang'].pk}/")
    assert page.inner_text("#customer-name") == "王芳"

    # It is in the rep's own customer list now.
    page.goto(f"{site.url}/customers/")
    names = page.locator("#customer-table tbody td.name a").all_inner_texts()
    assert sorted(names) == ["张伟", "王芳"]

    # Put it back, saying why.
    page.goto(f"{site.url}/pool/release/{people['wang'].pk}/")
    page.fill("#release-reason", "客户今年没有预算")
    shot(page, "pool-release-zh")
    page.click("#release-submit")
    page.wait_for_url(f"{site.url}/pool/")
    assert "王芳" in page.inner_text(f"#pool-row-{people['wang'].pk}")
    assert "起可领取" in page.inner_text(f"#pool-row-{people['wang'].pk}")
    assert "王芳 已放回公海。" in page.inner_text(".messages")
    shot(page, "pool-released-zh")

    # At phone width the table still fits the screen.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "pool-phone-zh", full_page=True)


def test_pool_in_english_for_a_manager(
    open_as: Any,
    site: Any,
    world: Any,
    make_customer: Any,
    to_pool: Any,  # noqa: F811
    limits: Any,  # noqa: F811
) -> None:
    people = _seed(world, make_customer, to_pool, limits)
    rep = open_as("owner", lang="en")
    rep.goto(f"{site.url}/pool/")
    assert rep.inner_text("h1") == "Public pool"
    assert "Claimed today: 0/10" in rep.inner_text("#pool-quota")
    shot(rep, "pool-list-en")

    manager = open_as("manager", lang="en")
    manager.goto(f"{site.url}/pool/")
    assert "139 0000 1234" in manager.inner_text(f"#pool-row-{people['wang'].pk}")
    manager.select_option(f"[data-assign-to='{people['chen'].pk}']", "teammate")
    manager.click(f"[data-assign='{people['chen'].pk}']")
    manager.wait_for_selector(f"#pool-row-{people['chen'].pk}.pool-moved")
    assert "Assigned to teammate" in manager.inner_text(f"#pool-row-{people['chen'].pk}")
    assert Customer.objects.get(pk=people["chen"].pk).owner_id == world.teammate.user_id
    shot(manager, "pool-manager-en")
