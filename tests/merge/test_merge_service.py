"""customer_merge: field choices and defaults, every related row moves, the merged record points on."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed, VersionConflict
from guanxi.core.events import subscribe, unsubscribe
from guanxi.core.models import AuditEvent, CustomFieldDefinition
from guanxi.customers.merge import customer_merge
from guanxi.customers.merge_relations import customer_relations
from guanxi.customers.models import (
    Contact,
    Customer,
    CustomerIdentifier,
    CustomerShare,
    CustomerTag,
    DuplicateCandidate,
)
from guanxi.customers.selectors import CustomerFilters, CustomerMergedAway, customer_get, customer_list
from guanxi.engagement.models import Activity, Consent, Task
from tests.conftest import World
from tests.merge.conftest import Pair


def merge(world: World, pair: Pair, who: str = "admin", **kwargs: Any) -> Any:
    kwargs.setdefault("expected_versions", pair.versions())
    return customer_merge(
        actor=world.actor(who), survivor_id=pair.older.pk, merged_id=pair.newer.pk, **kwargs
    )


def test_defaults_keep_non_empty_values_and_prefer_the_newer_record(world: World, pair: Pair) -> None:
    record = merge(world, pair)
    survivor = Customer.objects.get(pk=pair.older.pk)
    assert survivor.name == "张 伟"  # both set, "newer" was updated last
    assert survivor.company == "星河科技"  # only the survivor had one
    assert survivor.title == "采购经理"  # only the merged record had one
    assert (survivor.province, survivor.city) == ("北京", "北京")
    assert [p["e164"] for p in survivor.phones] == ["+8613812348000", "+861062345678"]  # union, no repeat
    assert survivor.phone_e164 == "+8613812348000"
    assert survivor.email == "zw@example.com"
    assert survivor.notes == "老客户，喜欢电话联系\n\n从展会名单导入"
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["VIP", "北京"]
    assert record.choices["name"] == "merged" and record.choices["company"] == "survivor"
    assert record.choices["phones"] == "union" and record.choices["notes"] == "both"


def test_user_choices_override_the_defaults(world: World, pair: Pair) -> None:
    merge(
        world, pair, choices={"name": "survivor", "phones": "survivor", "notes": "merged", "tags": "survivor"}
    )
    survivor = Customer.objects.get(pk=pair.older.pk)
    assert survivor.name == "张伟"
    assert [p["value"] for p in survivor.phones] == ["13812348000"]
    assert survivor.notes == "从展会名单导入"
    assert list(survivor.tags.values_list("name", flat=True)) == ["VIP"]
    # tags the user did not take stay with the merged-away record
    assert CustomerTag.objects.filter(customer_id=pair.newer.pk).count() == 2


def test_custom_fields_are_chosen_per_key(world: World, make_customer: Any) -> None:
    a = make_customer("owner", name="甲", custom={})
    b = make_customer("owner", name="乙")
    Customer.objects.filter(pk=a.pk).update(custom={"level": "金卡", "region": "华北"})
    Customer.objects.filter(pk=b.pk).update(custom={"level": "银卡", "budget": 5})
    versions = {c.pk: Customer.objects.get(pk=c.pk).version for c in (a, b)}
    customer_merge(
        actor=world.actor("admin"),
        survivor_id=a.pk,
        merged_id=b.pk,
        choices={"custom.level": "survivor"},
        expected_versions=versions,
    )
    assert Customer.objects.get(pk=a.pk).custom == {"level": "金卡", "region": "华北", "budget": 5}


def test_every_related_row_moves_to_the_survivor(world: World, pair: Pair) -> None:
    merged_contacts = set(Contact.objects.filter(customer=pair.newer).values_list("pk", flat=True))
    record = merge(world, pair)
    assert set(Contact.objects.filter(customer=pair.older).values_list("name", flat=True)) == {
        "王秘书",
        "李助理",
    }
    assert Activity.objects.filter(customer=pair.older, subject="首次电话").exists()
    assert Task.objects.filter(customer=pair.older, title="回访").exists()
    assert Consent.objects.filter(customer=pair.older).count() == 1
    for model in (Contact, Activity, Task, Consent, CustomerShare):
        assert not model.objects.filter(customer_id=pair.newer.pk).exists(), model
    assert set(record.moved["customers.contact.customer"]) == merged_contacts
    assert len(record.moved["engagement.activity.customer"]) == 1


def test_unique_duplicates_are_dropped_and_recorded(world: World, pair: Pair) -> None:
    record = merge(world, pair)
    # both records were shared with "outsider" and tagged VIP: one row each survives
    assert CustomerShare.objects.filter(customer=pair.older, user=world.outsider.user).count() == 1
    assert CustomerTag.objects.filter(customer=pair.older).count() == 2
    dropped = {d["relation"] for d in record.moved["_dropped"]}
    assert dropped == {"customers.customershare.customer", "customers.customertag.customer"}


def test_relations_are_discovered_from_every_app(db: Any) -> None:
    labels = {r.label for r in customer_relations()}
    assert {
        "customers.contact.customer",
        "customers.customertag.customer",
        "customers.customershare.customer",
        "customers.customerassignment.customer",
        "engagement.activity.customer",
        "engagement.task.customer",
        "engagement.emailmessage.customer",
        "engagement.consent.customer",
        "engagement.caresend.customer",
    } <= labels
    assert not labels & {"customers.searchgram.customer", "customers.customermerge.merged"}


def test_merged_record_is_soft_deleted_and_points_to_the_survivor(world: World, pair: Pair) -> None:
    merge(world, pair)
    gone = Customer.objects.get(pk=pair.newer.pk)
    assert gone.deleted_at is not None and gone.merged_into_id == pair.older.pk
    with pytest.raises(CustomerMergedAway) as exc:
        customer_get(actor=world.actor("owner"), customer_id=pair.newer.pk)
    assert exc.value.merged_into == pair.older.pk
    # not in lists or search any more; the survivor is found by the merged record's phone
    page = customer_list(actor=world.actor("owner"), filters=CustomerFilters(q="62345678"))
    assert [c.pk for c in page.items] == [pair.older.pk]
    assert CustomerIdentifier.objects.filter(customer=pair.older, value="+861062345678").exists()


def test_versions_are_checked_for_both_records(world: World, pair: Pair) -> None:
    versions = pair.versions()
    Customer.objects.filter(pk=pair.newer.pk).update(version=versions[pair.newer.pk] + 1)
    with pytest.raises(VersionConflict) as exc:
        merge(world, pair, expected_versions=versions)
    assert exc.value.problem_extra == {"customer_id": pair.newer.pk}  # type: ignore[attr-defined]
    assert Customer.objects.get(pk=pair.newer.pk).deleted_at is None
    with pytest.raises(ValidationFailed) as missing:
        merge(world, pair, expected_versions={pair.older.pk: versions[pair.older.pk]})
    assert missing.value.errors[0].field == "expected_versions"


def test_bad_choices_name_the_field_and_change_nothing(world: World, pair: Pair) -> None:
    with pytest.raises(ValidationFailed) as exc:
        merge(world, pair, choices={"name": "both", "shoe_size": "merged"})
    fields = {e.field for e in exc.value.errors}
    assert fields == {"choices.name", "choices.shoe_size"}
    assert Contact.objects.filter(customer=pair.newer).exists()
    assert Customer.objects.get(pk=pair.newer.pk).merged_into_id is None


def test_refusals(world: World, pair: Pair, other_customer: Any, make_customer: Any) -> None:
    admin = world.actor("admin")
    with pytest.raises(ValidationFailed) as same:
        customer_merge(actor=admin, survivor_id=pair.older.pk, merged_id=pair.older.pk, expected_versions={})
    assert same.value.errors[0].field == "merged_id"
    with pytest.raises(NotFound):  # another organisation's customer is not found
        customer_merge(
            actor=admin, survivor_id=pair.older.pk, merged_id=other_customer.pk, expected_versions={}
        )
    merge(world, pair)
    third = make_customer("owner", name="张三")
    with pytest.raises(ValidationFailed) as already:
        customer_merge(
            actor=admin,
            survivor_id=third.pk,
            merged_id=pair.newer.pk,
            expected_versions={third.pk: 1, pair.newer.pk: 2},
        )
    assert already.value.errors[0].field == "merged_id"
    assert already.value.errors[0].code == "merged"


def test_roles(world: World, pair: Pair) -> None:
    for who in ("owner", "teammate", "marketing", "service", "readonly"):
        with pytest.raises(PermissionDenied):
            merge(world, pair, who=who)
    with pytest.raises(NotFound):  # another organisation: the ids do not exist for them
        merge(world, pair, who="other_admin")
    merge(world, pair, who="manager")  # East's manager sees East's customers
    assert Customer.objects.get(pk=pair.newer.pk).merged_into_id == pair.older.pk


def test_manager_cannot_merge_a_record_outside_their_team(world: World, make_customer: Any) -> None:
    mine = make_customer("owner", name="东区客户")
    west = make_customer("outsider", name="西区客户")
    with pytest.raises(NotFound):
        customer_merge(
            actor=world.actor("manager"),
            survivor_id=mine.pk,
            merged_id=west.pk,
            expected_versions={mine.pk: 1, west.pk: 1},
        )


def test_audited_on_both_records_and_event_after_commit(
    world: World, pair: Pair, django_capture_on_commit_callbacks: Any
) -> None:
    seen: list[dict[str, Any]] = []

    def handler(name: str, payload: dict[str, Any]) -> None:
        seen.append(payload)

    subscribe("customer.merged", handler)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            record = merge(world, pair)
            assert seen == []  # not before commit
    finally:
        unsubscribe("customer.merged", handler)
    assert seen[0]["survivor_id"] == pair.older.pk and seen[0]["merge_id"] == record.pk
    on_survivor = AuditEvent.objects.get(object_type="customer", object_id=str(pair.older.pk), action="merge")
    assert on_survivor.changes["name"] == ["张伟", "张 伟"]
    assert on_survivor.changes["merged_from"] == [None, f"张 伟 (#{pair.newer.pk})"]
    on_merged = AuditEvent.objects.get(
        object_type="customer", object_id=str(pair.newer.pk), action="merged_into"
    )
    assert on_merged.context["merge_id"] == record.pk


def test_duplicate_candidate_pair_is_marked_merged(world: World, pair: Pair) -> None:
    low, high = sorted((pair.older.pk, pair.newer.pk))
    candidate = DuplicateCandidate.objects.create(
        organization=world.org, customer_a_id=low, customer_b_id=high, score=0.93, reasons=["phone"]
    )
    merge(world, pair)
    candidate.refresh_from_db()
    assert candidate.status == "merged" and candidate.decided_by_id == world.admin.user.pk


def test_external_id_moves_with_the_choice(world: World, make_customer: Any) -> None:
    a = make_customer("owner", name="甲")
    b = make_customer("owner", name="乙", external_id="ERP-7")
    customer_merge(
        actor=world.actor("admin"), survivor_id=a.pk, merged_id=b.pk, expected_versions={a.pk: 1, b.pk: 1}
    )
    assert Customer.objects.get(pk=a.pk).external_id == "ERP-7"
    assert Customer.objects.get(pk=b.pk).external_id == ""


def test_unique_custom_value_lives_on_one_record(world: World, make_customer: Any) -> None:
    CustomFieldDefinition.objects.create(
        organization=world.org,
        entity="customer",
        key="member_no",
        label="会员号",
        field_type="text",
        unique=True,
    )
    a = make_customer("owner", name="甲")
    b = make_customer("owner", name="乙", custom={"member_no": "M-1"})
    customer_merge(
        actor=world.actor("admin"), survivor_id=a.pk, merged_id=b.pk, expected_versions={a.pk: 1, b.pk: 1}
    )
    assert Customer.objects.get(pk=a.pk).custom == {"member_no": "M-1"}
    assert Customer.objects.get(pk=b.pk).custom == {}


def test_query_count_does_not_grow_with_rows(world: World, pair: Pair, make_customer: Any) -> None:
    with CaptureQueriesContext(connection) as few:
        merge(world, pair)
    a = make_customer("owner", name="甲")
    b = make_customer("owner", name="乙")
    for i in range(30):
        Contact.objects.create(organization=world.org, customer=b, name=f"联系人{i}")
    with CaptureQueriesContext(connection) as many:
        customer_merge(
            actor=world.actor("admin"), survivor_id=a.pk, merged_id=b.pk, expected_versions={a.pk: 1, b.pk: 1}
        )
    assert len(many) <= len(few) + 5


def test_a_failure_half_way_leaves_both_records_as_they_were(
    world: World, pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(customers: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("guanxi.customers.merge.reindex", broken)  # after the rows moved
    with pytest.raises(RuntimeError):
        merge(world, pair)
    assert Contact.objects.filter(customer=pair.newer).count() == 1
    assert Activity.objects.filter(customer=pair.newer).count() == 1
    newer = Customer.objects.get(pk=pair.newer.pk)
    assert newer.deleted_at is None and newer.merged_into_id is None and newer.version == pair.newer.version
    assert Customer.objects.get(pk=pair.older.pk).name == "张伟"
    assert not AuditEvent.objects.filter(action__in=["merge", "merged_into"]).exists()


def test_unique_duplicates_beyond_customers_are_dropped_too(world: World, pair: Pair) -> None:
    from guanxi.customers.merge_relations import _touches_others
    from guanxi.engagement.models import CareRule, CareSend

    rule = CareRule.objects.create(organization=world.org, name="生日", kind="birthday")
    task = Task.objects.get(customer=pair.newer)
    mine = CareSend.objects.create(
        organization=world.org, rule=rule, customer=pair.older, occasion_key="2026"
    )
    theirs = CareSend.objects.create(
        organization=world.org, rule=rule, customer=pair.newer, occasion_key="2026", task=task
    )
    assert not _touches_others(theirs)  # nothing points at a care send: it can be dropped
    assert _touches_others(task)  # deleting the task would null out the care send's task
    record = merge(world, pair)
    # same rule and occasion on both: the merged record's send is a duplicate, dropped and recorded
    assert not CareSend.objects.filter(pk=theirs.pk).exists()
    assert CareSend.objects.filter(customer=pair.older).get().pk == mine.pk
    assert any(d["relation"] == "engagement.caresend.customer" for d in record.moved["_dropped"])


def test_a_duplicate_other_rows_depend_on_stays_on_the_merged_record(
    world: World, pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No model has such a row yet; a later app's might (a unique row that others point at).
    monkeypatch.setattr("guanxi.customers.merge_relations._touches_others", lambda obj: True)
    vip_on_newer = CustomerTag.objects.get(customer=pair.newer, tag__name="VIP")
    record = merge(world, pair)
    assert CustomerTag.objects.get(pk=vip_on_newer.pk).customer_id == pair.newer.pk  # not deleted
    assert record.moved["_left"]["customers.customertag.customer"] == [vip_on_newer.pk]
    assert CustomerTag.objects.filter(customer=pair.older, tag__name="VIP").count() == 1
