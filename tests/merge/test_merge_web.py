"""The merge pages: "Merge with…", the side-by-side compare, success with undo, history, the banner."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from guanxi.customers.merge import customer_merge
from guanxi.customers.models import Contact, Customer, CustomerMerge, DuplicateCandidate
from tests.conftest import World
from tests.merge.conftest import Pair


@pytest.fixture(autouse=True)
def _english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def login(world: World) -> Callable[[str], Client]:
    def make(who: str) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(world.members[who].user)
        return client

    return make


def _post_merge(client: Client, pair: Pair, **choices: str) -> Any:
    versions = pair.versions()
    data = {
        "survivor_version": versions[pair.older.pk],
        "merged_version": versions[pair.newer.pk],
        **{f"choice:{k}": v for k, v in choices.items()},
    }
    return client.post(f"/customers/{pair.older.pk}/merge/{pair.newer.pk}/", data)


def test_detail_page_offers_merge_only_to_roles_that_may(world: World, pair: Pair, login: Any) -> None:
    assert 'id="merge-with"' in login("manager").get(f"/customers/{pair.older.pk}/").content.decode()
    assert 'id="merge-with"' not in login("owner").get(f"/customers/{pair.older.pk}/").content.decode()


def test_start_page_searches_and_suggests(world: World, pair: Pair, login: Any) -> None:
    low, high = sorted((pair.older.pk, pair.newer.pk))
    DuplicateCandidate.objects.create(
        organization=world.org, customer_a_id=low, customer_b_id=high, score=0.91
    )
    client = login("admin")
    page = client.get(f"/customers/{pair.older.pk}/merge/").content.decode()
    assert f"/customers/{pair.older.pk}/merge/{pair.newer.pk}/" in page  # the scan's suggestion
    found = client.get(f"/customers/{pair.older.pk}/merge/search/", {"q": "张"}).content.decode()
    assert f"/merge/{pair.newer.pk}/" in found
    assert f"/merge/{pair.older.pk}/" not in found  # not itself


def test_compare_shows_differences_with_defaults_and_what_moves(world: World, pair: Pair, login: Any) -> None:
    r = login("admin").get(f"/customers/{pair.older.pk}/merge/{pair.newer.pk}/")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'name="choice:name" value="merged" checked' in html  # newer record's name preselected
    assert 'name="choice:company" value="survivor" checked' in html
    assert 'name="choice:phones" value="union" checked' in html
    assert 'id="field-kind"' not in html  # identical: collapsed, no radio
    assert "1 contact" in html and "1 activity" in html
    assert f"/customers/{pair.newer.pk}/merge/{pair.older.pk}/" in html  # swap


def test_merge_from_the_page_then_undo(world: World, pair: Pair, login: Any) -> None:
    client = login("admin")
    r = _post_merge(client, pair, name="survivor")
    record = CustomerMerge.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/merges/{record.pk}/"
    done = client.get(r["Location"]).content.decode()
    assert 'id="merge-undo"' in done and "1 contact" in done
    assert Customer.objects.get(pk=pair.older.pk).name == "张伟"
    assert Contact.objects.filter(customer=pair.older).count() == 2

    banner = client.get(f"/customers/{pair.newer.pk}/")
    assert banner.status_code == 200
    assert f'href="/customers/{pair.older.pk}/"' in banner.content.decode()
    assert 'id="merged-banner"' in banner.content.decode()

    undone = client.post(f"/merges/{record.pk}/undo/")
    assert undone.status_code == 302 and undone["Location"] == f"/customers/{pair.newer.pk}/"
    assert Contact.objects.filter(customer=pair.newer).count() == 1
    again = client.post(f"/merges/{record.pk}/undo/", follow=True)
    assert "already undone" in again.content.decode()


def test_stale_page_does_not_merge(world: World, pair: Pair, login: Any) -> None:
    client = login("admin")
    versions = pair.versions()
    Customer.objects.filter(pk=pair.newer.pk).update(version=versions[pair.newer.pk] + 1)
    r = client.post(
        f"/customers/{pair.older.pk}/merge/{pair.newer.pk}/",
        {"survivor_version": versions[pair.older.pk], "merged_version": versions[pair.newer.pk]},
    )
    assert r.status_code == 409 and 'id="merge-conflict"' in r.content.decode()
    assert not CustomerMerge.objects.exists()


def test_bad_choice_is_shown_and_changes_nothing(world: World, pair: Pair, login: Any) -> None:
    r = _post_merge(login("admin"), pair, name="both")
    assert r.status_code == 422 and "choices.name" in r.content.decode()
    assert not CustomerMerge.objects.exists()


def test_merging_a_record_with_itself_or_a_deleted_one_is_explained(
    world: World, pair: Pair, login: Any
) -> None:
    r = login("admin").get(f"/customers/{pair.older.pk}/merge/{pair.older.pk}/")
    assert r.status_code == 422 and "same customer" in r.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("manager", 200),
        ("owner", 403),
        ("teammate", 403),
        ("outsider", 403),
        ("marketing", 403),
        ("service", 403),
        ("readonly", 403),
        ("other_admin", 404),
    ],
)
def test_compare_page_by_role(world: World, pair: Pair, login: Any, who: str, status: int) -> None:
    assert login(who).get(f"/customers/{pair.older.pk}/merge/{pair.newer.pk}/").status_code == status
    assert login(who).get(f"/customers/{pair.older.pk}/merge/").status_code == status


@pytest.mark.parametrize(("who", "status"), [("owner", 403), ("readonly", 403), ("other_admin", 404)])
def test_post_by_roles_that_may_not(world: World, pair: Pair, login: Any, who: str, status: int) -> None:
    assert _post_merge(login(who), pair).status_code == status
    assert not CustomerMerge.objects.exists()


def test_history_lists_merges_with_undo(world: World, pair: Pair, login: Any) -> None:
    record = customer_merge(
        actor=world.actor("admin"),
        survivor_id=pair.older.pk,
        merged_id=pair.newer.pk,
        expected_versions=pair.versions(),
    )
    html = login("admin").get("/merges/").content.decode()
    assert f'id="merge-{record.pk}"' in html and f"/merges/{record.pk}/undo/" in html
    assert 'id="nav-merges"' in html
    assert login("owner").get("/merges/").status_code == 403
    other = login("other_admin")
    assert f'id="merge-{record.pk}"' not in other.get("/merges/").content.decode()
    assert other.get(f"/merges/{record.pk}/").status_code == 404
    assert other.post(f"/merges/{record.pk}/undo/").status_code == 404
    assert login("readonly").post(f"/merges/{record.pk}/undo/").status_code == 403
    assert CustomerMerge.objects.get().undone_at is None


def test_merged_away_page_for_a_sales_rep_links_without_undo(world: World, pair: Pair, login: Any) -> None:
    customer_merge(
        actor=world.actor("admin"),
        survivor_id=pair.older.pk,
        merged_id=pair.newer.pk,
        expected_versions=pair.versions(),
    )
    html = login("owner").get(f"/customers/{pair.newer.pk}/").content.decode()
    assert 'id="go-survivor"' in html and 'id="merge-undo"' not in html
    assert login("teammate").get(f"/customers/{pair.newer.pk}/").status_code == 404  # never saw it


def test_timeline_and_history_show_the_merge(world: World, pair: Pair, login: Any) -> None:
    customer_merge(
        actor=world.actor("admin"),
        survivor_id=pair.older.pk,
        merged_id=pair.newer.pk,
        expected_versions=pair.versions(),
    )
    client = login("admin")
    assert (
        "merged a duplicate into this customer" in client.get(f"/customers/{pair.older.pk}/").content.decode()
    )
    history = client.get(f"/customers/{pair.older.pk}/tab/history/").content.decode()
    assert "Merged from" in history and f"(#{pair.newer.pk})" in history


def test_history_page_queries_do_not_grow_with_merges(world: World, make_customer: Any, login: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add_merges(n: int) -> None:
        for i in range(n):
            a, b = make_customer("owner", name=f"甲{i}"), make_customer("owner", name=f"乙{i}")
            customer_merge(
                actor=world.actor("admin"),
                survivor_id=a.pk,
                merged_id=b.pk,
                expected_versions={a.pk: 1, b.pk: 1},
            )

    client = login("admin")
    add_merges(1)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/merges/").status_code == 200
    add_merges(5)
    with CaptureQueriesContext(connection) as six:
        html = client.get("/merges/").content.decode()
    assert len(re.findall(r'id="merge-\d+"', html)) == 6
    assert len(six) == len(one)
