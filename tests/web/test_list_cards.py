"""On a phone the customer list is a stack of cards: every row carries a card cell (company, badges,
masked phone, owner, last contact) that the stylesheet shows at ≤ 640 px instead of the columns."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.models import Customer
from tests.web.conftest import htmx


def _card(html: str, name: str) -> str:
    """The card cell of the row whose name link reads ``name``."""
    row = re.search(rf"<tr>(?:(?!</tr>).)*>{re.escape(name)}</a>(?:(?!</tr>).)*</tr>", html, re.S)
    assert row, f"no row for {name}"
    card = re.search(r'<td class="card-meta">(.*?)</td>', row.group(0), re.S)
    assert card, f"no card in the row of {name}"
    return card.group(1)


@pytest.fixture
def busy(world: Any, make_customer: Any) -> Customer:
    customer = make_customer(
        "owner",
        name="张伟",
        company="北京星河科技有限公司",
        phone="138 1234 8000",
        lifecycle_stage="active",
        value_tier="high",
        grade="A",
    )
    Customer.objects.filter(pk=customer.pk).update(last_contacted_at=timezone.now() - dt.timedelta(days=3))
    return customer


@pytest.mark.parametrize("who", ["owner", "manager", "admin", "readonly"])
def test_card_shows_the_essentials_with_a_masked_phone(login: Any, busy: Any, who: str) -> None:
    html = login(who).get("/customers/").content.decode()
    card = _card(html, "张伟")
    assert "北京星河科技有限公司" in card
    assert "stage-active" in card and "tier-high" in card and "grade-A" in card
    assert "138****8000" in card and "1381234" not in card  # lists mask for every role (ADR 0004)
    assert ">owner<" in card  # the owner's name
    assert "contacted 3\xa0days ago" in card


def test_card_does_not_depend_on_the_chosen_columns(login: Any, busy: Any) -> None:
    client = login("owner")
    client.post("/customers/columns/", {"columns": ["email"]})
    html = client.get("/customers/").content.decode()
    assert 'class="col-phone"' not in html and 'class="col-owner"' not in html
    card = _card(html, "张伟")
    assert "138****8000" in card and "北京星河科技有限公司" in card


def test_a_customer_never_contacted_says_so(login: Any, make_customer: Any) -> None:
    make_customer("owner", name="李娜")
    card = _card(login("owner").get("/customers/").content.decode(), "李娜")
    assert "not contacted yet" in card and "card-company" not in card


def test_load_more_rows_are_cards_too(login: Any, make_customer: Any, monkeypatch: Any) -> None:
    from guanxi.web import customer_list

    monkeypatch.setattr(customer_list, "PAGE_SIZE", 1)
    make_customer("owner", name="王芳", company="杭州云图")
    make_customer("owner", name="刘洋")
    client = login("owner")
    html = client.get("/customers/").content.decode()
    start = html.index("cursor=") + len("cursor=")
    more = client.get("/customers/", {"cursor": html[start : html.index('"', start)]}, headers=htmx())
    assert "杭州云图" in _card(more.content.decode(), "王芳")


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_admin", "other_sales"])
def test_others_get_no_card_of_someone_elses_customer(login: Any, busy: Any, who: str) -> None:
    html = login(who).get("/customers/").content.decode()
    assert "张伟" not in html and "北京星河科技有限公司" not in html
