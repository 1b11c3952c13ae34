"""The customer form: which fields it shows, how a POST becomes service input, how field errors
from a ``ValidationFailed`` land next to their inputs. Validation itself is the services' job."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError
from guanxi.core.models import CustomFieldDefinition
from guanxi.core.roles import Perm
from guanxi.customers.models import Customer

CONTACT_FIELDS = {"phone", "email", "wechat"}
INITIAL_FIELDS = [
    "kind",
    "name",
    "company",
    "title",
    "phone",
    "email",
    "wechat",
    "gender",
    "province",
    "city",
    "district",
    "address",
    "industry",
    "size",
    "source",
    "lifecycle_stage",
    "value_tier",
    "grade",
    "notes",
]


@dataclass
class Field:
    name: str
    label: Any
    widget: str = "text"  # text | email | tel | date | select | textarea | checkbox | number | tags
    choices: list[tuple[str, Any]] = field(default_factory=list)
    required: bool = False
    wide: bool = False
    value: Any = ""
    errors: list[str] = field(default_factory=list)
    help: Any = ""
    orig: str | None = None  # JSON of the value the form was opened with (edit forms only)
    placeholder: str = ""
    group: Any = ""


def base_fields(actor: Actor, *, creating: bool, owners: list[tuple[str, str]]) -> list[Field]:
    """The built-in customer fields, in form order, for this actor."""
    basic = _("Basic information")
    contact = _("Contact details")
    address = _("Address")
    classification = _("Classification")
    fields = [
        Field("kind", _("Kind"), "select", list(Customer.Kind.choices), group=basic),
        Field("name", _("Name"), required=True, group=basic),
        Field("company", _("Company"), group=basic),
        Field("title", _("Job title"), group=basic),
        Field("gender", _("Gender"), "select", list(Customer.Gender.choices), group=basic),
        Field("birthday", _("Birthday"), "date", group=basic),
    ]
    # Someone who may not see contact details cannot edit them either (they would see them in the form).
    if creating or actor.sees_contact_details:
        fields += [
            Field("phone", _("Mobile phone"), "tel", group=contact),
            Field("email", _("Email"), "email", group=contact),
            Field("wechat", _("WeChat ID"), group=contact),
        ]
    fields += [
        Field("province", _("Province"), group=address),
        Field("city", _("City"), group=address),
        Field("district", _("District"), group=address),
        Field("address", _("Street address"), wide=True, group=address),
        Field("industry", _("Industry"), group=classification),
        Field("size", _("Company size"), group=classification),
        Field("source", _("Source channel"), group=classification),
        Field(
            "lifecycle_stage",
            _("Lifecycle stage"),
            "select",
            list(Customer.Lifecycle.choices),
            group=classification,
        ),
        Field(
            "value_tier", _("Value tier"), "select", list(Customer.ValueTier.choices), group=classification
        ),
        Field(
            "grade",
            _("Grade"),
            "select",
            [("", "—"), ("A", "A"), ("B", "B"), ("C", "C"), ("D", "D")],
            group=classification,
        ),
    ]
    if actor.has(Perm.CUSTOMER_ASSIGN):
        fields.append(Field("owner", _("Owner"), "select", [("", "—"), *owners], group=classification))
    fields += [
        Field("tags", _("Tags"), "tags", help=_("Separate tags with commas"), group=classification),
        Field("notes", _("Notes"), "textarea", wide=True, group=_("More information")),
    ]
    return fields


def custom_fields(defs: list[CustomFieldDefinition]) -> list[Field]:
    out = []
    for d in defs:
        widget = {
            "text": "text",
            "number": "number",
            "date": "date",
            "choice": "select",
            "multi_choice": "multi",
            "bool": "select",
        }[d.field_type]
        choices: list[tuple[str, Any]] = [(c, c) for c in d.choices or []]
        if d.field_type == "choice":
            choices = [("", "—"), *choices]
        if d.field_type == "bool":
            choices = [("", "—"), ("true", _("Yes")), ("false", _("No"))]
        out.append(
            Field(f"custom.{d.key}", d.label, widget, choices, required=d.required, group=_("Custom fields"))
        )
    return out


def initial_values(customer: Customer) -> dict[str, Any]:
    data: dict[str, Any] = {name: getattr(customer, name) for name in INITIAL_FIELDS}
    data["birthday"] = customer.birthday.isoformat() if customer.birthday else ""
    data["owner"] = customer.owner.username if customer.owner_id and customer.owner else ""
    data["tags"] = ", ".join(t.name for t in customer.tags.all())
    for key, value in (customer.custom or {}).items():
        if isinstance(value, bool):
            value = "true" if value else "false"
        data[f"custom.{key}"] = value
    return data


def hide_contact_details(fields: list[Field], values: dict[str, Any]) -> None:
    """Edit forms never print full phone numbers or emails (that would bypass the audited reveal):
    the inputs start empty with the masked value as a hint, and an empty input keeps the value."""
    from guanxi.core.normalize import mask_email, mask_phone, mask_text

    masks = {"phone": mask_phone, "email": mask_email, "wechat": mask_text}
    for f in fields:
        if f.name in masks and values.get(f.name):
            f.placeholder = masks[f.name](str(values[f.name]))
            f.help = _("Leave empty to keep the current value")
            values[f.name] = ""


def values_from_post(post: QueryDict, fields: list[Field]) -> dict[str, Any]:
    """What the user typed, keyed by form field name (for redisplay)."""
    values: dict[str, Any] = {}
    for f in fields:
        if f.name not in post:
            continue  # not on the form that was sent: leave the stored value alone
        values[f.name] = (
            [v for v in post.getlist(f.name) if v] if f.widget == "multi" else post.get(f.name, "")
        )
    return values


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [str(v) for v in value]
    return "" if value is None else str(value)


def originals_from_post(post: QueryDict, fields: list[Field]) -> dict[str, Any]:
    """The values the edit form was opened with (``orig.<name>`` hidden inputs)."""
    out: dict[str, Any] = {}
    for f in fields:
        raw = post.get(f"orig.{f.name}")
        if raw is None:
            continue
        try:
            out[f.name] = json.loads(raw)
        except ValueError:
            continue
    return out


def changed_only(values: dict[str, Any], originals: dict[str, Any]) -> dict[str, Any]:
    """Only what the user changed since opening the form: saving (or overwriting after a conflict)
    never reverts someone else's change to a field this user did not touch."""
    return {k: v for k, v in values.items() if k not in originals or _plain(originals[k]) != _plain(v)}


def service_data(values: dict[str, Any], fields: list[Field]) -> dict[str, Any]:
    """Form values → the dictionary ``customer_create``/``customer_update`` accept."""
    data: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for f in fields:
        if f.name not in values:
            continue
        value = values[f.name]
        if f.name.startswith("custom."):
            custom[f.name.removeprefix("custom.")] = value if value not in ("", []) else None
        elif f.name == "tags":
            data["tags"] = [t.strip() for t in str(value).replace("，", ",").split(",") if t.strip()]
        elif f.name == "birthday":
            data["birthday"] = value or None
        elif f.name == "owner":
            data["owner"] = value or None
        else:
            data[f.name] = value
    if custom:
        data["custom"] = custom
    return data


def bind(
    fields: list[Field],
    values: dict[str, Any],
    errors: list[FieldError],
    originals: dict[str, Any] | None = None,
) -> list[str]:
    """Put values (and, for edit forms, the originals) and errors on the fields; return errors
    that belong to no field."""
    by_name = {f.name: f for f in fields}
    loose: list[str] = []
    for f in fields:
        f.value = values.get(f.name, [] if f.widget == "multi" else "")
        if originals is not None:
            f.orig = json.dumps(_plain(originals.get(f.name, f.value)), ensure_ascii=False)
    for err in errors:
        name = err.field
        if name.startswith("phones"):
            name = "phone"
        elif name.startswith("emails"):
            name = "email"
        elif name == "owner_id":
            name = "owner"
        target = by_name.get(name)
        if target is not None:
            target.errors.append(str(err.message))
        else:
            loose.append(f"{err.field}: {err.message}")
    return loose
