"""The merge API: preview, merge, list, undo — for every role, other organisations and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.models import Customer
from guanxi.customers.services import customer_delete
from tests.conftest import World
from tests.merge.conftest import Pair


def _body(pair: Pair, **extra: Any) -> dict[str, Any]:
    versions = {str(k): v for k, v in pair.versions().items()}
    return {"other_id": pair.newer.pk, "versions": versions, **extra}


def test_preview_shows_both_sides_defaults_and_what_moves(world: World, pair: Pair) -> None:
    r = world.api("admin").get(f"/customers/{pair.older.pk}/merge-preview", {"other": pair.newer.pk})
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["survivor"]["id"] == pair.older.pk and data["merged"]["id"] == pair.newer.pk
    fields = {f["field"]: f for f in data["fields"]}
    assert fields["name"]["survivor"] == "张伟" and fields["name"]["merged"] == "张 伟"
    assert fields["name"]["default"] == "merged"
    assert fields["company"]["default"] == "survivor"
    assert fields["phones"]["default"] == "union" and fields["phones"]["options"] == [
        "union",
        "survivor",
        "merged",
    ]
    assert fields["kind"]["identical"] is True
    moves = {m["relation"]: m for m in data["moves"]}
    assert moves["customers.contact.customer"]["count"] == 1
    assert moves["engagement.activity.customer"]["count"] == 1
    tags = moves["customers.customertag.customer"]
    assert tags["count"] == 1  # VIP is on both: only 北京 moves
    assert tags["name"] in ("tag", "标签")  # singular: one row
    assert data["versions"] == {str(k): v for k, v in pair.versions().items()}


def test_merge_then_undo_round_trip(world: World, pair: Pair) -> None:
    api = world.api("admin")
    r = api.post(f"/customers/{pair.older.pk}/merge", _body(pair, choices={"name": "survivor"}))
    assert r.status_code == 201, r.content
    merge = r.json()
    assert r["Location"] == f"/api/v1/merges/{merge['id']}"
    assert merge["survivor"]["name"] == "张伟" and merge["moved"]["customers.contact.customer"] == 1
    contacts = api.get("/contacts", {"customer_id": pair.older.pk}).json()["items"]
    assert {c["name"] for c in contacts} == {"王秘书", "李助理"}

    gone = api.get(f"/customers/{pair.newer.pk}")
    assert gone.status_code == 404 and gone.json()["merged_into"] == pair.older.pk

    listed = api.get("/merges").json()["items"]
    assert [m["id"] for m in listed] == [merge["id"]]

    undone = api.post(f"/merges/{merge['id']}/undo")
    assert undone.status_code == 200, undone.content
    assert undone.json()["merge"]["undone_by"] == "admin"
    assert api.get(f"/customers/{pair.newer.pk}").status_code == 200
    again = api.post(f"/merges/{merge['id']}/undo")
    assert again.status_code == 409 and again["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 201),
        ("manager", 201),  # East's manager: both records are East's
        ("owner", 403),  # sales reps may not merge, not even their own customers
        ("teammate", 403),
        ("outsider", 403),
        ("marketing", 403),
        ("service", 403),
        ("readonly", 403),
        ("other_admin", 404),  # another organisation: the ids do not exist for them
    ],
)
def test_merge_by_role(world: World, pair: Pair, who: str, status: int) -> None:
    r = world.api(who).post(f"/customers/{pair.older.pk}/merge", _body(pair))
    assert r.status_code == status, r.content
    assert Customer.objects.get(pk=pair.newer.pk).merged_into_id == (pair.older.pk if status == 201 else None)


@pytest.mark.parametrize(
    ("who", "status"), [("admin", 200), ("manager", 200), ("owner", 403), ("other_admin", 404)]
)
def test_preview_by_role(world: World, pair: Pair, who: str, status: int) -> None:
    r = world.api(who).get(f"/customers/{pair.older.pk}/merge-preview", {"other": pair.newer.pk})
    assert r.status_code == status


def test_manager_cannot_reach_another_teams_record(world: World, make_customer: Any) -> None:
    mine = make_customer("owner", name="东区客户")
    west = make_customer("outsider", name="西区客户")
    api = world.api("manager")
    assert api.get(f"/customers/{mine.pk}/merge-preview", {"other": west.pk}).status_code == 404
    r = api.post(
        f"/customers/{mine.pk}/merge", {"other_id": west.pk, "versions": {str(mine.pk): 1, str(west.pk): 1}}
    )
    assert r.status_code == 404


def test_read_only_token_cannot_merge(world: World, pair: Pair) -> None:
    r = world.api("admin", scopes=["read"]).post(f"/customers/{pair.older.pk}/merge", _body(pair))
    assert r.status_code == 403


def test_other_organisation_record_is_not_found(world: World, pair: Pair, other_customer: Any) -> None:
    r = world.api("admin").post(
        f"/customers/{pair.older.pk}/merge",
        {"other_id": other_customer.pk, "versions": {str(pair.older.pk): 1, str(other_customer.pk): 1}},
    )
    assert r.status_code == 404
    assert Customer.objects.get(pk=other_customer.pk).deleted_at is None


def test_stale_version_is_412_naming_the_record(world: World, pair: Pair) -> None:
    body = _body(pair)
    body["versions"][str(pair.newer.pk)] -= 1
    r = world.api("admin").post(f"/customers/{pair.older.pk}/merge", body)
    assert r.status_code == 412
    assert r.json()["customer_id"] == pair.newer.pk
    assert Customer.objects.get(pk=pair.newer.pk).deleted_at is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"other_id": "self"}, "other_id"),
        ({"versions": {}}, "versions"),
        ({"versions": {"abc": 1}}, "versions.abc"),
        ({"choices": {"name": "both"}}, "choices.name"),
        ({"choices": {"favourite_colour": "merged"}}, "choices.favourite_colour"),
        ({"survivor_id": 3}, "survivor_id"),  # unknown input field: rejected, not ignored
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(
    world: World, pair: Pair, change: dict[str, Any], field: str
) -> None:
    body = _body(pair)
    if change.get("other_id") == "self":
        change = {"other_id": pair.older.pk}
    body.update(change)
    r = world.api("admin").post(f"/customers/{pair.older.pk}/merge", body)
    assert r.status_code == 422, r.content
    assert r["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in r.json()["errors"]]
    assert Customer.objects.filter(deleted_at__isnull=False).count() == 0


def test_deleted_or_already_merged_records_are_refused(world: World, pair: Pair, make_customer: Any) -> None:
    api = world.api("admin")
    third = make_customer("owner", name="张三")
    customer_delete(actor=world.actor("admin"), customer_id=third.pk)
    r = api.post(
        f"/customers/{pair.older.pk}/merge",
        {
            "other_id": third.pk,
            "versions": {str(pair.older.pk): pair.versions()[pair.older.pk], str(third.pk): 2},
        },
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 422 and r.json()["errors"][0] == {
        "field": "other_id",
        "message": f"customer {third.pk} is in the recycle bin; restore it first",
        "code": "deleted",
    }
    assert api.post(f"/customers/{pair.older.pk}/merge", _body(pair)).status_code == 201
    r = api.post(f"/customers/{pair.newer.pk}/merge", {"other_id": pair.older.pk, "versions": {}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "id"
    assert r.json()["errors"][0]["code"] == "merged"


def test_merges_list_and_undo_by_role(world: World, pair: Pair) -> None:
    created = world.api("admin").post(f"/customers/{pair.older.pk}/merge", _body(pair)).json()
    assert world.api("owner").get("/merges").status_code == 403
    assert world.api("readonly").get("/merges").status_code == 403
    assert world.api("manager").get("/merges").json()["items"][0]["id"] == created["id"]
    assert world.api("other_admin").get("/merges").json()["items"] == []
    assert world.api("other_admin").get(f"/merges/{created['id']}").status_code == 404
    assert world.api("other_admin").post(f"/merges/{created['id']}/undo").status_code == 404
    assert world.api("owner").post(f"/merges/{created['id']}/undo").status_code == 403
    assert world.api("readonly").post(f"/merges/{created['id']}/undo").status_code == 403
    assert world.api("manager").post(f"/merges/{created['id']}/undo").status_code == 200


def test_undo_reports_fields_kept_because_edited_since(world: World, pair: Pair) -> None:
    api = world.api("admin")
    created = api.post(f"/customers/{pair.older.pk}/merge", _body(pair)).json()
    survivor = created["survivor"]
    edit = api.patch(
        f"/customers/{pair.older.pk}", {"title": "总监"}, headers={"If-Match": f'"{survivor["version"]}"'}
    )
    assert edit.status_code == 200, edit.content
    r = api.post(f"/merges/{created['id']}/undo")
    assert r.json()["kept"] == ["title"]
    assert api.get(f"/customers/{pair.older.pk}").json()["title"] == "总监"


def test_session_needs_csrf(world: World, pair: Pair) -> None:
    r = world.session("admin", csrf=False).post(f"/customers/{pair.older.pk}/merge", _body(pair))
    assert r.status_code in (401, 403)
    r = world.session("admin").post(f"/customers/{pair.older.pk}/merge", _body(pair))
    assert r.status_code == 201


def test_idempotent_retry_merges_once(world: World, pair: Pair) -> None:
    api = world.api("admin")
    body = _body(pair)
    first = api.post(f"/customers/{pair.older.pk}/merge", body, headers={"Idempotency-Key": "m-1"})
    again = api.post(f"/customers/{pair.older.pk}/merge", body, headers={"Idempotency-Key": "m-1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]


def test_merges_paginate(world: World, make_customer: Any) -> None:
    api = world.api("admin")
    for i in range(3):
        a, b = make_customer("owner", name=f"甲{i}"), make_customer("owner", name=f"乙{i}")
        api.post(f"/customers/{a.pk}/merge", {"other_id": b.pk, "versions": {str(a.pk): 1, str(b.pk): 1}})
    page = api.get("/merges", {"limit": 2}).json()
    rest = api.get("/merges", {"limit": 2, "cursor": page["next_cursor"]}).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert api.get("/merges", {"cursor": "zz"}).status_code == 422
