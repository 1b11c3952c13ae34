"""Every write leaves an AuditEvent with before/after; history per customer; the log for admin/manager."""

import pytest

from guanxi.core.models import AuditEvent


def _actions(customer_id):
    return list(
        AuditEvent.objects.filter(object_type="customer", object_id=str(customer_id))
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_each_write_is_audited_with_before_and_after(world, customer):
    owner, admin = world.api("owner"), world.api("admin")
    owner.patch(f"/customers/{customer.pk}", {"title": "经理", "tags": ["VIP"]}, headers={"If-Match": '"1"'})
    owner.post("/contacts", {"customer_id": customer.pk, "name": "王秘书"})
    owner.post(f"/customers/{customer.pk}/shares", {"username": "teammate"})
    admin.delete(f"/customers/{customer.pk}")
    admin.post(f"/customers/{customer.pk}/restore")
    assert _actions(customer.pk) == ["create", "update", "contact_add", "share", "delete", "restore"]
    update = AuditEvent.objects.get(object_type="customer", object_id=str(customer.pk), action="update")
    assert update.changes == {"title": ["", "经理"], "tags": [[], ["VIP"]]}
    assert update.actor_name == "owner"
    create = AuditEvent.objects.get(object_type="customer", object_id=str(customer.pk), action="create")
    assert create.changes["phone_e164"] == [None, "+8613812348000"]
    assert create.changes["owner"] == [None, "owner"]


def test_history_endpoint(world, customer):
    api = world.api("owner")
    api.patch(f"/customers/{customer.pk}", {"name": "张大伟"}, headers={"If-Match": '"1"'})
    history = api.get(f"/customers/{customer.pk}/history").json()
    assert [e["action"] for e in history] == ["update", "create"]
    assert history[0]["changes"]["name"] == ["张伟", "张大伟"]
    assert history[0]["actor"] == "owner"
    page = api.get(f"/customers/{customer.pk}/history", {"limit": 1, "before_id": history[0]["id"]}).json()
    assert [e["action"] for e in page] == ["create"]


def test_history_is_masked_for_roles_without_contact_details(world, customer):
    """The history must not leak the phone that the customer detail masks."""
    history = world.api("readonly").get(f"/customers/{customer.pk}/history").json()
    assert "13812348000" not in str(history)
    assert "zhang.wei@example.com" not in str(history)


def test_tag_changes_are_audited(world, customer):
    api = world.api("admin")
    tag = api.post("/tags", {"name": "VIP"}).json()
    api.patch(f"/tags/{tag['id']}", {"name": "贵宾"})
    api.delete(f"/tags/{tag['id']}")
    actions = list(
        AuditEvent.objects.filter(object_type="tag").order_by("id").values_list("action", flat=True)
    )
    assert actions == ["create", "update", "delete"]


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("manager", 200), ("owner", 403), ("readonly", 403)]
)
def test_audit_log_admin_and_manager_only(world, customer, who, status):
    r = world.api(who).get("/audit-events")
    assert r.status_code == status


def test_audit_log_is_per_organisation(world, customer, other_customer):
    events = world.api("other_admin").get("/audit-events", {"object_type": "customer"}).json()
    assert {e["object_id"] for e in events} == {str(other_customer.pk)}


def test_audit_log_filters(world, customer):
    api = world.api("admin")
    events = api.get(
        "/audit-events", {"action": "create", "object_type": "customer", "actor": "owner"}
    ).json()
    assert [e["object_id"] for e in events] == [str(customer.pk)]
    assert api.get("/audit-events", {"limit": 501}).status_code == 422


def test_login_writes_an_audit_row(world, password_user):
    from django.test import Client

    client = Client()
    r = client.post("/login/", {"username": "pw_owner", "password": "correct-horse-battery-9"})
    assert r.status_code == 302
    event = AuditEvent.objects.filter(action="login", object_repr="pw_owner").get()
    assert event.organization_id == world.org.pk
    r = client.post("/login/", {"username": "pw_owner", "password": "wrong"})
    assert AuditEvent.objects.filter(action="login_failed", object_repr="pw_owner").exists()


def test_permission_change_is_audited(world):
    world.api("admin").patch(f"/users/{world.teammate.pk}", {"role": "manager"})
    event = AuditEvent.objects.get(action="permission_change", object_repr="teammate")
    assert event.changes["role"] == ["sales", "manager"]
    assert event.actor_name == "admin"


def test_history_shows_masked_values_but_keeps_the_stored_row(world, customer):
    history = world.api("marketing").get(f"/customers/{customer.pk}/history").json()
    assert history[0]["changes"]["phone"] == [None, "138****8000"]
    assert history[0]["changes"]["phones"][1][0]["e164"] == "+86138****8000"
    stored = AuditEvent.objects.get(object_type="customer", object_id=str(customer.pk), action="create")
    assert stored.changes["phone"] == [None, "138 1234 8000"]
    assert "13812348000" in str(world.api("admin").get(f"/customers/{customer.pk}/history").json())


def test_manager_audit_log_covers_only_the_team_customers(world, customer, make_customer):
    west = make_customer("outsider", name="西区客户", phone="13700007777")
    world.api("outsider").post(
        "/contacts", {"customer_id": west.pk, "name": "西区联系人", "phone": "13600006666"}
    )
    world.api("owner").post("/contacts", {"customer_id": customer.pk, "name": "东区联系人"})
    events = world.api("manager").get("/audit-events", {"limit": 500}).json()
    body = str(events)
    assert "西区" not in body and "13700007777" not in body and "13600006666" not in body
    seen = {(e["object_type"], e["object_id"]) for e in events}
    assert ("customer", str(customer.pk)) in seen
    assert any(e["object_type"] == "contact" and e["object_repr"] == "东区联系人" for e in events)
    assert any(e["object_type"] == "team" for e in events)  # organisation events stay visible
    everything = str(world.api("admin").get("/audit-events", {"limit": 500}).json())
    assert "西区客户" in everything and "西区联系人" in everything
