"""Import modes and matching: create / update / upsert by external id, phone, email; duplicates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from guanxi.core.models import AuditEvent, Job
from guanxi.customers.models import Customer, CustomerIdentifier, SearchGram
from guanxi.customers.selectors import apply_search
from tests.imports.engine_helpers import run_import, write_csv


@pytest.fixture(autouse=True)
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path / "data"
    return settings.DATA_DIR


def names(world: Any) -> list[str]:
    return sorted(Customer.objects.filter(organization=world.org).values_list("name", flat=True))


def test_create_mode_inserts_good_rows_and_reports_bad_ones(world: Any, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv",
        [
            ["张伟", "138 1234 8000", "ZHANG@Example.com", "星河科技", "ERP-1", "VIP;重点"],
            ["", "13900000001", "", "", "ERP-2", ""],  # no name
            ["李娜", "12345", "", "", "ERP-3", ""],  # bad phone
            ["王芳", "13900000002", "not-an-email", "", "ERP-4", ""],
        ],
    )
    job = run_import(world, "admin", path)
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.result["created"] == 1 and job.result["rejected"] == 3
    zhang = Customer.objects.get(organization=world.org, name="张伟")
    assert zhang.phone_e164 == "+8613812348000"
    assert zhang.email == "zhang@example.com"
    assert zhang.external_id == "ERP-1"
    assert zhang.owner_id == world.admin.user_id  # the importing user by default
    assert sorted(zhang.tags.values_list("name", flat=True)) == ["VIP", "重点"]
    assert set(CustomerIdentifier.objects.filter(customer=zhang).values_list("kind", "value")) == {
        ("phone", "+8613812348000"),
        ("email", "zhang@example.com"),
    }
    assert SearchGram.objects.filter(customer=zhang).exists()  # a small import is searchable at once
    errors = {(e["row"], e["column"]) for e in job.result["errors"]}
    assert errors == {(3, "姓名"), (4, "手机"), (5, "邮箱")}
    assert all(e["message"] for e in job.result["errors"])


def test_import_is_searchable_and_audited_once(world: Any, tmp_path: Path) -> None:
    rows = [[f"客户{i:03d}", f"1390000{i:04d}", "", "", f"X{i}", ""] for i in range(40)]
    job = run_import(world, "admin", write_csv(tmp_path / "c.csv", rows))
    assert job.result["created"] == 40
    found = apply_search(Customer.objects.filter(organization=world.org), world.org.pk, "客户007")
    assert [c.name for c in found] == ["客户007"]
    events = AuditEvent.objects.filter(organization=world.org, action="import")
    assert events.count() == 1
    assert events.get().context["created"] == 40
    assert not AuditEvent.objects.filter(
        organization=world.org, action="create", object_type="customer"
    ).exists()


def test_create_skips_existing_match_and_reports_it(world: Any, make_customer: Any, tmp_path: Path) -> None:
    existing = make_customer("admin", name="老客户", phone="13800000001")
    path = write_csv(
        tmp_path / "c.csv",
        [["新名字", "13800000001", "", "", "", ""], ["新客户", "13800000002", "", "", "", ""]],
    )
    job = run_import(world, "admin", path)
    assert (job.result["created"], job.result["skipped"]) == (1, 1)
    existing.refresh_from_db()
    assert existing.name == "老客户"  # create mode never changes an existing customer
    assert job.result["skipped_rows"][0]["row"] == 2
    assert f"#{existing.pk}" in job.result["skipped_rows"][0]["message"]


def test_update_changes_only_matches_and_keeps_empty_cells(
    world: Any, make_customer: Any, tmp_path: Path
) -> None:
    by_ext = make_customer("admin", name="甲", external_id="E1", company="旧公司", phone="13800000001")
    by_email = make_customer("admin", name="乙", email="yi@example.com")
    path = write_csv(
        tmp_path / "u.csv",
        [
            ["甲改", "", "", "", "E1", ""],  # empty cells leave phone and company alone
            ["乙改", "", "YI@example.com", "新公司", "", ""],
            ["无匹配", "13800009999", "", "", "", ""],
        ],
    )
    job = run_import(world, "admin", path, mode="update")
    assert (job.result["updated"], job.result["skipped"], job.result["created"]) == (2, 1, 0)
    by_ext.refresh_from_db()
    by_email.refresh_from_db()
    assert (by_ext.name, by_ext.company, by_ext.phone_e164) == ("甲改", "旧公司", "+8613800000001")
    assert (by_email.name, by_email.company) == ("乙改", "新公司")
    assert by_ext.version == 2
    assert not Customer.objects.filter(name="无匹配").exists()


def test_upsert_creates_and_updates(world: Any, make_customer: Any, tmp_path: Path) -> None:
    make_customer("admin", name="甲", phone="13800000001")
    path = write_csv(
        tmp_path / "u.csv", [["甲二", "13800000001", "", "", "", ""], ["丙", "13800000003", "", "", "", ""]]
    )
    job = run_import(world, "admin", path, mode="upsert")
    assert (job.result["created"], job.result["updated"]) == (1, 1)
    assert names(world) == ["丙", "甲二"]


def test_a_row_matching_two_customers_is_rejected(world: Any, make_customer: Any, tmp_path: Path) -> None:
    a = make_customer("admin", name="甲", external_id="E1")
    b = make_customer("admin", name="乙", phone="13800000002")
    path = write_csv(tmp_path / "u.csv", [["谁", "13800000002", "", "", "E1", ""]])
    job = run_import(world, "admin", path, mode="upsert")
    assert job.result["rejected"] == 1 and job.result["updated"] == 0
    message = job.result["errors"][0]["message"]
    assert f"#{a.pk}" in message and f"#{b.pk}" in message
    a.refresh_from_db()
    assert a.name == "甲"


@pytest.mark.parametrize("mode", ["create", "upsert"])
def test_duplicates_within_the_file_are_rejected(
    world: Any, tmp_path: Path, mode: str, monkeypatch: Any
) -> None:
    from guanxi.customers.imports import engine

    monkeypatch.setattr(engine, "CHUNK_ROWS", 2)  # repeats in the same chunk and across chunks
    path = write_csv(
        tmp_path / "d.csv",
        [
            ["一", "13800000001", "a@example.com", "", "E1", ""],
            ["二", "13800000001", "", "", "", ""],  # same phone as row 2, same chunk
            ["三", "", "A@example.com", "", "", ""],  # same email as row 2, next chunk
            ["四", "", "", "", "E1", ""],  # same external id
            ["五", "13800000005", "", "", "", ""],
        ],
    )
    job = run_import(world, "admin", path, mode=mode)
    assert (job.result["created"], job.result["rejected"]) == (2, 3)
    assert names(world) == ["一", "五"]
    assert {e["row"]: e["column"] for e in job.result["errors"]} == {3: "手机", 4: "邮箱", 5: "external_id"}


def test_rep_updates_only_customers_they_can_see(world: Any, make_customer: Any, tmp_path: Path) -> None:
    """A manager may import; in update mode a customer outside their team's scope is not theirs to
    change, so the row is rejected (without saying whose it is) and the customer is untouched."""
    mine = make_customer("manager", name="东区客户", phone="13800000001")
    west = make_customer("outsider", name="西区客户", phone="13800000002")
    path = write_csv(
        tmp_path / "u.csv", [["东改", "13800000001", "", "", "", ""], ["西改", "13800000002", "", "", "", ""]]
    )
    job = run_import(world, "manager", path, mode="update")
    assert (job.result["updated"], job.result["rejected"]) == (1, 1)
    mine.refresh_from_db()
    west.refresh_from_db()
    assert (mine.name, west.name) == ("东改", "西区客户")
    assert "cannot see" in job.result["errors"][0]["message"] or job.result["errors"][0]["row"] == 3


def test_other_organisations_are_never_matched(world: Any, tmp_path: Path) -> None:
    from guanxi.customers.services import customer_create

    customer_create(actor=world.actor("other_admin"), data={"name": "别家", "phone": "13800000001"})
    job = run_import(world, "admin", write_csv(tmp_path / "c.csv", [["我家", "13800000001", "", "", "", ""]]))
    assert job.result["created"] == 1
    assert Customer.objects.filter(organization=world.other_org).get().name == "别家"


def test_dry_run_reports_counts_and_changes_nothing(world: Any, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "c.csv", [["一", "13800000001", "", "", "", ""], ["", "13800000002", "", "", "", ""]]
    )
    job = run_import(world, "admin", path, dry_run=True)
    assert (job.result["created"], job.result["rejected"], job.result["dry_run"]) == (1, 1, True)
    assert not Customer.objects.filter(organization=world.org).exists()
    assert not AuditEvent.objects.filter(organization=world.org, action="import").exists()


def test_default_owner_and_tags_options(world: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "c.csv", [["一", "13800000001", "", "", "", ""]])
    job = run_import(world, "admin", path, default_owner="owner", add_tags=("展会2026",))
    assert job.result["created"] == 1
    customer = Customer.objects.get(organization=world.org)
    assert customer.owner_id == world.owner.user_id
    assert customer.team_id == world.east.pk
    assert list(customer.tags.values_list("name", flat=True)) == ["展会2026"]


def test_upsert_row_without_name_updates_a_match_but_cannot_create(
    world: Any, make_customer: Any, tmp_path: Path
) -> None:
    existing = make_customer("admin", name="甲", external_id="E1")
    path = write_csv(
        tmp_path / "u.csv", [["", "13800000001", "", "", "E1", ""], ["", "13800000002", "", "", "E9", ""]]
    )
    job = run_import(world, "admin", path, mode="upsert")
    assert (job.result["updated"], job.result["rejected"], job.result["created"]) == (1, 1, 0)
    assert job.result["errors"][0]["row"] == 3 and job.result["errors"][0]["column"] == "姓名"
    existing.refresh_from_db()
    assert (existing.name, existing.phone_e164) == ("甲", "+8613800000001")


def test_a_concurrent_edit_rejects_only_that_row(
    world: Any, make_customer: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    from guanxi.core.errors import VersionConflict
    from guanxi.customers import services

    busy = make_customer("admin", name="忙", phone="13800000001")
    calm = make_customer("admin", name="闲", phone="13800000002")
    original = services._apply_update

    def edited_meanwhile(actor: Any, customer: Any, *args: Any, **kwargs: Any) -> Any:
        if customer.pk == busy.pk:
            raise VersionConflict(current_version=customer.version + 1)
        return original(actor, customer, *args, **kwargs)

    monkeypatch.setattr(services, "_apply_update", edited_meanwhile)
    path = write_csv(
        tmp_path / "u.csv", [["忙改", "13800000001", "", "", "", ""], ["闲改", "13800000002", "", "", "", ""]]
    )
    job = run_import(world, "admin", path, mode="update")
    assert (job.result["updated"], job.result["rejected"]) == (1, 1)
    assert job.result["errors"][0]["row"] == 2
    calm.refresh_from_db()
    busy.refresh_from_db()
    assert (calm.name, busy.name) == ("闲改", "忙")


def test_events_go_out_after_commit_per_customer_and_per_import(world: Any, tmp_path: Path) -> None:
    from django.test import TestCase

    from guanxi.core.events import subscribe, unsubscribe

    seen: list[tuple[str, dict[str, Any]]] = []

    def handler(name: str, payload: dict[str, Any]) -> None:
        seen.append((name, payload))

    subscribe("customer.created", handler)
    subscribe("customers.imported", handler)
    try:
        path = write_csv(
            tmp_path / "c.csv", [["一", "13800000001", "", "", "", ""], ["二", "13800000002", "", "", "", ""]]
        )
        with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
            job = run_import(world, "admin", path)
        assert seen == []  # nothing before the transaction commits
        for callback in callbacks:
            callback()
    finally:
        unsubscribe("customer.created", handler)
        unsubscribe("customers.imported", handler)
    created = [p for n, p in seen if n == "customer.created"]
    assert sorted(p["customer_id"] for p in created) == sorted(Customer.objects.values_list("pk", flat=True))
    assert all(p["job_id"] == job.pk and p["via"] == "import" for p in created)
    assert [p["created"] for n, p in seen if n == "customers.imported"] == [2]


def test_customers_in_the_recycle_bin(world: Any, make_customer: Any, tmp_path: Path) -> None:
    """An external id held by a deleted customer rejects the row (the id stays taken); a deleted
    customer's phone matches nothing, so that row is created as a new customer."""
    binned = make_customer("admin", name="甲", external_id="E1", phone="13800000001")
    Customer.objects.filter(pk=binned.pk).update(deleted_at=timezone.now())
    path = write_csv(
        tmp_path / "u.csv", [["甲", "", "", "", "E1", ""], ["乙", "13800000001", "", "", "", ""]]
    )
    job = run_import(world, "admin", path, mode="upsert")
    assert (job.result["created"], job.result["updated"], job.result["rejected"]) == (1, 0, 1)
    assert job.result["errors"][0]["row"] == 2 and job.result["errors"][0]["column"] == "external_id"
    assert "recycle bin" in job.result["errors"][0]["message"]
    assert names(world) == ["乙", "甲"]
