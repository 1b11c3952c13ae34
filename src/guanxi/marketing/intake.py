"""A visitor's submission of a web form, from raw POST values to a customer — never a duplicate.

Order of checks: rate limits (429, nothing written), honeypot and fill time (spam: a fake success
for the bot and a ``spam`` row, nothing else), field validation (``rejected`` row, per-field errors),
then under a lock on the organisation row: match the normalised phones/emails against the
organisation's live customers (``customers.cleaning.find_exact_duplicates``), update the match or
create a customer, record consent with the submission as evidence, notify the owner.

Every customer write goes through ``customers.services`` with the *web-form system actor*: a real
but inactive user ``system:web-forms`` (no password, no membership row, so no list shows it or lets
it sign in) in an unsaved administrator membership of the form's organisation, ``via="system"``.
Audit rows and ``created_by`` therefore name it, and the audit context names the form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.events import emit
from guanxi.core.models import Membership, Organization
from guanxi.core.normalize import clean_text, normalize_email, normalize_phone
from guanxi.core.roles import Role
from guanxi.customers.cleaning import clean_customer_input, find_exact_duplicates
from guanxi.customers.models import Customer
from guanxi.customers.pool import Reason, move_customer
from guanxi.customers.selectors import customer_get
from guanxi.customers.services import customer_create, customer_update
from guanxi.engagement.services import consent_record, notify
from guanxi.marketing.models import WebForm, WebFormSubmission
from guanxi.marketing.webform_config import FormField, form_fields

SYSTEM_USERNAME = "system:web-forms"
OWNER_ROLES = (Role.ADMIN, Role.MANAGER, Role.SALES)
TEXT_LIMITS = {"textarea": 5000}
DEFAULT_TEXT_LIMIT = 500
TRUE_WORDS = {"on", "1", "true", "yes", "y"}
Outcome = WebFormSubmission.Outcome


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


# The acting identity -------------------------------------------------------------------------


def system_user() -> Any:
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=SYSTEM_USERNAME, defaults={"is_active": False})
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def system_actor(form: WebForm) -> Actor:
    membership = Membership(
        organization=form.organization, user=system_user(), role=Role.ADMIN, is_active=True
    )
    return Actor(membership=membership, via="system", extra={"web_form": str(form.pk)})


# Spam and abuse --------------------------------------------------------------------------------


class RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"retry after {retry_after}s")
        self.retry_after = retry_after


def hash_ip(ip: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"webform-ip:{ip}".encode(), hashlib.sha256).hexdigest()[:32]


def _retry_after(qs: Any, limit: int, window: int, now: dt.datetime) -> int | None:
    count = qs.count()
    if count < limit:
        return None
    # The request may go once the oldest row that keeps the count at the limit leaves the window.
    oldest: dt.datetime = qs.order_by("created_at").values_list("created_at", flat=True)[count - limit]
    return max(1, math.ceil((oldest + dt.timedelta(seconds=window) - now).total_seconds()))


def check_rate_limits(form: WebForm, ip_hash: str, now: dt.datetime | None = None) -> None:
    """Counted from the submission rows themselves, so every process and server shares the limits."""
    now = now or timezone.now()
    ip_limit, ip_window = _setting("GUANXI_WEBFORM_RATE_PER_IP", (10, 600))
    form_limit, form_window = _setting("GUANXI_WEBFORM_RATE_PER_FORM", (300, 3600))
    recent = WebFormSubmission.objects.filter(form=form)
    waits = [
        _retry_after(
            recent.filter(ip_hash=ip_hash, created_at__gte=now - dt.timedelta(seconds=ip_window)),
            ip_limit,
            ip_window,
            now,
        ),
        _retry_after(
            recent.filter(created_at__gte=now - dt.timedelta(seconds=form_window)),
            form_limit,
            form_window,
            now,
        ),
    ]
    worst = max((w for w in waits if w is not None), default=None)
    if worst is not None:
        raise RateLimited(worst)


def _timestamp_salt(form: WebForm) -> str:
    return f"guanxi.webform.{form.token}"


def sign_start(form: WebForm, at: float | None = None) -> str:
    """The hidden ``_ts`` of a rendered form: when the page was served, signed for this form."""
    return signing.dumps(at if at is not None else time.time(), salt=_timestamp_salt(form))


def spam_reason(form: WebForm, data: dict[str, Any], now: float | None = None) -> str:
    """Why this looks like a bot ("" if it does not): honeypot filled, bad or too quick ``_ts``.

    A post without ``_ts`` (the plain HTML snippet on the customer's own page, JSON integrations)
    skips the fill-time check; the honeypot and the rate limits still apply.
    """
    if str(data.get("website") or "").strip():
        return "honeypot"
    stamp = data.get("_ts")
    if not stamp:
        return ""
    try:
        started = float(signing.loads(str(stamp), salt=_timestamp_salt(form)))
    except (signing.BadSignature, TypeError, ValueError):
        return "bad_timestamp"
    if (now if now is not None else time.time()) - started < _setting("GUANXI_WEBFORM_MIN_FILL_SECONDS", 3):
        return "too_fast"
    return ""


# Validation -----------------------------------------------------------------------------------


@dataclass
class Parsed:
    values: dict[str, Any] = field(default_factory=dict)  # form key → clean value (as submitted)
    customer: dict[str, Any] = field(default_factory=dict)  # input for the customer services
    notes: list[str] = field(default_factory=list)
    consent: bool = False
    errors: list[FieldError] = field(default_factory=list)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE_WORDS


def _field_value(f: FormField, raw: Any, region: str, out: Parsed) -> Any:
    """The clean value of one field or None (empty), appending an error naming the field."""
    if f.type == "checkbox":
        ticked = _truthy(raw)
        if f.required and not ticked:
            out.errors.append(FieldError(f.key, _("please tick this box"), code="required"))
        return ticked
    if raw is None:
        raw = ""
    if isinstance(raw, list | dict):
        out.errors.append(FieldError(f.key, _("must be text")))
        return None
    text = clean_text(str(raw)) if f.type != "textarea" else str(raw or "").strip()
    if not text:
        if f.required:
            out.errors.append(FieldError(f.key, _("is required"), code="required"))
        return None
    limit = TEXT_LIMITS.get(f.type, DEFAULT_TEXT_LIMIT)
    if len(text) > limit:
        out.errors.append(FieldError(f.key, _("at most %(n)s characters") % {"n": limit}, code="too_long"))
        return None
    try:
        if f.type == "email":
            normalize_email(text)
        elif f.type == "phone":
            normalize_phone(text, region)
    except ValueError as exc:
        out.errors.append(FieldError(f.key, str(exc)))
        return None
    if f.type == "select" and text not in f.choices:
        out.errors.append(FieldError(f.key, _("choose one of the options")))
        return None
    if f.type == "date":
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            out.errors.append(FieldError(f.key, _("must be a date as YYYY-MM-DD")))
            return None
    return text


def parse_submission(form: WebForm, actor: Actor, data: dict[str, Any]) -> Parsed:
    """Validate the visitor's values field by field, then through the customer cleaning every channel uses."""
    out = Parsed()
    fields = form_fields(form)
    region = form.organization.default_phone_region or "CN"
    custom: dict[str, Any] = {}
    for f in fields:
        value = _field_value(f, data.get(f.key), region, out)
        if value is None:
            continue
        out.values[f.key] = value
        if f.maps_to == "notes":
            with translation.override(form.language):
                shown = (_("yes") if value else _("no")) if f.type == "checkbox" else value
            out.notes.append(f"{f.label_in(form.language)}: {shown}")
        elif f.maps_to.startswith("custom."):
            custom[f.maps_to[7:]] = value
        elif f.maps_to:
            out.customer[f.maps_to] = value
    if custom:
        out.customer["custom"] = custom
    out.consent = bool(form.consent_text) and _truthy(data.get("consent"))
    if form.consent_text:
        out.values["consent"] = out.consent
    contact_keys = [f.key for f in fields if f.maps_to in ("phone", "email")]
    if not out.errors and not (out.customer.get("phone") or out.customer.get("email")) and contact_keys:
        out.errors.append(
            FieldError(contact_keys[0], _("give a phone number or an email address"), code="required")
        )
    if out.errors:
        return out
    # The customer cleaning (NFKC, E.164, lowercased email, dates, custom-field rules) names customer
    # fields; point each error back at the form field that filled it.
    cleaned = clean_customer_input(actor=actor, data={**out.customer, "owner": None})
    by_target = {f.maps_to: f.key for f in fields if f.maps_to}
    for err in cleaned.errors:
        target = err.field.split("[")[0]
        target = {"phones": "phone", "emails": "email"}.get(target, target)
        out.errors.append(FieldError(by_target.get(target, "form"), err.message, code=err.code))
    return out


# The write ------------------------------------------------------------------------------------


@dataclass
class Result:
    outcome: str
    submission: WebFormSubmission
    customer: Customer | None = None
    errors: list[FieldError] = field(default_factory=list)


def _record(
    form: WebForm, outcome: str, *, ip_hash: str, user_agent: str, data: dict[str, Any],
    errors: list[FieldError] | None = None, customer: Customer | None = None,
) -> WebFormSubmission:  # fmt: skip
    return WebFormSubmission.objects.create(
        organization_id=form.organization_id,
        form=form,
        customer=customer,
        outcome=outcome,
        data=data,
        errors=[e.as_dict() for e in errors or []],
        ip_hash=ip_hash,
        user_agent=user_agent[:300],
    )


def _next_owner(form: WebForm) -> Membership | None:
    """The member who gets a new lead: the fixed user, the team's next member in turn, or nobody (pool)."""
    members = Membership.objects.select_related("user").filter(
        organization_id=form.organization_id, is_active=True, role__in=OWNER_ROLES
    )
    if form.assignment == WebForm.Assignment.USER and form.assign_user_id:
        return members.filter(user_id=form.assign_user_id).first()
    if form.assignment == WebForm.Assignment.ROUND_ROBIN and form.assign_team_id:
        team = list(members.filter(team_id=form.assign_team_id).order_by("user_id"))
        if not team:
            return None
        last = form.last_assigned_user_id or 0
        chosen = next((m for m in team if m.user_id > last), team[0])
        WebForm.objects.filter(pk=form.pk).update(last_assigned_user_id=chosen.user_id)
        return chosen
    return None


def _pick_match(ids: list[int], phones: list[str], emails: list[str]) -> int:
    """Of several customers sharing the visitor's phone/email: most shared, then the oldest."""
    from guanxi.customers.models import CustomerIdentifier

    hits: dict[int, int] = dict.fromkeys(ids, 0)
    rows = CustomerIdentifier.objects.filter(customer_id__in=ids).values_list("customer_id", "kind", "value")
    for customer_id, kind, value in rows:
        if (kind == "phone" and value in phones) or (kind == "email" and value in emails):
            hits[customer_id] += 1
    return sorted(ids, key=lambda i: (-hits[i], i))[0]


def _update_matched(actor: Actor, form: WebForm, customer: Customer, parsed: Parsed, notes: str) -> Customer:
    """Fill what the customer lacks, add new phones/emails/tags, append notes; never change the owner."""
    data: dict[str, Any] = {}
    cleaned = clean_customer_input(actor=actor, data=dict(parsed.customer))
    for name, value in cleaned.values.items():
        if name in (
            "phones",
            "emails",
            "phone",
            "phone_e164",
            "email",
            "custom",
            "owner_id",
            "team_id",
            "notes",
        ):
            continue
        if name in parsed.customer and value not in ("", None) and not getattr(customer, name):
            data[name] = value
    if form.source and not customer.source:
        data["source"] = form.source
    for plural, key, label in (("phones", "e164", "web"), ("emails", "value", "web")):
        have = {entry.get(key) for entry in getattr(customer, plural)}
        new = [e for e in cleaned.values.get(plural, []) if e[key] not in have]
        # A phone or email another customer already has stays with that customer (and the submission).
        new = [
            e for e in new
            if not find_exact_duplicates(
                org_id=actor.org_id,
                phones_e164=[e[key]] if plural == "phones" else [],
                emails=[e[key]] if plural == "emails" else [],
                exclude_id=customer.pk,
            )
        ]  # fmt: skip
        if new:
            kept = [
                {"label": e.get("label", ""), "value": e.get("value", "")} for e in getattr(customer, plural)
            ]
            data[plural] = kept + [{"label": label, "value": e["value"]} for e in new]
    custom = {
        k: v
        for k, v in (parsed.customer.get("custom") or {}).items()
        if customer.custom.get(k) in (None, "", [])
    }
    if custom:
        data["custom"] = custom
    if notes:
        data["notes"] = f"{customer.notes}\n\n{notes}" if customer.notes else notes
    have_tags = set(customer.tags.values_list("name", flat=True))
    if set(form.tags) - have_tags:
        data["tags"] = sorted(have_tags | set(form.tags))
    if not data:
        return customer
    return customer_update(actor=actor, customer_id=customer.pk, data=data, expected_version=None)


def _create(actor: Actor, form: WebForm, parsed: Parsed, notes: str) -> Customer:
    owner = _next_owner(form)
    data = {
        **parsed.customer,
        "source": form.source,
        "tags": list(form.tags),
        "notes": notes,
        "lifecycle_stage": Customer.Lifecycle.LEAD,
        "owner": owner.user.get_username() if owner else None,
    }
    customer = customer_create(actor=actor, data=data)
    if owner is None:
        # Nobody to give it to (the form says so, or the chosen user left): the public pool.
        move_customer(
            actor=actor,
            org_id=form.organization_id,
            customer=customer,
            to=None,
            reason=Reason.RELEASE,
            now=timezone.now(),
            expect={"version": customer.version, "deleted_at__isnull": True},
            note=(_("Web form: %(name)s") % {"name": form.name})[:200],
        )
    return customer


def _notes_block(form: WebForm, parsed: Parsed) -> str:
    if not parsed.notes:
        return ""
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    return "\n".join([f"[{form.name} · {stamp}]", *parsed.notes])


def _record_consent(
    actor: Actor, form: WebForm, customer: Customer, parsed: Parsed, sub: WebFormSubmission
) -> None:
    given = {
        "email": bool(parsed.customer.get("email")),
        "sms": bool(parsed.customer.get("phone")),
        "wechat": bool(parsed.customer.get("wechat")),
    }
    for channel in form.consent_channels or []:
        if given.get(channel):
            consent_record(
                actor=actor,
                customer_id=customer.pk,
                purpose=form.consent_purpose,
                channel=channel,
                granted=True,
                source=f"web form #{form.pk} submission #{sub.pk}"[:100],
            )


def _notify_owner(form: WebForm, customer: Customer, outcome: str, sub: WebFormSubmission) -> None:
    if not customer.owner_id:
        return
    with translation.override(form.language):
        title = (
            _("New web lead: %(name)s")
            if outcome == Outcome.CREATED
            else _("Web form filled again: %(name)s")
        ) % {"name": customer.name}
        notify(
            org_id=form.organization_id,
            user_id=customer.owner_id,
            kind="web_lead",
            title=title,
            body=_("From the web form “%(form)s”") % {"form": form.name},
            link=f"/customers/{customer.pk}/",
            key=f"web_lead:{sub.pk}",
        )


def submit(*, form: WebForm, data: dict[str, Any], ip: str, user_agent: str = "") -> Result:
    """Handle one POST to an active form. Raises ``RateLimited``; every other outcome is a ``Result``."""
    ip_hash = hash_ip(ip)
    check_rate_limits(form, ip_hash)
    reason = spam_reason(form, data)
    if reason:
        sub = _record(form, Outcome.SPAM, ip_hash=ip_hash, user_agent=user_agent, data={"reason": reason})
        return Result(Outcome.SPAM, sub)
    actor = system_actor(form)
    parsed = parse_submission(form, actor, data)
    if parsed.errors:
        sub = _record(
            form, Outcome.REJECTED, ip_hash=ip_hash, user_agent=user_agent,
            data=parsed.values, errors=parsed.errors,
        )  # fmt: skip
        return Result(Outcome.REJECTED, sub, errors=parsed.errors)
    with transaction.atomic():
        # One submission at a time per organisation between "is there a match?" and the insert, so two
        # quick posts of the same phone cannot both create a customer (SQLite: IMMEDIATE transaction).
        Organization.objects.select_for_update().filter(pk=form.organization_id).first()
        form = WebForm.objects.select_for_update().select_related("organization").get(pk=form.pk)
        actor = system_actor(form)
        cleaned = clean_customer_input(actor=actor, data={**parsed.customer, "owner": None})
        phones = [p["e164"] for p in cleaned.values.get("phones", [])]
        emails = [e["value"] for e in cleaned.values.get("emails", [])]
        matches = find_exact_duplicates(org_id=form.organization_id, phones_e164=phones, emails=emails)
        notes = _notes_block(form, parsed)
        if matches:
            match = customer_get(
                actor=actor, customer_id=_pick_match(matches, phones, emails), for_update=True
            )
            customer = _update_matched(actor, form, match, parsed, notes)
            outcome = Outcome.UPDATED
        else:
            customer = _create(actor, form, parsed, notes)
            outcome = Outcome.CREATED
        sub = _record(
            form, outcome, ip_hash=ip_hash, user_agent=user_agent, data=parsed.values, customer=customer
        )
        if parsed.consent:
            _record_consent(actor, form, customer, parsed, sub)
        _notify_owner(form, customer, outcome, sub)
        emit(
            "webform.submitted",
            org_id=form.organization_id,
            form_id=form.pk,
            submission_id=sub.pk,
            customer_id=customer.pk,
            outcome=outcome,
        )
    return Result(outcome, sub, customer)


__all__ = ["RateLimited", "Result", "ValidationFailed", "sign_start", "submit", "system_actor"]
