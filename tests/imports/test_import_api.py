"""REST API of imports: upload, preview, start, job status, error file, saved mappings — per role."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from guanxi.core.models import Job
from guanxi.customers.models import Customer, ImportMapping

IMPORTERS = ["admin", "manager"]
NOT_IMPORTERS = ["owner", "teammate", "outsider", "marketing", "service", "readonly"]
CSV_TEXT = (
    "姓名,手机,邮箱,external_id\r\n张伟,13812348000,zhang@example.com,E1\r\n"
    ",13900000000,,E2\r\n李娜,138,,E3\r\n"
)


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def upload(world: Any, who: str, text: str = CSV_TEXT, name: str = "客户.csv") -> Any:
    api = world.api(who)
    file = SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
    return api.client.post("/api/v1/imports", {"file": file}, headers=api.headers)


def uploaded(world: Any, who: str, text: str = CSV_TEXT) -> str:
    response = upload(world, who, text)
    assert response.status_code == 201, response.content
    return str(response.json()["id"])


def start(world: Any, who: str, upload_id: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the queue runs jobs inline in tests
        return world.api(who).post(f"/imports/{upload_id}/start", body or {}, headers=headers or None)


@pytest.mark.parametrize("who", IMPORTERS)
def test_importers_upload_preview_start_and_read_errors(world: Any, who: str) -> None:
    upload_id = uploaded(world, who)
    preview = world.api(who).post(f"/imports/{upload_id}/preview", {"limit": 5})
    assert preview.status_code == 200, preview.content
    body = preview.json()
    assert body["format"] == "csv"
    assert body["mapping"] == {
        "姓名": "name",
        "手机": "phones",
        "邮箱": "emails",
        "external_id": "external_id",
    }
    assert [r["action"] for r in body["rows"]] == ["create", "reject", "reject"]
    assert body["rows"][1]["errors"][0]["column"] == "姓名"
    assert not Customer.objects.filter(organization=world.org).exists()  # a preview writes nothing

    started = start(world, who, upload_id)
    assert started.status_code == 202, started.content
    job_id = started.json()["id"]
    assert started["Location"] == f"/api/v1/jobs/{job_id}"
    status = world.api(who).get(f"/jobs/{job_id}").json()
    assert status["state"] == "succeeded"
    assert status["counts"] == {"created": 1, "updated": 0, "skipped": 0, "rejected": 2}
    assert {(e["row"], e["column"]) for e in status["errors"]} == {(3, "姓名"), (4, "手机")}

    errors = world.api(who).get(f"/imports/{job_id}/errors")
    assert errors.status_code == 200
    content = b"".join(errors.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert lines[0][:4] == ["姓名", "手机", "邮箱", "external_id"] and len(lines[0]) == 7
    assert [line[4] for line in lines[1:]] == ["3", "4"]
    assert Customer.objects.get(organization=world.org).owner_id == world.members[who].user_id


@pytest.mark.parametrize("who", NOT_IMPORTERS)
def test_other_roles_may_not_import(world: Any, who: str) -> None:
    response = upload(world, who)
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert world.api(who).get("/import-mappings").status_code == 403


def test_an_upload_belongs_to_its_uploader_and_organisation(world: Any) -> None:
    upload_id = uploaded(world, "manager")
    assert world.api("other_admin").post(f"/imports/{upload_id}/preview", {}).status_code == 404
    assert start(world, "other_admin", upload_id).status_code == 404
    assert world.api("admin").post(f"/imports/{upload_id}/preview", {}).status_code == 200  # org admin
    admins = uploaded(world, "admin")
    assert world.api("manager").post(f"/imports/{admins}/preview", {}).status_code == 404
    assert world.api("manager").post("/imports/not-a-uuid/preview", {}).status_code == 404
    assert not Job.objects.exists()


def test_error_file_and_job_of_someone_else_are_404(world: Any) -> None:
    job_id = start(world, "admin", uploaded(world, "admin")).json()["id"]
    assert world.api("manager").get(f"/imports/{job_id}/errors").status_code == 404
    assert world.api("manager").get(f"/jobs/{job_id}").status_code == 404
    assert world.api("other_admin").get(f"/imports/{job_id}/errors").status_code == 404
    assert world.api("owner").get(f"/imports/{job_id}/errors").status_code == 404


def test_start_honours_idempotency_key(world: Any) -> None:
    upload_id = uploaded(world, "admin")
    first = start(world, "admin", upload_id, **{"Idempotency-Key": "k-1"})
    again = start(world, "admin", upload_id, **{"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert Job.objects.filter(kind="customers.import").count() == 1
    assert Customer.objects.filter(organization=world.org).count() == 1


def test_unreadable_file_and_bad_options_are_problems_naming_the_field(world: Any) -> None:
    response = upload(world, "admin", text="", name="empty.csv")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "file"
    upload_id = uploaded(world, "admin", text="just one column\r\nvalue\r\n")
    started = start(world, "admin", upload_id, {"mapping": {"just one column": "no_such_field"}})
    assert started.status_code == 422
    assert started.json()["errors"][0]["field"] == "just one column"
    bad_mode = world.api("admin").post(f"/imports/{upload_id}/start", {"mode": "merge"})
    assert bad_mode.status_code == 422
    assert not Job.objects.exists()


def test_update_mode_needs_no_name_column_and_respects_visibility(world: Any, make_customer: Any) -> None:
    mine = make_customer("manager", name="东", external_id="E1")
    west = make_customer("outsider", name="西", external_id="E2")
    upload_id = uploaded(world, "manager", text="external_id,公司\r\nE1,新公司\r\nE2,新公司\r\n")
    job = start(world, "manager", upload_id, {"mode": "update", "match_on": ["external_id"]}).json()
    status = world.api("manager").get(f"/jobs/{job['id']}").json()
    assert status["counts"]["updated"] == 1 and status["counts"]["rejected"] == 1, (
        status["counts"],
        status["errors"],
        status["result"].get("skipped_rows"),
    )
    mine.refresh_from_db()
    west.refresh_from_db()
    assert (mine.company, west.company) == ("新公司", "")


def test_saved_mappings_crud(world: Any) -> None:
    api = world.api("manager")
    created = api.post("/import-mappings", {"name": "ERP", "columns": {"客户名": "name", "电话": "phones"}})
    assert created.status_code == 201, created.content
    mapping_id = created.json()["id"]
    assert api.post("/import-mappings", {"name": "ERP", "columns": {"客户名": "name"}}).status_code == 409
    assert [m["name"] for m in api.get("/import-mappings").json()] == ["ERP"]
    changed = api.put(f"/import-mappings/{mapping_id}", {"name": "ERP v2", "columns": {"客户名": "name"}})
    assert changed.status_code == 200 and changed.json()["columns"] == {"客户名": "name"}
    bad = api.post("/import-mappings", {"name": "Bad", "columns": {"X": "salary", "客户名": "name"}})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "columns.X"
    assert world.api("other_admin").get(f"/import-mappings/{mapping_id}").status_code == 404
    assert world.api("other_admin").delete(f"/import-mappings/{mapping_id}").status_code == 404
    assert world.api("readonly").delete(f"/import-mappings/{mapping_id}").status_code == 403
    assert api.delete(f"/import-mappings/{mapping_id}").status_code == 204
    assert not ImportMapping.objects.exists()


def test_a_saved_mapping_drives_an_import(world: Any) -> None:
    world.api("admin").post(
        "/import-mappings", {"name": "ERP", "columns": {"客户名": "name", "电话": "phones"}}
    )
    upload_id = uploaded(world, "admin", text="客户名,电话\r\n王芳,13900000001\r\n")
    preview = world.api("admin").post(f"/imports/{upload_id}/preview", {"mapping_name": "ERP"}).json()
    assert preview["mapping"] == {"客户名": "name", "电话": "phones"}
    job = start(world, "admin", upload_id, {"mapping_name": "ERP"}).json()
    assert world.api("admin").get(f"/jobs/{job['id']}").json()["counts"]["created"] == 1
    assert Customer.objects.get(organization=world.org).phone_e164 == "+8613900000001"
