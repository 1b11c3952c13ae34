"""What a web form may look like: its field list, where each field goes, and its other settings.

``clean_form_settings`` validates everything an admin can set (UI and API alike) and returns every
problem at once as ``FieldError``s naming the field (``fields[2].maps_to``, ``allowed_origins[0]`` …).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l

from guanxi.core.errors import FieldError
from guanxi.core.models import CustomFieldDefinition, Membership, Team
from guanxi.core.normalize import clean_text
from guanxi.marketing.models import WebForm

FIELD_TYPES = {
    "text": _l("Text"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "textarea": _l("Long text"),
    "select": _l("Choice"),
    "checkbox": _l("Checkbox"),
    "date": _l("Date"),
}
# Customer fields a form field can fill, and which field types fit each.
TEXTUAL = {"text", "select", "textarea"}
CUSTOMER_TARGETS: dict[str, tuple[Any, set[str]]] = {
    "name": (_l("Name"), {"text"}),
    "company": (_l("Company"), TEXTUAL),
    "title": (_l("Job title"), TEXTUAL),
    "phone": (_l("Phone"), {"phone"}),
    "email": (_l("Email"), {"email"}),
    "wechat": (_l("WeChat ID"), {"text"}),
    "province": (_l("Province"), TEXTUAL),
    "city": (_l("City"), TEXTUAL),
    "district": (_l("District"), TEXTUAL),
    "address": (_l("Street address"), TEXTUAL),
    "industry": (_l("Industry"), TEXTUAL),
    "size": (_l("Company size"), TEXTUAL),
    "birthday": (_l("Birthday"), {"date"}),
    "notes": (_l("Notes (appended)"), set(FIELD_TYPES)),
}
LANGUAGES = ("zh-hans", "en")
# Names the public endpoint uses itself: the honeypot, the signed start time, the consent box.
RESERVED_KEYS = {"website", "_ts", "consent", "lang"}
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
ORIGIN_RE = re.compile(
    r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)
MAX_FIELDS = 30
MAX_CHOICES = 50
CONSENT_CHANNELS = ("email", "sms", "wechat")


@dataclass
class FormField:
    key: str
    label: dict[str, str]  # {"zh-hans": …, "en": …}; "" for a language means "use the other"
    type: str
    required: bool = False
    choices: list[str] = field(default_factory=list)
    maps_to: str = ""

    def label_in(self, language: str) -> str:
        return self.label.get(language) or next((v for v in self.label.values() if v), self.key)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "type": self.type,
            "required": self.required,
            "choices": self.choices,
            "maps_to": self.maps_to,
        }


def form_fields(form: WebForm) -> list[FormField]:
    """The stored field list as objects (stored lists were validated when saved)."""
    return [
        FormField(
            key=f["key"],
            label=_label_dict(f.get("label")),
            type=f["type"],
            required=bool(f.get("required")),
            choices=list(f.get("choices") or []),
            maps_to=f.get("maps_to") or "",
        )
        for f in form.fields or []
    ]


def _label_dict(raw: Any) -> dict[str, str]:
    if isinstance(raw, dict):
        return {lang: clean_text(str(raw.get(lang) or ""))[:200] for lang in LANGUAGES}
    text = clean_text(str(raw or ""))[:200]
    return dict.fromkeys(LANGUAGES, text)


def target_choices(custom_defs: list[CustomFieldDefinition]) -> list[tuple[str, str]]:
    """(value, label) of every place a form field can go, for the editor's select."""
    out = [("", str(_l("Keep with the submission only")))]
    out += [(key, str(label)) for key, (label, _types) in CUSTOMER_TARGETS.items()]
    out += [(f"custom.{d.key}", f"{d.label} ({_('custom field')})") for d in custom_defs]
    return out


def _clean_field(
    pos: int, raw: Any, defs: dict[str, CustomFieldDefinition], errors: list[FieldError]
) -> FormField | None:
    where = f"fields[{pos}]"
    if not isinstance(raw, dict):
        errors.append(FieldError(where, _("must be an object with key, label, type")))
        return None
    key = str(raw.get("key") or "").strip()
    ok = True
    if not KEY_RE.match(key):
        errors.append(
            FieldError(f"{where}.key", _("use lowercase letters, digits and _ (start with a letter)"))
        )
        ok = False
    elif key in RESERVED_KEYS:
        errors.append(FieldError(f"{where}.key", _("“%(k)s” is reserved; choose another key") % {"k": key}))
        ok = False
    label = _label_dict(raw.get("label"))
    if not any(label.values()):
        errors.append(FieldError(f"{where}.label", _("is required"), code="required"))
        ok = False
    ftype = str(raw.get("type") or "")
    if ftype not in FIELD_TYPES:
        errors.append(FieldError(f"{where}.type", _("must be one of: %(t)s") % {"t": ", ".join(FIELD_TYPES)}))
        return None
    choices = [clean_text(str(c))[:100] for c in raw.get("choices") or [] if clean_text(str(c))]
    if ftype == "select" and not choices:
        errors.append(FieldError(f"{where}.choices", _("a choice field needs at least one choice")))
        ok = False
    if len(choices) > MAX_CHOICES:
        errors.append(FieldError(f"{where}.choices", _("at most %(n)s choices") % {"n": MAX_CHOICES}))
        ok = False
    maps_to = str(raw.get("maps_to") or "")
    if maps_to.startswith("custom."):
        if maps_to[7:] not in defs:
            errors.append(FieldError(f"{where}.maps_to", _("no custom field “%(k)s”") % {"k": maps_to[7:]}))
            ok = False
    elif maps_to and maps_to not in CUSTOMER_TARGETS:
        errors.append(FieldError(f"{where}.maps_to", _("is not a customer field")))
        ok = False
    elif maps_to and ftype not in CUSTOMER_TARGETS[maps_to][1]:
        errors.append(
            FieldError(
                f"{where}.maps_to",
                _("a %(type)s field cannot fill “%(target)s”")
                % {"type": FIELD_TYPES[ftype], "target": CUSTOMER_TARGETS[maps_to][0]},
            )
        )
        ok = False
    if not ok:
        return None
    return FormField(
        key=key,
        label=label,
        type=ftype,
        required=bool(raw.get("required")),
        choices=choices if ftype == "select" else [],
        maps_to=maps_to,
    )


def clean_fields(org_id: int, raw_fields: Any, errors: list[FieldError]) -> list[FormField]:
    if not isinstance(raw_fields, list) or not raw_fields:
        errors.append(FieldError("fields", _("add at least one field"), code="required"))
        return []
    if len(raw_fields) > MAX_FIELDS:
        errors.append(FieldError("fields", _("at most %(n)s fields") % {"n": MAX_FIELDS}))
        return []
    defs = {d.key: d for d in CustomFieldDefinition.objects.filter(organization_id=org_id, entity="customer")}
    cleaned: list[FormField] = []
    seen_keys: dict[str, int] = {}
    seen_targets: dict[str, int] = {}
    for pos, raw in enumerate(raw_fields):
        item = _clean_field(pos, raw, defs, errors)
        if item is None:
            continue
        if item.key in seen_keys:
            msg = _("repeats the key of field %(n)s") % {"n": seen_keys[item.key] + 1}
            errors.append(FieldError(f"fields[{pos}].key", msg))
            continue
        if item.maps_to and item.maps_to != "notes" and item.maps_to in seen_targets:
            msg = _("field %(n)s already fills this") % {"n": seen_targets[item.maps_to] + 1}
            errors.append(FieldError(f"fields[{pos}].maps_to", msg))
            continue
        seen_keys[item.key] = pos
        seen_targets.setdefault(item.maps_to, pos)
        cleaned.append(item)
    if len(cleaned) == len(raw_fields):
        name = next((f for f in cleaned if f.maps_to == "name"), None)
        if name is None or not name.required:
            errors.append(FieldError("fields", _("one required field must fill the customer's name")))
        if not any(f.maps_to in ("phone", "email") for f in cleaned):
            errors.append(
                FieldError(
                    "fields", _("a field must fill the phone or the email (to recognise returning customers)")
                )
            )
        for key, defn in defs.items():
            mapped = next((f for f in cleaned if f.maps_to == f"custom.{key}"), None)
            if defn.required and (mapped is None or not mapped.required):
                errors.append(
                    FieldError(
                        "fields",
                        _("the custom field “%(f)s” is required for customers: add a required field for it")
                        % {"f": defn.label},
                    )
                )
    return cleaned


def clean_origin(value: str) -> str:
    return value.strip().rstrip("/").lower()


def clean_form_settings(
    org_id: int, data: dict[str, Any], current: WebForm | None
) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate the keys present in ``data`` (all of them when creating); the clean model values."""
    errors: list[FieldError] = []
    values: dict[str, Any] = {}
    creating = current is None
    for name, limit in (("name", 100), ("title", 200), ("source", 50)):
        if name in data or (creating and name == "name"):
            text = clean_text(str(data.get(name) or ""))
            if name == "name" and not text:
                errors.append(FieldError(name, _("is required"), code="required"))
            elif len(text) > limit:
                errors.append(FieldError(name, _("at most %(n)s characters") % {"n": limit}, code="too_long"))
            else:
                values[name] = text
    for name in ("intro", "thank_you_text", "consent_text"):
        if name in data:
            text = str(data.get(name) or "").strip()
            if len(text) > 4000:
                errors.append(FieldError(name, _("at most %(n)s characters") % {"n": 4000}, code="too_long"))
            else:
                values[name] = text
    if "language" in data:
        if data["language"] not in LANGUAGES:
            errors.append(FieldError("language", _("must be zh-hans or en")))
        else:
            values["language"] = data["language"]
    if "fields" in data or creating:
        values["fields"] = [f.as_dict() for f in clean_fields(org_id, data.get("fields"), errors)]
    if "tags" in data:
        tags = sorted({clean_text(str(t)) for t in data.get("tags") or [] if clean_text(str(t))})
        if any(len(t) > 50 for t in tags):
            errors.append(FieldError("tags", _("a tag has at most 50 characters")))
        values["tags"] = tags
    if "consent_purpose" in data:
        if data["consent_purpose"] not in WebForm.ConsentPurpose.values:
            errors.append(FieldError("consent_purpose", _("must be marketing or transactional")))
        else:
            values["consent_purpose"] = data["consent_purpose"]
    if "consent_channels" in data:
        channels = list(dict.fromkeys(data.get("consent_channels") or []))
        bad = [c for c in channels if c not in CONSENT_CHANNELS]
        if bad:
            errors.append(
                FieldError("consent_channels", _("unknown channel: %(c)s") % {"c": ", ".join(map(str, bad))})
            )
        else:
            values["consent_channels"] = channels
    if "redirect_url" in data:
        url = str(data.get("redirect_url") or "").strip()
        parts = urlsplit(url)
        # A plain host[:port] only: the origin goes into the page's CSP header (form-action).
        host_ok = bool(re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", parts.netloc))
        if url and (parts.scheme not in ("http", "https") or not host_ok or len(url) > 500 or " " in url):
            errors.append(FieldError("redirect_url", _("must be an http:// or https:// address")))
        else:
            values["redirect_url"] = url
    if "allowed_origins" in data:
        origins: list[str] = []
        for pos, raw in enumerate(data.get("allowed_origins") or []):
            origin = clean_origin(str(raw))
            if not origin:
                continue
            if not ORIGIN_RE.match(origin):
                errors.append(
                    FieldError(
                        f"allowed_origins[{pos}]",
                        _("“%(o)s” is not an origin like https://www.example.com") % {"o": origin[:100]},
                    )
                )
            elif origin not in origins:
                origins.append(origin)
        values["allowed_origins"] = origins[:20]
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    _clean_assignment(org_id, data, current, values, errors)
    return values, errors


def _clean_assignment(
    org_id: int,
    data: dict[str, Any],
    current: WebForm | None,
    values: dict[str, Any],
    errors: list[FieldError],
) -> None:
    keys = {"assignment", "assign_user", "assign_team"}
    if current is not None and not keys & set(data):
        return
    mode = data.get("assignment", current.assignment if current else WebForm.Assignment.POOL)
    if mode not in WebForm.Assignment.values:
        errors.append(FieldError("assignment", _("must be user, round_robin or pool")))
        return
    values.update(assignment=mode, assign_user=None, assign_team=None)
    if mode == WebForm.Assignment.USER:
        username = (
            data.get("assign_user")
            if "assign_user" in data
            else (current.assign_user.get_username() if current and current.assign_user else "")
        )
        member = (
            Membership.objects.select_related("user")
            .filter(organization_id=org_id, user__username=username or "", is_active=True)
            .first()
        )
        if member is None:
            errors.append(
                FieldError("assign_user", _("choose an active user of this organisation"), code="required")
            )
        else:
            values["assign_user"] = member.user
    elif mode == WebForm.Assignment.ROUND_ROBIN:
        team_name = (
            data.get("assign_team")
            if "assign_team" in data
            else (current.assign_team.name if current and current.assign_team else "")
        )
        team = Team.objects.filter(organization_id=org_id, name=team_name or "").first()
        if team is None:
            errors.append(FieldError("assign_team", _("choose a team of this organisation"), code="required"))
        elif not Membership.objects.filter(organization_id=org_id, team=team, is_active=True).exists():
            errors.append(FieldError("assign_team", _("this team has no active members")))
        else:
            values["assign_team"] = team
