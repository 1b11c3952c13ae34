"""Merging duplicates in a real browser: find the duplicate, compare, merge, see the contacts moved, undo."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from guanxi.customers.contacts import contact_create
from guanxi.customers.models import Contact, Customer, CustomerMerge
from guanxi.engagement.models import Activity
from tests.browser.conftest import shot


def _seed(world: Any, make_customer: Any) -> tuple[Customer, Customer]:
    older = make_customer(
        "owner",
        name="张伟",
        company="星河科技",
        phone="13812348000",
        province="北京",
        city="北京",
        tags=["VIP"],
    )
    newer = make_customer(
        "owner",
        name="张 伟",
        phones=[{"label": "mobile", "value": "13812348000"}, {"label": "work", "value": "010-62345678"}],
        email="zw@example.com",
        title="采购经理",
        tags=["展会"],
        notes="从展会名单导入",
    )
    owner = world.actor("owner")
    contact_create(actor=owner, customer_id=older.pk, data={"name": "王秘书"})
    contact_create(actor=owner, customer_id=newer.pk, data={"name": "李助理"})
    Activity.objects.create(
        organization=world.org,
        customer=newer,
        kind="call",
        subject="首次电话",
        occurred_at=timezone.now() - dt.timedelta(days=1),
        created_by=world.owner.user,
    )
    Customer.objects.filter(pk=older.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    return older, newer


@pytest.mark.parametrize(("lang", "width"), [("en", 1440), ("zh-hans", 1440), ("zh-hans", 390)])
def test_merge_two_customers_and_undo(
    open_as: Any, site: Any, world: Any, make_customer: Any, lang: str, width: int
) -> None:
    older, newer = _seed(world, make_customer)
    page = open_as("manager", lang=lang, width=width, height=900 if width > 500 else 844)
    page.on("dialog", lambda dialog: dialog.accept())  # the "Merge …?" / "Undo …?" confirmations
    suffix = f"{lang.split('-')[0]}-{'desktop' if width > 500 else 'phone'}"

    page.goto(f"{site.url}/customers/{older.pk}/")
    page.click("#merge-with")
    page.wait_for_url(f"{site.url}/customers/{older.pk}/merge/")
    page.fill("#merge-q", "张")
    page.wait_for_selector(f"#merge-results a[href='/customers/{older.pk}/merge/{newer.pk}/']")
    shot(page, f"merge-start-{suffix}")
    page.click(f"#merge-results a[href='/customers/{older.pk}/merge/{newer.pk}/']")
    page.wait_for_url(f"{site.url}/customers/{older.pk}/merge/{newer.pk}/")

    # Defaults: the newer record's name, the survivor's company, phones of both.
    assert page.is_checked("input[name='choice:name'][value=merged]")
    assert page.is_checked("input[name='choice:company'][value=survivor]")
    assert page.is_checked("input[name='choice:phones'][value=union]")
    moves = page.inner_text("#merge-moves")
    assert "1" in moves
    shot(page, f"merge-compare-{suffix}", full_page=True)

    page.check("input[name='choice:name'][value=survivor]")  # keep "张伟" after all
    page.click("#merge-submit")
    page.wait_for_url(f"{site.url}/merges/*/")
    record = CustomerMerge.objects.get()
    assert str(newer.pk) in page.inner_text("#merge-done")
    shot(page, f"merge-done-{suffix}")

    page.click("#open-survivor")
    page.wait_for_url(f"{site.url}/customers/{older.pk}/")
    assert page.inner_text("#customer-name") == "张伟"
    contacts = page.inner_text("#contacts")
    assert "王秘书" in contacts and "李助理" in contacts
    shot(page, f"merge-survivor-{suffix}")

    page.goto(f"{site.url}/customers/{newer.pk}/")
    assert page.is_visible("#merged-banner")
    shot(page, f"merge-banner-{suffix}")

    page.goto(f"{site.url}/merges/")
    assert page.is_visible(f"#merge-{record.pk}")
    shot(page, f"merge-history-{suffix}")
    page.click(f"#merge-{record.pk} button")
    page.wait_for_url(f"{site.url}/customers/{newer.pk}/")
    assert page.inner_text("#customer-name") == "张 伟"
    assert "李助理" in page.inner_text("#contacts") and "王秘书" not in page.inner_text("#contacts")
    shot(page, f"merge-undone-{suffix}")
    assert set(Contact.objects.filter(customer=older).values_list("name", flat=True)) == {"王秘书"}
    assert Customer.objects.get(pk=newer.pk).deleted_at is None
