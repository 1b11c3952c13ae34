"""The audit trail: one row per write, export, login and permission change."""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db.models import QuerySet

from guanxi.core.context import Actor
from guanxi.core.models import AuditEvent


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def diff(
    before: Mapping[str, Any], after: Mapping[str, Any], fields: Iterable[str] | None = None
) -> dict[str, list[Any]]:
    """``{field: [before, after]}`` for every field whose value changed."""
    keys = list(fields) if fields is not None else sorted(set(before) | set(after))
    changes: dict[str, list[Any]] = {}
    for key in keys:
        old, new = _jsonable(before.get(key)), _jsonable(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


def audit(
    *,
    actor: Actor | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
    org_id: int | None = None,
    context: Mapping[str, Any] | None = None,
) -> AuditEvent:
    ctx: dict[str, Any] = dict(actor.audit_context()) if actor else {"via": "system"}
    if context:
        ctx.update(context)
    return AuditEvent.objects.create(
        organization_id=org_id if org_id is not None else (actor.org_id if actor else None),
        actor=actor.user if actor else None,
        actor_name=actor.user.get_username() if actor else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:200],
        changes=_jsonable(dict(changes or {})),
        context=ctx,
    )


def audit_many(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    rows: Iterable[tuple[object, str, Mapping[str, Any]]],
) -> None:
    """One audit row per ``(object_id, object_repr, changes)``, written in one batch (bulk paths)."""
    ctx = dict(actor.audit_context())
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                organization_id=actor.org_id,
                actor=actor.user,
                actor_name=actor.user.get_username(),
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                object_repr=object_repr[:200],
                changes=_jsonable(dict(changes)),
                context=ctx,
            )
            for object_id, object_repr, changes in rows
        ],
        batch_size=500,
    )


def event_to_dict(event: AuditEvent) -> dict[str, Any]:
    """The one output form of an audit event (API, UI)."""
    return {
        "id": event.pk,
        "action": event.action,
        "actor": event.actor_name,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "context": event.context,
        "created_at": event.created_at,
    }


AuditScope = Callable[[Actor, "QuerySet[AuditEvent]"], "QuerySet[AuditEvent]"]
_scopes: list[AuditScope] = []


def register_audit_scope(scope: AuditScope) -> None:
    """Let an app narrow the audit log to the records an actor may see (a manager: their team's).

    Core cannot import the apps above it, so each app registers how its own events are scoped."""
    if scope not in _scopes:
        _scopes.append(scope)


def scope_audit_events(actor: Actor, qs: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
    for scope in _scopes:
        qs = scope(actor, qs)
    return qs
