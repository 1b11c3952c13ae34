"""Message personalisation: Chinese salutations and template rendering (Django template language)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError
from django.utils.translation import gettext as _

from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.customers.models import Customer

COMPOUND_SURNAMES = frozenset(
    {
        "欧阳",
        "司马",
        "诸葛",
        "上官",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "令狐",
        "长孙",
        "宇文",
        "司徒",
        "夏侯",
        "轩辕",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "百里",
        "呼延",
        "澹台",
        "公冶",
        "太史",
        "申屠",
        "钟离",
        "闻人",
        "赫连",
        "万俟",
        "司空",
        "东郭",
        "第五",
    }
)
BOSS_TITLES = ("总", "经理", "董事", "老板")

# Plain text and subjects must not be HTML-escaped (engine and Context both decide); the HTML part is.
_TEXT_ENGINE = Engine(autoescape=False)
_HTML_ENGINE = Engine(autoescape=True)


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def surname(name: str) -> str:
    name = name.strip()
    if len(name) > 2 and name[:2] in COMPOUND_SURNAMES:
        return name[:2]
    return name[:1]


def salutation(customer: Customer) -> str:
    """王总 for bosses and managers, 李女士 / 张先生 from gender, else the full name.

    Non-Chinese names get Mr./Ms. + last name."""
    name = (customer.name or "").strip()
    if not name:
        return ""
    if customer.kind == Customer.Kind.COMPANY:
        return name
    title = customer.title or ""
    if _is_cjk(name):
        family = surname(name)
        if any(word in title for word in BOSS_TITLES):
            return f"{family}总"
        if customer.gender == Customer.Gender.FEMALE:
            return f"{family}女士"
        if customer.gender == Customer.Gender.MALE:
            return f"{family}先生"
        return name
    last = name.split()[-1]
    if customer.gender == Customer.Gender.FEMALE:
        return f"Ms. {last}"
    if customer.gender == Customer.Gender.MALE:
        return f"Mr. {last}"
    return name


def customer_context(customer: Customer) -> dict[str, Any]:
    """What a template may read: plain values only, never the model (no method calls, no ORM)."""
    return {
        "name": customer.name,
        "company": customer.company,
        "title": customer.title,
        "province": customer.province,
        "city": customer.city,
        "email": customer.email,
        "grade": customer.grade,
        "custom": dict(customer.custom or {}),
        "birthday": customer.birthday,
    }


def compile_template(source: str, field: str, *, html: bool = False) -> Template:
    try:
        return (_HTML_ENGINE if html else _TEXT_ENGINE).from_string(source)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(errors=[FieldError(field, _("template error: %s") % exc)]) from None


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def render_message(
    *, subject: str, body_text: str, body_html: str, customer: Customer, extra: dict[str, Any] | None = None
) -> Rendered:
    ctx = {"customer": customer_context(customer), "salutation": salutation(customer), **(extra or {})}
    rendered_subject = compile_template(subject, "subject").render(Context(ctx, autoescape=False))
    return Rendered(
        subject=" ".join(rendered_subject.split()),
        text=compile_template(body_text, "body_text").render(Context(ctx, autoescape=False)),
        html=compile_template(body_html, "body_html", html=True).render(Context(ctx)) if body_html else "",
    )
