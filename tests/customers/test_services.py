"""Customer services: validation in one place, audit and events after commit, all or nothing."""

import pytest
from django.db import transaction

from guanxi.core import events
from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed
from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer, CustomerIdentifier, SearchGram
from guanxi.customers.services import customer_create, customer_delete, customer_update, customers_bulk


@pytest.fixture
def received():
    seen = []

    def handler(name, payload):
        seen.append((name, payload))

    events.subscribe("*", handler)
    yield seen
    events.unsubscribe("*", handler)


def test_events_fire_after_commit(world, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        c = customer_create(actor=world.actor("owner"), data={"name": "王芳"})
    assert (
        "customer.created",
        {"org_id": world.org.pk, "customer_id": c.pk, "actor_id": world.owner.user_id},
    ) in received


def test_no_event_when_the_transaction_rolls_back(world, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                customer_create(actor=world.actor("owner"), data={"name": "王芳"})
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    assert callbacks == [] and received == []
    assert not Customer.objects.exists()


def test_create_collects_every_error_at_once(world):
    with pytest.raises(ValidationFailed) as info:
        customer_create(
            actor=world.actor("owner"),
            data={"name": "", "phone": "1", "email": "x", "kind": "robot", "birthday": "1990-13-01"},
        )
    assert {e.field for e in info.value.errors} == {"name", "phone", "email", "kind", "birthday"}
    assert not AuditEvent.objects.filter(object_type="customer").exists()


def test_indexes_follow_create_update_delete(world, customer):
    assert CustomerIdentifier.objects.filter(customer=customer, kind="phone", value="+8613812348000").exists()
    assert SearchGram.objects.filter(customer_id=customer.pk, gram="张伟").exists()
    customer_update(
        actor=world.actor("owner"), customer_id=customer.pk, data={"phone": "13900002222"}, expected_version=1
    )
    assert set(
        CustomerIdentifier.objects.filter(customer=customer, kind="phone").values_list("value", flat=True)
    ) == {"+8613900002222"}
    customer_delete(actor=world.actor("admin"), customer_id=customer.pk)
    assert not SearchGram.objects.filter(customer_id=customer.pk).exists()


def test_update_of_invisible_customer_is_not_found(world, customer):
    with pytest.raises(NotFound):
        customer_update(
            actor=world.actor("teammate"), customer_id=customer.pk, data={"name": "x"}, expected_version=1
        )
    with pytest.raises(PermissionDenied):
        customer_update(
            actor=world.actor("readonly"), customer_id=customer.pk, data={"name": "x"}, expected_version=1
        )


def test_phone_primary_replacement_keeps_other_phones(world, make_customer):
    c = make_customer(
        "owner",
        name="A",
        phones=[{"label": "mobile", "value": "13800001111"}, {"label": "office", "value": "02166668888"}],
    )
    c = customer_update(
        actor=world.actor("owner"), customer_id=c.pk, data={"phone": "13900002222"}, expected_version=1
    )
    assert [p["e164"] for p in c.phones] == ["+8613900002222", "+862166668888"]
    c = customer_update(actor=world.actor("owner"), customer_id=c.pk, data={"phones": []}, expected_version=2)
    assert (c.phone, c.phone_e164, c.phones) == ("", "", [])


def test_bulk_is_all_or_nothing_in_the_service(world):
    items = [{"name": "A", "external_id": "1"}, {"name": "", "external_id": "2"}]
    with pytest.raises(ValidationFailed) as info:
        customers_bulk(actor=world.actor("owner"), items=items, mode="upsert")
    assert [(e.index, e.field) for e in info.value.errors] == [(1, "name")]
    assert not Customer.objects.exists()


def test_customer_team_follows_owner(world):
    c = customer_create(actor=world.actor("admin"), data={"name": "A", "owner": "outsider"})
    assert c.team_id == world.west.pk
    c = customer_update(
        actor=world.actor("admin"), customer_id=c.pk, data={"owner": "owner"}, expected_version=1
    )
    c.refresh_from_db()
    assert c.team_id == world.east.pk
