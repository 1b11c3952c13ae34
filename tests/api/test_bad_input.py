"""Bad input: a precise 4xx problem+json, field names in ``errors``, nothing written, never a 500."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer


def _problem(r, status):
    assert r.status_code == status, r.content
    assert r["Content-Type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["title"] and body["detail"] and body["type"]
    return body


def _fields(body):
    return {e["field"] for e in body["errors"]}


@pytest.mark.parametrize("raw", ['{"name": ', "not json", "[1, 2", '{"name": "x",}', "\x00", "{'name': 'x'}"])
def test_malformed_json_is_400(world, raw):
    r = world.api("owner").post("/customers", raw=raw)
    assert r.status_code in (400, 422), r.content
    assert r["Content-Type"] == "application/problem+json"
    assert not Customer.objects.exists()


def test_malformed_json_is_400_precisely(world):
    _problem(world.api("owner").post("/customers", raw='{"name": '), 400)


def test_body_that_is_not_an_object(world):
    for raw in ("[]", '"x"', "1", "null"):
        r = world.api("owner").post("/customers", raw=raw)
        assert r.status_code in (400, 422), (raw, r.content)
        assert r["Content-Type"] == "application/problem+json"


def test_wrong_types_name_the_fields(world):
    r = world.api("owner").post(
        "/customers",
        {"name": 5, "birthday": "yesterday", "tags": "VIP", "birthday_is_lunar": "perhaps", "phones": 1},
    )
    body = _problem(r, 422)
    assert {"name", "birthday", "tags", "birthday_is_lunar", "phones"} <= _fields(body)


def test_over_long_strings(world):
    body = _problem(world.api("owner").post("/customers", {"name": "张" * 201, "company": "x" * 201}), 422)
    assert _fields(body) == {"name", "company"}
    body = _problem(world.api("owner").post("/customers", {"name": "a", "notes": "x" * 10001}), 422)
    assert _fields(body) == {"notes"}


def test_unknown_fields_are_rejected(world, customer):
    body = _problem(world.api("owner").post("/customers", {"name": "a", "is_admin": True, "id": 5}), 422)
    assert _fields(body) == {"is_admin", "id"}
    assert {e["code"] for e in body["errors"]} == {"extra_forbidden"}
    assert all(e["message"] for e in body["errors"])
    for field in ("version", "organization", "owner_id", "deleted_at", "search_text", "created_at"):
        if field == "version":
            continue
        r = world.api("owner").patch(f"/customers/{customer.pk}", {field: 1}, headers={"If-Match": '"1"'})
        assert r.status_code == 422, field
    nested = world.api("owner").post(
        "/customers", {"name": "a", "phones": [{"value": "13800001111", "x": 1}]}
    )
    assert _fields(_problem(nested, 422)) == {"phones[0].x"}


def test_invalid_phone_and_email(world):
    body = _problem(world.api("owner").post("/customers", {"name": "a", "phone": "12345"}), 422)
    assert _fields(body) == {"phone"}
    body = _problem(world.api("owner").post("/customers", {"name": "a", "email": "a@@b"}), 422)
    assert _fields(body) == {"email"}
    r = world.api("owner").post(
        "/customers", {"name": "a", "phones": [{"value": "13800001111"}, {"value": "abc"}]}
    )
    assert _fields(_problem(r, 422)) == {"phones[1]"}
    assert not Customer.objects.exists()


def test_blank_and_invalid_choice_values(world):
    body = _problem(world.api("owner").post("/customers", {"name": "   "}), 422)
    assert _fields(body) == {"name"}
    body = _problem(
        world.api("owner").post("/customers", {"name": "a", "kind": "robot", "value_tier": "gold"}), 422
    )
    assert _fields(body) == {"kind", "value_tier"}


def test_birthday_in_the_future_or_too_old(world):
    assert world.api("owner").post("/customers", {"name": "a", "birthday": "2999-01-01"}).status_code == 422
    assert world.api("owner").post("/customers", {"name": "a", "birthday": "1800-01-01"}).status_code == 422


def test_unknown_team_or_owner(world):
    body = _problem(
        world.api("admin").post("/customers", {"name": "a", "team": "Mars", "owner": "ghost"}), 422
    )
    assert {"owner", "team"} <= _fields(body) or "owner" in _fields(body)


def test_patch_with_bad_values_changes_nothing(world, customer):
    r = world.api("owner").patch(
        f"/customers/{customer.pk}", {"name": "新名字", "email": "bad"}, headers={"If-Match": '"1"'}
    )
    _problem(r, 422)
    customer.refresh_from_db()
    assert customer.name == "张伟" and customer.version == 1


def test_unknown_route_and_method(world, customer):
    r = world.api("owner").get("/nothing-here")
    assert r.status_code == 404
    r = world.api("owner").put(f"/customers/{customer.pk}", {"name": "x"})
    assert r.status_code == 405
    for r in (
        world.api("owner").get("/nothing-here"),
        world.api("owner").post("/nothing/here", {"a": 1}),
        world.api("owner").put(f"/customers/{customer.pk}", {"name": "x"}),
        world.api("owner").get(f"/customers/{customer.pk + 1000}"),
        world.api("owner").patch(f"/customers/{customer.pk}", {"name": "x"}),
        world.api("owner").get("/customers", {"limit": 0}),
    ):
        assert r["Content-Type"] == "application/problem+json"
        if r.status_code in (422, 428):
            assert r.json()["errors"] and all("field" in e and "message" in e for e in r.json()["errors"])


def test_huge_id_is_404_not_500(world):
    assert world.api("owner").get("/customers/99999999999999999999").status_code == 404
    assert world.api("owner").get(f"/customers/{2**63}").status_code == 404


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=10,
)
FIELDS = [
    "name", "kind", "phone", "email", "phones", "emails", "birthday", "tags", "custom", "owner", "team",
    "lifecycle_stage", "value_tier", "grade", "external_id", "birthday_is_lunar", "company", "gender",
]  # fmt: skip
BODIES = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), JSON_VALUES, max_size=6) | JSON_VALUES


@settings(deadline=None, max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_random_bodies_never_500(world, body):
    before = (Customer.objects.count(), AuditEvent.objects.filter(object_type="customer").count())
    r = world.api("owner").post("/customers", raw=json.dumps(body))
    assert r.status_code < 500, r.content
    if r.status_code >= 400:
        assert r["Content-Type"] == "application/problem+json"
        assert (Customer.objects.count(), AuditEvent.objects.filter(object_type="customer").count()) == before


@settings(deadline=None, max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES)
def test_random_patch_bodies_never_500(world, customer, body):
    customer.refresh_from_db()
    version = customer.version
    r = world.api("owner").patch(
        f"/customers/{customer.pk}", raw=json.dumps(body), headers={"If-Match": f'"{version}"'}
    )
    assert r.status_code < 500, r.content
    if r.status_code >= 400:
        customer.refresh_from_db()
        assert customer.version == version


@settings(deadline=None, max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    params=st.dictionaries(
        st.sampled_from(["q", "sort", "cursor", "limit", "owner", "created_after", "tag"]),
        st.text(max_size=20),
    )
)
def test_random_list_queries_never_500(world, params):
    r = world.api("owner").get("/customers", params)
    assert r.status_code in (200, 422), r.content


def test_oversized_body_is_413_not_500(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    items = [{"name": f"客户{i}", "notes": "x" * 500} for i in range(50)]
    r = world.api("owner").post("/customers/bulk", {"mode": "create", "items": items})
    body = _problem(r, 413)
    assert body["errors"][0]["field"] == "body"
    assert not Customer.objects.exists()
    assert world.api("owner").post("/customers", {"name": "a", "notes": "x" * 20_000}).status_code == 413
