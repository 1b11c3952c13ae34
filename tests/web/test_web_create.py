"""Creating customers: server-side errors next to fields, duplicate warning, custom-field inputs."""

from __future__ import annotations

from typing import Any

from guanxi.core.models import AuditEvent
from guanxi.core.services import custom_field_create
from guanxi.customers.models import Customer


def test_create_form_permissions(login: Any, db: Any, world: Any) -> None:
    assert login("owner").get("/customers/new/").status_code == 200
    assert login("readonly").get("/customers/new/").status_code == 403
    assert login("readonly").post("/customers/new/", {"name": "x"}).status_code == 403
    assert not Customer.objects.exists()


def test_create_customer(login: Any, world: Any) -> None:
    response = login("owner").post(
        "/customers/new/",
        {
            "kind": "person",
            "name": "陈静",
            "company": "杭州远航",
            "phone": "139 0000 2222",
            "email": "chen@example.com",
            "province": "浙江",
            "city": "杭州",
            "lifecycle_stage": "lead",
            "grade": "A",
            "tags": "展会，重点客户",
            "birthday": "",
        },
    )
    assert response.status_code == 302
    customer = Customer.objects.get(name="陈静")
    assert response["Location"] == f"/customers/{customer.pk}/"
    assert customer.owner == world.owner.user and customer.phone_e164 == "+8613900002222"
    assert set(customer.tags.values_list("name", flat=True)) == {"展会", "重点客户"}
    assert AuditEvent.objects.filter(action="create", object_id=str(customer.pk), context__via="ui").exists()


def test_create_errors_are_shown_next_to_fields(login: Any, world: Any) -> None:
    response = login("owner").post(
        "/customers/new/",
        {"kind": "person", "name": "", "phone": "12345", "email": "not-an-email", "birthday": "2999-01-01"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    for field in ("name", "phone", "email", "birthday"):
        assert f'id="e-{field}"' in html, field
    assert 'value="12345"' in html  # what the user typed is kept
    assert not Customer.objects.exists()


def test_duplicate_warning_links_the_existing_record(login: Any, customer: Any) -> None:
    client = login("owner")
    data = {"kind": "person", "name": "张伟(重复)", "phone": "13812348000"}
    response = client.post("/customers/new/", data)
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="duplicate-warning"' in html
    assert f'href="/customers/{customer.pk}/"' in html
    assert Customer.objects.count() == 1
    response = client.post("/customers/new/", {**data, "allow_duplicate": "on"})
    assert response.status_code == 302
    assert Customer.objects.count() == 2


def test_duplicate_of_invisible_customer_does_not_leak_it(login: Any, customer: Any) -> None:
    response = login("outsider").post(
        "/customers/new/", {"kind": "person", "name": "x", "email": "zhang.wei@example.com"}
    )
    html = response.content.decode()
    assert 'id="duplicate-warning"' in html
    assert f"/customers/{customer.pk}/" not in html and "张伟" not in html


def test_custom_field_inputs_come_from_definitions(login: Any, world: Any) -> None:
    admin = world.actor("admin")
    custom_field_create(
        actor=admin, data={"key": "budget", "label": "年度预算", "field_type": "number", "required": True}
    )
    custom_field_create(
        actor=admin,
        data={"key": "channels", "label": "渠道", "field_type": "multi_choice", "choices": ["电话", "微信"]},
    )
    custom_field_create(actor=admin, data={"key": "since", "label": "合作开始", "field_type": "date"})
    client = login("owner")
    html = client.get("/customers/new/").content.decode()
    assert 'name="custom.budget" value="" type="number"' in html
    assert 'type="checkbox" name="custom.channels" value="微信"' in html
    assert 'name="custom.since" value="" type="date"' in html
    missing = client.post("/customers/new/", {"kind": "person", "name": "a", "custom.budget": ""})
    assert 'id="e-custom.budget"' in missing.content.decode()
    ok = client.post(
        "/customers/new/",
        {
            "kind": "person",
            "name": "a",
            "custom.budget": "1200.5",
            "custom.channels": ["", "微信"],
            "custom.since": "2024-03-01",
        },
    )
    assert ok.status_code == 302
    assert Customer.objects.get(name="a").custom == {
        "budget": 1200.5,
        "channels": ["微信"],
        "since": "2024-03-01",
    }


def test_owner_field_only_for_assigners(login: Any, world: Any) -> None:
    assert 'name="owner"' not in login("owner").get("/customers/new/").content.decode()
    client = login("manager")
    assert 'name="owner"' in client.get("/customers/new/").content.decode()
    client.post("/customers/new/", {"kind": "person", "name": "分配给王", "owner": "teammate"})
    assert Customer.objects.get(name="分配给王").owner == world.teammate.user


def test_owner_defaults_to_the_creator(login: Any, world: Any) -> None:
    html = login("admin").get("/customers/new/").content.decode()
    assert '<option value="admin" selected>' in html
