"""Writes to organisations, teams, users and memberships, API tokens and custom-field definitions."""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.events import emit
from guanxi.core.models import ApiToken, CustomFieldDefinition, Membership, Organization, Team, hash_token
from guanxi.core.roles import Perm, Role

TOKEN_PREFIX = "gx_"
_USERNAME = re.compile(r"^[\w.@+-]{1,150}$")


def _fail(field: str, message: str, code: str = "invalid") -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field, message, code=code)])


def organization_create(
    *, name: str, time_zone: str = "Asia/Shanghai", currency: str = "CNY"
) -> tuple[Organization, bool]:
    """Create the organisation, or return the existing one of that name (idempotent for scripts)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise _fail("name", _("must be 1 to 100 characters"))
    with transaction.atomic():
        org, created = Organization.objects.get_or_create(
            name=name, defaults={"time_zone": time_zone, "currency": currency}
        )
        if created:
            audit(
                actor=None,
                action="create",
                object_type="organization",
                object_id=org.pk,
                object_repr=name,
                org_id=org.pk,
                context={"via": "cli"},
            )
    return org, created


def team_get_or_create(*, org: Organization, name: str, actor: Actor | None = None) -> Team:
    name = name.strip()
    if not name or len(name) > 100:
        raise _fail("team", _("must be 1 to 100 characters"))
    team, created = Team.objects.get_or_create(organization=org, name=name)
    if created:
        audit(
            actor=actor,
            action="create",
            object_type="team",
            object_id=team.pk,
            object_repr=name,
            org_id=org.pk,
        )
    return team


def membership_upsert(
    *,
    org: Organization,
    username: str,
    role: str,
    team: str | None = None,
    password: str | None = None,
    email: str = "",
    display_name: str = "",
    actor: Actor | None = None,
) -> tuple[Membership, bool]:
    """Create the user (if new) and their membership, or update role/team: idempotent."""
    errors: list[FieldError] = []
    if not _USERNAME.match(username or ""):
        errors.append(FieldError("username", _("use 1–150 letters, digits and @ . + - _")))
    if role not in Role.__members__.values():
        errors.append(
            FieldError("role", _("must be one of: %(r)s") % {"r": ", ".join(r.value for r in Role)})
        )
    if password:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            errors.append(FieldError("password", " ".join(exc.messages)))
    if errors:
        raise ValidationFailed(errors=errors)
    UserModel = get_user_model()
    with transaction.atomic():
        user, user_created = UserModel.objects.get_or_create(username=username)
        if actor is not None and not user_created:
            # Through the API an organisation admin may not take over an account that also lives in
            # another organisation, nor demote themselves by "re-adding" their own user.
            if (password or email or display_name) and (
                Membership.objects.filter(user=user).exclude(organization=org).exists()
            ):
                raise _fail(
                    "username",
                    _("this user belongs to another organisation too; only they can change their account"),
                    "forbidden",
                )
            if user.pk == actor.user.pk and role != Role.ADMIN:
                raise _fail("role", _("you cannot remove your own administrator access"))
        if user_created or password or email or display_name:
            if password:
                user.set_password(password)
            elif user_created:
                user.set_unusable_password()
            if email:
                user.email = email
            if display_name:
                user.first_name = display_name[:150]
            user.save()
        team_obj = team_get_or_create(org=org, name=team, actor=actor) if team else None
        membership = Membership.objects.filter(organization=org, user=user).first()
        created = membership is None
        before: dict[str, Any] = {}
        if membership is not None:
            before = {
                "role": membership.role,
                "team": membership.team.name if membership.team else None,
                "is_active": membership.is_active,
            }
        if membership is None:
            membership = Membership.objects.create(organization=org, user=user, role=role, team=team_obj)
        else:
            membership.role = role
            if team is not None:
                membership.team = team_obj
            membership.is_active = True
            membership.save()
        after = {
            "role": membership.role,
            "team": membership.team.name if membership.team else None,
            "is_active": membership.is_active,
        }
        changes = diff(before, after)
        if changes:
            audit(
                actor=actor,
                action="permission_change" if not created else "create",
                object_type="membership",
                object_id=membership.pk,
                object_repr=username,
                changes=changes,
                org_id=org.pk,
            )
            emit("membership.changed", org_id=org.pk, user_id=user.pk)
    return membership, created


def membership_update(*, actor: Actor, membership_id: int, data: dict[str, Any]) -> Membership:
    actor.require(Perm.ORG_ADMIN)
    membership = (
        Membership.objects.select_related("user", "team")
        .filter(organization_id=actor.org_id, pk=membership_id)
        .first()
    )
    if membership is None:
        raise NotFound()
    # null means "leave as is" for role and access (a null team removes the user from their team)
    data = {k: v for k, v in data.items() if v is not None or k == "team"}
    if membership.user_id == actor.user.pk and (
        data.get("role", "admin") != "admin" or data.get("is_active") is False
    ):
        raise _fail("role", _("you cannot remove your own administrator access"))
    before = {
        "role": membership.role,
        "team": membership.team.name if membership.team else None,
        "is_active": membership.is_active,
    }
    with transaction.atomic():
        if "role" in data:
            if data["role"] not in Role.__members__.values():
                raise _fail("role", _("must be one of: %(r)s") % {"r": ", ".join(r.value for r in Role)})
            membership.role = data["role"]
        if "team" in data:
            membership.team = (
                team_get_or_create(org=actor.org, name=data["team"], actor=actor) if data["team"] else None
            )
        if "is_active" in data:
            membership.is_active = bool(data["is_active"])
        membership.save()
        after = {
            "role": membership.role,
            "team": membership.team.name if membership.team else None,
            "is_active": membership.is_active,
        }
        audit(
            actor=actor,
            action="permission_change",
            object_type="membership",
            object_id=membership.pk,
            object_repr=membership.user.username,
            changes=diff(before, after),
        )
        emit("membership.changed", org_id=actor.org_id, user_id=membership.user_id)
    return membership


def api_token_create(
    *,
    membership: Membership,
    scopes: list[str] | None = None,
    name: str = "",
    days: int | None = None,
    actor: Actor | None = None,
) -> tuple[ApiToken, str]:
    """Create a token and return it with the plain secret, which is never stored nor shown again."""
    scopes = sorted(set(scopes or ["read", "write"]))
    bad = [s for s in scopes if s not in ApiToken.SCOPES]
    if bad:
        raise _fail("scopes", _("unknown scope(s): %(s)s; use read, write, admin") % {"s": ", ".join(bad)})
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            organization_id=membership.organization_id,
            user_id=membership.user_id,
            name=name[:100],
            prefix=raw[:10],
            token_hash=hash_token(raw),
            scopes=scopes,
            expires_at=timezone.now() + dt.timedelta(days=days) if days else None,
        )
        audit(
            actor=actor,
            action="token_create",
            object_type="api_token",
            object_id=token.pk,
            object_repr=f"{membership.user.username} {token.prefix}…",
            changes={"scopes": [None, scopes]},
            org_id=membership.organization_id,
        )
    return token, raw


def api_token_authenticate(raw: str) -> tuple[ApiToken, Membership] | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or (token.expires_at and token.expires_at < timezone.now()) or not token.user.is_active:
        return None
    membership = (
        Membership.objects.select_related("organization", "user", "team")
        .filter(organization_id=token.organization_id, user_id=token.user_id, is_active=True)
        .first()
    )
    if membership is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # throttled: not a write per request
    return token, membership


# Custom-field definitions --------------------------------------------------------------------

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


def _clean_definition(data: dict[str, Any], existing: CustomFieldDefinition | None) -> dict[str, Any]:
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    if existing is None or "key" in data:
        key = str(data.get("key") or "")
        if not _KEY.match(key):
            errors.append(FieldError("key", _("use a lowercase letter, then letters, digits or _ (max 50)")))
        values["key"] = key
    if existing is None or "label" in data:
        label = str(data.get("label") or "").strip()
        if not label or len(label) > 100:
            errors.append(FieldError("label", _("must be 1 to 100 characters")))
        values["label"] = label
    field_type = data.get("field_type", existing.field_type if existing else None)
    if field_type not in CustomFieldDefinition.FieldType.values:
        errors.append(
            FieldError(
                "field_type",
                _("must be one of: %(t)s") % {"t": ", ".join(CustomFieldDefinition.FieldType.values)},
            )
        )
    values["field_type"] = field_type
    choices = data.get("choices", existing.choices if existing else [])
    if field_type in ("choice", "multi_choice"):
        if not choices or not all(isinstance(c, str) and c.strip() for c in choices):
            errors.append(FieldError("choices", _("list at least one non-empty choice")))
        elif len(set(choices)) != len(choices):
            errors.append(FieldError("choices", _("choices must not repeat")))
    values["choices"] = (
        [c.strip() for c in choices] if field_type in ("choice", "multi_choice") and choices else []
    )
    for flag in ("required", "unique"):
        if flag in data:
            values[flag] = bool(data[flag])
    if "position" in data:
        values["position"] = int(data["position"] or 0)
    if errors:
        raise ValidationFailed(errors=errors)
    return values


def custom_field_create(*, actor: Actor, data: dict[str, Any]) -> CustomFieldDefinition:
    actor.require(Perm.ORG_ADMIN)
    values = _clean_definition(data, None)
    with transaction.atomic():
        if CustomFieldDefinition.objects.filter(
            organization_id=actor.org_id, entity="customer", key=values["key"]
        ).exists():
            raise _fail("key", _("a custom field with this key exists"), "unique")
        defn = CustomFieldDefinition.objects.create(organization_id=actor.org_id, entity="customer", **values)
        audit(
            actor=actor,
            action="create",
            object_type="custom_field",
            object_id=defn.pk,
            object_repr=defn.key,
            changes=diff({}, values),
        )
    return defn


def custom_field_update(*, actor: Actor, field_id: int, data: dict[str, Any]) -> CustomFieldDefinition:
    actor.require(Perm.ORG_ADMIN)
    defn = CustomFieldDefinition.objects.filter(organization_id=actor.org_id, pk=field_id).first()
    if defn is None:
        raise NotFound()
    if "key" in data and data["key"] != defn.key:
        raise _fail("key", _("the key cannot change once values are stored under it"))
    values = _clean_definition(data, defn)
    values.pop("key", None)
    before = {k: getattr(defn, k) for k in values}
    with transaction.atomic():
        for k, v in values.items():
            setattr(defn, k, v)
        defn.save()
        audit(
            actor=actor,
            action="update",
            object_type="custom_field",
            object_id=defn.pk,
            object_repr=defn.key,
            changes=diff(before, values),
        )
    return defn


def custom_field_delete(*, actor: Actor, field_id: int) -> None:
    """Remove the definition; values already stored stay in ``custom`` until edited (no mass rewrite)."""
    actor.require(Perm.ORG_ADMIN)
    with transaction.atomic():
        defn = CustomFieldDefinition.objects.filter(organization_id=actor.org_id, pk=field_id).first()
        if defn is None:
            raise NotFound()
        audit(
            actor=actor, action="delete", object_type="custom_field", object_id=defn.pk, object_repr=defn.key
        )
        defn.delete()


def login_audit(*, user: User, org_id: int | None, ip: str, success: bool) -> None:
    audit(
        actor=None,
        action="login" if success else "login_failed",
        object_type="user",
        object_id=user.pk,
        object_repr=user.username,
        org_id=org_id,
        context={"via": "ui", "ip": ip},
    )
