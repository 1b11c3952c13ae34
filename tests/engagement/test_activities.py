"""Follow-up records: logging, visibility (owner / teammate / outsider / other org), roles, bad input."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer
from guanxi.engagement.models import Activity, Task

pytestmark = pytest.mark.django_db

CALL = {
    "kind": "call",
    "occurred_at": "2027-02-10T10:00:00+08:00",
    "subject": "首次电话",
    "outcome": "interested",
}


def test_owner_logs_a_call_updates_last_contacted_without_bumping_version(world: Any, customer: Any) -> None:
    r = world.api("owner").post("/activities", {**CALL, "customer_id": customer.pk})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["kind"] == "call" and body["rep"] == "owner" and body["team"] == "East"
    fresh = Customer.objects.get(pk=customer.pk)
    assert (
        fresh.last_contacted_at is not None
        and fresh.last_contacted_at.isoformat() == "2027-02-10T02:00:00+00:00"
    )
    assert fresh.version == customer.version
    assert AuditEvent.objects.filter(
        object_type="activity", object_id=str(body["id"]), action="create"
    ).exists()


def test_older_activity_does_not_move_last_contacted_back(world: Any, customer: Any) -> None:
    api = world.api("owner")
    api.post("/activities", {**CALL, "customer_id": customer.pk})
    api.post("/activities", {**CALL, "customer_id": customer.pk, "occurred_at": "2027-01-01T10:00:00+08:00"})
    assert Customer.objects.get(pk=customer.pk).last_contacted_at.isoformat() == "2027-02-10T02:00:00+00:00"


def test_next_follow_up_creates_a_task_for_the_owner(world: Any, make_customer: Any) -> None:
    c = make_customer("owner", name="王强")
    r = world.api("manager").post(
        "/activities",
        {
            **CALL,
            "customer_id": c.pk,
            "next_step": "发报价",
            "next_follow_up_at": "2027-02-12T09:00:00+08:00",
        },
    )
    assert r.status_code == 201, r.content
    task = Task.objects.get(activity_id=r.json()["id"])
    assert task.assignee_id == world.owner.user_id
    assert task.title == "发报价" and task.customer_id == c.pk
    assert task.remind_at is not None


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_admin"])
def test_others_cannot_log_on_or_see_the_owners_customer(world: Any, customer: Any, who: str) -> None:
    activity_id = world.api("owner").post("/activities", {**CALL, "customer_id": customer.pk}).json()["id"]
    api = world.api(who)
    r = api.post("/activities", {**CALL, "customer_id": customer.pk})
    assert r.status_code == 404
    assert r["Content-Type"] == "application/problem+json"
    assert api.get(f"/activities/{activity_id}").status_code == 404
    assert api.patch(f"/activities/{activity_id}", {"subject": "x"}).status_code == 404
    assert api.delete(f"/activities/{activity_id}").status_code == 404
    assert api.get("/activities").json()["items"] == []
    assert Activity.objects.count() == 1


def test_manager_and_admin_see_team_activities(world: Any, customer: Any) -> None:
    world.api("owner").post("/activities", {**CALL, "customer_id": customer.pk})
    for who in ("manager", "admin", "readonly"):
        assert len(world.api(who).get("/activities").json()["items"]) == 1, who


def test_readonly_and_read_token_cannot_log(world: Any, customer: Any) -> None:
    r = world.api("readonly").post("/activities", {**CALL, "customer_id": customer.pk})
    assert r.status_code in (403, 404)
    r = world.api("owner", scopes=["read"]).post("/activities", {**CALL, "customer_id": customer.pk})
    assert r.status_code == 403
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"kind": "fax"}, "kind"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"subject": "x" * 201}, "subject"),
        ({"owner": "admin"}, "owner"),
        ({"participant_ids": [999999]}, "participant_ids"),
        ({"contact_ids": [999999]}, "contact_ids"),
        ({"occurred_at": "2027-02-10T10:00:00"}, "occurred_at"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: Any, customer: Any, payload: dict[str, Any], field: str
) -> None:
    r = world.api("owner").post("/activities", {**CALL, "customer_id": customer.pk, **payload})
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert Activity.objects.count() == 0
    assert Customer.objects.get(pk=customer.pk).last_contacted_at is None


def test_participants_and_contacts(world: Any, customer: Any) -> None:
    contact = world.api("owner").post("/contacts", {"customer_id": customer.pk, "name": "李秘书"}).json()
    r = world.api("owner").post(
        "/activities",
        {
            **CALL,
            "customer_id": customer.pk,
            "participant_ids": [world.teammate.user_id],
            "contact_ids": [contact["id"]],
        },
    )
    assert r.status_code == 201, r.content
    assert r.json()["participant_ids"] == [world.teammate.user_id]
    assert r.json()["contact_ids"] == [contact["id"]]


def test_author_edits_and_deletes_others_may_not(world: Any, customer: Any) -> None:
    from guanxi.customers.services import customer_share

    customer_share(actor=world.actor("owner"), customer_id=customer.pk, username="teammate")
    activity_id = world.api("owner").post("/activities", {**CALL, "customer_id": customer.pk}).json()["id"]
    assert world.api("teammate").patch(f"/activities/{activity_id}", {"subject": "改"}).status_code == 403
    r = world.api("owner").patch(f"/activities/{activity_id}", {"outcome": "won"})
    assert r.status_code == 200 and r.json()["outcome"] == "won"
    assert world.api("owner").patch(f"/activities/{activity_id}", {"kind": "fax"}).status_code == 422
    assert world.api("owner").delete(f"/activities/{activity_id}").status_code == 204
    assert not Activity.objects.exists()
    assert AuditEvent.objects.filter(object_type="activity", action="delete").count() == 1


def test_follow_up_table_filters_and_paginates(world: Any, make_customer: Any) -> None:
    a = make_customer("owner", name="甲")
    b = make_customer("outsider", name="乙")
    owner, outsider = world.api("owner"), world.api("outsider")
    for day in range(1, 6):
        owner.post(
            "/activities", {**CALL, "customer_id": a.pk, "occurred_at": f"2027-03-0{day}T10:00:00+08:00"}
        )
    outsider.post("/activities", {**CALL, "customer_id": b.pk, "kind": "visit", "outcome": "lost"})
    admin = world.api("admin")
    assert len(admin.get("/activities").json()["items"]) == 6
    assert len(admin.get("/activities", {"rep": "owner"}).json()["items"]) == 5
    assert len(admin.get("/activities", {"team": "West"}).json()["items"]) == 1
    assert len(admin.get("/activities", {"kind": "visit"}).json()["items"]) == 1
    assert len(admin.get("/activities", {"kind": "call,visit"}).json()["items"]) == 6
    assert len(admin.get("/activities", {"outcome": "lost"}).json()["items"]) == 1
    assert len(admin.get("/activities", {"customer_id": a.pk}).json()["items"]) == 5
    period = {"from": "2027-03-02T00:00:00+08:00", "to": "2027-03-04T00:00:00+08:00"}
    assert len(admin.get("/activities", period).json()["items"]) == 2
    page1 = admin.get("/activities", {"rep": "owner", "limit": 2}).json()
    page2 = admin.get("/activities", {"rep": "owner", "limit": 2, "cursor": page1["next_cursor"]}).json()
    page3 = admin.get("/activities", {"rep": "owner", "limit": 2, "cursor": page2["next_cursor"]}).json()
    days = [i["occurred_at"][:10] for i in page1["items"] + page2["items"] + page3["items"]]
    assert days == ["2027-03-05", "2027-03-04", "2027-03-03", "2027-03-02", "2027-03-01"]
    assert page3["next_cursor"] is None
    r = admin.get("/activities", {"kind": "fax"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    assert admin.get("/activities", {"cursor": "garbage"}).status_code == 422


def test_idempotency_key_logs_once(world: Any, customer: Any) -> None:
    api = world.api("owner")
    headers = {"Idempotency-Key": "call-42"}
    first = api.post("/activities", {**CALL, "customer_id": customer.pk}, headers=headers)
    again = api.post("/activities", {**CALL, "customer_id": customer.pk}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true" and again.json()["id"] == first.json()["id"]
    assert Activity.objects.count() == 1
