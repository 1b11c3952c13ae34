"""The lived-in part of the demo: follow-up records over the last months, tasks for every rep
(some overdue, some due today), marketing consent, a sender identity, email templates, care rules
(birthday, Spring Festival, A-grade revisit every 14 days), pool rules and a few customers in the
public pool.

Idempotent like the rest of the demo: each part is made only when the organisation has none of it
yet, so a second run adds nothing. Templates, care rules, pool settings and releases go through
their services (validated and audited, a handful of rows); the thousands of activities, tasks and
consents are written in bulk with the audit rows the services would write, like demo customers.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.utils import timezone

from guanxi.core.audit import diff
from guanxi.core.context import Actor
from guanxi.core.models import AuditEvent, Membership, Organization
from guanxi.customers.models import Customer, CustomerAssignment
from guanxi.customers.pool import pool_base, pool_release
from guanxi.customers.pool_settings import pool_settings_update
from guanxi.engagement import care
from guanxi.engagement.email import template_create
from guanxi.engagement.models import (
    Activity,
    CareRule,
    Consent,
    EngagementSettings,
    MessageTemplate,
    Task,
)
from guanxi.engagement.services import ACTIVITY_FIELDS, DEFAULT_FOLLOW_UP_REMINDER, settings_update

SEED = 2026_4
HISTORY_DAYS = 150
# kind, weight, subjects, contents ({company} is the customer's company or name)
KINDS: list[tuple[str, int, list[str], list[str]]] = [
    ("call", 34, ["电话回访", "电话沟通需求", "报价电话跟进", "售后电话回访"],
     ["与客户电话沟通，对方关注交付周期和价格，答应下周内给出反馈。",
      "电话未接通，已发短信说明来意，约定明天再联系。",
      "客户确认预算已批，希望尽快拿到正式报价。"]),
    ("visit", 16, ["上门拜访", "拜访{company}", "现场产品演示"],
     ["到{company}现场拜访，与采购和技术负责人面谈，现场演示了核心功能。",
      "拜访客户办公室，了解了明年的采购计划和决策流程。"]),
    ("wechat", 26, ["微信跟进", "微信发送资料", "微信沟通方案"],
     ["通过微信发送了产品手册和同行业案例，客户已读，表示会转给领导。",
      "微信沟通合同细节，客户对付款方式有疑问，已解释。"]),
    ("meeting", 8, ["线上会议", "方案评审会"],
     ["与客户团队线上会议一小时，梳理需求清单，约定下周提交方案。"]),
    ("email", 6, ["邮件发送报价单", "邮件确认合同条款"],
     ["已通过邮件发送报价单及产品参数，请客户确认。"]),
    ("sms", 4, ["短信提醒"], ["短信提醒客户参加下周的新品发布会。"]),
    ("note", 6, ["备注"], ["客户近期在做内部组织调整，采购可能推迟到下季度。"]),
]  # fmt: skip
OUTCOMES = ["有意向", "需要报价", "待决策", "暂无需求", "已成交", "未接通", ""]
NEXT_STEPS = [
    "发送正式报价单",
    "安排产品演示",
    "电话确认反馈",
    "邀请参加新品发布会",
    "寄送样品",
    "确认合同条款",
]
TODAY_TASKS = ["电话确认报价反馈", "微信发送案例资料", "准备拜访材料"]
POOL_REASONS = ["客户暂无采购计划", "多次联系未果", "客户已选择其他供应商", "联系人已离职", "预算取消"]

TEMPLATES: list[dict[str, Any]] = [
    {
        "name": "生日祝福",
        "purpose": "marketing",
        "subject": "{{ salutation }}，生日快乐！",
        "body_text": "{{ salutation }}：\n\n值此生日之际，关系演示公司全体同仁祝您生日快乐、"
        "身体健康、万事如意！\n\n感谢一直以来的支持。",
        "body_html": "<p>{{ salutation }}：</p><p>值此生日之际，<b>关系演示公司</b>全体同仁祝您生日快乐、"
        "身体健康、万事如意！</p><p>感谢一直以来的支持。</p>",
    },
    {
        "name": "春节问候",
        "purpose": "marketing",
        "subject": "{{ occasion }}快乐，{{ salutation }}",
        "body_text": "{{ salutation }}：\n\n新春佳节将至，祝您和家人{{ occasion }}快乐，"
        "阖家幸福，新年大吉！\n\n关系演示公司 敬上",
    },
    {
        "name": "报价跟进",
        "purpose": "transactional",
        "subject": "{{ salutation }}，您要的报价单",
        "body_text": "{{ salutation }}您好！\n\n附件是{{ customer.company|default:customer.name }}"
        "所需产品的报价单，有效期 30 天。如有疑问请随时联系我。",
    },
    {
        "name": "新品推荐",
        "purpose": "marketing",
        "subject": "{{ salutation }}，新品上市，老客户专享优惠",
        "body_text": "{{ salutation }}您好！\n\n我们的新一代产品已经上市，老客户下单享九折优惠，欢迎咨询。",
        "body_html": "<p>{{ salutation }}您好！</p><p>我们的新一代产品已经上市，<b>老客户下单享九折优惠</b>，"
        "欢迎咨询。</p>",
    },
]


def _local_today_end(now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    local = now.astimezone(zone)
    return local.replace(hour=23, minute=45, second=0, microsecond=0)


def _members(org: Organization) -> dict[str, Membership]:
    return {
        m.user.username: m
        for m in Membership.objects.select_related("user", "team", "organization").filter(organization=org)
    }


def _ensure_templates(actor: Actor) -> dict[str, MessageTemplate]:
    have = {t.name: t for t in MessageTemplate.objects.filter(organization_id=actor.org_id)}
    for spec in TEMPLATES:
        if spec["name"] not in have:
            have[spec["name"]] = template_create(actor=actor, data=spec)
    return have


def _ensure_care_rules(actor: Actor, templates: dict[str, MessageTemplate]) -> None:
    have = set(CareRule.objects.filter(organization_id=actor.org_id).values_list("name", flat=True))
    rules: list[dict[str, Any]] = [
        {"name": "客户生日祝福", "kind": "birthday", "template_id": templates["生日祝福"].pk},
        {
            "name": "春节问候",
            "kind": "holiday",
            "holidays": ["spring_festival"],
            "template_id": templates["春节问候"].pk,
            "send_time": dt.time(8, 30),
        },
        {
            "name": "A级客户14天回访",
            "kind": "revisit",
            "channel": "task",
            "revisit_days": {"A": 14},
            "audience": {"grade": ["A"]},
        },
    ]
    for spec in rules:
        if spec["name"] not in have:
            care.rule_create(actor=actor, data=spec)


def _ensure_sender(actor: Actor) -> None:
    cfg = EngagementSettings.objects.filter(organization_id=actor.org_id).first()
    if cfg is None or not cfg.from_email:
        settings_update(
            actor=actor,
            data={"from_name": "关系演示公司", "from_email": "hello@demo.guanxi.local", "reply_to": ""},
        )


def _ensure_pool(actor: Actor, members: dict[str, Membership], now: dt.datetime) -> int:
    """Pool limits and reclaim rules, and a few customers their reps gave back, with the reason."""
    from guanxi.customers.models import PoolSettings

    if not PoolSettings.objects.filter(organization_id=actor.org_id).exists():
        pool_settings_update(
            actor=actor,
            data={
                "max_owned": 2000,
                "daily_claim_limit": 10,
                "reclaim_block_days": 30,
                "rules": [
                    {"grade": "A", "follow_up_days": 15, "close_days": None, "warn_days": 3},
                    {"grade": "", "follow_up_days": 45, "close_days": 180, "warn_days": 5},
                ],
            },
        )
    released = CustomerAssignment.objects.filter(organization_id=actor.org_id, to_user__isnull=True).exists()
    if released:
        return 0
    count = 0
    for username in ("sales1", "sales2"):
        rep = members.get(username)
        if rep is None:
            continue
        rep_actor = Actor(membership=rep, via="cli", extra={"via": "demo"})
        ids = list(
            Customer.objects.filter(
                organization_id=actor.org_id,
                owner_id=rep.user_id,
                deleted_at__isnull=True,
                external_id__startswith="DEMO-CN-",
            )
            .exclude(grade="A")
            .order_by("-pk")
            .values_list("pk", flat=True)[:6]
        )
        for i, pk in enumerate(ids):
            pool_release(actor=rep_actor, customer_id=pk, reason=POOL_REASONS[i % len(POOL_REASONS)], now=now)
            count += 1
    return count


def _consents(org_id: int, customers: list[dict[str, Any]], rng: random.Random, now: dt.datetime) -> None:
    """Marketing email consent for about two thirds of the customers with an address (a sign-up form)."""
    rows = [
        Consent(
            organization_id=org_id,
            customer_id=c["pk"],
            purpose="marketing",
            channel="email",
            granted=True,
            source=rng.choice(["官网注册", "展会登记", "微信公众号"]),
            at=now - dt.timedelta(days=rng.randint(30, 400)),
        )
        for c in customers
        if c["email"] and rng.random() < 0.66
    ]
    Consent.objects.bulk_create(rows, batch_size=1000)


def _activities(
    org_id: int,
    customers: list[dict[str, Any]],
    members: dict[int, Membership],
    rng: random.Random,
    now: dt.datetime,
) -> tuple[list[Activity], list[Activity]]:
    """Follow-ups spread over the last months; returns (all, the newest per customer with a next date)."""
    weights = [k[1] for k in KINDS]
    made: list[Activity] = []
    latest: list[Activity] = []
    for c in customers:
        owner = members.get(c["owner_id"])
        if owner is None or rng.random() > 0.62:
            continue
        times = sorted(
            now - dt.timedelta(minutes=rng.randint(30, HISTORY_DAYS * 24 * 60))
            for _ in range(rng.randint(1, 4))
        )
        for i, at in enumerate(times):
            kind, _w, subjects, contents = rng.choices(KINDS, weights=weights)[0]
            company = c["company"] or c["name"]
            activity = Activity(
                organization_id=org_id,
                customer_id=c["pk"],
                kind=kind,
                occurred_at=at,
                subject=rng.choice(subjects).format(company=company)[:200],
                content=rng.choice(contents).format(company=company),
                outcome=rng.choice(OUTCOMES) if kind != "note" else "",
                created_by_id=owner.user_id,
                team_id=owner.team_id,
            )
            if i == len(times) - 1 and rng.random() < 0.7:
                activity.next_step = rng.choice(NEXT_STEPS)
                # Mostly ahead, some already behind (overdue follow-ups), a few due today.
                offset = rng.choice([-4, -2, -1, 0, 0, 1, 2, 3, 5, 7, 10, 14])
                activity.next_follow_up_at = now + dt.timedelta(days=offset, hours=rng.randint(1, 5))
                latest.append(activity)
            made.append(activity)
    Activity.objects.bulk_create(made, batch_size=1000)
    return made, latest


def _tasks(
    org_id: int,
    follow_ups: list[Activity],
    names: dict[int, str],
    members: dict[int, Membership],
    rng: random.Random,
    now: dt.datetime,
    zone: ZoneInfo,
) -> list[Task]:
    """What ``activity_create`` makes of a next follow-up date: a task for the customer's owner.

    Then every rep gets a few due later today, so "My day" is never empty at first sight."""
    tasks = [
        Task(
            organization_id=org_id,
            title=a.next_step[:200],
            assignee_id=a.created_by_id or 0,
            due_at=a.next_follow_up_at,
            priority=rng.choice(["normal", "normal", "high", "low"]),
            customer_id=a.customer_id,
            activity_id=a.pk,
            reminder_minutes=DEFAULT_FOLLOW_UP_REMINDER,
            created_by_id=a.created_by_id,
        )
        for a in follow_ups
        if a.next_follow_up_at is not None
    ]
    end_of_today = _local_today_end(now, zone)
    by_owner: dict[int, list[int]] = {}
    for a in follow_ups:
        by_owner.setdefault(a.created_by_id or 0, []).append(a.customer_id)
    for user_id, customer_ids in by_owner.items():
        member = members.get(user_id)
        if member is None:
            continue
        for k, customer_id in enumerate(customer_ids[:3]):
            room = max(int((end_of_today - now).total_seconds() // 60), 1)
            due = now + dt.timedelta(minutes=min(room, 45 + 70 * k))
            tasks.append(
                Task(
                    organization_id=org_id,
                    title=f"{TODAY_TASKS[k]}：{names[customer_id]}"[:200],
                    assignee_id=user_id,
                    due_at=due,
                    priority="high" if k == 0 else "normal",
                    customer_id=customer_id,
                    reminder_minutes=15,
                    created_by_id=user_id,
                )
            )
    for task in tasks:
        # Some of the oldest follow-ups were done on time; the rest stay open (overdue or ahead).
        if task.due_at < now - dt.timedelta(days=2) and rng.random() < 0.4:
            task.done, task.done_at = True, task.due_at
        task.remind_at = None if task.done else task.due_at - dt.timedelta(minutes=task.reminder_minutes or 0)
        if task.remind_at is not None and task.remind_at < now:
            task.reminded_at = task.remind_at  # past reminders count as given: no burst at start-up
    Task.objects.bulk_create(tasks, batch_size=1000)
    return tasks


def _audit_rows(actor_name: dict[int, str], activities: list[Activity], tasks: list[Task]) -> None:
    """The audit rows ``activity_create`` and ``task_create`` write, in bulk."""
    events = [
        AuditEvent(
            organization_id=a.organization_id,
            actor_id=a.created_by_id,
            actor_name=actor_name.get(a.created_by_id or 0, ""),
            action="create",
            object_type="activity",
            object_id=str(a.pk),
            object_repr=f"{a.kind}: {a.subject}"[:200],
            changes=diff({}, {k: v for k in ACTIVITY_FIELDS if (v := getattr(a, k)) not in (None, "")}),
            context={"customer_id": a.customer_id, "via": "demo"},
        )
        for a in activities
    ]
    events += [
        AuditEvent(
            organization_id=t.organization_id,
            actor_id=t.created_by_id,
            actor_name=actor_name.get(t.created_by_id or 0, ""),
            action="create",
            object_type="task",
            object_id=str(t.pk),
            object_repr=t.title,
            changes=diff({}, {"title": t.title, "due_at": t.due_at, "assignee": t.assignee_id}),
            context={"customer_id": t.customer_id, "via": "demo"},
        )
        for t in tasks
    ]
    AuditEvent.objects.bulk_create(events, batch_size=1000)


def _touch_customers(activities: list[Activity]) -> None:
    """``last_contacted_at`` = the newest follow-up, as ``_touch_customer`` keeps it (no version bump)."""
    newest: dict[int, dt.datetime] = {}
    for a in activities:
        if a.customer_id not in newest or a.occurred_at > newest[a.customer_id]:
            newest[a.customer_id] = a.occurred_at
    with connection.cursor() as cur:
        cur.executemany(
            f"UPDATE {Customer._meta.db_table} SET last_contacted_at = %s WHERE id = %s",
            [(at, pk) for pk, at in newest.items()],
        )


def demo_engagement(org: Organization, admin: Actor, *, now: dt.datetime | None = None) -> dict[str, int]:
    """Bring the demo organisation's engagement data up; returns totals for the demo's summary."""
    now = now or timezone.now()
    zone = ZoneInfo(org.time_zone or "Asia/Shanghai")
    rng = random.Random(SEED)
    members = _members(org)
    by_user = {m.user_id: m for m in members.values()}
    templates = _ensure_templates(admin)
    _ensure_care_rules(admin, templates)
    _ensure_sender(admin)
    customers: list[dict[str, Any]] = [
        dict(row)
        for row in Customer.objects.filter(organization=org, deleted_at__isnull=True)
        .order_by("pk")
        .values("pk", "name", "company", "owner_id", "email")
    ]
    if not Consent.objects.filter(organization=org).exists():
        _consents(org.pk, customers, rng, now)
    if not Activity.objects.filter(organization=org).exists():
        activities, follow_ups = _activities(org.pk, customers, by_user, rng, now)
        names = {c["pk"]: c["name"] for c in customers}
        tasks = _tasks(org.pk, follow_ups, names, by_user, rng, now, zone)
        _audit_rows({m.user_id: m.user.username for m in members.values()}, activities, tasks)
        _touch_customers(activities)
    _ensure_pool(admin, members, now)
    return {
        "activities": Activity.objects.filter(organization=org).count(),
        "tasks": Task.objects.filter(organization=org).count(),
        "care_rules": CareRule.objects.filter(organization=org).count(),
        "email_templates": MessageTemplate.objects.filter(organization=org).count(),
        "pool": pool_base(org.pk).count(),
    }
