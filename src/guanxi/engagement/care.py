"""Care automation (关怀): rules, their audience, who is due on a day, the hourly run, the preview.

Each greeting or task is recorded in a ``CareSend`` row unique on (rule, customer, occasion_key),
e.g. ``birthday:2027`` or ``holiday:spring_festival:2027``, written in the same transaction as the
email row or task: nobody gets the same greeting twice, however often the job runs.

Automated greetings do not move ``last_contacted_at``: they are not a rep's follow-up, and
counting them would defeat revisit reminders and the public pool's "no follow-up" reclaim.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from django.utils.translation import gettext as _
from lunardate import LunarDate

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.roles import Perm
from guanxi.customers.models import Customer
from guanxi.engagement import calendar
from guanxi.engagement.email import EmailDeliveryFailed, email_create, email_deliver, why_not_emailable
from guanxi.engagement.models import CareRule, CareSend, MessageTemplate, Task
from guanxi.engagement.selectors import org_zone

log = logging.getLogger(__name__)
LIST_KEYS = ("grade", "value_tier", "tags", "province", "lifecycle_stage")
RULE_FIELDS = (
    "name",
    "kind",
    "enabled",
    "audience",
    "channel",
    "template_id",
    "send_time",
    "country",
    "holidays",
    "revisit_days",
    "default_revisit_days",
)
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


# Audience -------------------------------------------------------------------------------------


def validate_audience(audience: Any) -> dict[str, Any]:
    if not isinstance(audience, dict):
        raise ValidationFailed(errors=[FieldError("audience", _("must be an object"))])
    errors = []
    for key, value in audience.items():
        if key in LIST_KEYS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                errors.append(FieldError(f"audience.{key}", _("must be a list of strings")))
        elif key == "custom":
            if not isinstance(value, dict):
                errors.append(FieldError("audience.custom", _("must be an object of field: value(s)")))
                continue
            for ckey in value:
                if not KEY_RE.match(str(ckey)):
                    errors.append(FieldError(f"audience.custom.{ckey}", _("is not a custom-field key")))
        else:
            errors.append(FieldError(f"audience.{key}", _("unknown audience filter")))
    if errors:
        raise ValidationFailed(errors=errors)
    return audience


def audience_queryset(org_id: int, audience: dict[str, Any]) -> QuerySet[Customer]:
    qs = Customer.objects.filter(organization_id=org_id, deleted_at__isnull=True)
    for key in ("grade", "value_tier", "province", "lifecycle_stage"):
        if audience.get(key):
            qs = qs.filter(**{f"{key}__in": audience[key]})
    if audience.get("tags"):
        qs = qs.filter(pk__in=Customer.objects.filter(tags__name__in=audience["tags"]).values("pk"))
    for i, (ckey, wanted) in enumerate((audience.get("custom") or {}).items()):
        alias = f"_care_c{i}"
        values = wanted if isinstance(wanted, list) else [wanted]
        cond = Q()
        for v in values:
            cond |= Q(**{alias: v})
        qs = qs.alias(**{alias: KeyTransform(ckey, "custom")}).filter(cond)
    return qs


# Occasions ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    customer: Customer
    occasion_key: str
    occasion: str


def _birthday_q(day: dt.date) -> Q:
    solar = Q(birthday_is_lunar=False, birthday__month=day.month, birthday__day=day.day)
    if day.month == 2 and day.day == 28 and not _is_leap(day.year):
        solar |= Q(birthday_is_lunar=False, birthday__month=2, birthday__day=29)
    q = solar
    try:
        lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    except ValueError:
        return q
    if not lunar.is_leap_month:  # a leap month repeats the month: birthdays are kept in the regular one
        q |= Q(birthday_is_lunar=True, birthday__month=lunar.month, birthday__day=lunar.day)
        tomorrow = LunarDate.from_solar_date(*(day + dt.timedelta(days=1)).timetuple()[:3])
        if lunar.day == 29 and tomorrow.day == 1:  # a 29-day month: 30th birthdays on the 29th
            q |= Q(birthday_is_lunar=True, birthday__month=lunar.month, birthday__day=30)
    return q


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def due_on(rule: CareRule, day: dt.date, now: dt.datetime, zone: dt.tzinfo) -> Iterator[Due]:
    """Customers of the rule's audience with an occasion on ``day`` (the org's local date)."""
    qs = audience_queryset(rule.organization_id, rule.audience or {}).order_by("pk")
    if rule.kind == CareRule.Kind.BIRTHDAY:
        label = _("Birthday")
        for c in qs.filter(birthday__isnull=False).filter(_birthday_q(day)):
            yield Due(c, f"birthday:{day.year}", str(label))
    elif rule.kind == CareRule.Kind.HOLIDAY:
        found = calendar.holidays_on(day, country=rule.country, names=list(rule.holidays or []))
        if found:
            slug, name = found[0]
            for c in qs:
                yield Due(c, f"holiday:{slug}:{day.year}"[:100], name)
    elif rule.kind == CareRule.Kind.ANNIVERSARY:
        with timezone.override(zone):
            matches = list(
                qs.filter(created_at__month=day.month, created_at__day=day.day, created_at__year__lt=day.year)
            )
        for c in matches:
            yield Due(c, f"anniversary:{day.year}", str(_("Customer anniversary")))
    elif rule.kind == CareRule.Kind.REVISIT:
        days_by = rule.revisit_days or {}
        thresholds = [int(d) for d in [*days_by.values(), rule.default_revisit_days] if d]
        if not thresholds:
            return
        cutoff = now - dt.timedelta(days=min(thresholds))  # nobody newer can be due: let the DB filter
        qs = qs.filter(
            Q(last_contacted_at__lte=cutoff) | Q(last_contacted_at__isnull=True, created_at__lte=cutoff)
        )
        for c in qs:
            days = days_by.get(c.grade) or days_by.get(c.value_tier) or rule.default_revisit_days
            if not days:
                continue
            last = c.last_contacted_at or c.created_at
            if now - last >= dt.timedelta(days=int(days)):
                when = last.astimezone(zone).date().isoformat()
                yield Due(c, f"revisit:{when}", str(_("No contact for %(days)s days") % {"days": days}))


# Running --------------------------------------------------------------------------------------


def _deliver(due: Due, rule: CareRule, now: dt.datetime, zone: dt.tzinfo) -> str:
    """Send one greeting or make one task. Returns sent / task / skipped:<reason> / duplicate."""
    customer = due.customer
    if rule.channel == CareRule.Channel.EMAIL:
        template = rule.template
        if template is None:
            return "skipped:no template"
        reason = why_not_emailable(customer, template.purpose)
        if reason:
            return f"skipped:{reason}"
    elif customer.owner_id is None:
        return "skipped:" + _("no owner to give the task to")
    try:
        with transaction.atomic():
            send = CareSend.objects.create(
                organization_id=rule.organization_id,
                rule=rule,
                customer=customer,
                occasion_key=due.occasion_key,
            )
            if rule.channel == CareRule.Channel.EMAIL:
                assert rule.template is not None
                send.email = email_create(
                    org_id=rule.organization_id,
                    customer=customer,
                    purpose=rule.template.purpose,
                    subject=rule.template.subject,
                    body_text=rule.template.body_text,
                    body_html=rule.template.body_html,
                    template=rule.template,
                    extra={"occasion": due.occasion},
                    touch_customer=False,
                )
            else:
                local_end = (now.astimezone(zone) + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0)
                send.task = Task.objects.create(
                    organization_id=rule.organization_id,
                    title=(
                        _("%(occasion)s: get in touch with %(name)s")
                        % {"occasion": due.occasion, "name": customer.name}
                    )[:200],
                    assignee_id=customer.owner_id or 0,
                    customer=customer,
                    due_at=local_end - dt.timedelta(minutes=1),
                    priority=Task.Priority.NORMAL,
                )
            send.save(update_fields=["email", "task"])
            audit(
                actor=None,
                action="care_send",
                object_type="customer",
                object_id=customer.pk,
                object_repr=customer.name,
                org_id=rule.organization_id,
                context={"rule": rule.pk, "occasion": due.occasion_key, "channel": rule.channel},
            )
    except IntegrityError:  # another run recorded this greeting a moment ago
        return "duplicate"
    if send.email is not None:
        try:
            return email_deliver(send.email.pk)
        except EmailDeliveryFailed:
            from guanxi.engagement.tasks import deliver_email

            deliver_email.schedule((send.email.pk,), delay=60)  # retried by the worker
            return "failed"
    return "task"


def _send_moment(rule: CareRule, day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, rule.send_time, tzinfo=zone)


def care_run_due(*, now: dt.datetime | None = None, org_id: int | None = None) -> dict[str, int]:
    """Run every enabled rule whose send time has come today (each org's time zone)."""
    now = now or timezone.now()
    counts: dict[str, int] = {}
    rules = CareRule.objects.filter(enabled=True).select_related("template", "organization").order_by("pk")
    if org_id is not None:
        rules = rules.filter(organization_id=org_id)
    for rule in rules:
        zone = org_zone(rule.organization.time_zone)
        day = now.astimezone(zone).date()
        if now < _send_moment(rule, day, zone):
            continue
        sent = CareSend.objects.filter(rule=rule).values_list("customer_id", "occasion_key")
        done = set(sent)
        for due in due_on(rule, day, now, zone):
            if (due.customer.pk, due.occasion_key) in done:
                continue
            outcome = _deliver(due, rule, now, zone).split(":")[0]
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def care_preview(*, actor: Actor, rule_id: int, now: dt.datetime | None = None) -> dict[str, Any]:
    """Who the rule will contact on its next run (visible customers only), and who it will skip."""
    from guanxi.customers.selectors import customer_visible_ids

    rule = rule_get(actor=actor, rule_id=rule_id)
    now = now or timezone.now()
    zone = org_zone(actor.org.time_zone)
    day = now.astimezone(zone).date()
    already = set(CareSend.objects.filter(rule=rule).values_list("customer_id", "occasion_key"))
    if now >= _send_moment(rule, day, zone) and not any(
        (d.customer.pk, d.occasion_key) not in already for d in due_on(rule, day, now, zone)
    ):
        day += dt.timedelta(days=1)  # today's run is over
    run_at = _send_moment(rule, day, zone)
    dues = [
        d for d in due_on(rule, day, max(now, run_at), zone) if (d.customer.pk, d.occasion_key) not in already
    ]
    visible = set(customer_visible_ids(actor, [d.customer.pk for d in dues]))
    items = []
    for d in dues:
        if d.customer.pk not in visible:
            continue
        reason = ""
        if rule.channel == CareRule.Channel.EMAIL:
            reason = (
                why_not_emailable(d.customer, rule.template.purpose) if rule.template else _("no template")
            )
        elif d.customer.owner_id is None:
            reason = _("no owner to give the task to")
        items.append(
            {
                "customer_id": d.customer.pk,
                "name": d.customer.name,
                "occasion_key": d.occasion_key,
                "occasion": d.occasion,
                "will_send": not reason,
                "reason": reason,
            }
        )
    return {"rule_id": rule.pk, "run_at": run_at.isoformat(), "channel": rule.channel, "items": items}


@dataclass(frozen=True)
class PreviewSummary:
    """The preview cut for a page: totals over everyone due, the first rows only."""

    run_at: dt.datetime
    total: int
    will_send: int
    skipped: int
    items: list[dict[str, Any]]


def care_preview_summary(
    *, actor: Actor, rule_id: int, limit: int = 20, now: dt.datetime | None = None
) -> PreviewSummary:
    preview = care_preview(actor=actor, rule_id=rule_id, now=now)
    items = preview["items"]
    will = sum(1 for i in items if i["will_send"])
    return PreviewSummary(
        run_at=dt.datetime.fromisoformat(preview["run_at"]),
        total=len(items),
        will_send=will,
        skipped=len(items) - will,
        items=items[:limit],
    )


def care_send_history(*, actor: Actor, rule_id: int, limit: int = 50) -> list[CareSend]:
    """The rule's greetings and tasks, newest first, for customers the actor can see."""
    rule = rule_get(actor=actor, rule_id=rule_id)
    visible = Customer.objects.visible_to(actor).values("pk")
    return list(
        CareSend.objects.filter(organization_id=actor.org_id, rule=rule, customer_id__in=visible)
        .select_related("customer", "email", "task")
        .order_by("-id")[:limit]
    )


# Rule CRUD ------------------------------------------------------------------------------------


def rule_list(*, actor: Actor, rule_id: int | None = None) -> list[CareRule]:
    """The organisation's rules (or just one) with how many greetings or tasks each has made."""
    qs = CareRule.objects.filter(organization_id=actor.org_id)
    if rule_id is not None:
        qs = qs.filter(pk=rule_id)
    return list(qs.select_related("template").annotate(send_count=Count("sends")).order_by("pk"))


def rule_get(*, actor: Actor, rule_id: int) -> CareRule:
    rule = (
        CareRule.objects.filter(organization_id=actor.org_id, pk=rule_id).select_related("template").first()
    )
    if rule is None:
        raise NotFound(_("Care rule not found."))
    return rule


def _clean_rule(actor: Actor, rule: CareRule) -> None:
    errors = []
    if rule.kind not in CareRule.Kind.values:
        errors.append(FieldError("kind", _("is not a kind of care rule")))
    if rule.channel not in CareRule.Channel.values:
        errors.append(FieldError("channel", _("must be email or task")))
    if rule.channel == CareRule.Channel.EMAIL and rule.template_id is None:
        errors.append(FieldError("template_id", _("an email rule needs a template"), code="required"))
    if (
        rule.template_id is not None
        and not MessageTemplate.objects.filter(organization_id=actor.org_id, pk=rule.template_id).exists()
    ):
        errors.append(FieldError("template_id", _("no such template")))
    if not calendar.country_supported(rule.country or ""):
        errors.append(FieldError("country", _("the holidays package does not know this country")))
    bad = [h for h in rule.holidays or [] if h not in calendar.CHINESE_HOLIDAYS]
    if rule.country.upper() == "CN" and bad:
        errors.append(FieldError("holidays", _("unknown Chinese holidays: %s") % ", ".join(map(str, bad))))
    if not isinstance(rule.revisit_days, dict) or not all(
        isinstance(v, int) and v > 0 for v in rule.revisit_days.values()
    ):
        errors.append(FieldError("revisit_days", _("must map grades or value tiers to a number of days")))
    if rule.kind == CareRule.Kind.REVISIT and not (rule.revisit_days or rule.default_revisit_days):
        errors.append(FieldError("revisit_days", _("a revisit rule needs days per grade or a default")))
    try:
        validate_audience(rule.audience)
    except ValidationFailed as exc:
        errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors=errors)


def _snapshot(rule: CareRule) -> dict[str, Any]:
    data = {k: getattr(rule, k) for k in RULE_FIELDS}
    data["send_time"] = rule.send_time.isoformat() if rule.send_time else None  # JSON for the audit row
    return data


def rule_create(*, actor: Actor, data: dict[str, Any]) -> CareRule:
    actor.require(Perm.ORG_ADMIN)
    rule = CareRule(organization_id=actor.org_id, **{k: v for k, v in data.items() if k in RULE_FIELDS})
    rule.country = (rule.country or "CN").upper()
    _clean_rule(actor, rule)
    with transaction.atomic():
        rule.save()
        audit(
            actor=actor,
            action="create",
            object_type="care_rule",
            object_id=rule.pk,
            object_repr=rule.name,
            changes={k: [None, v] for k, v in _snapshot(rule).items()},
        )
    return rule


def rule_update(*, actor: Actor, rule_id: int, data: dict[str, Any]) -> CareRule:
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        rule = rule_get(actor=actor, rule_id=rule_id)
        before = _snapshot(rule)
        for name, value in data.items():
            if name not in RULE_FIELDS:
                raise ValidationFailed(errors=[FieldError(name, _("unknown field"))])
            if value is None and name not in ("template_id", "default_revisit_days"):
                raise ValidationFailed(errors=[FieldError(name, _("may not be empty"))])
            setattr(rule, name, value)
        rule.country = rule.country.upper()
        _clean_rule(actor, rule)
        rule.save()
        audit(
            actor=actor,
            action="update",
            object_type="care_rule",
            object_id=rule.pk,
            object_repr=rule.name,
            changes=diff(before, _snapshot(rule)),
        )
    return rule


def rule_delete(*, actor: Actor, rule_id: int) -> None:
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        rule = rule_get(actor=actor, rule_id=rule_id)
        audit(actor=actor, action="delete", object_type="care_rule", object_id=rule.pk, object_repr=rule.name)
        rule.delete()
