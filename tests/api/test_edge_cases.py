"""Edge cases found while testing: lookup-like custom keys, huge ids in cursors and filters, null patches."""

import base64
import json

import pytest

from guanxi.core.models import Membership


def _cursor(value, pk):
    return base64.urlsafe_b64encode(json.dumps([value, pk]).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "key", ["contains", "in", "exact", "isnull", "gt", "regex", "has_key", "keys", "startswith"]
)
def test_custom_field_keys_that_look_like_lookups(world, key):
    admin = world.api("admin")
    r = admin.post("/custom-fields", {"key": key, "label": key, "field_type": "text", "unique": True})
    assert r.status_code == 201
    api = world.api("owner")
    assert api.post("/customers", {"name": "A", "custom": {key: "v1"}}).status_code == 201
    r = api.post("/customers", {"name": "B", "custom": {key: "v1"}})
    assert r.status_code == 422, r.content
    assert r.json()["errors"][0]["field"] == f"custom.{key}"
    assert api.post("/customers", {"name": "C", "custom": {key: "v2"}}).status_code == 201


def test_unique_number_custom_field(world):
    world.api("admin").post(
        "/custom-fields", {"key": "no", "label": "编号", "field_type": "number", "unique": True}
    )
    api = world.api("owner")
    assert api.post("/customers", {"name": "A", "custom": {"no": 7}}).status_code == 201
    assert api.post("/customers", {"name": "B", "custom": {"no": "7"}}).status_code == 422
    assert api.post("/customers", {"name": "C", "custom": {"no": 8}}).status_code == 201


@pytest.mark.parametrize("pk", [2**63, 10**30, -(2**63) - 1])
def test_huge_numbers_in_cursor_are_not_500(world, customer, pk):
    api = world.api("admin")
    for sort in ("id", "-id", "name", "created_at"):
        value = {"id": pk, "name": "张", "created_at": "2024-01-01T00:00:00+00:00"}[sort.lstrip("-")]
        r = api.get("/customers", {"sort": sort, "cursor": _cursor(value, pk)})
        assert r.status_code in (200, 422), (sort, r.content)


def test_huge_numbers_in_query_params_are_not_500(world, customer):
    api = world.api("admin")
    assert api.get("/contacts", {"customer_id": 10**30}).status_code in (404, 422)
    assert api.get("/audit-events", {"before_id": 10**30}).status_code in (200, 422)
    assert api.get(f"/customers/{customer.pk}/history", {"before_id": 10**30}).status_code in (200, 422)
    assert api.post("/contacts", {"customer_id": 10**30, "name": "x"}).status_code in (404, 422)


def test_patch_user_with_nulls_changes_nothing(world):
    api = world.api("admin")
    r = api.patch(f"/users/{world.teammate.pk}", {"is_active": None, "role": None})
    assert r.status_code in (200, 422)
    m = Membership.objects.get(pk=world.teammate.pk)
    assert (m.is_active, m.role) == (True, "sales")
    assert api.patch(f"/users/{world.admin.pk}", {"role": None, "team": "East"}).status_code == 200


def test_naive_datetimes_in_filters_and_cursor(world, customer):
    import warnings

    warnings.simplefilter("error", RuntimeWarning)
    api = world.api("admin")
    assert api.get("/customers", {"created_after": "2020-01-01T00:00:00"}).status_code == 200
    r = api.get("/customers", {"sort": "created_at", "cursor": _cursor("2020-01-01T00:00:00", 1)})
    assert r.status_code == 200
    assert [c["id"] for c in r.json()["items"]] == [customer.pk]
