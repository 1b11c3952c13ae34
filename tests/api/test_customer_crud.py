"""The customer resource: contract field names, normalisation, tags, phones and emails, duplicates."""

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer

CONTRACT = [
    "id", "kind", "name", "company", "title", "phone", "phone_e164", "email", "phones", "emails",
    "wechat", "province", "city", "district", "address", "industry", "size", "source", "birthday",
    "birthday_is_lunar", "owner", "team", "tags", "custom", "lifecycle_stage", "value_tier", "grade",
    "external_id", "version", "created_at", "updated_at",
]  # fmt: skip

FULL = {
    "kind": "company",
    "name": "北京星河科技有限公司",
    "company": "星河集团",
    "title": "采购部",
    "gender": "",
    "phone": "+86 138-1234-8000",
    "email": "Buyer@XingHe.CN",
    "wechat": "xinghe_buy",
    "province": "北京",
    "city": "北京",
    "district": "海淀区",
    "address": "中关村大街1号",
    "industry": "软件",
    "size": "50-200",
    "source": "展会",
    "birthday": "1990-05-01",
    "birthday_is_lunar": True,
    "tags": ["VIP", "重点"],
    "notes": "首次接触于展会",
    "lifecycle_stage": "new",
    "value_tier": "high",
    "grade": "A",
    "external_id": "ERP-0001",
}


def test_create_returns_every_contract_field(world):
    r = world.api("owner").post("/customers", FULL)
    assert r.status_code == 201, r.json()
    body = r.json()
    assert set(CONTRACT) <= set(body)
    assert r["ETag"] == '"1"'
    assert r["Location"] == f"/api/v1/customers/{body['id']}"
    assert body["phone"] == "+86 138-1234-8000"
    assert body["phone_e164"] == "+8613812348000"
    assert body["email"] == "buyer@xinghe.cn"
    assert body["owner"] == "owner"
    assert body["team"] == "East"
    assert body["tags"] == ["VIP", "重点"]
    assert body["version"] == 1
    for key in set(FULL) - {"phone", "email", "tags"}:
        assert body[key] == FULL[key], key
    again = world.api("owner").get(f"/customers/{body['id']}").json()
    assert {k: again[k] for k in CONTRACT if k != "updated_at"} == {
        k: body[k] for k in CONTRACT if k != "updated_at"
    } | {"created_at": again["created_at"]}


def test_defaults_for_a_minimal_customer(world):
    body = world.api("owner").post("/customers", {"name": "  王芳  "}).json()
    assert body["name"] == "王芳"
    assert body["kind"] == "person"
    assert body["lifecycle_stage"] == "potential"
    assert body["phones"] == [] and body["emails"] == [] and body["tags"] == [] and body["custom"] == {}


def test_full_width_text_is_normalised(world):
    body = (
        world.api("owner")
        .post("/customers", {"name": "ＡＢＣ公司", "phone": "１３８１２３４８０００"})
        .json()
    )
    assert body["name"] == "ABC公司"
    assert body["phone_e164"] == "+8613812348000"


def test_several_phones_and_emails_with_labels(world):
    r = world.api("owner").post(
        "/customers",
        {
            "name": "李雷",
            "phones": [
                {"label": "mobile", "value": "13800001111"},
                {"label": "office", "value": "021 6666 8888"},
                {"label": "hk", "value": "+852 6123 4567"},
            ],
            "emails": [{"label": "work", "value": "LiLei@Corp.com"}, {"value": "lilei@home.net"}],
        },
    )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert [(p["label"], p["e164"]) for p in body["phones"]] == [
        ("mobile", "+8613800001111"),
        ("office", "+862166668888"),
        ("hk", "+85261234567"),
    ]
    assert body["phone"] == "13800001111" and body["phone_e164"] == "+8613800001111"
    assert [(e["label"], e["value"]) for e in body["emails"]] == [
        ("work", "lilei@corp.com"),
        ("work", "lilei@home.net"),
    ]
    assert body["email"] == "lilei@corp.com"


def test_patch_changes_only_given_fields_and_bumps_version(world, customer):
    api = world.api("owner")
    r = api.patch(
        f"/customers/{customer.pk}", {"title": "总经理", "tags": ["VIP"]}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["title"] == "总经理"
    assert body["tags"] == ["VIP"]
    assert body["company"] == "北京星河科技有限公司"
    assert body["phone_e164"] == "+8613812348000"
    assert body["version"] == 2
    assert r["ETag"] == '"2"'


def test_tags_by_name_created_on_demand_and_replaced(world, customer):
    api = world.api("owner")
    api.patch(f"/customers/{customer.pk}", {"tags": ["VIP", "回头客", "VIP"]}, headers={"If-Match": '"1"'})
    assert sorted(t["name"] for t in api.get("/tags").json()) == ["VIP", "回头客"]
    r = api.patch(f"/customers/{customer.pk}", {"tags": ["回头客"]}, headers={"If-Match": '"2"'})
    assert r.json()["tags"] == ["回头客"]
    assert api.get("/customers", {"tag": "VIP"}).json()["items"] == []
    assert [c["id"] for c in api.get("/customers", {"tag": "回头客"}).json()["items"]] == [customer.pk]


def test_noop_patch_keeps_version(world, customer):
    r = world.api("owner").patch(f"/customers/{customer.pk}", {"name": "张伟"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200
    assert r.json()["version"] == 1


def test_duplicate_phone_is_409_with_visible_ids(world, customer):
    api = world.api("owner")
    r = api.post("/customers", {"name": "张伟2", "phone": "+86 13812348000"})
    assert r.status_code == 409
    assert r["Content-Type"] == "application/problem+json"
    assert r.json()["duplicate_ids"] == [customer.pk]
    r = api.post("/customers", {"name": "张伟3", "email": "ZHANG.WEI@example.com"})
    assert r.status_code == 409
    assert Customer.objects.count() == 1


def test_duplicate_owned_by_someone_invisible_does_not_leak_its_id(world, customer):
    r = world.api("teammate").post("/customers", {"name": "张伟", "phone": "13812348000"})
    assert r.status_code == 409
    assert r.json()["duplicate_ids"] == []
    assert str(customer.pk) not in r.json()["detail"]


def test_duplicate_in_other_org_is_not_a_duplicate(world, customer):
    r = world.api("other_admin").post("/customers", {"name": "张伟", "phone": "13812348000"})
    assert r.status_code == 201


def test_allow_duplicate_overrides(world, customer):
    r = world.api("owner").post("/customers?allow_duplicate=true", {"name": "张伟", "phone": "13812348000"})
    assert r.status_code == 201
    assert Customer.objects.filter(phone_e164="+8613812348000").count() == 2


def test_patch_adding_a_duplicate_phone_is_409(world, customer, make_customer):
    other = make_customer("owner", name="王芳", phone="13900002222")
    r = world.api("owner").patch(
        f"/customers/{other.pk}", {"phone": "13812348000"}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 409
    other.refresh_from_db()
    assert other.phone_e164 == "+8613900002222" and other.version == 1


def test_deleted_customer_is_not_a_duplicate(world, customer):
    world.api("admin").delete(f"/customers/{customer.pk}")
    assert world.api("owner").post("/customers", {"name": "张伟", "phone": "13812348000"}).status_code == 201


def test_create_writes_an_audit_event(world):
    body = world.api("owner").post("/customers", {"name": "王芳", "phone": "13900002222"}).json()
    event = AuditEvent.objects.get(object_type="customer", object_id=str(body["id"]), action="create")
    assert event.actor_name == "owner"
    assert event.changes["name"] == [None, "王芳"]
    assert event.context["via"] == "api"


def test_external_id_must_be_unique(world, customer):
    api = world.api("owner")
    assert api.post("/customers", {"name": "A", "external_id": "X-1"}).status_code == 201
    r = api.post("/customers", {"name": "B", "external_id": "X-1"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "external_id"


def test_external_id_filter(world):
    api = world.api("owner")
    created = api.post("/customers", {"name": "A", "external_id": "X-1"}).json()
    api.post("/customers", {"name": "B", "external_id": "X-2"})
    assert [c["id"] for c in api.get("/customers", {"external_id": "X-1"}).json()["items"]] == [created["id"]]
