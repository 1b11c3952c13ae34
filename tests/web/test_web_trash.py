"""The recycle bin: list, restore, purge (admin)."""

from __future__ import annotations

from typing import Any

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer
from guanxi.customers.services import customer_delete


def _delete(world: Any, customer: Any) -> None:
    customer_delete(actor=world.actor("manager"), customer_id=customer.pk)


def test_trash_permissions(login: Any, world: Any, customer: Any) -> None:
    _delete(world, customer)
    assert login("owner").get("/trash/").status_code == 403
    assert login("readonly").get("/trash/").status_code == 403
    assert "张伟" in login("manager").get("/trash/").content.decode()
    assert "张伟" in login("admin").get("/trash/").content.decode()
    assert "张伟" not in login("other_admin").get("/trash/").content.decode()


def test_restore(login: Any, world: Any, customer: Any) -> None:
    _delete(world, customer)
    assert login("other_admin").post(f"/customers/{customer.pk}/restore/").status_code == 404
    response = login("manager").post(f"/customers/{customer.pk}/restore/")
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).deleted_at is None
    assert AuditEvent.objects.filter(action="restore", object_id=str(customer.pk)).exists()
    # Restoring a live customer is refused with a message, not a 500.
    assert login("manager").post(f"/customers/{customer.pk}/restore/").status_code == 302


def test_purge_is_admin_only(login: Any, world: Any, customer: Any) -> None:
    _delete(world, customer)
    purge_form = f'action="/customers/{customer.pk}/purge/"'
    assert purge_form not in login("manager").get("/trash/").content.decode()
    assert login("manager").post(f"/customers/{customer.pk}/purge/").status_code == 403
    assert login("other_admin").post(f"/customers/{customer.pk}/purge/").status_code == 404
    assert login("admin").post(f"/customers/{customer.pk}/purge/").status_code == 302
    assert not Customer.objects.filter(pk=customer.pk).exists()
    assert AuditEvent.objects.filter(action="purge", object_id=str(customer.pk)).exists()


def test_purge_of_live_customer_is_refused(login: Any, customer: Any) -> None:
    assert login("admin").post(f"/customers/{customer.pk}/purge/").status_code == 302
    assert Customer.objects.filter(pk=customer.pk).exists()
