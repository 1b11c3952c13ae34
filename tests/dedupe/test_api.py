"""The duplicate review over the API: who may scan, who sees which pairs, dismissing, the rules.

Decisions under test: scanning is for admins and managers; a pair is visible (and can be
dismissed by anyone allowed to change customers) only when the caller can see *both* records —
everyone else gets 404; the rules are for admins.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase

from guanxi.customers.models import DedupeSettings, DuplicateCandidate


@pytest.fixture
def dupes(world: Any, make_customer: Any) -> dict[str, Any]:
    """Two records of 张伟 owned by ``owner`` (East), one 刘洋 pair split between owner and outsider."""
    a = make_customer("owner", name="张伟", phone="138 1234 8000", city="北京")
    b = make_customer("owner", name="張偉", phone="+86 138-1234-8000", city="北京")
    c = make_customer("owner", name="刘洋", email="liu.yang@example.com")
    d = make_customer("outsider", name="劉洋", email="liu.yang@example.com")
    make_customer("owner", name="王芳", phone="13800001111", city="北京")
    make_customer("teammate", name="王芳", phone="13900002222", city="广州")
    return {"a": a, "b": b, "c": c, "d": d}


def scan(world: Any, who: str = "admin", **body: Any) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return world.api(who).post("/duplicates/scan", body or None)


def pair_ids(response: Any) -> set[tuple[int, int]]:
    assert response.status_code == 200, response.content
    return {(item["a"], item["b"]) for item in response.json()["items"]}


def test_admin_scan_is_a_job_that_finds_the_pairs(world: Any, dupes: dict[str, Any]) -> None:
    response = scan(world)
    assert response.status_code == 202, response.content
    job = world.api("admin").get(f"/jobs/{response.json()['job_id']}").json()
    assert job["state"] == "succeeded", job
    assert job["result"]["pairs"] == 2
    listed = world.api("admin").get("/duplicates", headers={"Accept-Language": "en"}).json()
    pairs = {(i["a"], i["b"]): i for i in listed["items"]}
    zhang = pairs[(dupes["a"].pk, dupes["b"].pk)]
    assert zhang["score"] >= 0.8
    assert "same name in pinyin (zhangwei)" in zhang["reasons"]
    assert any(r.startswith("same phone +86 138") for r in zhang["reasons"])
    assert zhang["customer_a"]["name"] == "张伟" and zhang["customer_b"]["name"] == "張偉"
    assert (dupes["c"].pk, dupes["d"].pk) in pairs
    assert listed["counts"]["open"] == 2


@pytest.mark.parametrize(
    ("who", "status"),
    [("admin", 202), ("manager", 202), ("owner", 403), ("marketing", 403), ("readonly", 403)],
)
def test_who_may_scan(world: Any, dupes: dict[str, Any], who: str, status: int) -> None:
    assert scan(world, who).status_code == status


def test_a_read_only_token_may_not_scan(world: Any) -> None:
    response = world.api("admin", scopes=["read"]).post("/duplicates/scan")
    assert response.status_code == 403


def test_another_organisation_scans_only_its_own_customers(world: Any, dupes: dict[str, Any]) -> None:
    response = scan(world, "other_admin")
    assert response.status_code == 202
    assert world.api("other_admin").get(f"/jobs/{response.json()['job_id']}").json()["result"]["pairs"] == 0
    scan(world, "admin")
    assert pair_ids(world.api("other_admin").get("/duplicates")) == set()


@pytest.mark.parametrize(
    ("who", "sees_zhang", "sees_liu"),
    [
        ("admin", True, True),
        ("manager", True, False),  # East team: owner's pair yes; outsider (West) owns half of the other
        ("owner", True, False),  # 刘洋's twin belongs to the outsider
        ("teammate", False, False),
        ("outsider", False, False),
        ("readonly", True, True),
        ("other_admin", False, False),
    ],
)
def test_pairs_are_listed_only_when_both_records_are_visible(
    world: Any, dupes: dict[str, Any], who: str, sees_zhang: bool, sees_liu: bool
) -> None:
    scan(world)
    listed = pair_ids(world.api(who).get("/duplicates"))
    assert ((dupes["a"].pk, dupes["b"].pk) in listed) == sees_zhang
    assert ((dupes["c"].pk, dupes["d"].pk) in listed) == sees_liu


def _zhang(world: Any, dupes: dict[str, Any]) -> DuplicateCandidate:
    scan(world)
    return DuplicateCandidate.objects.get(customer_a=dupes["a"], customer_b=dupes["b"])


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 200),
        ("manager", 200),
        ("admin", 200),
        ("teammate", 404),
        ("outsider", 404),
        ("other_admin", 404),
        ("readonly", 403),
    ],
)
def test_who_may_dismiss(world: Any, dupes: dict[str, Any], who: str, status: int) -> None:
    pair = _zhang(world, dupes)
    response = world.api(who).post(f"/duplicates/{pair.pk}/dismiss")
    assert response.status_code == status, response.content
    pair.refresh_from_db()
    assert pair.status == ("dismissed" if status == 200 else "open")
    if status == 200:
        assert response.json()["status"] == "dismissed"
        assert response.json()["decided_by"] == who


def test_a_dismissed_pair_stays_dismissed_and_is_not_duplicated_by_a_rescan(
    world: Any, dupes: dict[str, Any]
) -> None:
    pair = _zhang(world, dupes)
    assert world.api("owner").post(f"/duplicates/{pair.pk}/dismiss").status_code == 200
    scan(world)
    scan(world)
    rows = DuplicateCandidate.objects.filter(customer_a=dupes["a"], customer_b=dupes["b"])
    assert rows.count() == 1
    assert rows.get().status == "dismissed"
    assert DuplicateCandidate.objects.filter(organization=world.org).count() == 2
    assert pair_ids(world.api("admin").get("/duplicates")) == {(dupes["c"].pk, dupes["d"].pk)}
    dismissed = pair_ids(world.api("admin").get("/duplicates", {"status": "dismissed"}))
    assert dismissed == {(dupes["a"].pk, dupes["b"].pk)}
    # and it can be reopened
    assert world.api("owner").post(f"/duplicates/{pair.pk}/reopen").json()["status"] == "open"


def test_a_deleted_customer_drops_out_of_the_list_and_the_next_scan(
    world: Any, dupes: dict[str, Any]
) -> None:
    scan(world)
    assert world.api("admin").delete(f"/customers/{dupes['d'].pk}").status_code == 204
    assert pair_ids(world.api("admin").get("/duplicates")) == {(dupes["a"].pk, dupes["b"].pk)}
    scan(world)
    assert not DuplicateCandidate.objects.filter(customer_b=dupes["d"]).exists()


def test_filters_and_keyset_pages(world: Any, dupes: dict[str, Any], make_customer: Any) -> None:
    for i in range(3):
        make_customer("admin", name=f"Test Person{i}", email=f"p{i}@example.com")
        make_customer("admin", name=f"Test Person{i}", email=f"p{i}@example.com")
    scan(world)
    api = world.api("admin")
    first = api.get("/duplicates", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/duplicates", {"limit": 2, "cursor": cursor}).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 5
    scores = [i["score"] for i in api.get("/duplicates").json()["items"]]
    assert scores == sorted(scores, reverse=True)
    only = pair_ids(api.get("/duplicates", {"customer": dupes["a"].pk}))
    assert only == {(dupes["a"].pk, dupes["b"].pk)}
    assert api.get("/duplicates", {"min_score": 0.999999}).json()["items"] == []
    bad = api.get("/duplicates", {"cursor": "nonsense"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"
    assert api.get("/duplicates", {"status": "maybe"}).json()["errors"][0]["field"] == "status"


def test_masked_roles_get_masked_reasons(world: Any, dupes: dict[str, Any]) -> None:
    scan(world)
    item = next(
        i for i in world.api("readonly").get("/duplicates").json()["items"] if i["a"] == dupes["a"].pk
    )
    text = " ".join(item["reasons"]) + str(item["evidence"]) + str(item["customer_a"])
    assert "12348000" not in text and "1234 8000" not in text
    assert "****" in item["customer_a"]["phone"]


def test_rules_are_for_admins(world: Any) -> None:
    assert world.api("admin").get("/duplicate-rules").json()["threshold"] == 0.8
    for who in ("manager", "owner", "other_sales"):
        assert world.api(who).get("/duplicate-rules").status_code == 403
        assert world.api(who).put("/duplicate-rules", {"threshold": 0.9}).status_code == 403
    response = world.api("admin").put(
        "/duplicate-rules",
        {"threshold": 0.9, "rules": {"phone": {"agree": 7}, "birthday": {"enabled": False}}},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["threshold"] == 0.9
    assert body["rules"]["phone"]["agree"] == 7 and body["rules"]["email"]["agree"] == 6
    assert body["overrides"] == {"phone": {"agree": 7.0}, "birthday": {"enabled": False}}
    # the other organisation keeps its defaults
    assert world.api("other_admin").get("/duplicate-rules").json()["threshold"] == 0.8


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"threshold": 1.5}, "threshold"),
        ({"rules": {"shoe_size": {"agree": 1}}}, "rules.shoe_size"),
        ({"rules": {"phone": {"agree": "lots"}}}, "rules.phone.agree"),
        ({"rules": {"phone": {"enabled": "yes"}}}, "rules.phone.enabled"),
        ({"rules": {"name": {"loud": 3}}}, "rules.name.loud"),
    ],
)
def test_bad_rules_are_refused_naming_the_field_and_change_nothing(
    world: Any, body: dict[str, Any], field: str
) -> None:
    response = world.api("admin").put("/duplicate-rules", body)
    assert response.status_code == 422, response.content
    assert field in str(response.json())
    assert not DedupeSettings.objects.filter(organization=world.org).exists()


def test_scan_threshold_override_is_validated(world: Any) -> None:
    response = world.api("admin").post("/duplicates/scan", {"threshold": 0.1})
    assert response.status_code == 422
    assert "threshold" in str(response.json())
