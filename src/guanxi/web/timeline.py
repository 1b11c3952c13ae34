"""Turns audit events into readable timeline and change-history entries (masked where needed)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.formats import localize
from django.utils.text import capfirst
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _

from guanxi.core.models import AuditEvent, CustomFieldDefinition
from guanxi.core.normalize import mask_email, mask_phone, mask_text
from guanxi.customers.models import Customer
from guanxi.web.reltime import RelativeTime

ACTIONS = {
    "create": _("created this customer"),
    "update": _("updated"),
    "delete": _("moved this customer to the recycle bin"),
    "restore": _("restored this customer from the recycle bin"),
    "purge": _("purged this customer"),
    "reveal": _("viewed the full contact details"),
    "contact_add": _("added a contact"),
    "contact_remove": _("removed a contact"),
    "share": _("shared this customer"),
    "export": _("exported"),
    "merge": _("merged a duplicate into this customer"),
    "merged_into": _("merged this customer into another one"),
    "merge_undo": _("undid a merge"),
}
EXTRA_LABELS = {
    "owner": _("Owner"),
    "team": _("Team"),
    "tags": _("Tags"),
    "contacts": _("Contacts"),
    "shared_with": _("Shared with"),
    "deleted_at": _("Deleted at"),
    "fields": _("Fields"),
    "merged_from": _("Merged from"),
    "merged_into": _("Merged into"),
}
PHONE_FIELDS = {"phone", "phone_e164"}
EMAIL_FIELDS = {"email"}
CHOICES = {
    "kind": dict(Customer.Kind.choices),
    "gender": dict(Customer.Gender.choices),
    "lifecycle_stage": dict(Customer.Lifecycle.choices),
    "value_tier": dict(Customer.ValueTier.choices),
}


@dataclass
class Change:
    label: Any
    before: str
    after: str


VIA = {"ui": _("web"), "api": _("API"), "cli": _("command line"), "system": _("system")}


@dataclass
class Entry:
    event: AuditEvent
    verb: Any
    changes: list[Change]
    via: str

    @property
    def via_label(self) -> Any:
        return VIA.get(self.via, self.via)


def field_label(name: str, custom_labels: dict[str, str]) -> Any:
    if name in EXTRA_LABELS:
        return EXTRA_LABELS[name]
    try:
        return capfirst(getattr(Customer._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:
        return name


def _text(name: str, value: Any, custom_labels: dict[str, str]) -> str:
    if value in (None, "", [], {}):
        return "—"
    if name in PHONE_FIELDS:
        return mask_phone(str(value))
    if name in EMAIL_FIELDS:
        return mask_email(str(value))
    if name == "wechat":
        return mask_text(str(value))
    if name == "phones":
        return ", ".join(mask_phone(str(p.get("value", ""))) for p in value if isinstance(p, dict))
    if name == "emails":
        return ", ".join(mask_email(str(e.get("value", ""))) for e in value if isinstance(e, dict))
    if name in CHOICES:
        return str(CHOICES[name].get(value, value))
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    if isinstance(value, dict):
        return "; ".join(
            f"{custom_labels.get(k, k)}: {_text('', v, custom_labels)}" for k, v in value.items()
        )
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _only_primary(raw: dict[str, Any], name: str, pair: Any) -> bool:
    primary = name[:-1]
    return primary in raw and all(not isinstance(v, list) or len(v) <= 1 for v in pair)


def entries(events: list[AuditEvent], defs: list[CustomFieldDefinition]) -> list[Entry]:
    custom_labels = {d.key: d.label for d in defs}
    out = []
    for event in events:
        changes = []
        raw = event.changes if isinstance(event.changes, dict) else {}
        if event.action not in ("reveal", "export"):
            for name, pair in raw.items():
                if name == "phone_e164" or not isinstance(pair, list | tuple) or len(pair) != 2:
                    continue
                if name in ("phones", "emails") and _only_primary(raw, name, pair):
                    continue  # the same change already shows as the primary phone / email
                changes.append(
                    Change(
                        field_label(name, custom_labels),
                        _text(name, pair[0], custom_labels),
                        _text(name, pair[1], custom_labels),
                    )
                )
        out.append(
            Entry(
                event=event,
                verb=ACTIONS.get(event.action, event.action),
                changes=changes,
                via=str((event.context or {}).get("via", "")),
            )
        )
    return out


@dataclass
class FeedItem:
    """One row of the 360° timeline, from any registered source (audit trail, activities, …)."""

    at: Any
    source: str
    kind: str
    actor: str
    verb: Any = ""
    labels: list[Any] | None = None
    title: str = ""
    kind_label: Any = ""
    body: str = ""
    extra: dict[str, Any] | None = None
    when: str = ""  # ``at|naturaltime``, resolved once per page (``reltime``)
    at_title: str = ""  # ``{{ at }}``: the full date and time in the organisation's zone


def _activity_kinds() -> dict[str, Any]:
    try:
        from guanxi.engagement.models import Activity
    except ImportError:  # pragma: no cover - the engagement app is optional for the customer UI
        return {}
    return dict(Activity.Kind.choices)


def feed(items: list[Any], defs: list[CustomFieldDefinition]) -> list[FeedItem]:
    """``customers.timeline.customer_timeline`` items → what the timeline tab shows."""
    custom_labels = {d.key: d.label for d in defs}
    kinds = _activity_kinds()
    relative = RelativeTime()
    out = []
    for item in items:
        if item.source == "audit":
            changes = item.data.get("changes") if isinstance(item.data, dict) else {}
            names = [n for n in (changes or {}) if n != "phone_e164"] if item.kind == "update" else []
            if "phone" in names and "phones" in names:
                names.remove("phones")
            if "email" in names and "emails" in names:
                names.remove("emails")
            out.append(
                FeedItem(
                    at=item.at,
                    source="audit",
                    kind=item.kind,
                    actor=item.actor,
                    verb=ACTIONS.get(item.kind, item.kind),
                    labels=[field_label(n, custom_labels) for n in names],
                    when=relative(item.at),
                    at_title=localize(localtime(item.at)),
                )
            )
        else:
            out.append(
                FeedItem(
                    at=item.at,
                    source=item.source,
                    kind=item.kind,
                    actor=item.actor,
                    title=item.title,
                    kind_label=kinds.get(item.kind, item.kind),
                    body=item.body,
                    extra=item.data,
                    when=relative(item.at),
                    at_title=localize(localtime(item.at)),
                )
            )
    return out
