"""The customer list: visibility, filters, sort, keyset load-more, counts, columns, saved views, bulk."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.models import AuditEvent
from guanxi.customers.models import Customer, Tag
from guanxi.web import queries
from guanxi.web.models import SavedView, UserPreference
from tests.web.conftest import htmx


@pytest.fixture
def people(world: Any, make_customer: Any) -> dict[str, Customer]:
    return {
        "a": make_customer(
            "owner",
            name="张伟",
            province="广东",
            city="深圳",
            grade="A",
            tags=["重点客户"],
            phone="13812348000",
        ),
        "b": make_customer(
            "owner", name="王芳", province="浙江", city="杭州", grade="B", lifecycle_stage="active"
        ),
        "c": make_customer("teammate", name="李娜", province="广东", grade="A"),
        "d": make_customer("outsider", name="刘洋", province="广东", grade="A", industry="教育"),
    }


def names(response: Any) -> set[str]:
    html = response.content.decode()
    return {n for n in ["张伟", "王芳", "李娜", "刘洋", "赵敏"] if f">{n}</a>" in html}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("owner", {"张伟", "王芳"}),
        ("teammate", {"李娜"}),
        ("outsider", {"刘洋"}),
        ("manager", {"张伟", "王芳", "李娜"}),
        ("admin", {"张伟", "王芳", "李娜", "刘洋"}),
        ("readonly", {"张伟", "王芳", "李娜", "刘洋"}),
        ("other_admin", set()),
    ],
)
def test_list_shows_only_visible_customers(login: Any, people: Any, who: str, expected: set[str]) -> None:
    response = login(who).get("/customers/")
    assert response.status_code == 200
    assert names(response) == expected


def test_filters(login: Any, people: Any) -> None:
    client = login("admin")
    assert names(client.get("/customers/", {"grade": "A", "province": "广东"})) == {"张伟", "李娜", "刘洋"}
    assert names(client.get("/customers/", {"tag": "重点客户"})) == {"张伟"}
    assert names(client.get("/customers/", {"owner": "owner"})) == {"张伟", "王芳"}
    assert names(client.get("/customers/", {"team": "West"})) == {"刘洋"}
    assert names(client.get("/customers/", {"industry": "教育"})) == {"刘洋"}
    assert names(client.get("/customers/", {"city": "杭州"})) == {"王芳"}
    assert names(client.get("/customers/", {"lifecycle_stage": "active"})) == {"王芳"}
    assert names(client.get("/customers/", {"q": "张伟"})) == {"张伟"}
    assert names(client.get("/customers/", {"q": "8000"})) == {"张伟"}
    assert names(client.get("/customers/", {"created_from": "2000-01-01", "created_to": "2999-01-01"})) == {
        "张伟",
        "王芳",
        "李娜",
        "刘洋",
    }
    assert names(client.get("/customers/", {"updated_to": "2000-01-01"})) == set()
    # Nonsense dates are ignored, not a 500.
    assert client.get("/customers/", {"created_from": "yesterday"}).status_code == 200


def test_filter_update_is_an_htmx_partial(login: Any, people: Any) -> None:
    response = login("admin").get("/customers/", {"grade": "B"}, headers=htmx("results"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and 'id="filters"' not in html
    assert names(response) == {"王芳"}
    assert "1 customer" in html


def test_sort(login: Any, people: Any) -> None:
    html = login("admin").get("/customers/", {"sort": "name"}).content.decode()
    order = sorted(["张伟", "王芳", "李娜", "刘洋"], key=html.index)
    assert order == sorted(order)  # name ascending (code point order, as the database sorts)
    assert login("admin").get("/customers/", {"sort": "bogus"}).status_code == 200


def test_load_more_uses_keyset_cursor(login: Any, world: Any, make_customer: Any, monkeypatch: Any) -> None:
    from guanxi.web import customer_list

    monkeypatch.setattr(customer_list, "PAGE_SIZE", 2)
    for i in range(5):
        make_customer("owner", name=f"客户{i}")
    client = login("owner")
    html = client.get("/customers/").content.decode()
    assert "客户4" in html and "客户3" in html and "客户2" not in html
    assert 'id="load-more"' in html
    start = html.index("cursor=") + len("cursor=")
    cursor = html[start : html.index('"', start)]
    more = client.get("/customers/", {"cursor": cursor}, headers=htmx()).content.decode()
    assert "客户2" in more and "客户1" in more and "客户4" not in more
    assert "<thead>" not in more
    assert client.get("/customers/", {"cursor": "garbage"}).status_code == 200


def test_counts_are_capped(login: Any, people: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(queries, "COUNT_CAP", 2)
    qs = Customer.objects.all()
    assert queries.capped_count(qs, cap=2) == (2, False)
    assert queries.capped_count(qs, cap=10) == (4, True)
    html = login("admin").get("/customers/").content.decode()
    assert "4 customers" in html


def test_list_query_count_is_fixed(login: Any, world: Any, make_customer: Any, monkeypatch: Any) -> None:
    from guanxi.web import customer_list

    monkeypatch.setattr(customer_list, "PAGE_SIZE", 5)  # more than a page: the count is not free
    client = login("manager")
    make_customer("owner", name="甲", tags=["x"])

    def queries_of_one_page() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/customers/").status_code == 200
        return len(captured)  # now: the captured list is a view of a log the next request resets

    cold = queries_of_one_page()  # the count is not cached yet
    few = queries_of_one_page()
    for i in range(15):
        make_customer("owner" if i % 2 else "teammate", name=f"乙{i}", tags=["x", f"t{i}"])
    recount = queries_of_one_page()  # the new customers (and tags) dropped the cached entries
    many = queries_of_one_page()
    assert many == few <= 11
    # Once: members, teams, tags, saved views, custom-field definitions. The count is not read by
    # the page (it is loaded after it, test_count_of_a_long_list_arrives_after_the_rows).
    assert recount == few + 5
    assert cold >= recount


def test_pickers_follow_changes(login: Any, world: Any, people: Any) -> None:
    from guanxi.web.services import saved_view_create

    client = login("admin")
    html = client.get("/customers/").content.decode()
    assert "<option>重点客户</option>" in html and "新标签" not in html
    Tag.objects.create(organization=world.org, name="新标签")
    owner = world.members["owner"].user
    owner.first_name, owner.last_name = "小", "明"
    owner.save()
    saved_view_create(actor=world.actor("admin"), name="广东客户", query="province=广东", shared=False)
    html = client.get("/customers/").content.decode()
    assert "<option>新标签</option>" in html
    assert '<option value="owner">' + owner.get_full_name() + "</option>" in html
    assert "广东客户" in html


def _count_text(html: str) -> str:
    start = html.index('id="result-count">') + len('id="result-count">')
    return html[start : html.index("</span>", start)]


def test_cached_count_follows_changes(
    login: Any, world: Any, make_customer: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from guanxi.customers.services import customer_delete

    client = login("admin")
    first = make_customer("owner", name="甲")
    assert _count_text(client.get("/customers/").content.decode()) == "1 customer"
    make_customer("owner", name="乙")  # a save: dropped at once
    assert _count_text(client.get("/customers/").content.decode()) == "2 customers"
    with django_capture_on_commit_callbacks(execute=True):  # an update() write: its event drops it
        customer_delete(actor=world.actor("admin"), customer_id=first.pk, expected_version=first.version)
    assert _count_text(client.get("/customers/").content.decode()) == "1 customer"
    # A rep's count is cached apart from the admin's: the SQL carries the visibility.
    make_customer("teammate", name="丙")
    assert _count_text(login("owner").get("/customers/").content.decode()) == "1 customer"
    assert _count_text(client.get("/customers/").content.decode()) == "2 customers"


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("owner", "2 customers"),
        ("teammate", "1 customer"),
        ("outsider", "1 customer"),
        ("manager", "3 customers"),
        ("admin", "4 customers"),
        ("other_admin", "0 customers"),
    ],
)
def test_count_of_a_long_list_arrives_after_the_rows(
    login: Any, people: Any, monkeypatch: Any, who: str, expected: str
) -> None:
    from guanxi.web import customer_list

    monkeypatch.setattr(customer_list, "PAGE_SIZE", 1)  # every list with 2+ rows has more pages
    client = login(who)
    html = client.get("/customers/").content.decode()
    if expected in ("1 customer", "0 customers"):  # the first page holds them all: counted at once
        assert _count_text(html) == expected
        return
    assert _count_text(html) == "Counting…"
    assert 'hx-get="/customers/count/"' in html and 'hx-trigger="load"' in html
    fragment = client.get("/customers/count/", headers=htmx()).content.decode()
    assert _count_text(fragment) == expected
    total = expected.split()[0]
    assert f'data-total="{total}" data-total-exact="1"' in fragment
    # Counted once, the next visit shows it with the rows.
    assert _count_text(client.get("/customers/").content.decode()) == expected


def test_count_follows_the_filters(login: Any, people: Any, monkeypatch: Any) -> None:
    from guanxi.web import customer_list

    monkeypatch.setattr(customer_list, "PAGE_SIZE", 1)
    client = login("admin")
    html = client.get("/customers/", {"province": "广东", "grade": "A"}).content.decode()
    assert 'hx-get="/customers/count/?province=%E5%B9%BF%E4%B8%9C&amp;grade=A"' in html
    assert _count_text(
        client.get("/customers/count/", {"province": "广东", "grade": "A"}).content.decode()
    ) == ("3 customers")
    assert _count_text(client.get("/customers/count/", {"q": "王芳"}).content.decode()) == "1 customer"
    # A sales rep's count never includes what they cannot see, whatever the filter.
    owner = login("owner")
    assert _count_text(owner.get("/customers/count/", {"province": "广东"}).content.decode()) == "1 customer"


def test_count_needs_a_member(world: Any) -> None:
    from django.test import Client

    response = Client().get("/customers/count/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_rows_show_each_customers_own_tags_by_name(login: Any, world: Any, make_customer: Any) -> None:
    make_customer("owner", name="甲", tags=["b-回访", "a-重点"])
    make_customer("owner", name="乙", tags=["c-华南"])
    make_customer("owner", name="丙")

    def rows(html: str) -> dict[str, str]:
        """Each listed customer's ``<tr>`` (the pickers above the table list every tag)."""
        found = {}
        for name in ("甲", "乙", "丙"):
            if f">{name}</a>" in html:
                row = html[html.index(f">{name}</a>") :]
                found[name] = row[: row.index("</tr>")]
        return found

    listed = rows(login("owner").get("/customers/", {"sort": "name"}).content.decode())
    assert listed["甲"].index("a-重点") < listed["甲"].index("b-回访") and "c-华南" not in listed["甲"]
    assert "c-华南" in listed["乙"] and "a-重点" not in listed["乙"]
    assert 'class="tag"' not in listed["丙"]
    # Filtering by a tag still shows all of the customer's tags, not just the one filtered by.
    filtered = rows(login("owner").get("/customers/", {"tag": "a-重点"}).content.decode())
    assert list(filtered) == ["甲"] and "b-回访" in filtered["甲"]


def test_column_chooser_is_saved_per_user(login: Any, world: Any, people: Any) -> None:
    client = login("owner")
    response = client.post("/customers/columns/", {"columns": ["email", "industry", "nonsense"]})
    assert response.status_code == 302
    assert UserPreference.objects.get(user=world.owner.user).list_columns == ["email", "industry"]
    html = client.get("/customers/").content.decode()
    assert 'class="col-email"' in html and 'class="col-owner"' not in html
    # Another user keeps the default columns.
    assert 'class="col-owner"' in login("teammate").get("/customers/").content.decode()


def test_saved_views_private_and_shared(login: Any, world: Any, people: Any) -> None:
    owner = login("owner")
    response = owner.post("/customers/views/", {"name": "我的A级广东客户", "query": "grade=A&province=广东"})
    assert response.status_code == 302
    mine = SavedView.objects.get(name="我的A级广东客户")
    assert response["Location"].endswith(f"&view={mine.pk}")
    assert names(owner.get(response["Location"])) == {"张伟"}
    owner.post("/customers/views/", {"name": "全队共享", "query": "grade=B", "shared": "on"})
    teammate_html = login("teammate").get("/customers/").content.decode()
    assert "全队共享" in teammate_html and "我的A级广东客户" not in teammate_html
    assert "全队共享" not in login("other_admin").get("/customers/").content.decode()
    # Only the author deletes a view; for anyone else it does not exist.
    shared = SavedView.objects.get(name="全队共享")
    assert login("teammate").post(f"/customers/views/{shared.pk}/delete/").status_code == 404
    assert owner.post(f"/customers/views/{shared.pk}/delete/").status_code == 302
    assert not SavedView.objects.filter(pk=shared.pk).exists()


def test_saved_view_needs_a_name(login: Any, people: Any) -> None:
    response = login("owner").post("/customers/views/", {"name": " ", "query": "grade=A"})
    assert response.status_code == 302
    assert not SavedView.objects.exists()


def test_readonly_cannot_share_views(login: Any, people: Any) -> None:
    login("readonly").post("/customers/views/", {"name": "x", "query": "", "shared": "on"})
    assert not SavedView.objects.exists()


def test_bulk_assign_owner(login: Any, world: Any, people: Any) -> None:
    ids = [people["a"].pk, people["b"].pk]
    response = login("manager").post(
        "/customers/bulk/",
        {"action": "assign", "owner": "teammate", "ids": ids, "next": "/customers/?grade=A"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/customers/?grade=A"
    assert set(Customer.objects.filter(pk__in=ids).values_list("owner__username", flat=True)) == {"teammate"}
    assert AuditEvent.objects.filter(
        action="update", object_id=str(people["a"].pk), context__via="ui"
    ).exists()


def test_bulk_assign_needs_permission(login: Any, people: Any) -> None:
    response = login("owner").post(
        "/customers/bulk/", {"action": "assign", "owner": "teammate", "ids": [people["a"].pk]}
    )
    assert response.status_code == 403
    assert Customer.objects.get(pk=people["a"].pk).owner.username == "owner"


def test_bulk_tags(login: Any, people: Any) -> None:
    client = login("owner")
    ids = [people["a"].pk, people["b"].pk]
    client.post("/customers/bulk/", {"action": "tag_add", "tag": "展会", "ids": ids})
    for pk in ids:
        assert "展会" in set(Customer.objects.get(pk=pk).tags.values_list("name", flat=True))
    client.post("/customers/bulk/", {"action": "tag_remove", "tag": "重点客户", "ids": ids})
    assert set(Customer.objects.get(pk=people["a"].pk).tags.values_list("name", flat=True)) == {"展会"}


def test_bulk_on_invisible_customer_is_404_and_changes_nothing(login: Any, people: Any) -> None:
    ids = [people["a"].pk, people["c"].pk]  # c belongs to the teammate
    response = login("owner").post("/customers/bulk/", {"action": "tag_add", "tag": "展会", "ids": ids})
    assert response.status_code == 404
    assert not Customer.objects.filter(tags__name="展会").exists()


def test_bulk_delete(login: Any, people: Any) -> None:
    ids = [people["a"].pk, people["b"].pk]
    assert login("owner").post("/customers/bulk/", {"action": "delete", "ids": ids}).status_code == 403
    assert login("manager").post("/customers/bulk/", {"action": "delete", "ids": ids}).status_code == 302
    assert Customer.objects.filter(pk__in=ids, deleted_at__isnull=False).count() == 2


def test_bulk_without_selection_or_action(login: Any, people: Any) -> None:
    client = login("manager")
    response = client.post("/customers/bulk/", {"action": "delete"}, follow=True)
    assert "select at least one customer" in response.content.decode()
    response = client.post("/customers/bulk/", {"action": "explode", "ids": [people["a"].pk]}, follow=True)
    assert "unknown action" in response.content.decode()


def test_bulk_export_is_masked_and_audited(login: Any, people: Any) -> None:
    ids = [people["a"].pk, people["b"].pk]
    response = login("marketing").post("/customers/bulk/", {"action": "export", "ids": ids})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(content)))
    assert {r["Name"] for r in rows} == {"张伟", "王芳"}
    assert next(r for r in rows if r["Name"] == "张伟")["Phone"] == "138****8000"  # marketing: masked
    assert AuditEvent.objects.filter(action="customers.exported", context__via="ui").exists()
    assert login("owner").post("/customers/bulk/", {"action": "export", "ids": ids}).status_code == 403


def test_custom_field_filters(login: Any, world: Any, make_customer: Any) -> None:
    from guanxi.core.services import custom_field_create

    admin = world.actor("admin")
    custom_field_create(
        actor=admin,
        data={"key": "channel", "label": "渠道", "field_type": "choice", "choices": ["电话", "微信"]},
    )
    custom_field_create(actor=admin, data={"key": "vip", "label": "VIP", "field_type": "bool"})
    make_customer("owner", name="张伟", custom={"channel": "微信", "vip": True})
    make_customer("owner", name="王芳", custom={"channel": "电话"})
    client = login("owner")
    html = client.get("/customers/").content.decode()
    assert 'name="cf.channel"' in html and 'name="cf.vip"' in html
    assert names(client.get("/customers/", {"cf.channel": "微信"})) == {"张伟"}
    assert names(client.get("/customers/", {"cf.vip": "true"})) == {"张伟"}
    assert names(client.get("/customers/", {"cf.vip": "false"})) == set()
    client.post("/customers/views/", {"name": "微信客户", "query": "cf.channel=微信&evil=1"})
    assert SavedView.objects.get().query == "cf.channel=%E5%BE%AE%E4%BF%A1"


def test_customer_without_owner_renders(login: Any, make_customer: Any) -> None:
    orphan = make_customer("admin", name="赵敏", owner=None)
    assert orphan.owner_id is None
    client = login("admin")
    assert "赵敏" in client.get("/customers/").content.decode()
    assert names(client.get("/customers/", {"owner": "-"})) == {"赵敏"}
    assert client.get(f"/customers/{orphan.pk}/").status_code == 200
    assert client.get("/customers/", {"q": "赵敏"}).status_code == 200
    assert "赵敏" in client.get("/search/", {"q": "赵敏"}).content.decode()
