"""Contacts: people at a company customer, scoped by the customer's visibility."""

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Contact


def test_add_list_update_delete(world, customer):
    api = world.api("owner")
    r = api.post(
        "/contacts",
        {
            "customer_id": customer.pk,
            "name": "王秘书",
            "phone": "139-0000-1234",
            "email": "Wang@X.cn",
            "is_primary": True,
        },
    )
    assert r.status_code == 201, r.json()
    contact = r.json()
    assert contact["phone_e164"] == "+8613900001234"
    assert contact["email"] == "wang@x.cn"
    assert r["ETag"] == '"1"'
    assert api.get(f"/contacts/{contact['id']}").json()["name"] == "王秘书"
    assert [c["id"] for c in api.get("/contacts", {"customer_id": customer.pk}).json()["items"]] == [
        contact["id"]
    ]
    r = api.patch(f"/contacts/{contact['id']}", {"title": "秘书"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert (
        api.patch(f"/contacts/{contact['id']}", {"title": "x"}, headers={"If-Match": '"1"'}).status_code
        == 412
    )
    assert api.patch(f"/contacts/{contact['id']}", {"title": "x"}).status_code == 428
    assert api.delete(f"/contacts/{contact['id']}").status_code == 204
    assert not Contact.objects.exists()
    actions = set(AuditEvent.objects.filter(object_type="contact").values_list("action", flat=True))
    assert actions == {"create", "update", "delete"}


def test_only_one_primary_contact(world, customer):
    api = world.api("owner")
    a = api.post("/contacts", {"customer_id": customer.pk, "name": "A", "is_primary": True}).json()
    b = api.post("/contacts", {"customer_id": customer.pk, "name": "B", "is_primary": True}).json()
    assert api.get(f"/contacts/{a['id']}").json()["is_primary"] is False
    assert api.get(f"/contacts/{b['id']}").json()["is_primary"] is True


def test_bad_contact_input(world, customer):
    api = world.api("owner")
    r = api.post("/contacts", {"customer_id": customer.pk, "name": "A", "phone": "12"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "phone"
    r = api.post("/contacts", {"customer_id": customer.pk, "name": "A", "email": "nope"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"
    r = api.post("/contacts", {"customer_id": customer.pk, "name": "   "})
    assert r.status_code == 422
    r = api.post("/contacts", {"customer_id": customer.pk, "name": "A", "hack": 1})
    assert r.status_code == 422
    assert api.post("/contacts", {"customer_id": 999999, "name": "A"}).status_code == 404
    assert not Contact.objects.exists()


def test_contacts_follow_customer_visibility(world, customer):
    contact = world.api("owner").post("/contacts", {"customer_id": customer.pk, "name": "王秘书"}).json()
    for who in ("teammate", "outsider", "other_admin"):
        api = world.api(who)
        assert api.get(f"/contacts/{contact['id']}").status_code == 404
        assert api.get("/contacts").json()["items"] == []
        assert api.delete(f"/contacts/{contact['id']}").status_code == 404
    assert world.api("manager").get(f"/contacts/{contact['id']}").status_code == 200
    assert world.api("readonly").delete(f"/contacts/{contact['id']}").status_code == 403


def test_contacts_of_deleted_customer_are_hidden(world, customer):
    contact = world.api("owner").post("/contacts", {"customer_id": customer.pk, "name": "王秘书"}).json()
    world.api("admin").delete(f"/customers/{customer.pk}")
    assert world.api("admin").get(f"/contacts/{contact['id']}").status_code == 404


def test_contact_pagination(world, customer):
    api = world.api("owner")
    ids = [
        api.post("/contacts", {"customer_id": customer.pk, "name": f"c{i}"}).json()["id"] for i in range(5)
    ]
    seen, cursor = [], ""
    while True:
        body = api.get("/contacts", {"limit": 2, "cursor": cursor}).json()
        seen += [c["id"] for c in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == ids
    assert api.get("/contacts", {"cursor": "abc"}).status_code == 422
