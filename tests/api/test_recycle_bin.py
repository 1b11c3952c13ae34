"""Soft delete into the recycle bin, restore, purge (admin only), purge after 30 days."""

import datetime as dt

from django.utils import timezone

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer, SearchGram
from guanxi.customers.services import customers_purge_expired


def test_delete_moves_to_recycle_bin(world, customer):
    admin = world.api("admin")
    assert admin.delete(f"/customers/{customer.pk}").status_code == 204
    assert admin.get(f"/customers/{customer.pk}").status_code == 404
    assert admin.get("/customers").json()["items"] == []
    assert admin.get("/customers", {"q": "张伟"}).json()["items"] == []
    binned = admin.get("/customers/deleted").json()["items"]
    assert [c["id"] for c in binned] == [customer.pk]
    assert binned[0]["deleted_at"] is not None
    assert (
        admin.patch(f"/customers/{customer.pk}", {"name": "x"}, headers={"If-Match": '"2"'}).status_code
        == 404
    )
    assert admin.delete(f"/customers/{customer.pk}").status_code == 404


def test_manager_deletes_and_restores_team_customer(world, customer):
    manager = world.api("manager")
    assert manager.delete(f"/customers/{customer.pk}").status_code == 204
    assert [c["id"] for c in manager.get("/customers/deleted").json()["items"]] == [customer.pk]
    r = manager.post(f"/customers/{customer.pk}/restore")
    assert r.status_code == 200
    assert r.json()["deleted_at"] is None
    assert r.json()["version"] == 3
    assert world.api("owner").get(f"/customers/{customer.pk}").status_code == 200
    assert manager.get("/customers/deleted").json()["items"] == []


def test_restore_of_live_customer_is_409(world, customer):
    r = world.api("admin").post(f"/customers/{customer.pk}/restore")
    assert r.status_code == 409


def test_recycle_bin_needs_delete_permission(world, customer):
    assert world.api("owner").get("/customers/deleted").status_code == 403
    assert world.api("readonly").get("/customers/deleted").status_code == 403


def test_purge_admin_only_and_only_from_the_bin(world, customer):
    admin = world.api("admin")
    assert admin.delete(f"/customers/{customer.pk}/purge").status_code == 409
    admin.delete(f"/customers/{customer.pk}")
    assert world.api("manager").delete(f"/customers/{customer.pk}/purge").status_code == 403
    assert admin.delete(f"/customers/{customer.pk}/purge").status_code == 204
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert not SearchGram.objects.filter(customer_id=customer.pk).exists()
    assert AuditEvent.objects.filter(object_id=str(customer.pk), action="purge").exists()
    # history stays readable for admins in the audit log
    events = admin.get("/audit-events", {"object_type": "customer", "object_id": str(customer.pk)}).json()
    assert [e["action"] for e in events][:2] == ["purge", "delete"]


def test_purge_expired_after_30_days(world, customer, make_customer):
    recent = make_customer("owner", name="新删的")
    admin = world.api("admin")
    admin.delete(f"/customers/{customer.pk}")
    admin.delete(f"/customers/{recent.pk}")
    Customer.objects.filter(pk=customer.pk).update(deleted_at=timezone.now() - dt.timedelta(days=31))
    alive = make_customer("owner", name="活着的")
    assert customers_purge_expired(days=30) == 1
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert Customer.objects.filter(pk__in=[recent.pk, alive.pk]).count() == 2
    event = AuditEvent.objects.get(action="purge", object_id=str(customer.pk))
    assert event.organization_id == world.org.pk and event.actor_name == "system"
    later = timezone.now() + dt.timedelta(days=31)
    assert customers_purge_expired(days=30, now=later) == 1
    assert Customer.objects.filter(pk=alive.pk).exists()


def test_purge_deleted_command(world, customer):
    from io import StringIO

    from django.core.management import call_command

    world.api("admin").delete(f"/customers/{customer.pk}")
    Customer.objects.filter(pk=customer.pk).update(deleted_at=timezone.now() - dt.timedelta(days=40))
    out = StringIO()
    call_command("purge_deleted", "--json", stdout=out)
    assert '"purged": 1' in out.getvalue()
