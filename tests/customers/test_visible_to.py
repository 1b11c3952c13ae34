"""Customer.objects.visible_to(actor): the only door to customer rows."""

import pytest

from guanxi.core.errors import NotFound
from guanxi.customers.models import Customer, CustomerShare
from guanxi.customers.selectors import customer_get


@pytest.fixture
def rows(world, make_customer):
    return {
        "owner": make_customer("owner", name="A").pk,
        "teammate": make_customer("teammate", name="B").pk,
        "outsider": make_customer("outsider", name="C").pk,
        "unowned": make_customer("admin", name="D", owner="").pk,
        "other": make_customer("other_admin", name="E").pk,
    }


def _visible(world, who):
    return set(Customer.objects.visible_to(world.actor(who)).values_list("pk", flat=True))


def test_scopes_per_role(world, rows):
    acme = {rows[k] for k in ("owner", "teammate", "outsider", "unowned")}
    assert _visible(world, "owner") == {rows["owner"]}
    assert _visible(world, "teammate") == {rows["teammate"]}
    assert _visible(world, "outsider") == {rows["outsider"]}
    assert _visible(world, "manager") == {rows["owner"], rows["teammate"]}
    for who in ("admin", "marketing", "service", "readonly"):
        assert _visible(world, who) == acme
    assert _visible(world, "other_admin") == {rows["other"]}
    assert _visible(world, "other_sales") == set()


def test_manager_without_team_sees_only_own(world, rows, make_customer):
    from guanxi.core.services import membership_upsert

    m, _ = membership_upsert(org=world.org, username="loner", role="manager")
    world.members["loner"] = m
    mine = make_customer("loner", name="L").pk
    assert _visible(world, "loner") == {mine}


def test_share_adds_exactly_that_customer(world, rows):
    CustomerShare.objects.create(organization=world.org, customer_id=rows["outsider"], user=world.owner.user)
    assert _visible(world, "owner") == {rows["owner"], rows["outsider"]}


def test_share_from_other_org_row_does_not_leak(world, rows):
    """A share row pointing at another organisation's customer must not make it visible."""
    CustomerShare.objects.create(organization=world.org, customer_id=rows["other"], user=world.owner.user)
    assert rows["other"] not in _visible(world, "owner")


def test_deleted_rows_hidden_unless_asked(world, rows):
    from django.utils import timezone

    Customer.objects.filter(pk=rows["owner"]).update(deleted_at=timezone.now())
    assert _visible(world, "owner") == set()
    actor = world.actor("owner")
    assert set(Customer.objects.visible_to(actor, include_deleted=True).values_list("pk", flat=True)) == {
        rows["owner"]
    }
    with pytest.raises(NotFound):
        customer_get(actor=actor, customer_id=rows["owner"])


def test_customer_get_foreign_id_is_not_found(world, rows):
    with pytest.raises(NotFound):
        customer_get(actor=world.actor("admin"), customer_id=rows["other"])
    with pytest.raises(NotFound):
        customer_get(actor=world.actor("owner"), customer_id=rows["teammate"])
