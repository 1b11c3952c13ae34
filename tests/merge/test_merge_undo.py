"""merge_undo: the merged record comes back with exactly its rows; later edits to the survivor win."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.errors import Conflict, NotFound, PermissionDenied
from guanxi.core.models import AuditEvent
from guanxi.customers.contacts import contact_create
from guanxi.customers.merge import customer_merge, merge_undo
from guanxi.customers.models import (
    Contact,
    Customer,
    CustomerShare,
    CustomerTag,
    DuplicateCandidate,
)
from guanxi.customers.selectors import CustomerFilters, customer_get, customer_list
from guanxi.customers.services import customer_restore, customer_update
from guanxi.engagement.models import Activity, Task
from tests.conftest import World
from tests.merge.conftest import Pair


def _merge(world: World, pair: Pair, **kwargs: Any) -> Any:
    return customer_merge(
        actor=world.actor("admin"),
        survivor_id=pair.older.pk,
        merged_id=pair.newer.pk,
        expected_versions=pair.versions(),
        **kwargs,
    )


def _state(customer_id: int) -> dict[str, Any]:
    c = Customer.objects.get(pk=customer_id)
    return {
        "fields": {
            k: getattr(c, k) for k in ("name", "company", "title", "phones", "emails", "notes", "custom")
        },
        "tags": sorted(
            CustomerTag.objects.filter(customer_id=customer_id).values_list("tag__name", flat=True)
        ),
        "contacts": sorted(Contact.objects.filter(customer_id=customer_id).values_list("pk", flat=True)),
        "activities": sorted(Activity.objects.filter(customer_id=customer_id).values_list("pk", flat=True)),
        "tasks": sorted(Task.objects.filter(customer_id=customer_id).values_list("pk", flat=True)),
        "shares": sorted(
            CustomerShare.objects.filter(customer_id=customer_id).values_list("user_id", flat=True)
        ),
    }


def test_undo_restores_both_records_exactly(world: World, pair: Pair) -> None:
    before = {pk: _state(pk) for pk in (pair.older.pk, pair.newer.pk)}
    record = _merge(world, pair)
    result = merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    assert result.kept == []
    for pk, state in before.items():
        assert _state(pk) == state, pk
    back = Customer.objects.get(pk=pair.newer.pk)
    assert back.deleted_at is None and back.merged_into_id is None
    assert customer_get(actor=world.actor("owner"), customer_id=pair.newer.pk).name == "张 伟"
    # both findable again, each by its own phone
    page = customer_list(actor=world.actor("owner"), filters=CustomerFilters(q="62345678"))
    assert [c.pk for c in page.items] == [pair.newer.pk]


def test_rows_added_to_the_survivor_after_the_merge_stay(world: World, pair: Pair) -> None:
    record = _merge(world, pair)
    later = contact_create(actor=world.actor("owner"), customer_id=pair.older.pk, data={"name": "新联系人"})
    merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    assert Contact.objects.get(pk=later.pk).customer_id == pair.older.pk
    assert set(Contact.objects.filter(customer=pair.newer).values_list("name", flat=True)) == {"李助理"}


def test_survivor_edits_after_the_merge_are_kept(world: World, pair: Pair) -> None:
    record = _merge(world, pair)  # name became "张 伟", title "采购经理"
    survivor = Customer.objects.get(pk=pair.older.pk)
    customer_update(
        actor=world.actor("owner"),
        customer_id=survivor.pk,
        data={"title": "采购总监"},
        expected_version=survivor.version,
    )
    result = merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    survivor.refresh_from_db()
    assert survivor.title == "采购总监"  # edited after the merge: not overwritten
    assert survivor.name == "张伟"  # untouched since the merge: restored
    assert result.kept == ["title"]
    event = AuditEvent.objects.filter(object_id=str(survivor.pk), action="merge_undo").get()
    assert event.context["kept"] == ["title"]


def test_undo_once_only(world: World, pair: Pair) -> None:
    record = _merge(world, pair)
    merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    with pytest.raises(Conflict):
        merge_undo(actor=world.actor("admin"), merge_id=record.pk)


def test_chained_merges_undo_newest_first(world: World, pair: Pair, make_customer: Any) -> None:
    first = _merge(world, pair)
    third = make_customer("owner", name="张伟伟")
    older = Customer.objects.get(pk=pair.older.pk)
    second = customer_merge(
        actor=world.actor("admin"),
        survivor_id=third.pk,
        merged_id=older.pk,
        expected_versions={third.pk: 1, older.pk: older.version},
    )
    with pytest.raises(Conflict) as exc:
        merge_undo(actor=world.actor("admin"), merge_id=first.pk)
    assert str(third.pk) in str(exc.value.detail)
    merge_undo(actor=world.actor("admin"), merge_id=second.pk)
    merge_undo(actor=world.actor("admin"), merge_id=first.pk)
    assert set(Contact.objects.filter(customer=pair.newer).values_list("name", flat=True)) == {"李助理"}
    assert set(Contact.objects.filter(customer=pair.older).values_list("name", flat=True)) == {"王秘书"}


def test_dropped_duplicates_come_back(world: World, pair: Pair) -> None:
    record = _merge(world, pair)
    assert CustomerShare.objects.filter(customer=pair.newer).count() == 0
    merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    assert CustomerShare.objects.filter(customer=pair.newer, user=world.outsider.user).count() == 1
    assert sorted(CustomerTag.objects.filter(customer=pair.newer).values_list("tag__name", flat=True)) == [
        "VIP",
        "北京",
    ]


def test_tags_replaced_by_the_merged_ones_come_back(world: World, make_customer: Any) -> None:
    a = make_customer("owner", name="甲", tags=["老", "共同"])
    b = make_customer("owner", name="乙", tags=["共同", "新"])
    record = customer_merge(
        actor=world.actor("admin"),
        survivor_id=a.pk,
        merged_id=b.pk,
        choices={"tags": "merged"},
        expected_versions={a.pk: 1, b.pk: 1},
    )
    assert sorted(Customer.objects.get(pk=a.pk).tags.values_list("name", flat=True)) == ["共同", "新"]
    merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    assert sorted(Customer.objects.get(pk=a.pk).tags.values_list("name", flat=True)) == ["共同", "老"]
    assert sorted(Customer.objects.get(pk=b.pk).tags.values_list("name", flat=True)) == ["共同", "新"]


def test_candidate_status_is_restored(world: World, pair: Pair) -> None:
    low, high = sorted((pair.older.pk, pair.newer.pk))
    candidate = DuplicateCandidate.objects.create(
        organization=world.org, customer_a_id=low, customer_b_id=high, score=0.9, reasons=[]
    )
    record = _merge(world, pair)
    merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    candidate.refresh_from_db()
    assert candidate.status == "open" and candidate.decided_by_id is None


def test_external_id_goes_back(world: World, make_customer: Any) -> None:
    a = make_customer("owner", name="甲")
    b = make_customer("owner", name="乙", external_id="ERP-7")
    record = customer_merge(
        actor=world.actor("admin"), survivor_id=a.pk, merged_id=b.pk, expected_versions={a.pk: 1, b.pk: 1}
    )
    merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    assert Customer.objects.get(pk=a.pk).external_id == ""
    assert Customer.objects.get(pk=b.pk).external_id == "ERP-7"


def test_merged_record_cannot_be_restored_from_the_recycle_bin(world: World, pair: Pair) -> None:
    _merge(world, pair)
    with pytest.raises(Conflict) as exc:
        customer_restore(actor=world.actor("admin"), customer_id=pair.newer.pk)
    assert "undo the merge" in str(exc.value.detail)


def test_undo_permissions(world: World, pair: Pair, make_customer: Any) -> None:
    record = _merge(world, pair)
    for who in ("owner", "readonly", "marketing"):
        with pytest.raises(PermissionDenied):
            merge_undo(actor=world.actor(who), merge_id=record.pk)
    with pytest.raises(NotFound):
        merge_undo(actor=world.actor("other_admin"), merge_id=record.pk)
    merge_undo(actor=world.actor("manager"), merge_id=record.pk)


def test_undo_is_audited_on_both(world: World, pair: Pair) -> None:
    record = _merge(world, pair)
    merge_undo(actor=world.actor("admin"), merge_id=record.pk)
    events = AuditEvent.objects.filter(action="merge_undo")
    assert {e.object_id for e in events} == {str(pair.older.pk), str(pair.newer.pk)}
    record.refresh_from_db()
    assert record.undone_by_id == world.admin.user.pk and record.undone_at is not None
