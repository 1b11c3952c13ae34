"""Follow-up records (activities), tasks, notifications, email, consent and care automation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

USER = settings.AUTH_USER_MODEL


class Activity(models.Model):
    """A follow-up record (跟进记录): one contact with a customer."""

    class Kind(models.TextChoices):
        CALL = "call", _("Call")
        EMAIL = "email", pgettext_lazy("channel", "Email")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")
        WECHAT = "wechat", _("WeChat")
        SMS = "sms", _("SMS")
        NOTE = "note", _("Note")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("occurred at"))
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    content = models.TextField(_("content"), blank=True)
    outcome = models.CharField(_("outcome"), max_length=100, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    participants: Any = models.ManyToManyField(USER, blank=True, related_name="+")
    contacts: Any = models.ManyToManyField("customers.Contact", blank=True, related_name="+")
    # Later modules (sales, service) link here; plain ids so engagement does not import them.
    opportunity_id = models.BigIntegerField(null=True, blank=True)
    ticket_id = models.BigIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # The rep's team when it was logged: the follow-up table filters by team without a join.
    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["organization", "customer", "-occurred_at", "-id"], name="act_customer_idx"),
            models.Index(fields=["organization", "-occurred_at", "-id"], name="act_org_time_idx"),
            models.Index(fields=["organization", "created_by", "-occurred_at"], name="act_rep_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject}"


class Task(models.Model):
    class Priority(models.TextChoices):
        LOW = "low", _("Low")
        NORMAL = "normal", _("Normal")
        HIGH = "high", _("High")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    assignee = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    due_at = models.DateTimeField(_("due"))
    priority = models.CharField(_("priority"), max_length=10, choices=Priority.choices, default="normal")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    activity = models.ForeignKey(
        Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    reminder_minutes = models.PositiveIntegerField(_("reminder (minutes before due)"), null=True, blank=True)
    remind_at = models.DateTimeField(null=True, blank=True)  # due_at - reminder; indexed for the job
    reminded_at = models.DateTimeField(null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        indexes = [
            models.Index(fields=["organization", "assignee", "done", "due_at"], name="task_assignee_idx"),
            models.Index(fields=["done", "remind_at"], name="task_remind_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class Notification(models.Model):
    """An in-app notification. ``key`` makes job-made notifications idempotent (one per reminder)."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"), blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    key = models.CharField(max_length=120, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [models.Index(fields=["organization", "user", "-id"], name="notif_user_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "key"], condition=~Q(key=""), name="notif_unique_key"
            )
        ]

    def __str__(self) -> str:
        return self.title


class UserPreference(models.Model):
    """Per-user engagement preferences in one organisation."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="+")
    email_digest = models.BooleanField(_("email me the overdue digest"), default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="pref_unique_user")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.organization_id}"


class EngagementSettings(models.Model):
    """Per-organisation sender identity for outgoing email."""

    organization = models.OneToOneField("core.Organization", on_delete=models.CASCADE, related_name="+")
    from_name = models.CharField(_("sender name"), max_length=100, blank=True)
    from_email = models.EmailField(_("sender address"), blank=True)
    reply_to = models.EmailField(_("reply-to address"), blank=True)

    def __str__(self) -> str:
        return f"{self.from_name} <{self.from_email}>"


class Purpose(models.TextChoices):
    MARKETING = "marketing", pgettext_lazy("consent purpose", "Marketing")
    TRANSACTIONAL = "transactional", _("Transactional")


class MessageTemplate(models.Model):
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default="marketing")
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("plain-text body"))
    body_html = models.TextField(_("HTML body"), blank=True)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tmpl_unique_name")]

    def __str__(self) -> str:
        return self.name


class EmailMessage(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(Activity, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    key = models.CharField(max_length=64, unique=True)  # also the Message-ID: receivers can dedupe
    from_email = models.CharField(max_length=300)
    to_email = models.CharField(max_length=254)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default="queued")
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("email message")
        verbose_name_plural = _("email messages")
        indexes = [models.Index(fields=["organization", "customer", "-id"], name="email_customer_idx")]

    def __str__(self) -> str:
        return f"{self.to_email}: {self.subject}"


class Consent(models.Model):
    """A consent decision; the newest row per (customer, purpose, channel) is the one in force."""

    class Channel(models.TextChoices):
        EMAIL = "email", pgettext_lazy("channel", "Email")
        SMS = "sms", _("SMS")
        WECHAT = "wechat", _("WeChat")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    granted = models.BooleanField(_("granted"))
    source = models.CharField(_("source"), max_length=100, blank=True)
    at = models.DateTimeField(_("at"))
    created_by = models.ForeignKey(USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [models.Index(fields=["customer", "purpose", "channel", "-at"], name="consent_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.purpose}/{self.channel}={self.granted}"


def _default_send_time() -> dt.time:
    return dt.time(9, 0)


class CareRule(models.Model):
    """Care automation (关怀): who gets what on which occasion, through which channel."""

    class Kind(models.TextChoices):
        BIRTHDAY = "birthday", _("Birthday")
        HOLIDAY = "holiday", _("Holiday")
        ANNIVERSARY = "anniversary", _("Customer anniversary")
        REVISIT = "revisit", _("No contact for N days")

    class Channel(models.TextChoices):
        EMAIL = "email", pgettext_lazy("channel", "Email")
        TASK = "task", _("Task for the owner")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    enabled = models.BooleanField(_("enabled"), default=True)
    audience: Any = models.JSONField(_("audience"), default=dict, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default="email")
    template = models.ForeignKey(
        MessageTemplate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    send_time = models.TimeField(_("send time"), default=_default_send_time)
    country = models.CharField(_("holiday country"), max_length=2, default="CN")
    holidays: Any = models.JSONField(_("holidays"), default=list, blank=True)
    revisit_days: Any = models.JSONField(_("revisit days per grade / value tier"), default=dict, blank=True)
    default_revisit_days = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("care rule")
        verbose_name_plural = _("care rules")

    def __str__(self) -> str:
        return self.name


class CareSend(models.Model):
    """One greeting or task made by a rule for a customer and occasion: never twice."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    rule = models.ForeignKey(CareRule, on_delete=models.CASCADE, related_name="sends")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    occasion_key = models.CharField(max_length=100)
    email = models.ForeignKey(
        EmailMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule", "customer", "occasion_key"], name="caresend_unique")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id}:{self.customer_id}:{self.occasion_key}"
