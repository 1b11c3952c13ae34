"""The 360° page reads a fixed, small number of queries: one for the customer, one for its tags, one
per timeline source, one for contacts (custom-field definitions are cached) — whatever the customer
has."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.services import custom_field_create
from guanxi.customers.contacts import contact_create
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_update
from guanxi.engagement.services import activity_create

# The shell reads 4: session, user, the user's memberships (the current one and the organisation
# switcher's list, in one query), unread notifications;
# the page: customer, tags, activities, audit events, contacts = 5 (the custom-field definitions are
# cached per organisation until one changes: read again on the first request after a change).
# A role limited to its own/team customers adds the "has anything been shared with me?" probe.
SHELL = 4
PAGE = 5
EXPECTED = {"admin": SHELL + PAGE, "manager": SHELL + PAGE + 1, "owner": SHELL + PAGE + 1}


def _count(client: Any, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def _grow(world: Any, company: Any) -> None:
    """Everything a busy customer accumulates: edits, tags, contacts, follow-ups, custom values."""
    actor = world.actor("owner")
    custom_field_create(
        actor=world.actor("admin"), data={"key": "channel", "label": "渠道", "field_type": "text"}
    )
    for i in range(8):
        current = Customer.objects.get(pk=company.pk)
        customer_update(
            actor=actor,
            customer_id=company.pk,
            data={"title": f"职位{i}", "tags": [f"标签{i}", f"标签{i + 1}"], "custom": {"channel": f"c{i}"}},
            expected_version=current.version,
        )
    for i in range(6):
        contact_create(
            actor=actor, customer_id=company.pk, data={"name": f"联系人{i}", "phone": f"1390000111{i}"}
        )
    for i in range(4):
        activity_create(actor=actor, customer_id=company.pk, data={"kind": "call", "subject": f"回访{i}"})


@pytest.mark.parametrize("who", ["owner", "manager", "admin"])
def test_detail_reads_a_fixed_number_of_queries(login: Any, world: Any, make_customer: Any, who: str) -> None:
    company = make_customer("owner", kind="company", name="星河科技")
    client = login(who)
    url = f"/customers/{company.pk}/"
    client.get(url)  # warm per-process caches (translations, templates)
    bare, html = _count(client, url)
    assert "联系人0" not in html
    _grow(world, company)
    client.get(url)  # _grow added a custom field: the cached definitions are read once again
    busy, html = _count(client, url)
    # The page really shows what was added, so the second count is of a busy page.
    assert "联系人5" in html and "回访3" in html and "标签8" in html and "c7" in html
    assert bare == busy == EXPECTED[who]


def test_history_and_timeline_tabs_read_a_fixed_number_of_queries(
    login: Any, world: Any, make_customer: Any
) -> None:
    company = make_customer("owner", kind="company", name="星河科技")
    client = login("owner")
    tabs = [f"/customers/{company.pk}/tab/timeline/", f"/customers/{company.pk}/tab/history/"]
    for url in tabs:
        client.get(url)
    before = [_count(client, url)[0] for url in tabs]
    _grow(world, company)
    for url in tabs:  # the new custom field is read once, then cached again
        client.get(url)
    after = [_count(client, url)[0] for url in tabs]
    assert before == after


def test_an_outsider_gets_404_without_reading_the_timeline(login: Any, make_customer: Any) -> None:
    company = make_customer("owner", kind="company", name="星河科技")
    with CaptureQueriesContext(connection) as queries:
        assert login("outsider").get(f"/customers/{company.pk}/").status_code == 404
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "core_auditevent" not in tables and "customers_contact" not in tables
