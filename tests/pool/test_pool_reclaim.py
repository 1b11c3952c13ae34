"""The reclaim job: back to the pool after N days without follow-up or M days without closing,
with a warning K days before; per grade; idempotent; simulated time, never sleeping."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from guanxi.core.models import AuditEvent
from guanxi.core.schedule import run_due
from guanxi.customers.models import Customer, CustomerAssignment, PoolWarning
from guanxi.customers.pool import PoolRefused, pool_claim
from guanxi.customers.pool_reclaim import _due_in_org, _reclaim, pool_reclaim_due
from guanxi.customers.services import customer_update
from tests.pool.conftest import T0, days


@pytest.fixture
def owned(world, make_customer):
    """Owned by ``owner`` since T0 (created then), never contacted."""

    def make(**data):
        customer = make_customer("owner", **data)
        Customer.objects.filter(pk=customer.pk).update(created_at=T0)
        customer.refresh_from_db()
        return customer

    return make


def _run(now, **kwargs):
    report = pool_reclaim_due(now=now, **kwargs)
    return [r["customer_id"] for r in report["reclaimed"]], [r["customer_id"] for r in report["warned"]]


def test_reclaim_after_n_days_without_follow_up_with_a_warning_k_days_before(
    world, owned, rule, events, django_capture_on_commit_callbacks
):
    rule(follow_up_days=10, warn_days=3)
    c = owned(name="赵磊")
    assert _run(T0 + days(6.9)) == ([], [])
    with django_capture_on_commit_callbacks(execute=True):
        assert _run(T0 + days(7)) == ([], [c.pk])
    warning = next(p for n, p in events if n == "pool.reclaim_warning")
    assert warning["user_id"] == world.owner.user_id and warning["customer_id"] == c.pk
    assert warning["rule"] == "follow_up" and warning["due_at"] == (T0 + days(10)).isoformat()
    assert warning["days_left"] == 3
    audit_row = AuditEvent.objects.get(action="pool_reclaim_warning")
    assert audit_row.object_id == str(c.pk) and audit_row.actor_name == "system"
    assert audit_row.context["user"] == "owner"
    assert _run(T0 + days(8)) == ([], [])  # warned once per deadline
    assert PoolWarning.objects.count() == 1
    assert _run(T0 + days(10) - days(1 / 1440)) == ([], [])
    assert Customer.objects.get(pk=c.pk).owner_id == world.owner.user_id

    events.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert _run(T0 + days(10)) == ([c.pk], [])
    after = Customer.objects.get(pk=c.pk)
    assert (after.owner_id, after.team_id, after.in_public_pool) == (None, None, True)
    assert after.version == c.version + 1
    move = CustomerAssignment.objects.get(customer=c)
    assert (move.reason, move.rule, move.from_user_id, move.to_user_id, move.actor_id) == (
        "reclaim",
        "follow_up",
        world.owner.user_id,
        None,
        None,
    )
    audit_row = AuditEvent.objects.filter(object_id=str(c.pk)).latest("id")
    assert audit_row.action == "pool_reclaim" and audit_row.actor_name == "system"
    assert audit_row.changes == {
        "owner": ["owner", None],
        "team": ["East", None],
        "in_public_pool": [False, True],
    }
    assert {"pool.reclaimed", "customer.updated"} <= {n for n, _ in events}
    assert _run(T0 + days(11)) == ([], [])  # idempotent
    # Every rep sees it in the pool; the one who lost it cannot claim it back at once.
    with pytest.raises(PoolRefused) as exc:
        pool_claim(actor=world.actor("owner"), customer_id=c.pk, now=T0 + days(12))
    assert exc.value.code == "recently_lost"
    pool_claim(actor=world.actor("teammate"), customer_id=c.pk, now=T0 + days(12))


def test_a_follow_up_restarts_the_clock(world, owned, rule):
    rule(follow_up_days=10, warn_days=2)
    c = owned()
    Customer.objects.filter(pk=c.pk).update(last_contacted_at=T0 + days(5))
    assert _run(T0 + days(10)) == ([], [])
    assert _run(T0 + days(13)) == ([], [c.pk])
    assert _run(T0 + days(15)) == ([c.pk], [])


def test_the_clock_starts_when_the_owner_got_the_customer(world, to_pool, rule):
    """A follow-up by the previous owner does not count for the new one; the claim date does."""
    rule(follow_up_days=10)
    c = to_pool(at=T0 - days(100))
    Customer.objects.filter(pk=c.pk).update(last_contacted_at=T0 - days(60), created_at=T0 - days(200))
    pool_claim(actor=world.actor("owner"), customer_id=c.pk, now=T0)
    assert _run(T0 + days(9.9)) == ([], [])
    assert _run(T0 + days(10)) == ([c.pk], [])


def test_not_closed_within_m_days(world, owned, rule):
    rule(close_days=30, warn_days=5)
    lead, won = owned(name="潜在客户"), owned(name="成交客户", lifecycle_stage="active")
    Customer.objects.filter(pk=lead.pk).update(last_contacted_at=T0 + days(29))  # busy, but no deal
    assert _run(T0 + days(25)) == ([], [lead.pk])
    assert _run(T0 + days(30)) == ([lead.pk], [])
    assert _run(T0 + days(300)) == ([], [])
    assert Customer.objects.get(pk=won.pk).owner_id == world.owner.user_id
    assert CustomerAssignment.objects.get(customer=lead).rule == "close"


def test_the_earlier_deadline_wins(world, owned, rule):
    rule(follow_up_days=20, close_days=10)
    c = owned()
    assert _run(T0 + days(10)) == ([c.pk], [])
    assert CustomerAssignment.objects.get(customer=c).rule == "close"


@pytest.mark.parametrize("stage", ["new", "active", "repeat"])
def test_closed_customers_are_kept_under_the_close_rule(world, owned, rule, stage):
    rule(close_days=5)
    owned(lifecycle_stage=stage)
    assert _run(T0 + days(50)) == ([], [])


def test_rules_per_grade_with_a_default(world, owned, rule):
    rule("A", follow_up_days=5)
    rule("", follow_up_days=20)
    a, b, none = owned(name="A级", grade="A"), owned(name="B级", grade="B"), owned(name="未分级")
    assert _run(T0 + days(5)) == ([a.pk], [])
    assert _run(T0 + days(19)) == ([], [])
    assert sorted(_run(T0 + days(20))[0]) == sorted([b.pk, none.pk])


def test_only_grades_with_a_rule_are_reclaimed_when_there_is_no_default(world, owned, rule):
    rule("A", follow_up_days=5)
    a, b = owned(grade="A"), owned(grade="B")
    assert _run(T0 + days(100)) == ([a.pk], [])
    assert Customer.objects.get(pk=b.pk).owner_id == world.owner.user_id


def test_no_rules_or_paused_means_nothing_moves(world, owned, rule, limits):
    c = owned()
    assert _run(T0 + days(1000)) == ([], [])
    rule(follow_up_days=1)
    limits(reclaim_enabled=False)
    assert _run(T0 + days(1000)) == ([], [])
    limits(reclaim_enabled=True)
    assert _run(T0 + days(1000)) == ([c.pk], [])


def test_unowned_pool_and_deleted_customers_are_left_alone(world, owned, to_pool, rule):
    rule(follow_up_days=1)
    gone = owned(name="已删除")
    Customer.objects.filter(pk=gone.pk).update(deleted_at=T0)
    to_pool(at=T0)
    assert _run(T0 + days(10)) == ([], [])


def test_dry_run_changes_nothing(world, owned, rule):
    rule(follow_up_days=10, warn_days=3)
    late, soon = owned(name="逾期"), owned(name="将到期")
    Customer.objects.filter(pk=soon.pk).update(last_contacted_at=T0 + days(2))
    assert _run(T0 + days(10), dry_run=True) == ([late.pk], [soon.pk])
    assert Customer.objects.filter(owner__isnull=True).count() == 0
    assert PoolWarning.objects.count() == 0 and CustomerAssignment.objects.count() == 0
    assert _run(T0 + days(10)) == ([late.pk], [soon.pk])
    assert _run(T0 + days(10), dry_run=True) == ([], [])  # already warned: not reported again


def test_a_follow_up_logged_after_the_scan_saves_the_customer(world, owned, rule):
    """The reclaim UPDATE checks nothing changed since the scan: same owner, contact time, stage."""
    rule(follow_up_days=10)
    c = owned()
    (due,) = list(_due_in_org(world.org.pk, T0 + days(11)))
    Customer.objects.filter(pk=c.pk).update(last_contacted_at=T0 + days(10.5))
    assert _reclaim(due, T0 + days(11)) is False
    assert Customer.objects.get(pk=c.pk).owner_id == world.owner.user_id


def test_other_organisations_follow_their_own_rules(world, owned, make_customer, rule):
    rule(follow_up_days=10)
    ours = owned()
    theirs = make_customer("other_admin", name="别家客户")
    Customer.objects.filter(pk=theirs.pk).update(created_at=T0)
    assert _run(T0 + days(30)) == ([ours.pk], [])
    assert Customer.objects.get(pk=theirs.pk).owner_id == world.other_admin.user_id
    assert _run(T0 + days(30), org_id=world.other_org.pk) == ([], [])


def test_an_owner_change_by_edit_restarts_the_clock(world, owned, rule, django_capture_on_commit_callbacks):
    rule(follow_up_days=10)
    c = owned()
    with django_capture_on_commit_callbacks(execute=True):
        customer_update(
            actor=world.actor("manager"),
            customer_id=c.pk,
            data={"owner": "teammate"},
            expected_version=c.version,
        )
    move = CustomerAssignment.objects.get(customer=c)
    assert (move.reason, move.from_user_id, move.to_user_id, move.actor_id) == (
        "assign",
        world.owner.user_id,
        world.teammate.user_id,
        world.manager.user_id,
    )
    CustomerAssignment.objects.filter(pk=move.pk).update(at=T0 + days(8))
    assert _run(T0 + days(10)) == ([], [])
    assert _run(T0 + days(18)) == ([c.pk], [])


def test_periodic_job_is_registered_hourly_at_quarter_past(world, owned, rule):
    rule(follow_up_days=10)
    c = owned()
    report = run_due(T0 + days(10), only="pool_reclaim", force=True)
    assert report == [{"name": "pool_reclaim", "status": "ok", "message": "reclaimed 1, warned 0"}]
    assert Customer.objects.get(pk=c.pk).in_public_pool is True
    # Due at :15 of every hour, not before.
    start = T0 + days(20)
    run_due(start.replace(minute=15), only="pool_reclaim")
    assert run_due(start.replace(minute=59), only="pool_reclaim") == []
    assert len(run_due((start + days(1 / 24)).replace(minute=15), only="pool_reclaim")) == 1


def test_cli_reclaim_with_simulated_time_dry_run_and_json(world, owned, rule):
    rule(follow_up_days=10, warn_days=3)
    c = owned(name="钱进")
    out = StringIO()
    call_command(
        "pool",
        "reclaim",
        "--org",
        "acme",
        "--now",
        (T0 + days(10)).isoformat(),
        "--dry-run",
        "--json",
        stdout=out,
    )
    body = json.loads(out.getvalue())
    assert body["dry_run"] is True and [r["customer_id"] for r in body["reclaimed"]] == [c.pk]
    assert body["reclaimed"][0]["owner"] == "owner" and body["reclaimed"][0]["rule"] == "follow_up"
    assert Customer.objects.get(pk=c.pk).owner_id == world.owner.user_id
    out = StringIO()
    call_command("pool", "reclaim", "--org", "acme", "--now", (T0 + days(10)).isoformat(), stdout=out)
    assert "reclaimed 1, warned 0" in out.getvalue()
    assert Customer.objects.get(pk=c.pk).in_public_pool is True
