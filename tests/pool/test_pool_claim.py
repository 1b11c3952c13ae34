"""Claiming from the pool: ownership, team, version, history, audit, events, and who may claim what."""

import pytest

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer, CustomerAssignment
from guanxi.customers.pool import PoolRefused, pool_claim


def test_claim_makes_the_rep_the_owner(world, pooled, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = world.api("outsider").post(f"/pool/{pooled.pk}/claim")
    assert r.status_code == 200, r.content
    assert r.json()["owner"] == "outsider" and r.json()["team"] == "West"
    assert r["ETag"] == f'"{pooled.version + 1}"'
    c = Customer.objects.get(pk=pooled.pk)
    assert (c.owner_id, c.team_id, c.in_public_pool, c.version) == (
        world.outsider.user_id,
        world.west.pk,
        False,
        pooled.version + 1,
    )
    move = CustomerAssignment.objects.filter(customer=c).latest("id")
    assert (move.reason, move.from_user_id, move.to_user_id, move.actor_id) == (
        "claim",
        None,
        world.outsider.user_id,
        world.outsider.user_id,
    )
    event = AuditEvent.objects.filter(object_type="customer", object_id=str(c.pk)).latest("id")
    assert event.action == "pool_claim" and event.actor_name == "outsider"
    assert event.changes == {
        "owner": [None, "outsider"],
        "team": [None, "West"],
        "in_public_pool": [True, False],
    }
    names = [name for name, _ in events]
    assert "pool.claimed" in names and "customer.updated" in names
    claimed = next(p for n, p in events if n == "pool.claimed")
    assert claimed["customer_id"] == c.pk and claimed["to_user_id"] == world.outsider.user_id
    # Now it is theirs: in their list, out of the pool.
    assert [x["id"] for x in world.api("outsider").get("/customers").json()["items"]] == [c.pk]
    assert world.api("outsider").get("/pool").json()["items"] == []


def test_second_claim_is_a_clear_conflict(world, pooled):
    assert world.api("owner").post(f"/pool/{pooled.pk}/claim").status_code == 200
    r = world.api("teammate").post(f"/pool/{pooled.pk}/claim")
    assert r.status_code == 409
    assert r.json()["code"] == "already_claimed"
    assert r.json()["detail"]
    again = world.api("owner").post(f"/pool/{pooled.pk}/claim")
    assert again.status_code == 409 and again.json()["code"] == "already_yours"
    assert Customer.objects.get(pk=pooled.pk).owner_id == world.owner.user_id


def test_claiming_a_customer_that_never_was_in_the_pool_is_not_found(world, customer):
    """Someone's customer that never entered the pool: a rep who cannot see it learns nothing."""
    for who in ("teammate", "outsider", "other_admin"):
        assert world.api(who).post(f"/pool/{customer.pk}/claim").status_code == 404
    assert world.api("owner").post(f"/pool/{customer.pk}/claim").status_code == 409
    assert world.api("owner").post("/pool/999999/claim").status_code == 404


def test_deleted_customer_cannot_be_claimed(world, pooled):
    Customer.objects.filter(pk=pooled.pk).update(deleted_at=pooled.updated_at)
    assert world.api("owner").post(f"/pool/{pooled.pk}/claim").status_code == 404
    assert world.api("owner").get("/pool").json()["items"] == []


def test_manager_and_admin_may_claim_for_themselves(world, to_pool):
    a, b = to_pool(name="甲"), to_pool(name="乙")
    assert world.api("manager").post(f"/pool/{a.pk}/claim").json()["owner"] == "manager"
    assert world.api("admin").post(f"/pool/{b.pk}/claim").json()["owner"] == "admin"


def test_claim_with_idempotency_key_replays_the_first_answer(world, pooled):
    api = world.api("owner")
    first = api.post(f"/pool/{pooled.pk}/claim", headers={"Idempotency-Key": "claim-1"})
    second = api.post(f"/pool/{pooled.pk}/claim", headers={"Idempotency-Key": "claim-1"})
    assert first.status_code == second.status_code == 200
    assert second["Idempotent-Replayed"] == "true"
    assert CustomerAssignment.objects.filter(customer=pooled, reason="claim").count() == 1


def test_session_claim_needs_csrf(world, pooled):
    assert world.session("owner", csrf=False).post(f"/pool/{pooled.pk}/claim").status_code in (401, 403)
    assert world.session("owner").post(f"/pool/{pooled.pk}/claim").status_code == 200


def test_service_refusal_carries_a_code(world, pooled):
    pool_claim(actor=world.actor("owner"), customer_id=pooled.pk)
    with pytest.raises(PoolRefused) as exc:
        pool_claim(actor=world.actor("teammate"), customer_id=pooled.pk)
    assert exc.value.code == "already_claimed" and exc.value.status == 409
