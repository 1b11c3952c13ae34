"""The customer list's Export menu, "select all N matching" bulk actions, and the job page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client, TestCase

from guanxi.core.models import AuditEvent, Job
from guanxi.customers import bulk_all
from guanxi.customers.models import Customer
from guanxi.customers.selection import CustomerSelection
from tests.exports.conftest import body, read_csv, read_xlsx

GUANGDONG = urlencode({"province": "广东"})


@pytest.fixture
def login(world: Any) -> Any:
    def make(who: str) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(world.members[who].user)
        return client

    return make


@pytest.mark.parametrize(("who", "shown"), [("admin", True), ("marketing", True), ("owner", False)])
def test_export_menu_only_for_roles_that_may_export(login: Any, crowd: Any, who: str, shown: bool) -> None:
    html = login(who).get("/customers/", {"province": "广东"}).content.decode()
    assert ('id="export-menu"' in html) is shown
    assert "data-select-all-banner" in html  # bulk selection of all matching is for everyone's bulk bar
    if shown:
        assert 'name="columns" value="custom.channel"' in html  # custom fields can be chosen
        assert "All matching the filter" in html


def test_export_all_matching_as_xlsx(login: Any, crowd: Any) -> None:
    response = login("manager").post(
        "/customers/export/",
        {
            "format": "xlsx",
            "scope": "all",
            "query": GUANGDONG,
            "columns": ["name", "phone", "custom.channel"],
        },
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = read_xlsx(body(response))
    assert rows == [
        {"Name": "李娜", "Phone": "13700003333", "渠道": None},
        {"Name": "张伟", "Phone": "13812348000", "渠道": "微信"},
    ]  # team East only, newest first; the list's filters applied
    event = AuditEvent.objects.get(action="customers.exported")
    assert event.context["via"] == "ui" and event.context["filters"] == {"province": "广东"}


def test_export_selected_rows_as_csv_masked_for_marketing(login: Any, crowd: Any) -> None:
    ids = [crowd["zhang"].pk, crowd["liu"].pk]
    response = login("marketing").post(
        "/customers/export/", {"format": "csv", "scope": "selected", "ids": ids, "query": "grade=B"}
    )
    rows = read_csv(body(response))
    assert {r["Name"]: r["Phone"] for r in rows} == {"张伟": "138****8000", "刘洋": "136****4444"}


def test_selected_rows_of_someone_else_are_404(login: Any, crowd: Any, other_customer: Any) -> None:
    manager = login("manager")
    response = manager.post("/customers/export/", {"scope": "selected", "ids": [crowd["liu"].pk]})
    assert response.status_code == 404
    response = login("other_admin").post(
        "/customers/export/", {"scope": "selected", "ids": [crowd["zhang"].pk]}
    )
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action="customers.exported").exists()


def test_sales_reps_may_not_export(login: Any, crowd: Any) -> None:
    response = login("owner").post("/customers/export/", {"scope": "all", "query": ""})
    assert response.status_code == 403


def test_rate_limit_says_when_to_try_again(login: Any, crowd: Any, settings: Any) -> None:
    settings.GUANXI_EXPORTS_PER_HOUR = 1
    client = login("marketing")
    assert client.post("/customers/export/", {"scope": "all", "query": GUANGDONG}).status_code == 200
    response = client.post("/customers/export/", {"scope": "all", "query": GUANGDONG}, follow=True)
    html = response.content.decode()
    assert "You can export 1 times per hour" in html and "Try again after" in html
    assert response.redirect_chain[-1][0] == f"/customers/?{GUANGDONG}"


def test_bad_column_is_reported_on_the_list(login: Any, crowd: Any) -> None:
    response = login("admin").post(
        "/customers/export/", {"scope": "all", "query": "", "columns": ["name", "salary"]}, follow=True
    )
    assert "unknown column(s): salary" in response.content.decode()


def test_large_export_goes_to_the_job_page_and_downloads(login: Any, crowd: Any, settings: Any) -> None:
    settings.GUANXI_EXPORT_SYNC_MAX_ROWS = 1
    client = login("marketing")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/customers/export/", {"format": "csv", "scope": "all", "query": ""})
    job = Job.objects.get(kind="customers.export")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="export-download"' in page and "4 customers" in page
    download = client.get(f"/jobs/{job.pk}/download/")
    assert {r["Name"] for r in read_csv(body(download))} == {"张伟", "王芳", "李娜", "刘洋"}
    for who in ("admin", "manager", "other_admin"):
        assert login(who).get(f"/jobs/{job.pk}/").status_code == 404
        assert login(who).get(f"/jobs/{job.pk}/download/").status_code == 404


def test_job_page_polls_while_running_and_can_cancel(login: Any, world: Any, crowd: Any) -> None:
    outcome = bulk_all.customers_bulk_selection(
        actor=world.actor("admin", via="ui"),
        selection=CustomerSelection(),
        action="tag_add",
        tag="x",
        as_job=True,
    )
    assert outcome.job is not None
    client = login("admin")
    fragment = client.get(f"/jobs/{outcome.job.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "<html" not in fragment
    client.post(f"/jobs/{outcome.job.pk}/cancel/")
    assert Job.objects.get(pk=outcome.job.pk).state == "cancelled"
    assert login("manager").post(f"/jobs/{outcome.job.pk}/cancel/").status_code == 404


def _bulk(client: Client, **data: str) -> Any:
    return client.post("/customers/bulk/", {"all_matching": "1", "query": GUANGDONG, **data})


def test_bulk_tag_all_matching_confirms_with_the_count_then_applies(login: Any, crowd: Any) -> None:
    client = login("admin")
    page = _bulk(client, action="tag_add", tag="华南")
    html = page.content.decode()
    assert page.status_code == 200
    assert "to all 3 customers matching the filter" in html and "Province: 广东" in html
    assert not Customer.objects.filter(tags__name="华南").exists()  # nothing yet
    done = _bulk(client, action="tag_add", tag="华南", confirmed="1")
    assert done.status_code == 302 and done["Location"] == f"/customers/?{GUANGDONG}"
    assert set(Customer.objects.filter(tags__name="华南").values_list("name", flat=True)) == {
        "张伟",
        "李娜",
        "刘洋",
    }


def test_bulk_all_matching_respects_visibility_and_permissions(login: Any, crowd: Any) -> None:
    _bulk(login("manager"), action="delete", confirmed="1")
    assert set(Customer.objects.filter(deleted_at__isnull=False).values_list("name", flat=True)) == {
        "张伟",
        "李娜",
    }
    assert _bulk(login("marketing"), action="assign", owner="owner").status_code == 403
    assert _bulk(login("readonly"), action="tag_add", tag="x", confirmed="1").status_code == 403
    response = _bulk(login("other_admin"), action="tag_add", tag="x", confirmed="1")
    assert response.status_code == 302
    assert not Customer.objects.filter(tags__name="x").exists()  # another organisation matches none of acme


def test_bulk_all_matching_large_runs_as_a_job(login: Any, crowd: Any, settings: Any) -> None:
    settings.GUANXI_BULK_SYNC_MAX = 1
    client = login("admin")
    assert "runs in the background" in _bulk(client, action="assign", owner="teammate").content.decode()
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = _bulk(client, action="assign", owner="teammate", confirmed="1")
    job = Job.objects.get(kind="customers.bulk")
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert "2 of 3 matching customers changed" in client.get(f"/jobs/{job.pk}/").content.decode()


def test_bulk_bar_export_action_with_all_matching_exports_the_filter(login: Any, crowd: Any) -> None:
    response = _bulk(login("admin"), action="export")
    assert {r["Name"] for r in read_csv(body(response))} == {"张伟", "李娜", "刘洋"}


def test_missing_tag_goes_back_with_the_reason(login: Any, crowd: Any) -> None:
    response = _bulk(login("admin"), action="tag_add", tag=" ", confirmed="1")
    assert response.status_code == 302
    assert not Customer.objects.filter(tags__name="").exists()


def test_web_export_query_count_does_not_grow_with_rows(login: Any, crowd: Any, make_customer: Any) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login("admin")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            body(client.post("/customers/export/", {"format": "csv", "scope": "all", "query": GUANGDONG}))
        return len(ctx.captured_queries)

    before = queries()
    for i in range(12):
        make_customer("teammate", name=f"广东客户{i}", province="广东", tags=[f"t{i}"])
    assert queries() == before
