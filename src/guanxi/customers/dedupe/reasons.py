"""Reasons stored as data (``{"signal": "phone", "level": "agree", "value": "+86…", "weight": 6}``)
become words in the reader's language here, masked like every other output for roles that may not
see contact details (a reason must not leak the phone number the record view hides)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.normalize import mask_email, mask_phone, mask_text

# A phone reason shows how the number starts, in the human format the user types: +86 138…
_NATIONAL_PREFIX = {"+86": 3, "+1": 3, "+44": 4, "+61": 3}


def _phone_hint(e164: str, full: bool) -> str:
    if not full:
        return mask_phone(e164)
    if e164.startswith("+86") and len(e164) == 14:  # a mainland mobile: +86 138 1234 8000
        return f"+86 {e164[3:6]} {e164[6:10]} {e164[10:]}"
    for code, keep in _NATIONAL_PREFIX.items():
        if e164.startswith(code):
            rest = e164[len(code) :]
            return f"{code} {rest[:keep]} {rest[keep:]}".strip()
    return e164


def _percent(value: Any) -> str:
    return f"{round(float(value or 0) * 100)}%"


def describe(reason: dict[str, Any], actor: Actor | None = None) -> str:
    full = actor is None or actor.sees_contact_details
    signal, level = reason.get("signal"), reason.get("level")
    value = str(reason.get("value") or "")
    if signal == "name":
        pinyin = reason.get("pinyin")
        if level == "exact":
            return _("same name")
        if level == "pinyin":
            return _("same name in pinyin (%(pinyin)s)") % {"pinyin": pinyin}
        if level == "partial":
            return _("one name is part of the other")
        if level == "one_word":
            return _("names share one word only")
        if level == "mismatch":
            return _("different names")
        if pinyin:
            return _("name %(percent)s similar (pinyin %(pinyin)s)") % {
                "percent": _percent(reason.get("similarity")),
                "pinyin": pinyin,
            }
        return _("name %(percent)s similar") % {"percent": _percent(reason.get("similarity"))}
    if signal == "phone":
        if level == "agree":
            return _("same phone %(phone)s") % {"phone": _phone_hint(value, full)}
        return _("different phones")
    if signal == "email":
        if level == "agree":
            return _("same email %(email)s") % {"email": value if full else mask_email(value)}
        return _("different emails")
    if signal == "wechat":
        if level == "agree":
            return _("same WeChat ID %(wechat)s") % {"wechat": value if full else mask_text(value)}
        return _("different WeChat IDs")
    if signal == "birthday":
        return {
            "agree": _("same birthday"),
            "near": _("birthday differs by one typo"),
        }.get(str(level), _("different birthdays"))
    if signal == "address":
        if level in ("high", "medium"):
            return _("address %(percent)s similar") % {"percent": _percent(reason.get("similarity"))}
        return _("different addresses")
    if signal == "city":
        return _("same city %(city)s") % {"city": value} if level == "agree" else _("different cities")
    if signal == "company":
        return _("same company") if level == "agree" else _("different companies")
    if signal == "custom":
        field = str(reason.get("field") or "")
        if level == "agree":
            shown = value if full else mask_text(value)
            return _("same %(field)s %(value)s") % {"field": field, "value": shown}
        return _("different custom fields")
    return str(signal)


def describe_all(reasons: list[dict[str, Any]], actor: Actor | None = None) -> list[str]:
    return [describe(r, actor) for r in reasons]


def evidence_for(reasons: list[dict[str, Any]], actor: Actor) -> list[dict[str, Any]]:
    """The stored evidence with contact values masked for roles that may not see them."""
    if actor.sees_contact_details:
        return reasons
    maskers = {"phone": mask_phone, "email": mask_email, "wechat": mask_text}
    out = []
    for reason in reasons:
        item = dict(reason)
        if item.get("signal") in maskers and item.get("value"):
            item["value"] = maskers[item["signal"]](str(item["value"]))
        out.append(item)
    return out
