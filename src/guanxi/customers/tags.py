"""Writes to the organisation's tags (attaching tags to customers happens in customer services)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.roles import Perm
from guanxi.customers.models import Tag


def tag_create(*, actor: Actor, name: str, color: str = "#64748b") -> Tag:
    actor.require(Perm.TAG_MANAGE)
    from guanxi.core.normalize import clean_text

    name = clean_text(name)
    if not name:
        raise ValidationFailed(errors=[FieldError("name", _("is required"))])
    try:
        with transaction.atomic():
            tag = Tag.objects.create(organization_id=actor.org_id, name=name, color=color)
    except IntegrityError:
        raise ValidationFailed(
            errors=[FieldError("name", _("a tag with this name exists"), code="unique")]
        ) from None
    audit(
        actor=actor,
        action="create",
        object_type="tag",
        object_id=tag.pk,
        object_repr=name,
        changes={"name": [None, name], "color": [None, color]},
    )
    return tag


def tag_update(*, actor: Actor, tag_id: int, data: dict[str, Any]) -> Tag:
    actor.require(Perm.TAG_MANAGE)
    from guanxi.core.normalize import clean_text

    tag = Tag.objects.filter(organization_id=actor.org_id, pk=tag_id).first()
    if tag is None:
        raise NotFound()
    before = {"name": tag.name, "color": tag.color}
    if "name" in data:
        tag.name = clean_text(data["name"])
        if not tag.name:
            raise ValidationFailed(errors=[FieldError("name", _("is required"))])
    if "color" in data:
        tag.color = data["color"]
    try:
        with transaction.atomic():
            tag.save()
            audit(
                actor=actor,
                action="update",
                object_type="tag",
                object_id=tag.pk,
                object_repr=tag.name,
                changes=diff(before, {"name": tag.name, "color": tag.color}),
            )
    except IntegrityError:
        raise ValidationFailed(
            errors=[FieldError("name", _("a tag with this name exists"), code="unique")]
        ) from None
    return tag


def tag_delete(*, actor: Actor, tag_id: int) -> None:
    actor.require(Perm.TAG_MANAGE)
    with transaction.atomic():
        tag = Tag.objects.filter(organization_id=actor.org_id, pk=tag_id).first()
        if tag is None:
            raise NotFound()
        audit(
            actor=actor,
            action="delete",
            object_type="tag",
            object_id=tag.pk,
            object_repr=tag.name,
            changes={"name": [tag.name, None]},
        )
        tag.delete()
