"""The public-pool pages (公海): list, filters, load more, quota, claim, assign, release, roles."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers import views
from guanxi.customers.models import Customer, CustomerAssignment
from guanxi.customers.pool import pool_claim, pool_release
from tests.web.conftest import htmx

URL = "/pool/"


def claim_url(c: Any) -> str:
    return f"/pool/{c.pk}/claim/"


def test_list_shows_the_pool_with_masked_details_for_reps(login: Any, pooled: Any) -> None:
    html = login("owner").get(URL).content.decode()
    assert "王芳" in html and "上海晨光贸易有限公司" in html
    assert "139****1234" in html and "139 0000 1234" not in html
    assert "13911112222" not in html and "新线索" not in html  # notes and the release note stay hidden
    assert "Released to the pool" in html  # why it is in the pool
    assert f'data-claim="{pooled.pk}"' in html
    assert "data-assign=" not in html  # reps do not assign


def test_managers_see_details_and_assign(login: Any, pooled: Any) -> None:
    html = login("manager").get(URL).content.decode()
    assert "139 0000 1234" in html and "新线索" in html
    assert f'data-assign="{pooled.pk}"' in html
    # A manager assigns within the team: East's members, not West's.
    assert '<option value="owner">' in html and '<option value="outsider">' not in html
    admin = login("admin").get(URL).content.decode()
    assert '<option value="outsider">' in admin and '<option value="marketing">' not in admin


@pytest.mark.parametrize("who", ["marketing", "service", "readonly"])
def test_other_roles_get_403(login: Any, pooled: Any, who: str) -> None:
    client = login(who)
    response = client.get(URL)
    assert response.status_code == 403
    assert "Only sales reps, managers and administrators" in response.content.decode()
    assert client.post(claim_url(pooled), headers=htmx()).status_code == 403
    assert client.get(f"/pool/release/{pooled.pk}/").status_code == 403
    assert Customer.objects.get(pk=pooled.pk).owner_id is None


def test_sign_in_required(client: Any, pooled: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.post(claim_url(pooled)).status_code == 302


def test_filters_are_htmx_partials(login: Any, to_pool: Any) -> None:
    to_pool(name="甲公司", grade="A", province="广东", industry="制造", tags=["重点"])
    to_pool(name="乙公司", grade="B", province="浙江", industry="零售")
    client = login("owner")
    for params, expected in [
        ({"grade": "A"}, "甲公司"),
        ({"province": "浙江"}, "乙公司"),
        ({"industry": "制造"}, "甲公司"),
        ({"tag": "重点"}, "甲公司"),
        ({"q": "乙"}, "乙公司"),
    ]:
        html = client.get(URL, params, headers=htmx("pool-results")).content.decode()
        other = "乙公司" if expected == "甲公司" else "甲公司"
        assert expected in html and other not in html, params
        assert "pool-quota" not in html and "<html" not in html  # only the results
    assert "No pool customers match" in client.get(URL, {"grade": "D"}).content.decode()


def test_load_more_uses_the_keyset_cursor(login: Any, to_pool: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for i in range(5):
        to_pool(name=f"池客户{i}")
    client = login("owner")
    html = client.get(URL).content.decode()
    assert "池客户4" in html and "池客户3" in html and "池客户2" not in html
    start = html.index("cursor=") + len("cursor=")
    cursor = html[start : html.index('"', start)]
    more = client.get(URL, {"cursor": cursor}, headers=htmx()).content.decode()
    assert "池客户2" in more and "池客户1" in more and "池客户4" not in more
    assert "<thead>" not in more and 'id="pool-load-more"' in more
    assert client.get(URL, {"cursor": "garbage"}).status_code == 200


def test_quota_banner(login: Any, to_pool: Any, limits: Any, make_customer: Any) -> None:
    limits(daily_claim_limit=10, max_owned=200)
    make_customer("owner", name="已有客户")
    first = to_pool(name="甲")
    to_pool(name="乙")
    client = login("owner")
    client.post(claim_url(first), headers=htmx())
    html = client.get(URL).content.decode()
    assert "Claimed today: 1/10" in html and "Owned: 2/200" in html
    zh = login("owner")
    zh.cookies["django_language"] = "zh-hans"
    html = zh.get(URL, headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "今日已领取 1/10" in html and "持有 2/200" in html


def test_claim_turns_the_row_into_a_link(login: Any, world: Any, pooled: Any) -> None:
    response = login("owner").post(claim_url(pooled), headers=htmx())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Claimed" in html and f'href="/customers/{pooled.pk}/"' in html
    assert 'hx-swap-oob="true"' in html and "Owned: 1" in html  # the quota banner follows
    fresh = Customer.objects.get(pk=pooled.pk)
    assert fresh.owner_id == world.owner.user_id and not fresh.in_public_pool
    entry = CustomerAssignment.objects.filter(customer=pooled).latest("at")
    assert entry.reason == "claim" and entry.to_user_id == world.owner.user_id
    # Now it is in the rep's own list.
    assert "王芳" in login("owner").get("/customers/").content.decode()


def test_claim_without_javascript_redirects_to_the_customer(login: Any, pooled: Any) -> None:
    response = login("owner").post(claim_url(pooled))
    assert response.status_code == 302 and response["Location"] == f"/customers/{pooled.pk}/"


def test_race_loser_sees_who_was_faster_inline(login: Any, world: Any, pooled: Any) -> None:
    client = login("owner")
    assert f'data-claim="{pooled.pk}"' in client.get(URL).content.decode()
    pool_claim(actor=world.actor("teammate"), customer_id=pooled.pk)  # the teammate clicks first
    response = client.post(claim_url(pooled), headers=htmx())
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#pool-act-{pooled.pk}"
    html = response.content.decode()
    assert 'data-code="already_claimed"' in html and "Someone else took this customer first" in html
    assert "data-claim=" not in html  # nothing left to claim
    assert Customer.objects.get(pk=pooled.pk).owner_id == world.teammate.user_id
    plain = client.post(claim_url(pooled))
    assert plain.status_code == 409 and "Someone else took" in plain.content.decode()


def test_cap_and_daily_limit_messages(login: Any, to_pool: Any, limits: Any, make_customer: Any) -> None:
    a, b = to_pool(name="甲"), to_pool(name="乙")
    client = login("owner")
    limits(max_owned=1)
    make_customer("owner", name="已有")
    html = client.post(claim_url(a), headers=htmx()).content.decode()
    assert 'data-code="cap_reached"' in html and "the most a rep may hold (1)" in html
    assert f'data-claim="{a.pk}"' in html  # the button stays for after a release
    limits(max_owned=None, daily_claim_limit=1)
    assert client.post(claim_url(a), headers=htmx()).status_code == 200
    html = client.post(claim_url(b), headers=htmx()).content.decode()
    assert 'data-code="daily_limit"' in html and "the daily limit" in html
    assert Customer.objects.get(pk=b.pk).owner_id is None


def test_recently_lost_shows_when_it_can_be_claimed_again(
    login: Any, world: Any, make_customer: Any, limits: Any
) -> None:
    limits(reclaim_block_days=30)
    mine = make_customer("owner", name="流失客户")
    pool_release(actor=world.actor("owner"), customer_id=mine.pk, reason="预算取消")
    client = login("owner")
    page = client.get(URL).content.decode()
    assert "Claimable from" in page
    assert '<td class="col-owner">owner</td>' in page  # the previous owner
    html = client.post(claim_url(mine), headers=htmx()).content.decode()
    assert 'data-code="recently_lost"' in html and "you can claim it again from" in html
    assert Customer.objects.get(pk=mine.pk).owner_id is None


def test_other_organisations_ids_are_404(login: Any, world: Any, other_customer: Any) -> None:
    pool_release(actor=world.actor("other_admin"), customer_id=other_customer.pk, reason="x")
    client = login("owner")
    assert client.post(f"/pool/{other_customer.pk}/claim/", headers=htmx()).status_code == 404
    assert login("admin").post(f"/pool/{other_customer.pk}/assign/", {"username": "owner"}).status_code == 404
    assert client.get(f"/pool/release/{other_customer.pk}/").status_code == 404
    assert "李娜" not in client.get(URL).content.decode()
    assert Customer.objects.get(pk=other_customer.pk).owner_id is None


def test_a_teammates_customer_is_404_not_claimable(login: Any, make_customer: Any) -> None:
    theirs = make_customer("teammate", name="同事的客户")
    client = login("owner")
    assert client.post(f"/pool/{theirs.pk}/claim/", headers=htmx()).status_code == 404
    assert client.get(f"/pool/release/{theirs.pk}/").status_code == 404


def test_release_needs_a_reason(login: Any, world: Any, customer: Any) -> None:
    client = login("owner")
    page = client.get(f"/pool/release/{customer.pk}/")
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    response = client.post(f"/pool/release/{customer.pk}/", {"reason": "  "})
    assert response.status_code == 422
    assert "say why the customer goes back to the pool" in response.content.decode()
    assert Customer.objects.get(pk=customer.pk).owner_id == world.owner.user_id
    response = client.post(f"/pool/release/{customer.pk}/", {"reason": "客户暂无预算"})
    assert response.status_code == 302 and response["Location"] == "/pool/"
    fresh = Customer.objects.get(pk=customer.pk)
    assert fresh.owner_id is None and fresh.in_public_pool
    entry = CustomerAssignment.objects.filter(customer=customer).latest("at")
    assert entry.reason == "release" and entry.note == "客户暂无预算"
    again = client.get(f"/pool/release/{customer.pk}/")
    assert again.status_code == 404  # a rep no longer sees it outside the pool


def test_release_with_htmx_redirects_to_the_pool(login: Any, customer: Any) -> None:
    client = login("owner")
    form = client.get(f"/pool/release/{customer.pk}/", headers=htmx()).content.decode()
    assert "<html" not in form and 'id="pool-release"' in form
    bad = client.post(f"/pool/release/{customer.pk}/", {"reason": ""}, headers=htmx())
    assert bad.status_code == 200 and 'id="release-error"' in bad.content.decode()
    ok = client.post(f"/pool/release/{customer.pk}/", {"reason": "转给公海"}, headers=htmx())
    assert ok.status_code == 204 and ok["HX-Redirect"] == "/pool/"


def test_release_by_manager_and_not_by_a_peer(login: Any, world: Any, customer: Any) -> None:
    assert login("teammate").post(f"/pool/release/{customer.pk}/", {"reason": "x"}).status_code == 404
    response = login("manager").post(f"/pool/release/{customer.pk}/", {"reason": "重新分配"})
    assert response.status_code == 302
    assert Customer.objects.get(pk=customer.pk).in_public_pool
    already = login("admin").get(f"/pool/release/{customer.pk}/")
    assert already.status_code == 409 and "already in the public pool" in already.content.decode()


def test_assign_by_manager(login: Any, world: Any, pooled: Any) -> None:
    client = login("manager")
    response = client.post(f"/pool/{pooled.pk}/assign/", {"username": "teammate"}, headers=htmx())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Assigned to teammate" in html and f'href="/customers/{pooled.pk}/"' in html
    fresh = Customer.objects.get(pk=pooled.pk)
    assert fresh.owner_id == world.teammate.user_id and not fresh.in_public_pool
    assert CustomerAssignment.objects.filter(customer=pooled, reason="assign").exists()


def test_assign_refusals(login: Any, world: Any, to_pool: Any, limits: Any, make_customer: Any) -> None:
    a = to_pool(name="甲")
    client = login("manager")
    html = client.post(f"/pool/{a.pk}/assign/", {"username": "outsider"}, headers=htmx()).content.decode()
    assert "only to members of your own team" in html and 'data-code="invalid"' in html
    assert client.post(f"/pool/{a.pk}/assign/", {"username": "outsider"}).status_code == 422
    limits(max_owned=1)
    make_customer("teammate", name="已有")
    html = client.post(f"/pool/{a.pk}/assign/", {"username": "teammate"}, headers=htmx()).content.decode()
    assert 'data-code="cap_reached"' in html and "teammate already owns 1 customers" in html
    rep = login("owner").post(f"/pool/{a.pk}/assign/", {"username": "owner"}, headers=htmx())
    assert rep.status_code == 403
    assert Customer.objects.get(pk=a.pk).owner_id is None


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_list_query_count_does_not_grow_with_rows(login: Any, to_pool: Any, limits: Any, who: str) -> None:
    limits(daily_claim_limit=5, max_owned=50, reclaim_block_days=30)
    to_pool(name="甲", tags=["x"])
    client = login(who)
    client.get(URL)  # warm caches (distinct values)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    for i in range(12):
        to_pool(name=f"乙{i}", tags=["x", f"t{i}"], province="广东")
    with CaptureQueriesContext(connection) as many:
        assert client.get(URL).status_code == 200
    assert len(many) == len(few)
    assert len(many) <= 20


def test_pooled_at_is_shown(login: Any, to_pool: Any) -> None:
    to_pool(name="旧客户", at=timezone.now() - dt.timedelta(days=3))
    assert "3\xa0days ago" in login("owner").get(URL).content.decode()
