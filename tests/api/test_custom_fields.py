"""Custom-field definitions (admin only) and customer values validated against them."""

import pytest

from guanxi.core.models import CustomFieldDefinition
from guanxi.customers.models import Customer

DEFS = [
    {"key": "budget", "label": "预算", "field_type": "number"},
    {"key": "note2", "label": "备注", "field_type": "text"},
    {"key": "signed", "label": "签约日", "field_type": "date"},
    {"key": "channel", "label": "渠道", "field_type": "choice", "choices": ["线上", "线下"]},
    {"key": "products", "label": "产品", "field_type": "multi_choice", "choices": ["A", "B", "C"]},
    {"key": "vip", "label": "VIP", "field_type": "bool"},
]


@pytest.fixture
def defs(world):
    admin = world.api("admin")
    for d in DEFS:
        r = admin.post("/custom-fields", d)
        assert r.status_code == 201, r.json()
    return admin


def test_admin_defines_fields_others_read_them(world, defs):
    keys = [d["key"] for d in world.api("readonly").get("/custom-fields").json()]
    assert keys == [d["key"] for d in DEFS]
    r = world.api("manager").post("/custom-fields", {"key": "x", "label": "X", "field_type": "text"})
    assert r.status_code == 403
    assert world.api("other_admin").get("/custom-fields").json() == []


def test_every_type_is_validated_and_coerced(world, defs):
    r = world.api("owner").post(
        "/customers",
        {
            "name": "张伟",
            "custom": {
                "budget": "12000.50",
                "note2": " hello ",
                "signed": "2024-02-29",
                "channel": "线上",
                "products": ["C", "A", "A"],
                "vip": "是",
            },
        },
    )
    assert r.status_code == 201, r.json()
    assert r.json()["custom"] == {
        "budget": 12000.5,
        "note2": "hello",
        "signed": "2024-02-29",
        "channel": "线上",
        "products": ["A", "C"],
        "vip": True,
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("budget", "lots"),
        ("budget", True),
        ("budget", "NaN"),
        ("note2", {"a": 1}),
        ("note2", "x" * 1001),
        ("signed", "2024-02-30"),
        ("channel", "电话"),
        ("products", ["A", "Z"]),
        ("vip", "maybe"),
    ],
)
def test_bad_values_are_422_with_the_field(world, defs, key, value):
    r = world.api("owner").post("/customers", {"name": "张伟", "custom": {key: value}})
    assert r.status_code == 422, r.json()
    assert r["Content-Type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [f"custom.{key}"]
    assert not Customer.objects.exists()


def test_unknown_key_is_rejected(world, defs):
    r = world.api("owner").post("/customers", {"name": "张伟", "custom": {"nope": 1}})
    assert r.status_code == 422
    error = r.json()["errors"][0]
    assert (error["field"], error["code"]) == ("custom.nope", "unknown_field")
    assert error["message"]


def test_required_field(world, defs, customer):
    world.api("admin").post(
        "/custom-fields", {"key": "region", "label": "区域", "field_type": "text", "required": True}
    )
    api = world.api("owner")
    r = api.post("/customers", {"name": "王芳"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "custom.region"
    assert r.json()["errors"][0]["code"] == "required"
    assert api.post("/customers", {"name": "王芳", "custom": {"region": "华北"}}).status_code == 201
    # a PATCH that does not touch it is fine; clearing it is not
    assert (
        api.patch(f"/customers/{customer.pk}", {"title": "x"}, headers={"If-Match": '"1"'}).status_code == 200
    )
    r = api.patch(f"/customers/{customer.pk}", {"custom": {"region": ""}}, headers={"If-Match": '"2"'})
    assert r.status_code == 422


def test_unique_field(world, defs):
    world.api("admin").post(
        "/custom-fields", {"key": "tax_id", "label": "税号", "field_type": "text", "unique": True}
    )
    api = world.api("owner")
    first = api.post("/customers", {"name": "A", "custom": {"tax_id": "91110000"}})
    assert first.status_code == 201
    r = api.post("/customers", {"name": "B", "custom": {"tax_id": "91110000"}})
    assert r.status_code == 422
    assert r.json()["errors"][0]["code"] == "unique"
    # editing the holder itself is not a clash
    r = api.patch(
        f"/customers/{first.json()['id']}", {"custom": {"tax_id": "91110000"}}, headers={"If-Match": '"1"'}
    )
    assert r.status_code == 200


def test_patch_merges_custom_values(world, defs, customer):
    api = world.api("owner")
    api.patch(
        f"/customers/{customer.pk}", {"custom": {"budget": 5, "vip": True}}, headers={"If-Match": '"1"'}
    )
    r = api.patch(f"/customers/{customer.pk}", {"custom": {"budget": None}}, headers={"If-Match": '"2"'})
    assert r.json()["custom"] == {"vip": True}


def test_definition_validation_and_update_delete(world):
    admin = world.api("admin")
    assert (
        admin.post("/custom-fields", {"key": "Bad Key", "label": "x", "field_type": "text"}).status_code
        == 422
    )
    assert admin.post("/custom-fields", {"key": "c", "label": "x", "field_type": "choice"}).status_code == 422
    assert admin.post("/custom-fields", {"key": "t", "label": "x", "field_type": "colour"}).status_code == 422
    created = admin.post("/custom-fields", {"key": "t", "label": "x", "field_type": "text"}).json()
    assert admin.post("/custom-fields", {"key": "t", "label": "y", "field_type": "text"}).status_code == 422
    r = admin.patch(f"/custom-fields/{created['id']}", {"label": "新标签"})
    assert r.status_code == 200 and r.json()["label"] == "新标签"
    assert (
        world.api("other_admin").patch(f"/custom-fields/{created['id']}", {"label": "z"}).status_code == 404
    )
    assert world.api("other_admin").delete(f"/custom-fields/{created['id']}").status_code == 404
    assert admin.delete(f"/custom-fields/{created['id']}").status_code == 204
    assert not CustomFieldDefinition.objects.exists()
