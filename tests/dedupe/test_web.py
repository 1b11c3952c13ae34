"""The review pages: who sees which pairs, "Not a duplicate" over htmx, "Run scan", the rules page."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client, TestCase

from guanxi.customers.dedupe.scan import run_scan
from guanxi.customers.models import DedupeSettings, DuplicateCandidate


@pytest.fixture
def pair(world: Any, make_customer: Any) -> DuplicateCandidate:
    make_customer("owner", name="张伟", phone="138 1234 8000", city="北京")
    make_customer("owner", name="張偉", phone="+86 138-1234-8000", city="北京")
    run_scan(world.org.pk)
    return DuplicateCandidate.objects.get(organization=world.org)


def browser(world: Any, who: str) -> Client:
    client = Client()
    client.force_login(world.members[who].user)
    return client


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("admin", True),
        ("manager", True),
        ("owner", True),
        ("teammate", False),
        ("outsider", False),
        ("readonly", True),
        ("other_admin", False),
    ],
)
def test_list_shows_pairs_of_visible_customers_only(
    world: Any, pair: DuplicateCandidate, who: str, sees: bool
) -> None:
    response = browser(world, who).get("/duplicates/")
    assert response.status_code == 200
    html = response.content.decode()
    assert (f'id="pair-{pair.pk}"' in html) == sees
    if sees:
        assert "張偉" in html and "zhangwei" in html
        assert f"/customers/{pair.customer_a_id}/merge/{pair.customer_b_id}/" in html or who in (
            "owner",
            "readonly",
        )


def test_the_navigation_links_the_page(world: Any) -> None:
    assert 'id="nav-duplicates"' in browser(world, "owner").get("/customers/").content.decode()


def test_not_a_duplicate_over_htmx_then_undo(world: Any, pair: DuplicateCandidate) -> None:
    client = browser(world, "owner")
    response = client.post(f"/duplicates/{pair.pk}/dismiss/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert 'data-status="dismissed"' in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == "dismissed" and pair.decided_by == world.owner.user
    assert f'id="pair-{pair.pk}"' not in client.get("/duplicates/").content.decode()
    assert f'id="pair-{pair.pk}"' in client.get("/duplicates/?status=dismissed").content.decode()
    client.post(f"/duplicates/{pair.pk}/reopen/", headers={"HX-Request": "true"})
    pair.refresh_from_db()
    assert pair.status == "open"


def test_a_decision_updates_the_tab_counts(world: Any, pair: DuplicateCandidate) -> None:
    client = browser(world, "owner")
    page = client.get("/duplicates/").content.decode()
    assert page.count('hx-swap-oob="true"') == 0  # the full page carries no out-of-band copies
    html = client.post(f"/duplicates/{pair.pk}/dismiss/", headers={"HX-Request": "true"}).content.decode()
    assert '<span class="count" id="dup-count-open" hx-swap-oob="true">0</span>' in html
    assert '<span class="count" id="dup-count-dismissed" hx-swap-oob="true">1</span>' in html


@pytest.mark.parametrize(("who", "status"), [("teammate", 404), ("other_admin", 404), ("readonly", 403)])
def test_others_cannot_dismiss(world: Any, pair: DuplicateCandidate, who: str, status: int) -> None:
    assert browser(world, who).post(f"/duplicates/{pair.pk}/dismiss/").status_code == status
    pair.refresh_from_db()
    assert pair.status == "open"


def test_run_scan_shows_the_job_and_its_result(world: Any, make_customer: Any) -> None:
    make_customer("owner", name="刘洋", email="liu.yang@example.com")
    make_customer("owner", name="劉洋", email="liu.yang@example.com")
    client = browser(world, "manager")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/duplicates/scan/")
    assert response.status_code == 302 and "?job=" in response["Location"]
    page = client.get(response["Location"]).content.decode()
    assert 'id="scan-status"' in page and 'data-state="succeeded"' in page
    assert "劉洋" in page
    job_id = response["Location"].split("job=")[1]
    status = client.get(f"/duplicates/scan/{job_id}/", headers={"HX-Request": "true"})
    assert status.status_code == 200 and 'data-state="succeeded"' in status.content.decode()
    assert browser(world, "other_admin").get(f"/duplicates/scan/{job_id}/").status_code == 404


@pytest.mark.parametrize("who", ["owner", "readonly", "marketing"])
def test_only_admins_and_managers_may_run_a_scan(world: Any, who: str) -> None:
    client = browser(world, who)
    assert 'id="run-scan"' not in client.get("/duplicates/").content.decode()
    assert client.post("/duplicates/scan/").status_code == 403


def test_rules_page_is_for_admins(world: Any) -> None:
    assert browser(world, "manager").get("/duplicates/rules/").status_code == 403
    assert browser(world, "other_admin").get("/duplicates/rules/").status_code == 200  # its own org's rules
    client = browser(world, "admin")
    assert 'id="dup-settings"' in client.get("/duplicates/rules/").content.decode()
    form = {
        f"on_{s}": "on" for s in ("name", "phone", "email", "wechat", "address", "city", "company", "custom")
    }
    response = client.post("/duplicates/rules/", {"threshold": "0.85", "custom_ignore": "segment", **form})
    assert response.status_code == 302
    cfg = DedupeSettings.objects.get(organization=world.org)
    assert cfg.threshold == 0.85
    assert cfg.rules["birthday"]["enabled"] is False and cfg.rules["custom"]["ignore"] == ["segment"]


def test_bad_threshold_on_the_rules_page_says_why_and_changes_nothing(world: Any) -> None:
    response = browser(world, "admin").post("/duplicates/rules/", {"threshold": "3"})
    assert response.status_code == 422
    assert "0.5" in response.content.decode()
    assert not DedupeSettings.objects.filter(organization=world.org).exists()
