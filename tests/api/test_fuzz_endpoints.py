"""Random JSON at every writing endpoint: never a 500, problem+json on errors, nothing written on 4xx."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.core.models import AuditEvent, CustomFieldDefinition, Membership
from guanxi.customers.models import Contact, Customer, Tag

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=20)
)
VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)


def obj(keys):
    return st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), VALUES, max_size=6)


FUZZ = settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _snapshot():
    return (
        Customer.objects.count(),
        Contact.objects.count(),
        Tag.objects.count(),
        CustomFieldDefinition.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )


def _check(r, before):
    assert r.status_code < 500, r.content
    if r.status_code >= 400:
        assert r["Content-Type"] == "application/problem+json", r.content
        assert _snapshot() == before


ITEM_KEYS = ["name", "external_id", "phone", "email", "custom", "tags", "owner", "kind", "phones"]


@FUZZ
@given(
    body=st.fixed_dictionaries(
        {
            "mode": st.sampled_from(["create", "upsert", "merge"]) | SCALARS,
            "items": st.lists(obj(ITEM_KEYS), max_size=4),
        }
    )
    | VALUES
)
def test_bulk(world, body):
    api = world.api("owner")
    before = _snapshot()
    _check(api.post("/customers/bulk", raw=json.dumps(body)), before)


@FUZZ
@given(body=obj(["customer_id", "name", "phone", "email", "is_primary", "title", "notes"]))
def test_contacts(world, customer, body):
    api = world.api("owner")
    before = _snapshot()
    _check(api.post("/contacts", raw=json.dumps(body)), before)


@FUZZ
@given(body=obj(["key", "label", "field_type", "choices", "required", "unique", "position"]))
def test_custom_fields(world, body):
    api = world.api("admin")
    before = _snapshot()
    _check(api.post("/custom-fields", raw=json.dumps(body)), before)


@FUZZ
@given(body=obj(["username", "role", "team", "email", "display_name", "password"]))
def test_users(world, body):
    api = world.api("admin")
    before = _snapshot()
    _check(api.post("/users", raw=json.dumps(body)), before)


@FUZZ
@given(body=obj(["role", "team", "is_active"]))
def test_user_patch(world, body):
    r = world.api("admin").patch(f"/users/{world.teammate.pk}", raw=json.dumps(body))
    assert r.status_code < 500, r.content


@FUZZ
@given(body=obj(["name", "color"]))
def test_tags(world, body):
    api = world.api("admin")
    before = _snapshot()
    _check(api.post("/tags", raw=json.dumps(body)), before)


@FUZZ
@given(body=obj(["username"]))
def test_shares(world, customer, body):
    r = world.api("owner").post(f"/customers/{customer.pk}/shares", raw=json.dumps(body))
    assert r.status_code < 500, r.content
