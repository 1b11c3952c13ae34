"""``guanxi demo --no-serve``: every role, realistic searchable data, idempotent."""

from __future__ import annotations

import io
import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from guanxi.bench.demo import DEMO_PASSWORD, DEMO_USERS
from guanxi.core.models import ApiToken, AuditEvent, CustomFieldDefinition, Membership
from guanxi.customers.indexing import identifiers_of, search_text_of
from guanxi.customers.models import Contact, Customer, CustomerIdentifier, CustomerTag, SearchGram
from guanxi.customers.search import grams_of


def _demo() -> dict[str, Any]:
    out = io.StringIO()
    call_command("demo", "--no-serve", "--customers", "200", "--json", stdout=out)
    return json.loads(out.getvalue())


def _counts() -> dict[str, int]:
    models = [Customer, Contact, CustomerTag, CustomerIdentifier, SearchGram, AuditEvent, Membership,
              CustomFieldDefinition, ApiToken, get_user_model()]  # fmt: skip
    return {m.__name__: m.objects.count() for m in models}


def test_demo_twice_creates_everything_once(db: Any) -> None:
    first = _demo()
    counts = _counts()
    assert first["totals"]["customers"] == 230 and first["created"]["customers"] == 230
    assert counts["Contact"] > 0 and counts["CustomFieldDefinition"] == 4
    assert counts["AuditEvent"] > 230

    second = _demo()
    assert second["created"] == {"customers": 0, "contacts": 0}
    assert _counts() == counts
    assert second["api_token"] == first["api_token"]


def test_every_role_has_a_user_with_the_printed_password(db: Any) -> None:
    result = _demo()
    assert result["password"] == DEMO_PASSWORD
    members = {m.user.username: m for m in Membership.objects.select_related("user", "team")}
    for username, role, team, _name in DEMO_USERS:
        assert members[username].role == role
        assert (members[username].team.name if members[username].team else None) == team
        assert members[username].user.check_password(DEMO_PASSWORD)
    assert {r for _, r, _, _ in DEMO_USERS} == {
        "admin",
        "manager",
        "sales",
        "marketing",
        "service",
        "readonly",
    }
    assert members["sales1"].team != members["sales2"].team


def test_demo_customers_are_spread_over_owners_and_searchable(db: Any) -> None:
    result = _demo()
    owners = Customer.objects.values_list("owner__username", flat=True)
    assert {"sales1", "sales2", "manager", None} <= set(owners)
    assert Customer.objects.filter(external_id__startswith="DEMO-EN-").count() == 30
    assert Customer.objects.exclude(custom={}).exists()
    assert Contact.objects.filter(customer__kind="company").count() == Contact.objects.count()

    client = Client(headers={"Authorization": f"Bearer {result['api_token']}"})
    person = Customer.objects.filter(kind="person", name__regex=r"^[^ -~]{2}$").order_by("id").first()
    assert person is not None
    items = client.get("/api/v1/customers", {"q": person.name, "limit": 200}).json()["items"]
    assert person.pk in [c["id"] for c in items]

    sales1 = Client()
    sales1.login(username="sales1", password=DEMO_PASSWORD)
    mine = sales1.get("/api/v1/customers", {"limit": 200}).json()["items"]
    assert mine and {c["owner"] for c in mine} == {"sales1"}


def test_demo_rows_match_the_services(db: Any) -> None:
    _demo()
    customer = Customer.objects.exclude(phone="").exclude(email="").order_by("id").first()
    assert customer.phones[0]["e164"] == customer.phone_e164 and customer.phone_e164.startswith("+")
    assert customer.emails[0] == {"label": "work", "value": customer.email}
    idents = set(CustomerIdentifier.objects.filter(customer=customer).values_list("kind", "value"))
    assert ("phone", customer.phone_e164) in idents and ("email", customer.email) in idents
    for c in Customer.objects.all():
        grams = set(SearchGram.objects.filter(customer=c).values_list("gram", flat=True))
        assert grams == grams_of(c.search_text) and c.search_text == search_text_of(c)
        assert set(
            CustomerIdentifier.objects.filter(customer=c).values_list("kind", "value")
        ) == identifiers_of(c)
    event = AuditEvent.objects.get(object_type="customer", object_id=str(customer.pk), action="create")
    assert event.context == {"via": "demo"} and event.changes["name"] == [None, customer.name]
