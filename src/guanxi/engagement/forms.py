"""Forms of the engagement pages: they turn posted fields into the dicts the services take, and put
the services' field errors back on the fields they name. No rules live here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _l

from guanxi.core.errors import FieldError
from guanxi.customers.models import Customer
from guanxi.engagement.calendar import CHINESE_HOLIDAYS
from guanxi.engagement.models import CareRule, MessageTemplate, Purpose

HOLIDAY_LABELS = {
    "spring_festival": _l("Spring Festival (春节)"),
    "lantern": _l("Lantern Festival (元宵节)"),
    "qingming": _l("Qingming (清明节)"),
    "dragon_boat": _l("Dragon Boat Festival (端午节)"),
    "mid_autumn": _l("Mid-Autumn Festival (中秋节)"),
    "national_day": _l("National Day (国庆节)"),
}
DEFAULT_GRADES = ["A", "B", "C", "D"]
FILTERABLE_CUSTOM = ("text", "choice", "bool")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


def _split(text: str) -> list[str]:
    """'广东, 浙江，上海' → ['广东', '浙江', '上海'] (ASCII or full-width commas, or new lines)."""
    for sep in ("，", "、", "\n"):
        text = text.replace(sep, ",")
    return [part.strip() for part in text.split(",") if part.strip()]


def put_errors(form: forms.Form, errors: list[FieldError], aliases: dict[str, str]) -> None:
    """Attach a service's FieldErrors to the form field they name (or to the form as a whole)."""
    for err in errors:
        name = aliases.get(err.field, err.field)
        if name in form.fields:
            form.add_error(name, err.message)
        else:
            form.add_error(None, f"{err.field}: {err.message}")


class _Form(forms.Form):
    """Labels without a trailing colon, like the rest of the workspace."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class CareRuleForm(_Form):
    name = forms.CharField(label=_l("Name"), max_length=100)
    kind = forms.ChoiceField(label=_l("Occasion"), choices=CareRule.Kind.choices)
    enabled = forms.BooleanField(label=_l("Enabled"), required=False, initial=True)
    channel = forms.ChoiceField(label=_l("Channel"), choices=CareRule.Channel.choices)
    template = forms.TypedChoiceField(
        label=_l("Email template"), required=False, coerce=int, empty_value=None
    )
    send_time = forms.TimeField(label=_l("Send time"), initial=dt.time(9, 0), widget=TIME_INPUT)
    country = forms.CharField(label=_l("Holiday country"), min_length=2, max_length=2, initial="CN")
    holidays = forms.MultipleChoiceField(
        label=_l("Chinese holidays"),
        required=False,
        choices=[(slug, HOLIDAY_LABELS[slug]) for slug in CHINESE_HOLIDAYS],
        widget=forms.CheckboxSelectMultiple,
    )
    other_holidays = forms.CharField(
        label=_l("Holidays of that country"),
        required=False,
        max_length=2000,
        help_text=_l("Names as the holidays package spells them, comma-separated; empty for every holiday."),
    )
    default_revisit_days = forms.IntegerField(
        label=_l("Every other customer after (days)"), required=False, min_value=1, max_value=3650
    )
    audience_grade = forms.MultipleChoiceField(
        label=_l("Grade"), required=False, widget=forms.CheckboxSelectMultiple
    )
    audience_value_tier = forms.MultipleChoiceField(
        label=_l("Value tier"),
        required=False,
        choices=Customer.ValueTier.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    audience_lifecycle_stage = forms.MultipleChoiceField(
        label=_l("Lifecycle stage"),
        required=False,
        choices=Customer.Lifecycle.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    audience_tags = forms.MultipleChoiceField(
        label=_l("Tags"), required=False, widget=forms.CheckboxSelectMultiple
    )
    audience_province = forms.CharField(
        label=_l("Province"),
        required=False,
        max_length=1000,
        help_text=_l("Comma-separated; empty for every province."),
    )

    # service field name → form field name, for errors
    ALIASES = {
        "template_id": "template",
        "revisit_days": "default_revisit_days",
        "audience.grade": "audience_grade",
        "audience.value_tier": "audience_value_tier",
        "audience.lifecycle_stage": "audience_lifecycle_stage",
        "audience.tags": "audience_tags",
        "audience.province": "audience_province",
    }

    def __init__(
        self,
        *args: Any,
        templates: list[MessageTemplate],
        grades: list[str],
        tags: list[str],
        custom_defs: list[Any],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.grades = sorted(set(DEFAULT_GRADES) | {g for g in grades if g})
        self.fields["template"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (t.pk, f"{t.name} · {t.get_purpose_display()}") for t in templates
        ]
        self.fields["audience_grade"].choices = [(g, g) for g in self.grades]  # type: ignore[attr-defined]
        self.fields["audience_tags"].choices = [(t, t) for t in tags]  # type: ignore[attr-defined]
        for grade in self.grades:
            self.fields[f"revisit_{grade}"] = forms.IntegerField(
                label=_l("Grade %(grade)s after (days)") % {"grade": grade},
                required=False,
                min_value=1,
                max_value=3650,
            )
        for tier, label in Customer.ValueTier.choices:
            self.fields[f"revisit_{tier}"] = forms.IntegerField(
                label=_l("%(tier)s value after (days)") % {"tier": label},
                required=False,
                min_value=1,
                max_value=3650,
            )
        self.custom_defs = [d for d in custom_defs if d.field_type in FILTERABLE_CUSTOM]
        for d in self.custom_defs:
            name = f"audience_cf_{d.key}"
            self.ALIASES = {**self.ALIASES, f"audience.custom.{d.key}": name}
            if d.field_type == "bool":
                self.fields[name] = forms.ChoiceField(
                    label=d.label,
                    required=False,
                    choices=[("", _l("Any")), ("true", _l("Yes")), ("false", _l("No"))],
                )
            elif d.field_type == "choice":
                self.fields[name] = forms.MultipleChoiceField(
                    label=d.label,
                    required=False,
                    choices=[(c, c) for c in d.choices or []],
                    widget=forms.CheckboxSelectMultiple,
                )
            else:
                self.fields[name] = forms.CharField(
                    label=d.label, required=False, max_length=1000, help_text=_l("Comma-separated values.")
                )

    # Groups the template renders as fieldsets.
    def revisit_fields(self) -> list[Any]:
        names = [f"revisit_{g}" for g in self.grades]
        names += [f"revisit_{t}" for t in Customer.ValueTier.values]
        return [self[n] for n in [*names, "default_revisit_days"]]

    def custom_audience_fields(self) -> list[Any]:
        return [self[f"audience_cf_{d.key}"] for d in self.custom_defs]

    @classmethod
    def initial_from(cls, rule: CareRule) -> dict[str, Any]:
        audience = rule.audience or {}
        initial: dict[str, Any] = {
            "name": rule.name,
            "kind": rule.kind,
            "enabled": rule.enabled,
            "channel": rule.channel,
            "template": rule.template_id,
            "send_time": rule.send_time,
            "country": rule.country,
            "holidays": rule.holidays if rule.country == "CN" else [],
            "other_holidays": ", ".join(rule.holidays or []) if rule.country != "CN" else "",
            "default_revisit_days": rule.default_revisit_days,
            "audience_grade": audience.get("grade", []),
            "audience_value_tier": audience.get("value_tier", []),
            "audience_lifecycle_stage": audience.get("lifecycle_stage", []),
            "audience_tags": audience.get("tags", []),
            "audience_province": ", ".join(audience.get("province", [])),
        }
        for key, days in (rule.revisit_days or {}).items():
            initial[f"revisit_{key}"] = days
        for key, wanted in (audience.get("custom") or {}).items():
            values = wanted if isinstance(wanted, list) else [wanted]
            if all(isinstance(v, bool) for v in values) and values:
                initial[f"audience_cf_{key}"] = "true" if values[0] else "false"
            else:
                initial[f"audience_cf_{key}"] = values
        return initial

    def service_data(self) -> dict[str, Any]:
        """The cleaned form as ``care.rule_create``/``rule_update`` input."""
        d = self.cleaned_data
        country = d["country"].upper()
        holidays = list(d["holidays"]) if country == "CN" else _split(d["other_holidays"])
        audience: dict[str, Any] = {}
        for key in ("grade", "value_tier", "lifecycle_stage", "tags"):
            if d.get(f"audience_{key}"):
                audience[key] = list(d[f"audience_{key}"])
        if _split(d.get("audience_province") or ""):
            audience["province"] = _split(d["audience_province"])
        custom: dict[str, Any] = {}
        for definition in self.custom_defs:
            value = d.get(f"audience_cf_{definition.key}")
            if definition.field_type == "bool":
                if value in ("true", "false"):
                    custom[definition.key] = value == "true"
            elif definition.field_type == "choice":
                if value:
                    custom[definition.key] = list(value)
            elif value and _split(value):
                custom[definition.key] = _split(value)
        if custom:
            audience["custom"] = custom
        revisit = {
            key: d[f"revisit_{key}"]
            for key in [*self.grades, *Customer.ValueTier.values]
            if d.get(f"revisit_{key}")
        }
        return {
            "name": d["name"].strip(),
            "kind": d["kind"],
            "enabled": bool(d["enabled"]),
            "channel": d["channel"],
            "template_id": d["template"],
            "send_time": d["send_time"],
            "country": country,
            "holidays": holidays,
            "revisit_days": revisit,
            "default_revisit_days": d.get("default_revisit_days"),
            "audience": audience,
        }


class TemplateForm(_Form):
    name = forms.CharField(label=_l("Name"), max_length=100)
    purpose = forms.ChoiceField(
        label=_l("Purpose"),
        choices=Purpose.choices,
        help_text=_l("Marketing email goes only to customers who consented; transactional email to anyone."),
    )
    subject = forms.CharField(label=_l("Subject"), max_length=200)
    body_text = forms.CharField(
        label=_l("Plain text"), max_length=50000, widget=forms.Textarea(attrs={"rows": 8})
    )
    body_html = forms.CharField(
        label=_l("HTML (optional)"),
        required=False,
        max_length=100000,
        widget=forms.Textarea(attrs={"rows": 8, "class": "mono"}),
    )


class ComposeForm(_Form):
    template = forms.TypedChoiceField(label=_l("Template"), required=False, coerce=int, empty_value=None)
    # Not required: a template brings its own purpose; a written message defaults to transactional.
    purpose = forms.ChoiceField(
        label=_l("Purpose"), choices=Purpose.choices, initial=Purpose.TRANSACTIONAL, required=False
    )
    subject = forms.CharField(label=_l("Subject"), max_length=200, required=False)
    body_text = forms.CharField(
        label=_l("Message"), max_length=50000, required=False, widget=forms.Textarea(attrs={"rows": 10})
    )

    ALIASES = {"template_id": "template"}

    def __init__(self, *args: Any, templates: list[MessageTemplate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [("", _l("No template: write the message"))] + [  # type: ignore[attr-defined]
            (t.pk, f"{t.name} · {t.get_purpose_display()}") for t in templates
        ]

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        if d.get("template") is not None:
            return {"template_id": d["template"]}
        purpose = d["purpose"] or Purpose.TRANSACTIONAL
        return {"subject": d["subject"], "body_text": d["body_text"], "purpose": purpose}
