"""Bulk create / upsert by external_id: up to 1,000 items, all or nothing, per-item errors."""

from guanxi.customers.models import Customer


def _items(n, prefix="E"):
    return [{"name": f"客户{i}", "external_id": f"{prefix}{i}", "phone": f"139{i:08d}"} for i in range(n)]


def test_bulk_create_1000(world):
    r = world.api("owner").post("/customers/bulk", {"mode": "create", "items": _items(1000)})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["created"] == 1000 and body["updated"] == 0
    assert [i["index"] for i in body["items"]] == list(range(1000))
    assert Customer.objects.filter(owner=world.owner.user).count() == 1000
    # searchable straight away
    assert world.api("owner").get("/customers", {"q": "00000999"}).json()["items"][0]["name"] == "客户999"


def test_1001_items_is_422_and_writes_nothing(world):
    r = world.api("owner").post("/customers/bulk", {"mode": "create", "items": _items(1001)})
    assert r.status_code == 422
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["errors"][0]["field"] == "items"
    assert not Customer.objects.exists()


def test_one_bad_item_rejects_all_with_index(world):
    items = _items(5)
    items[3]["phone"] = "12345"
    items[1]["email"] = "not-an-email"
    r = world.api("owner").post("/customers/bulk", {"mode": "create", "items": items})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {(e["index"], e["field"]) for e in errors} == {(1, "email"), (3, "phone")}
    assert not Customer.objects.exists()


def test_schema_error_in_one_item_carries_its_index(world):
    items = _items(3)
    items[2]["nope"] = 1
    r = world.api("owner").post("/customers/bulk", {"mode": "create", "items": items})
    assert r.status_code == 422
    assert r.json()["errors"][0]["index"] == 2
    assert r.json()["errors"][0]["field"] == "nope"
    assert not Customer.objects.exists()


def test_upsert_updates_existing_and_creates_new(world):
    api = world.api("owner")
    api.post("/customers/bulk", {"mode": "upsert", "items": _items(3)})
    items = _items(4)
    items[0]["title"] = "经理"
    r = api.post("/customers/bulk", {"mode": "upsert", "items": items})
    assert r.status_code == 200, r.json()
    assert (r.json()["created"], r.json()["updated"]) == (1, 3)
    c = Customer.objects.get(external_id="E0")
    assert c.title == "经理" and c.version == 2
    assert Customer.objects.get(external_id="E1").version == 1  # unchanged item: no new version
    assert Customer.objects.count() == 4


def test_upsert_requires_external_id(world):
    r = world.api("owner").post("/customers/bulk", {"mode": "upsert", "items": [{"name": "A"}]})
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert (error["field"], error["code"], error["index"]) == ("external_id", "required", 0)
    assert error["message"]


def test_repeated_external_id_in_one_call(world):
    items = [{"name": "A", "external_id": "X"}, {"name": "B", "external_id": "X"}]
    r = world.api("owner").post("/customers/bulk", {"mode": "create", "items": items})
    assert r.status_code == 422
    assert r.json()["errors"][0]["index"] == 1


def test_create_mode_refuses_existing_external_id(world):
    api = world.api("owner")
    api.post("/customers/bulk", {"mode": "create", "items": _items(1)})
    r = api.post("/customers/bulk", {"mode": "create", "items": _items(2)})
    assert r.status_code == 422
    assert r.json()["errors"][0]["index"] == 0
    assert Customer.objects.count() == 1


def test_upsert_of_hidden_external_id_is_refused(world):
    world.api("outsider").post(
        "/customers/bulk", {"mode": "upsert", "items": [{"name": "秘密", "external_id": "S1"}]}
    )
    r = world.api("owner").post(
        "/customers/bulk",
        {
            "mode": "upsert",
            "items": [{"name": "ok", "external_id": "N1"}, {"name": "抢", "external_id": "S1"}],
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["index"] == 1
    assert r.json()["errors"][0]["code"] == "forbidden"
    assert "秘密" not in r.content.decode()
    assert Customer.objects.get(external_id="S1").name == "秘密"
    assert not Customer.objects.filter(external_id="N1").exists()


def test_upsert_of_other_org_external_id_creates_own(world):
    world.api("other_admin").post(
        "/customers/bulk", {"mode": "upsert", "items": [{"name": "他", "external_id": "S1"}]}
    )
    r = world.api("owner").post(
        "/customers/bulk", {"mode": "upsert", "items": [{"name": "我", "external_id": "S1"}]}
    )
    assert r.status_code == 200
    assert r.json()["created"] == 1
    assert Customer.objects.filter(external_id="S1").count() == 2


def test_readonly_and_other_scopes(world):
    assert world.api("readonly").post("/customers/bulk", {"items": _items(1)}).status_code == 403
    assert (
        world.api("owner", scopes=["read"]).post("/customers/bulk", {"items": _items(1)}).status_code == 403
    )
    assert not Customer.objects.exists()


def test_bulk_create_writes_audit_tags_and_index_per_item(world):
    from guanxi.core.models import AuditEvent

    items = _items(3)
    items[1]["tags"] = ["VIP", "新"]
    items[2]["owner"] = "owner"
    body = world.api("owner").post("/customers/bulk", {"mode": "create", "items": items}).json()
    ids = [i["id"] for i in body["items"]]
    events = AuditEvent.objects.filter(object_type="customer", action="create").order_by("object_id")
    assert [e.object_id for e in events] == [str(i) for i in ids]
    second = AuditEvent.objects.get(object_type="customer", object_id=str(ids[1]))
    assert second.changes["tags"] == [None, ["VIP", "新"]]
    assert second.changes["owner"] == [None, "owner"] and second.changes["team"] == [None, "East"]
    assert second.context["via"] == "api" and second.actor_name == "owner"
    api = world.api("owner")
    assert api.get(f"/customers/{ids[1]}").json()["tags"] == ["VIP", "新"]
    assert [c["id"] for c in api.get("/customers", {"q": "客户1"}).json()["items"]] == [ids[1]]
    r = api.post("/customers", {"name": "重复", "phone": items[0]["phone"]})
    assert r.status_code == 409 and r.json()["duplicate_ids"] == [ids[0]]


def test_bulk_create_queries_are_batched_not_per_item(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from guanxi.customers.services import customers_bulk

    actor = world.actor("owner")
    # the first call creates the tag
    customers_bulk(actor=actor, items=[{"name": "warm-up", "tags": ["VIP"]}], mode="create")
    counts = []
    for prefix, n in (("A", 10), ("B", 60)):
        items = [dict(i, tags=["VIP"]) for i in _items(n, prefix)]
        for item in items:
            item["phone"] = item["phone"].replace("139", "138" if prefix == "A" else "137", 1)
        with CaptureQueriesContext(connection) as ctx:
            customers_bulk(actor=actor, items=items, mode="create")
        counts.append(len(ctx.captured_queries))
    # batched, not per row (SQLite's 999-parameter limit splits the insert into a few batches)
    assert counts[1] - counts[0] <= 6, counts


def test_unique_custom_value_repeated_within_one_call(world):
    world.api("admin").post(
        "/custom-fields", {"key": "tax_id", "label": "税号", "field_type": "text", "unique": True}
    )
    items = [{"name": "A", "custom": {"tax_id": "9111"}}, {"name": "B", "custom": {"tax_id": "9111"}}]
    r = world.api("owner").post("/customers/bulk", {"mode": "create", "items": items})
    assert r.status_code == 422
    assert [(e["index"], e["field"], e["code"]) for e in r.json()["errors"]] == [
        (1, "custom.tax_id", "duplicate")
    ]
    assert not Customer.objects.exists()


def test_bulk_refuses_exact_duplicates_like_single_create(world, customer) -> None:  # type: ignore[no-untyped-def]
    from guanxi.customers.models import Customer

    api = world.api("admin")
    before = Customer.objects.count()
    items = [
        {"name": "重复电话", "phone": "13812348000"},  # the fixture customer's phone
        {"name": "新客户甲", "email": "same@example.com"},
        {"name": "新客户乙", "email": "SAME@example.com"},  # repeats item 1 once normalised
        {"name": "没问题", "phone": "13900001111"},
    ]
    response = api.post("/customers/bulk", {"mode": "create", "items": items})
    assert response.status_code == 422
    errors = {(e["index"], e["field"], e["code"]) for e in response.json()["errors"]}
    assert errors == {(0, "phone", "duplicate"), (2, "email", "duplicate")}
    assert Customer.objects.count() == before
    allowed = api.post("/customers/bulk", {"mode": "create", "allow_duplicate": True, "items": items})
    assert allowed.status_code == 200 and allowed.json()["created"] == 4


def test_bulk_upsert_keeps_its_own_phone_without_a_duplicate_error(world) -> None:  # type: ignore[no-untyped-def]
    api = world.api("admin")
    first = api.post(
        "/customers/bulk",
        {"mode": "upsert", "items": [{"name": "甲", "external_id": "x1", "phone": "13900002222"}]},
    )
    assert first.status_code == 200
    again = api.post(
        "/customers/bulk",
        {"mode": "upsert", "items": [{"name": "甲乙", "external_id": "x1", "phone": "13900002222"}]},
    )
    assert again.status_code == 200 and again.json()["updated"] == 1
