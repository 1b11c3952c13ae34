"""Bulk actions on "all N matching" a filter: same permissions and audit as per-row bulk actions,
all or nothing when small, a resumable and cancellable job when large."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import TestCase

from guanxi.core.errors import PermissionDenied, ValidationFailed
from guanxi.core.jobs import job_execute
from guanxi.core.models import AuditEvent, Job
from guanxi.customers import bulk_all
from guanxi.customers.models import Customer
from guanxi.customers.selection import CustomerSelection
from guanxi.customers.selectors import CustomerFilters


def guangdong() -> CustomerSelection:
    return CustomerSelection(filters=CustomerFilters(province="广东"))


def tags_of(customer: Any) -> set[str]:
    return set(Customer.objects.get(pk=customer.pk).tags.values_list("name", flat=True))


def test_tag_all_matching_changes_exactly_the_filtered_visible_customers(world: Any, crowd: Any) -> None:
    outcome = bulk_all.customers_bulk_selection(
        actor=world.actor("manager"), selection=guangdong(), action="tag_add", tag="华南"
    )
    assert (outcome.matched, outcome.changed, outcome.job) == (2, 2, None)
    assert "华南" in tags_of(crowd["zhang"]) and "华南" in tags_of(crowd["li"])
    assert "华南" not in tags_of(crowd["liu"])  # team West: not the manager's to see
    assert "华南" not in tags_of(crowd["wang"])  # 浙江: not matching
    audited = AuditEvent.objects.filter(action="update", object_type="customer", actor_name="manager")
    assert {e.object_id for e in audited} == {str(crowd["zhang"].pk), str(crowd["li"].pk)}


@pytest.mark.parametrize(
    ("who", "action"),
    [("marketing", "assign"), ("marketing", "delete"), ("readonly", "tag_add"), ("owner", "delete")],
)
def test_same_permissions_as_per_row_bulk_actions(world: Any, crowd: Any, who: str, action: str) -> None:
    with pytest.raises(PermissionDenied):
        bulk_all.customers_bulk_selection(
            actor=world.actor(who), selection=guangdong(), action=action, tag="x", owner="owner"
        )
    assert Customer.objects.filter(deleted_at__isnull=False).count() == 0


def test_a_bad_owner_changes_nobody(world: Any, crowd: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        bulk_all.customers_bulk_selection(
            actor=world.actor("admin"), selection=guangdong(), action="assign", owner="nobody"
        )
    assert err.value.errors[0].field == "owner"
    assert set(Customer.objects.filter(province="广东").values_list("owner__username", flat=True)) == {
        "owner",
        "teammate",
        "outsider",
    }


def test_missing_tag_or_unknown_action(world: Any, crowd: Any) -> None:
    with pytest.raises(ValidationFailed, match="tag"):
        bulk_all.customers_bulk_selection(actor=world.actor("admin"), selection=guangdong(), action="tag_add")
    with pytest.raises(ValidationFailed, match="unknown action"):
        bulk_all.customers_bulk_selection(actor=world.actor("admin"), selection=guangdong(), action="explode")


def test_large_selection_runs_as_a_job(world: Any, crowd: Any, settings: Any) -> None:
    settings.GUANXI_BULK_SYNC_MAX = 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        outcome = bulk_all.customers_bulk_selection(
            actor=world.actor("admin"), selection=guangdong(), action="assign", owner="teammate"
        )
    assert outcome.job is not None and outcome.matched == 3
    job = Job.objects.get(pk=outcome.job.pk)
    assert job.kind == "customers.bulk" and job.state == "succeeded"
    assert job.result == {"action": "assign", "matched": 3, "changed": 2, "failed": 0}  # 李娜 was theirs
    assert job.progress_done == job.progress_total == 3
    assert set(Customer.objects.filter(province="广东").values_list("owner__username", flat=True)) == {
        "teammate"
    }


def _queued(world: Any, **kwargs: Any) -> Job:
    outcome = bulk_all.customers_bulk_selection(
        actor=world.actor("admin"), selection=guangdong(), as_job=True, **kwargs
    )
    assert outcome.job is not None
    return outcome.job  # not run: its on_commit callback was never executed


def test_a_resumed_job_continues_after_the_last_committed_chunk(world: Any, crowd: Any) -> None:
    job = _queued(world, action="tag_add", tag="续")
    # as if a killed worker had committed the chunk up to 李娜 (ids ascend: 张伟 < 李娜 < 刘洋)
    Job.objects.filter(pk=job.pk).update(state="running", counts={"after": crowd["li"].pk, "changed": 2})
    job = job_execute(job.pk)
    assert job.state == "succeeded"
    assert [("续" in tags_of(crowd[n])) for n in ("zhang", "li", "liu")] == [False, False, True]
    assert job.result["changed"] == 3


def test_customers_created_after_confirming_are_not_swept_in(
    world: Any, crowd: Any, make_customer: Any
) -> None:
    job = _queued(world, action="tag_add", tag="快照")
    late = make_customer("owner", name="迟到", province="广东")
    job_execute(job.pk)
    assert "快照" not in tags_of(late)
    assert "快照" in tags_of(crowd["liu"])


def test_cancel_stops_between_chunks_and_reports_what_changed(
    world: Any, crowd: Any, monkeypatch: Any
) -> None:
    monkeypatch.setattr(bulk_all, "CHUNK", 1)
    job = _queued(world, action="delete")
    real = bulk_all._apply

    def cancel_after_first(*args: Any) -> bool:
        Job.objects.filter(pk=job.pk).update(cancel_requested=True)
        return real(*args)

    monkeypatch.setattr(bulk_all, "_apply", cancel_after_first)
    job = job_execute(job.pk)
    assert job.state == "cancelled"
    assert job.counts["changed"] == 1
    deleted = set(Customer.objects.filter(deleted_at__isnull=False).values_list("name", flat=True))
    assert deleted == {"张伟"}  # the first chunk, complete; nothing half-done


def test_one_refused_customer_is_reported_and_the_rest_go_on(
    world: Any, crowd: Any, monkeypatch: Any
) -> None:
    job = _queued(world, action="tag_add", tag="部分")
    real = bulk_all._apply

    def refuse_li(actor: Any, customer: Any, *rest: Any) -> bool:
        if customer.name == "李娜":
            raise ValidationFailed(errors=[])
        return real(actor, customer, *rest)

    monkeypatch.setattr(bulk_all, "_apply", refuse_li)
    job = job_execute(job.pk)
    assert job.state == "succeeded"
    assert job.result["failed"] == 1 and job.result["changed"] == 2
    assert [e["name"] for e in job.errors] == ["李娜"]
