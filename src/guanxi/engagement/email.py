"""Outgoing email: templates, consent, queueing, and idempotent delivery through Django's mail.

Delivery is at most once: a worker first *claims* the row with a conditional UPDATE
(queued/failed → sending) in its own transaction; only the claimer talks to SMTP, then marks it
sent. A retried or duplicated task finds the row no longer claimable and does nothing; a crash
after SMTP accepted the message leaves it ``sending`` (visible, never sent twice). A failure before
SMTP accepted it marks it ``failed`` and the huey task retries; a refused recipient is ``bounced``.
A row still ``queued`` minutes later (its queue message was lost) is delivered by the sweep job.
"""

from __future__ import annotations

import dataclasses
import logging
import smtplib
import uuid
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from guanxi.core.events import emit
from guanxi.core.roles import Perm, Role
from guanxi.customers.models import Customer
from guanxi.customers.selectors import customer_get
from guanxi.engagement.models import Activity, Consent, EmailMessage, MessageTemplate, Purpose
from guanxi.engagement.rendering import compile_template, render_message
from guanxi.engagement.services import _touch_customer, settings_get

log = logging.getLogger(__name__)
TEMPLATE_FIELDS = ("name", "purpose", "subject", "body_text", "body_html")
TEMPLATE_EDITORS = (Role.ADMIN, Role.MANAGER, Role.MARKETING)


class EmailDeliveryFailed(Exception):
    pass


# Templates ------------------------------------------------------------------------------------


def _require_template_editor(actor: Actor) -> None:
    if not can_edit_templates(actor):
        raise PermissionDenied(_("Only administrators, managers and marketers edit message templates."))


def _validate_template(data: dict[str, Any]) -> None:
    for name in ("subject", "body_text"):
        if name in data:
            compile_template(data[name] or "", name)
    if data.get("body_html"):
        compile_template(data["body_html"], "body_html", html=True)


def template_list(*, actor: Actor) -> list[MessageTemplate]:
    return list(MessageTemplate.objects.filter(organization_id=actor.org_id).order_by("name"))


def can_edit_templates(actor: Actor) -> bool:
    return actor.role in TEMPLATE_EDITORS and actor.has(Perm.CUSTOMER_CHANGE)


def template_get(*, actor: Actor, template_id: int) -> MessageTemplate:
    template = MessageTemplate.objects.filter(organization_id=actor.org_id, pk=template_id).first()
    if template is None:
        raise NotFound(_("Template not found."))
    return template


def template_create(*, actor: Actor, data: dict[str, Any]) -> MessageTemplate:
    _require_template_editor(actor)
    _validate_template(data)
    with transaction.atomic():
        if MessageTemplate.objects.filter(organization_id=actor.org_id, name=data["name"]).exists():
            raise ValidationFailed(
                errors=[FieldError("name", _("a template with this name exists"), code="unique")]
            )
        template = MessageTemplate.objects.create(
            organization_id=actor.org_id,
            created_by=actor.user,
            **{k: data[k] for k in TEMPLATE_FIELDS if k in data},
        )
        audit(
            actor=actor,
            action="create",
            object_type="message_template",
            object_id=template.pk,
            object_repr=template.name,
        )
    return template


def template_update(*, actor: Actor, template_id: int, data: dict[str, Any]) -> MessageTemplate:
    _require_template_editor(actor)
    _validate_template(data)
    with transaction.atomic():
        template = template_get(actor=actor, template_id=template_id)
        before = {k: getattr(template, k) for k in TEMPLATE_FIELDS}
        if "name" in data and data["name"] != template.name:
            clash = MessageTemplate.objects.filter(organization_id=actor.org_id, name=data["name"])
            if clash.exists():
                raise ValidationFailed(
                    errors=[FieldError("name", _("a template with this name exists"), code="unique")]
                )
        for name, value in data.items():
            if value is None:
                raise ValidationFailed(errors=[FieldError(name, _("may not be empty"))])
            setattr(template, name, value)
        template.save()
        audit(
            actor=actor,
            action="update",
            object_type="message_template",
            object_id=template.pk,
            object_repr=template.name,
            changes=diff(before, {k: getattr(template, k) for k in before}),
        )
    return template


def template_delete(*, actor: Actor, template_id: int) -> None:
    from guanxi.engagement.models import CareRule

    _require_template_editor(actor)
    with transaction.atomic():
        template = template_get(actor=actor, template_id=template_id)
        if CareRule.objects.filter(template=template).exists():
            raise ValidationFailed(
                errors=[FieldError("template", _("is used by a care rule"), code="in_use")]
            )
        audit(
            actor=actor,
            action="delete",
            object_type="message_template",
            object_id=template.pk,
            object_repr=template.name,
        )
        template.delete()


# Consent and addresses ------------------------------------------------------------------------


def has_consent(customer_id: int, purpose: str, channel: str = "email") -> bool:
    """Transactional messages are always allowed; marketing needs the newest decision to be a grant."""
    if purpose == Purpose.TRANSACTIONAL:
        return True
    latest = (
        Consent.objects.filter(customer_id=customer_id, purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .values_list("granted", flat=True)
        .first()
    )
    return bool(latest)


def sender_for(org_id: int) -> tuple[str, str]:
    """(From header, Reply-To or "") of the organisation; the server default when none is set."""
    cfg = settings_get(org_id=org_id)
    if cfg.from_email:
        return formataddr((cfg.from_name, cfg.from_email)) if cfg.from_name else cfg.from_email, cfg.reply_to
    return settings.DEFAULT_FROM_EMAIL, cfg.reply_to


def sender_label(org_id: int) -> str:
    """The From of the organisation as people read it (``艾克米 <sales@acme.test>``), unencoded."""
    cfg = settings_get(org_id=org_id)
    if cfg.from_email:
        return f"{cfg.from_name} <{cfg.from_email}>" if cfg.from_name else cfg.from_email
    return str(settings.DEFAULT_FROM_EMAIL)


def why_not_emailable(customer: Customer, purpose: str) -> str:
    """'' when the customer may get this email, else the reason (for previews and errors)."""
    if not customer.email:
        return _("the customer has no email address")
    if not has_consent(customer.pk, purpose):
        return _("no marketing consent for email")
    return ""


def consent_in_force(customer_id: int, purpose: str, channel: str = "email") -> Consent | None:
    """The newest consent decision for this purpose and channel (None: never asked)."""
    return (
        Consent.objects.filter(customer_id=customer_id, purpose=purpose, channel=channel)
        .order_by("-at", "-id")
        .first()
    )


@dataclasses.dataclass
class EmailPreview:
    """What a customer would receive, or why they cannot; nothing is written."""

    subject: str = ""
    text: str = ""
    html: str = ""
    from_email: str = ""
    to_email: str = ""
    purpose: str = Purpose.TRANSACTIONAL
    blocked: str = ""  # '' when the email may be sent
    errors: list[FieldError] = dataclasses.field(default_factory=list)


def email_preview(
    *,
    actor: Actor,
    customer_id: int,
    template_id: int | None = None,
    subject: str = "",
    body_text: str = "",
    body_html: str = "",
    purpose: str = Purpose.TRANSACTIONAL,
) -> EmailPreview:
    """Render a template (or a written message) with one visible customer's data, as email_send would."""
    customer = customer_get(actor=actor, customer_id=customer_id)
    if template_id is not None:
        template = template_get(actor=actor, template_id=template_id)
        subject, body_text, body_html, purpose = (
            template.subject,
            template.body_text,
            template.body_html,
            template.purpose,
        )
    preview = EmailPreview(
        from_email=sender_label(actor.org_id),
        to_email=customer.email,
        purpose=purpose,
        blocked=why_not_emailable(customer, purpose),
    )
    try:
        rendered = render_message(
            subject=subject, body_text=body_text, body_html=body_html, customer=customer
        )
    except ValidationFailed as exc:
        preview.errors = list(exc.errors)
        return preview
    preview.subject, preview.text, preview.html = rendered.subject, rendered.text, rendered.html
    return preview


# Sending --------------------------------------------------------------------------------------


def email_create(
    *,
    org_id: int,
    customer: Customer,
    purpose: str,
    subject: str,
    body_text: str,
    body_html: str = "",
    template: MessageTemplate | None = None,
    created_by: Any = None,
    team_id: int | None = None,
    extra: dict[str, Any] | None = None,
    touch_customer: bool = True,
) -> EmailMessage:
    """Render, log the Activity(kind=email) and the queued EmailMessage row. Caller holds a transaction."""
    rendered = render_message(
        subject=subject, body_text=body_text, body_html=body_html, customer=customer, extra=extra
    )
    from_email, _reply_to = sender_for(org_id)
    now = timezone.now()
    activity = Activity.objects.create(
        organization_id=org_id,
        customer=customer,
        kind=Activity.Kind.EMAIL,
        occurred_at=now,
        subject=rendered.subject[:200],
        content=rendered.text,
        created_by=created_by,
        team_id=team_id,
    )
    if touch_customer:
        _touch_customer(customer.pk, now)
    return EmailMessage.objects.create(
        organization_id=org_id,
        customer=customer,
        activity=activity,
        template=template,
        purpose=purpose,
        key=uuid.uuid4().hex,
        from_email=from_email,
        to_email=customer.email,
        subject=rendered.subject[:300],
        body_text=rendered.text,
        body_html=rendered.html,
        created_by=created_by,
    )


def email_send(
    *,
    actor: Actor,
    customer_id: int,
    template_id: int | None = None,
    subject: str = "",
    body_text: str = "",
    body_html: str = "",
    purpose: str = Purpose.TRANSACTIONAL,
) -> EmailMessage:
    """A rep sends one email to a customer: consent checked, logged, queued; delivered after commit."""
    actor.require(Perm.CUSTOMER_CHANGE)
    template = None
    if template_id is not None:
        template = template_get(actor=actor, template_id=template_id)
        subject, body_text, body_html, purpose = (
            template.subject,
            template.body_text,
            template.body_html,
            template.purpose,
        )
    elif not subject.strip() or not body_text.strip():
        missing = [n for n, v in (("subject", subject), ("body_text", body_text)) if not v.strip()]
        raise ValidationFailed(
            errors=[FieldError(n, _("is required without a template_id")) for n in missing]
        )
    with transaction.atomic():
        customer = customer_get(actor=actor, customer_id=customer_id)
        reason = why_not_emailable(customer, purpose)
        if reason:
            field = "email" if not customer.email else "consent"
            raise ValidationFailed(errors=[FieldError(field, reason, code="not_allowed")])
        message = email_create(
            org_id=actor.org_id,
            customer=customer,
            purpose=purpose,
            subject=subject,
            body_text=body_text,
            body_html=body_html,
            template=template,
            created_by=actor.user,
            team_id=actor.membership.team_id,
        )
        audit(
            actor=actor,
            action="email",
            object_type="customer",
            object_id=customer.pk,
            object_repr=customer.name,
            changes={"email": [None, message.subject]},
            context={"email_id": message.pk, "purpose": purpose},
        )
        emit("email.queued", org_id=actor.org_id, email_id=message.pk, customer_id=customer.pk)
        email_enqueue(message.pk)
    return message


def email_enqueue(message_id: int) -> None:
    from guanxi.engagement.tasks import deliver_email

    transaction.on_commit(lambda: deliver_email(message_id))


def email_deliver(message_id: int) -> str:
    """Send one queued email, at most once. Returns the row's status afterwards."""
    with transaction.atomic():
        claimed = EmailMessage.objects.filter(
            pk=message_id, status__in=[EmailMessage.Status.QUEUED, EmailMessage.Status.FAILED]
        ).update(status=EmailMessage.Status.SENDING, attempts=F("attempts") + 1)
    message = EmailMessage.objects.get(pk=message_id)
    if not claimed:
        return message.status
    _from, reply_to = sender_for(message.organization_id)
    mail = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=message.from_email,
        to=[message.to_email],
        reply_to=[reply_to] if reply_to else None,
        headers={"Message-ID": f"<{message.key}@guanxi>", "X-Guanxi-Email": message.key},
    )
    if message.body_html:
        mail.attach_alternative(message.body_html, "text/html")
    try:
        mail.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as exc:
        _mark(message, EmailMessage.Status.BOUNCED, str(exc))
        return EmailMessage.Status.BOUNCED
    except Exception as exc:
        _mark(message, EmailMessage.Status.FAILED, f"{type(exc).__name__}: {exc}")
        raise EmailDeliveryFailed(str(exc)) from exc
    with transaction.atomic():
        EmailMessage.objects.filter(pk=message.pk, status=EmailMessage.Status.SENDING).update(
            status=EmailMessage.Status.SENT, sent_at=timezone.now(), error=""
        )
        emit(
            "email.sent", org_id=message.organization_id, email_id=message.pk, customer_id=message.customer_id
        )
    return EmailMessage.Status.SENT


def email_sweep_queued(*, now: Any = None, older_than_minutes: int = 2) -> int:
    """Deliver queued emails whose delivery never started (a worker died, a queue message was lost).

    Safe beside a running worker: delivery claims the row first, so nothing goes out twice."""
    import datetime as dt

    now = now or timezone.now()
    stale = EmailMessage.objects.filter(
        status=EmailMessage.Status.QUEUED, created_at__lt=now - dt.timedelta(minutes=older_than_minutes)
    ).values_list("pk", flat=True)
    sent = 0
    for pk in list(stale[:500]):
        try:
            sent += email_deliver(pk) == EmailMessage.Status.SENT
        except EmailDeliveryFailed:
            continue  # marked failed; the error is on the row
    return sent


def _mark(message: EmailMessage, status: str, error: str) -> None:
    EmailMessage.objects.filter(pk=message.pk).update(status=status, error=error[:2000])
    log.warning("email %s %s: %s", message.pk, status, error)
    emit(
        f"email.{status}",
        org_id=message.organization_id,
        email_id=message.pk,
        customer_id=message.customer_id,
    )


def email_mark_bounced(*, actor: Actor, message_id: int, error: str) -> EmailMessage:
    """Record a bounce reported later (a DSN read by an operator or an integration)."""
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        message = EmailMessage.objects.filter(organization_id=actor.org_id, pk=message_id).first()
        if message is None:
            raise NotFound(_("Email not found."))
        EmailMessage.objects.filter(pk=message.pk).update(
            status=EmailMessage.Status.BOUNCED, error=error[:2000]
        )
        audit(
            actor=actor,
            action="email_bounce",
            object_type="customer",
            object_id=message.customer_id,
            changes={"email_status": [message.status, "bounced"]},
            context={"email_id": message.pk},
        )
        emit("email.bounced", org_id=actor.org_id, email_id=message.pk, customer_id=message.customer_id)
    message.refresh_from_db()
    return message
