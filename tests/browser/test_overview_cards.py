"""In Chromium: the overview draws its plotly charts from the local package (no request leaves the
server), and the customer list turns into cards on a phone. Screenshots in zh and en."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone, translation

from guanxi.customers.models import Customer
from tests.browser.conftest import shot
from tests.browser.test_export_journey import _catalogue_overlay  # noqa: F401  (GUANXI_I18N_OVERLAY)

CHARTS = ["stages", "months", "tiers", "grades", "provinces", "owners"]


@pytest.fixture
def book(world: Any, make_customer: Any) -> None:
    """Two dozen customers across stages, grades, provinces and the last months."""
    names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "黄勇", "周艳", "吴敏", "徐强", "孙丽", "马超"]
    provinces = ["广东", "浙江", "江苏", "上海", "北京", "四川", "山东"]
    stages = ["lead", "potential", "new", "active", "active", "repeat", "at_risk", "churned"]
    now = timezone.now()
    for i in range(24):
        customer = make_customer(
            ["owner", "teammate", "manager"][i % 3],
            name=names[i % len(names)] + ("" if i < len(names) else "二"),
            company=f"{provinces[i % 7]}远航{i}号贸易有限公司",
            phone=f"1381234{8000 + i}",
            province=provinces[(i * 3) % 7] if i % 5 else "广东",
            lifecycle_stage=stages[i % len(stages)],
            grade="ABCD"[i % 4] if i % 6 else "",
            value_tier=["high", "medium", "low", ""][i % 4],
        )
        Customer.objects.filter(pk=customer.pk).update(
            created_at=now - dt.timedelta(days=(i * 37) % 330),
            last_contacted_at=now - dt.timedelta(days=i % 9) if i % 4 else None,
        )


def _outside_requests(page: Any, site_url: str) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: seen.append(r.url) if not r.url.startswith((site_url, "data:")) else None)
    return seen


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
@pytest.mark.parametrize(("width", "label"), [(1440, "desktop"), (390, "phone")])
def test_overview_draws_every_chart_locally(
    open_as: Any, site: Any, book: Any, lang: str, width: int, label: str
) -> None:
    page = open_as("manager", lang=lang, width=width, height=844 if width < 500 else 900)
    outside = _outside_requests(page, site.url)
    page.click("#nav-overview")
    page.wait_for_url(f"{site.url}/customers/overview/", wait_until="domcontentloaded")
    for name in CHARTS:
        page.wait_for_selector(f"#chart-{name}[data-drawn] .main-svg", timeout=60_000)
    assert page.evaluate("typeof window.Plotly") == "object"
    with translation.override(lang):  # the catalogue's wording (the lead merges new msgids)
        assert page.inner_text("h1") == translation.gettext("Customer overview")
    assert page.inner_text("#kpi-total") == "24"  # the manager's team: owner, teammate, manager
    # The funnel reads the translated stage names.
    funnel = page.inner_text("#chart-stages")
    assert ("活跃" if lang == "zh-hans" else "Active") in funnel
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 1
    for name in CHARTS:  # each chart fits its card
        box = page.eval_on_selector(f"#chart-{name}", "e => [e.getBoundingClientRect().width, e.scrollWidth]")
        assert box[1] <= box[0] + 1 and box[0] > 200
    assert outside == []
    shot(page, f"overview-{lang}-{label}", full_page=True)


def test_a_rep_sees_no_owner_chart(open_as: Any, site: Any, book: Any) -> None:
    page = open_as("owner", lang="en")
    page.goto(f"{site.url}/customers/overview/", wait_until="domcontentloaded")
    page.wait_for_selector("#chart-provinces[data-drawn]", timeout=60_000)
    assert page.inner_text("#kpi-total") == "8"
    assert page.query_selector("#chart-owners") is None


@pytest.mark.parametrize("lang", ["zh-hans", "en"])
def test_customer_list_is_cards_on_a_phone_and_a_table_on_a_desktop(
    open_as: Any, site: Any, book: Any, lang: str
) -> None:
    page = open_as("manager", lang=lang, width=390, height=844)
    # Column headings are gone (the page's select box stays above the cards: the export work's
    # "select all N matching" starts there).
    headings = page.query_selector_all("#customer-table thead th:not(.sel)")
    assert headings and not any(th.is_visible() for th in headings)
    first = page.query_selector("#customer-table tbody tr")
    assert first is not None
    card = first.query_selector("td.card-meta")
    assert card is not None and card.is_visible()
    text = card.inner_text()
    assert "****" in text and "远航" in text  # masked phone and company
    assert not first.query_selector("td.col-updated_at").is_visible()
    wrap = page.eval_on_selector(".table-wrap", "e => e.scrollWidth - e.clientWidth")
    assert wrap <= 1  # no sideways scrolling
    # Selecting a card still drives the bulk bar.
    first.query_selector("td.sel input").check()
    page.wait_for_selector("#bulk.visible")
    page.click("[data-clear-selection]")
    shot(page, f"list-cards-{lang}-phone", full_page=False)

    page.set_viewport_size({"width": 1440, "height": 900})
    assert page.is_visible("#customer-table thead th.col-phone")
    assert not page.query_selector("#customer-table tbody tr td.card-meta").is_visible()
    shot(page, f"list-table-{lang}-desktop")
