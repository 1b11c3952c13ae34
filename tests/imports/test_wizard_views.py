"""The web import wizard: who may use it, each step's page, and a whole import through the pages."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, TestCase

from guanxi.core.models import Job
from guanxi.customers.models import Customer, ImportMapping

FILES = Path(__file__).parent / "files"
IMPORTERS = ["admin", "manager"]
NOT_IMPORTERS = ["owner", "teammate", "outsider", "marketing", "service", "readonly"]


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return settings.DATA_DIR


def browser(world: Any, who: str) -> Client:
    """Signed in, reading English (messages are compared as text; Chinese is the default)."""
    client = Client()
    client.force_login(world.members[who].user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def upload(client: Client, name: str = "customers_gbk.csv", **fields: str) -> str:
    with (FILES / name).open("rb") as handle:
        response = client.post("/customers/import/", {"file": handle, **fields})
    assert response.status_code == 302, response.content.decode()[:2000]
    return str(response["Location"])


def upload_id_of(url: str) -> str:
    match = re.search(r"/customers/import/([0-9a-f-]{36})/", url)
    assert match, url
    return match[1]


def start(client: Client, url: str, data: dict[str, str]) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the job is queued on commit; huey runs inline
        return client.post(url.split("?")[0] + "start/", data)


def selected(html: str, index: int) -> str:
    select = re.search(rf'<select name="map-{index}".*?</select>', html, re.S)
    assert select, f"no select for column {index}"
    chosen = re.search(r'<option value="([^"]*)" selected', select[0])
    return chosen[1] if chosen else ""


# ---------------------------------------------------------------------------- permissions


@pytest.mark.parametrize("who", NOT_IMPORTERS)
def test_roles_without_import_rights_get_403_on_every_step(world: Any, who: str) -> None:
    admin_url = upload(browser(world, "admin"))
    upload_id = upload_id_of(admin_url)
    client = browser(world, who)
    assert client.get("/customers/import/").status_code == 403
    with (FILES / "customers_gbk.csv").open("rb") as handle:
        assert client.post("/customers/import/", {"file": handle}).status_code == 403
    assert client.get(f"/customers/import/{upload_id}/").status_code == 403
    assert client.post(f"/customers/import/{upload_id}/preview/", {"mode": "create"}).status_code == 403
    assert client.post(f"/customers/import/{upload_id}/start/", {"mode": "create"}).status_code == 403
    assert not Job.objects.filter(kind="customers.import").exists()
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("who", NOT_IMPORTERS)
def test_roles_without_import_rights_cannot_see_a_job(world: Any, who: str) -> None:
    job = _finished_job(world, "admin")
    client = browser(world, who)
    assert client.get(f"/customers/import/jobs/{job.pk}/").status_code == 403
    assert client.post(f"/customers/import/jobs/{job.pk}/cancel/").status_code == 403
    assert client.get(f"/customers/import/jobs/{job.pk}/errors.csv").status_code == 403


def test_the_customer_list_offers_import_only_to_importers(world: Any) -> None:
    for who in IMPORTERS:
        assert b'id="import-customers"' in browser(world, who).get("/customers/").content
    for who in NOT_IMPORTERS:
        assert b'id="import-customers"' not in browser(world, who).get("/customers/").content


def test_another_organisation_gets_404_for_uploads_and_jobs(world: Any) -> None:
    url = upload(browser(world, "admin"))
    upload_id = upload_id_of(url)
    job = _finished_job(world, "admin")
    other = browser(world, "other_admin")
    assert other.get("/customers/import/").status_code == 200  # their own wizard works
    assert other.get(f"/customers/import/{upload_id}/").status_code == 404
    assert other.post(f"/customers/import/{upload_id}/preview/", {"mode": "create"}).status_code == 404
    assert other.post(f"/customers/import/{upload_id}/start/", {"mode": "create"}).status_code == 404
    assert other.get(f"/customers/import/jobs/{job.pk}/").status_code == 404
    assert other.post(f"/customers/import/jobs/{job.pk}/cancel/").status_code == 404
    assert other.get(f"/customers/import/jobs/{job.pk}/errors.csv").status_code == 404
    assert Customer.objects.filter(organization=world.other_org).count() == 0


def test_a_manager_cannot_open_the_admins_job_but_the_admin_sees_the_managers(world: Any) -> None:
    admins = _finished_job(world, "admin")
    managers = _finished_job(world, "manager", name="customers_utf8_bom.csv")
    manager = browser(world, "manager")
    assert manager.get(f"/customers/import/jobs/{admins.pk}/").status_code == 404
    assert manager.get(f"/customers/import/jobs/{managers.pk}/").status_code == 200
    assert browser(world, "admin").get(f"/customers/import/jobs/{managers.pk}/").status_code == 200


def test_a_non_import_job_id_is_404(world: Any) -> None:
    other_job = Job.objects.create(
        organization=world.org, created_by=world.admin.user, kind="customers.export"
    )
    assert browser(world, "admin").get(f"/customers/import/jobs/{other_job.pk}/").status_code == 404


def test_pages_need_a_sign_in(world: Any) -> None:
    response = Client().get("/customers/import/")
    assert response.status_code == 302 and "/login/" in response["Location"]


# ---------------------------------------------------------------------------------- steps


def test_upload_page_lists_only_this_organisations_saved_mappings(world: Any) -> None:
    ImportMapping.objects.create(organization=world.org, name="ERP 导出", columns={"客户名称": "name"})
    ImportMapping.objects.create(organization=world.other_org, name="Secret other", columns={"a": "name"})
    html = browser(world, "manager").get("/customers/import/").content.decode()
    assert "ERP 导出" in html and "Secret other" not in html


def test_upload_without_a_file_explains(world: Any) -> None:
    response = browser(world, "admin").post("/customers/import/", {})
    assert response.status_code == 400
    assert "Choose a file to import." in response.content.decode()


def test_an_empty_file_is_explained_on_the_next_step(world: Any, tmp_path: Path) -> None:
    client = browser(world, "admin")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with empty.open("rb") as handle:
        response = client.post("/customers/import/", {"file": handle})
    if response.status_code == 302:  # stored; the reader explains when the file is opened
        response = client.get(response["Location"])
        assert response.status_code == 422
    else:
        assert response.status_code == 400
    assert "The file is empty." in response.content.decode()


def test_mapping_step_shows_the_automatic_mapping_samples_and_problems(world: Any) -> None:
    client = browser(world, "manager")
    url = upload(client)
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "GBK/GB18030" in html  # the detected encoding is shown
    assert selected(html, 0) == "name" and selected(html, 1) == "phones" and selected(html, 7) == "birthday"
    assert "１３８００１３８０００" in html  # sample values as in the file
    # row 5's impossible birthday is flagged in its own cell, and the row is marked as a problem
    assert "“1985-02-30” is not a real date" in html
    assert 'class="cell-error"' in html and "act-row-reject" in html
    assert Customer.objects.count() == 0  # nothing written before the import starts


def test_changing_the_mapping_refreshes_the_preview(world: Any) -> None:
    client = browser(world, "manager")
    url = upload(client)
    upload_id = upload_id_of(url)
    fields = {f"map-{i}": t for i, t in enumerate(["name", "phones", "phones", "emails", "company"])}
    fields["mode"] = "create"
    response = client.post(f"/customers/import/{upload_id}/preview/", fields, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # a fragment for htmx
    assert selected(html, 7) == ""  # 生日 now ignored …
    assert "is not a real date" not in html  # … so row 5 has no birthday problem any more
    response = client.post(f"/customers/import/{upload_id}/preview/", {"map-1": "phones", "mode": "create"})
    assert "every customer needs a name" in response.content.decode()


def test_format_encoding_and_sheet_overrides(world: Any) -> None:
    client = browser(world, "admin")
    url = upload(client, "customers_gbk.csv", encoding="utf-8")
    response = client.get(url)
    assert response.status_code == 422
    assert "cannot be read as UTF-8" in response.content.decode()
    response = client.get(url.split("?")[0] + "?encoding=gb18030")
    assert response.status_code == 200 and "张伟" in response.content.decode()


# ---------------------------------------------------------------------------- the journey


def _finished_job(world: Any, who: str, name: str = "customers_gbk.csv") -> Job:
    client = browser(world, who)
    url = upload(client, name)
    response = start(client, url, {"mode": "create", "add_tag": "导入测试"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_a_whole_import_through_the_wizard(world: Any) -> None:
    client = browser(world, "manager")
    url = upload(client)
    headers_in_file = 15
    mapping = {f"map-{i}": "" for i in range(headers_in_file)}
    html = client.get(url).content.decode()
    for i in range(headers_in_file):
        mapping[f"map-{i}"] = selected(html, i)
    response = start(client, url, {**mapping, "mode": "create", "add_tag": "展会导入", "save_as": "展会名单"})
    assert response.status_code == 302
    job_url = response["Location"]
    job = Job.objects.get(pk=int(job_url.rstrip("/").split("/")[-1]))
    assert job.kind == "customers.import" and job.state == "succeeded", job.message
    assert job.counts["created"] == 3 and job.counts["rejected"] == 1

    page = client.get(job_url).content.decode()
    assert 'data-count="created">3<' in page and 'data-count="rejected">1<' in page
    assert "“1985-02-30” is not a real date" in page  # the rejected row, with row 5 and column 生日
    assert "?tag=" in page  # a link to the imported customers

    created = Customer.objects.filter(organization=world.org).order_by("pk")
    assert [c.name for c in created] == ["张伟", "李娜", "赵磊"]
    zhang = created[0]
    assert zhang.phone_e164 == "+8613800138000" and zhang.email == "zhang.wei@example.com"
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "展会导入", "重点客户"]
    assert ImportMapping.objects.get(organization=world.org, name="展会名单").columns["姓名"] == "name"

    download = client.get(f"/customers/import/jobs/{job.pk}/errors.csv")
    assert download.status_code == 200
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert any("5" in r and "生日" in r for r in rows[1:]), rows


def test_the_progress_fragment_polls_until_the_job_ends(world: Any) -> None:
    job = Job.objects.create(
        organization=world.org, created_by=world.manager.user, kind="customers.import", state="running",
        progress_done=250, progress_total=1000, params={"filename": "big.csv"},
    )  # fmt: skip
    client = browser(world, "manager")
    fragment = client.get(f"/customers/import/jobs/{job.pk}/", headers={"HX-Request": "true"})
    html = fragment.content.decode()
    assert 'hx-trigger="every 1s"' in html and 'aria-valuenow="25"' in html
    assert "HX-Refresh" not in fragment
    Job.objects.filter(pk=job.pk).update(state="succeeded", counts={"created": 1000})
    fragment = client.get(f"/customers/import/jobs/{job.pk}/", headers={"HX-Request": "true"})
    assert fragment["HX-Refresh"] == "true"
    assert "every 1s" not in fragment.content.decode()


def test_cancel_asks_the_job_to_stop(world: Any) -> None:
    job = Job.objects.create(
        organization=world.org, created_by=world.admin.user, kind="customers.import", state="running"
    )
    response = browser(world, "admin").post(f"/customers/import/jobs/{job.pk}/cancel/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.cancel_requested
    # a finished job cannot be cancelled; the page says so instead of failing
    Job.objects.filter(pk=job.pk).update(state="succeeded")
    response = browser(world, "admin").post(f"/customers/import/jobs/{job.pk}/cancel/", follow=True)
    assert "already finished" in response.content.decode()
