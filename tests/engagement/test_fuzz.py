"""Random JSON at every writing engagement endpoint: never a 500, problem+json on 4xx, nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guanxi.core.models import AuditEvent
from guanxi.engagement.models import Activity, CareRule, Consent, EmailMessage, MessageTemplate, Task

pytestmark = pytest.mark.django_db

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=12)
)
VALUES = st.recursive(
    SCALARS,
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
    max_leaves=8,
)
FUZZ = settings(deadline=None, max_examples=20, suppress_health_check=[HealthCheck.function_scoped_fixture])

ENDPOINTS = {
    "/activities": [
        "customer_id",
        "kind",
        "occurred_at",
        "subject",
        "next_follow_up_at",
        "participant_ids",
        "contact_ids",
        "opportunity_id",
    ],
    "/tasks": ["title", "due_at", "assignee", "customer_id", "activity_id", "reminder_minutes", "priority"],
    "/care-rules": [
        "name",
        "kind",
        "audience",
        "channel",
        "template_id",
        "send_time",
        "country",
        "holidays",
        "revisit_days",
        "default_revisit_days",
    ],
    "/email-templates": ["name", "purpose", "subject", "body_text", "body_html"],
    "/notifications/read": ["ids"],
}


def _snapshot() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (Activity, Task, CareRule, MessageTemplate, EmailMessage, Consent, AuditEvent)
    )


def _check(r: Any, before: tuple[int, ...]) -> None:
    assert r.status_code < 500, r.content
    if r.status_code >= 400:
        assert r["Content-Type"] == "application/problem+json", r.content
        assert _snapshot() == before


@pytest.mark.parametrize("path", sorted(ENDPOINTS))
def test_fuzz_post(world: Any, customer: Any, path: str) -> None:
    api = world.api("admin")
    keys = ENDPOINTS[path]

    @FUZZ
    @given(body=st.dictionaries(st.sampled_from(keys) | st.text(max_size=6), VALUES, max_size=6))
    def run(body: dict[str, Any]) -> None:
        before = _snapshot()
        _check(api.post(path, body), before)

    run()


@FUZZ
@given(
    body=st.dictionaries(
        st.sampled_from(["template_id", "subject", "body_text", "purpose"]), VALUES, max_size=4
    )
)
def test_fuzz_send_and_consent(world: Any, customer: Any, body: dict[str, Any]) -> None:
    api = world.api("admin")
    before = _snapshot()
    _check(api.post(f"/customers/{customer.pk}/emails", body), before)
    _check(api.post(f"/customers/{customer.pk}/consents", body), before)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["rep", "team", "kind", "from", "to", "customer_id", "cursor", "limit"]),
        st.text(max_size=12),
        max_size=4,
    )
)
def test_fuzz_list_filters(world: Any, params: dict[str, str]) -> None:
    r = world.api("admin").get("/activities", params)
    assert r.status_code < 500, r.content
