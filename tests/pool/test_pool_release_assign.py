"""Releasing to the pool (owner or manager) and assigning from it (manager within team, admin)."""

import pytest

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer, CustomerAssignment
from guanxi.customers.services import customer_share


def _release(world, who, customer, reason="客户暂无需求"):
    return world.api(who).post(f"/customers/{customer.pk}/release", {"reason": reason})


def test_owner_releases_their_customer(world, customer):
    r = _release(world, "owner", customer)
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["in_public_pool"] is True and body["pool_reason"] == "release"
    assert body["previous_owner"] == "owner" and body["details_masked"] is True
    c = Customer.objects.get(pk=customer.pk)
    assert (c.owner_id, c.team_id, c.in_public_pool, c.version) == (None, None, True, customer.version + 1)
    move = CustomerAssignment.objects.get(customer=c)
    assert (move.reason, move.from_user_id, move.to_user_id, move.note) == (
        "release",
        world.owner.user_id,
        None,
        "客户暂无需求",
    )
    event = AuditEvent.objects.filter(object_type="customer", object_id=str(c.pk)).latest("id")
    assert event.action == "pool_release"
    assert event.changes == {
        "owner": ["owner", None],
        "team": ["East", None],
        "in_public_pool": [False, True],
    }
    assert event.context["note"] == "客户暂无需求"
    # It is in everybody's pool now, and out of the owner's list.
    assert [x["id"] for x in world.api("outsider").get("/pool").json()["items"]] == [c.pk]
    assert world.api("owner").get(f"/customers/{c.pk}").status_code == 404


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_admin"])
def test_others_cannot_release_what_they_cannot_see(world, customer, who):
    assert _release(world, who, customer).status_code == 404
    assert Customer.objects.get(pk=customer.pk).owner_id == world.owner.user_id


@pytest.mark.parametrize("who", ["marketing", "service", "readonly"])
def test_roles_outside_the_pool_cannot_release(world, customer, who):
    assert _release(world, who, customer).status_code == 403


@pytest.mark.parametrize("who", ["manager", "admin"])
def test_manager_and_admin_release_a_reps_customer(world, customer, who):
    assert _release(world, who, customer).status_code == 200
    assert CustomerAssignment.objects.get(customer=customer).actor_id == world.members[who].user_id


def test_a_share_is_not_ownership(world, customer):
    customer_share(actor=world.actor("owner"), customer_id=customer.pk, username="teammate")
    r = _release(world, "teammate", customer)
    assert r.status_code == 403
    assert Customer.objects.get(pk=customer.pk).in_public_pool is False


def test_release_needs_a_reason(world, customer):
    api = world.api("owner")
    for body in ({}, {"reason": ""}, {"reason": "x" * 201}):
        assert api.post(f"/customers/{customer.pk}/release", body).status_code == 422
    r = api.post(f"/customers/{customer.pk}/release", {"reason": "   "})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    assert api.post(f"/customers/{customer.pk}/release", {"reason": "ok", "owner": "x"}).status_code == 422
    assert Customer.objects.get(pk=customer.pk).in_public_pool is False


def test_releasing_twice_is_a_conflict(world, customer):
    assert _release(world, "owner", customer).status_code == 200
    r = _release(world, "manager", customer)
    assert r.status_code == 409 and r.json()["code"] == "already_in_pool"


def test_manager_puts_an_unassigned_customer_in_the_pool(world, make_customer):
    lead = make_customer("manager", name="新线索", owner=None, team="East")
    assert world.api("owner").get("/pool").json()["items"] == []  # unassigned is not pooled
    assert _release(world, "manager", lead, "分配给公海").status_code == 200
    assert [x["id"] for x in world.api("owner").get("/pool").json()["items"]] == [lead.pk]


# Assign -------------------------------------------------------------------------------------


def _assign(world, who, customer, username):
    return world.api(who).post(f"/pool/{customer.pk}/assign", {"username": username})


def test_manager_assigns_a_pool_customer_within_their_team(world, pooled):
    r = _assign(world, "manager", pooled, "teammate")
    assert r.status_code == 200, r.content
    assert (r.json()["owner"], r.json()["team"]) == ("teammate", "East")
    move = CustomerAssignment.objects.filter(customer=pooled).latest("id")
    assert (move.reason, move.to_user_id, move.actor_id) == (
        "assign",
        world.teammate.user_id,
        world.manager.user_id,
    )
    event = AuditEvent.objects.filter(object_type="customer", object_id=str(pooled.pk)).latest("id")
    assert event.action == "pool_assign" and event.changes["owner"] == [None, "teammate"]
    assert world.api("teammate").get(f"/customers/{pooled.pk}").status_code == 200


def test_manager_cannot_assign_outside_their_team(world, pooled):
    r = _assign(world, "manager", pooled, "outsider")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "forbidden"
    assert Customer.objects.get(pk=pooled.pk).owner_id is None


def test_admin_assigns_to_anyone_in_the_organisation(world, pooled):
    assert _assign(world, "admin", pooled, "outsider").json()["owner"] == "outsider"


@pytest.mark.parametrize("target", ["marketing", "readonly", "nobody", "other_admin"])
def test_assign_only_to_active_pool_members_of_the_organisation(world, pooled, target):
    r = _assign(world, "admin", pooled, target)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "username"


def test_assign_to_an_inactive_member_is_refused(world, pooled):
    world.teammate.is_active = False
    world.teammate.save()
    assert _assign(world, "admin", pooled, "teammate").status_code == 422


@pytest.mark.parametrize("who", ["owner", "teammate", "outsider", "marketing", "readonly"])
def test_only_managers_and_admins_assign(world, pooled, who):
    assert _assign(world, who, pooled, "owner").status_code == 403
    assert Customer.objects.get(pk=pooled.pk).owner_id is None


def test_other_organisation_cannot_assign(world, pooled):
    assert _assign(world, "other_admin", pooled, "other_sales").status_code in (404, 422)
    assert (
        world.api("other_admin").post(f"/pool/{pooled.pk}/assign", {"username": "other_admin"}).status_code
        == 404
    )


def test_assigning_a_customer_not_in_the_pool(world, customer, pooled):
    assert _assign(world, "manager", customer, "teammate").status_code == 409  # owned, visible to manager
    assert _assign(world, "admin", pooled, "owner").status_code == 200
    r = _assign(world, "admin", pooled, "teammate")
    assert r.status_code == 409 and r.json()["code"] == "already_claimed"


def test_ownership_history_endpoint(world, pooled):
    world.api("owner").post(f"/pool/{pooled.pk}/claim")
    _release(world, "owner", pooled, "联系不上")
    world.api("manager").post(f"/pool/{pooled.pk}/assign", {"username": "teammate"})
    rows = world.api("teammate").get(f"/customers/{pooled.pk}/assignments").json()
    assert [(r["reason"], r["from_user"], r["to_user"], r["by"]) for r in rows] == [
        ("assign", None, "teammate", "manager"),
        ("release", "owner", None, "owner"),
        ("claim", None, "owner", "owner"),
        ("release", None, None, "admin"),
    ]
    assert world.api("outsider").get(f"/customers/{pooled.pk}/assignments").status_code == 404
    assert world.api("other_admin").get(f"/customers/{pooled.pk}/assignments").status_code == 404
    history = world.api("teammate").get(f"/customers/{pooled.pk}/history").json()
    assert [h["action"] for h in history][:3] == ["pool_assign", "pool_release", "pool_claim"]


def test_setting_an_owner_by_edit_takes_the_customer_out_of_the_pool(world, make_customer) -> None:  # type: ignore[no-untyped-def]
    from guanxi.customers.models import Customer
    from guanxi.customers.services import customer_update

    pooled = make_customer("admin", name="公海客户", owner=None)
    Customer.objects.filter(pk=pooled.pk).update(in_public_pool=True)
    customer_update(
        actor=world.actor("admin"), customer_id=pooled.pk, data={"owner": "owner"}, expected_version=1
    )
    pooled.refresh_from_db()
    assert (pooled.owner_id, pooled.in_public_pool) == (world.owner.user_id, False)
