"""The bulk loader writes what the services write, and ``guanxi bench generate`` makes searchable rows."""

from __future__ import annotations

import io
import json
from typing import Any

from django.core.management import call_command
from django.test import Client

from guanxi.bench.generate import CustomerGenerator
from guanxi.bench.load import bench_users, load_customers
from guanxi.core.context import Actor
from guanxi.core.models import Membership
from guanxi.core.services import api_token_create, membership_upsert, organization_create
from guanxi.customers.models import Customer, CustomerIdentifier, SearchGram
from guanxi.customers.services import customer_create

FIELDS = [
    "kind", "name", "company", "title", "gender", "phone", "phone_e164", "email", "phones", "emails",
    "wechat", "province", "city", "district", "address", "birthday", "birthday_is_lunar", "industry",
    "size", "source", "lifecycle_stage", "value_tier", "grade", "external_id", "search_text", "custom",
    "version", "deleted_at", "in_public_pool",
]  # fmt: skip


def _state(customer: Customer) -> dict[str, Any]:
    state = {f: getattr(customer, f) for f in FIELDS}
    state["tags"] = sorted(customer.tags.values_list("name", flat=True))
    state["identifiers"] = set(
        CustomerIdentifier.objects.filter(customer=customer).values_list("organization_id", "kind", "value")
    )
    state["identifiers"] = {(k, v) for _, k, v in state["identifiers"]}
    state["grams"] = set(SearchGram.objects.filter(customer=customer).values_list("gram", flat=True))
    return state


def test_loaded_rows_equal_what_customer_create_writes(db: Any) -> None:
    org, owners = bench_users("loadtest")
    result = load_customers(org=org, n=150, seed=11, owners=owners, english_share=0.3, workers=0)
    assert result.customers == 150 and result.grams > 150 * 10

    other, _ = organization_create(name="via-services")
    admin, _ = membership_upsert(org=other, username="svc-admin", role="admin")
    actor = Actor(membership=Membership.objects.get(pk=admin.pk), via="cli")
    loaded = {c.external_id: c for c in Customer.objects.filter(organization=org)}
    for row in CustomerGenerator(11, english_share=0.3).rows(150):
        created = customer_create(actor=actor, data=row.record())
        assert _state(created) == _state(loaded[row.external_id]), row.external_id
        loaded_row = loaded[row.external_id]
        assert loaded_row.owner_id is None or loaded_row.team_id is not None
    assert Customer.objects.filter(organization=org, owner__isnull=False).count() > 100


def test_bench_generate_command_loads_searchable_customers(db: Any) -> None:
    out = io.StringIO()
    call_command(
        "bench", "generate", "--customers", "2000", "--seed", "4", "--json", stdout=out, stderr=io.StringIO()
    )
    result = json.loads(out.getvalue())
    assert result["customers"] == 2000 and result["database"] in ("sqlite", "postgresql")
    assert Customer.objects.filter(organization__name="bench").count() == 2000

    admin = Membership.objects.get(organization__name="bench", user__username="bench-admin")
    _token, raw = api_token_create(membership=admin, scopes=["read"])
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    person = (
        Customer.objects.filter(organization__name="bench", kind="person", name__regex=r"^[^ -~]{2}$")
        .exclude(phone_e164="")
        .order_by("id")
        .first()
    )
    assert person is not None
    found = client.get("/api/v1/customers", {"q": person.name, "limit": 200}).json()["items"]
    assert person.pk in [c["id"] for c in found] or len(found) == 200
    assert all(person.name in c["name"] or person.name in (c["company"] or "") for c in found)
    tail = person.phone_e164[-4:]
    found = client.get("/api/v1/customers", {"q": tail, "limit": 200}).json()["items"]
    assert found and all(
        tail in c["phone_e164"] or any(tail in p["e164"] for p in c["phones"]) for c in found
    )

    # A second run adds new customers after the first ones (no clash on external ids).
    call_command(
        "bench",
        "generate",
        "--customers",
        "100",
        "--seed",
        "4",
        "--json",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    assert Customer.objects.filter(organization__name="bench").count() == 2100


def test_bench_api_runs_every_scenario(db: Any) -> None:
    call_command(
        "bench", "generate", "--customers", "300", "--json", stdout=io.StringIO(), stderr=io.StringIO()
    )
    out = io.StringIO()
    call_command("bench", "api", "--iterations", "3", "--warmup", "1", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["customers"] == 300
    assert len(result["results"]) >= 12
    for row in result["results"]:
        assert row["p50_ms"] > 0 and row["sql_p50_ms"] > 0
