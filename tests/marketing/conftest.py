"""A web form of organisation "acme" built by its admin, and a visitor's browser posting to it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client

from guanxi.marketing.intake import sign_start
from guanxi.marketing.models import WebForm
from guanxi.marketing.webforms import webform_create

FIELDS = [
    {
        "key": "name",
        "label": {"zh-hans": "姓名", "en": "Name"},
        "type": "text",
        "required": True,
        "maps_to": "name",
    },
    {"key": "phone", "label": {"zh-hans": "手机", "en": "Mobile"}, "type": "phone", "maps_to": "phone"},
    {"key": "email", "label": {"zh-hans": "邮箱", "en": "Email"}, "type": "email", "maps_to": "email"},
    {"key": "company", "label": "公司 Company", "type": "text", "maps_to": "company"},
    {"key": "message", "label": {"zh-hans": "留言", "en": "Message"}, "type": "textarea", "maps_to": "notes"},
]


def make_form(world: Any, **overrides: Any) -> WebForm:
    data: dict[str, Any] = {
        "name": "官网咨询",
        "title": "联系我们",
        "fields": FIELDS,
        "source": "website",
        "assignment": "user",
        "assign_user": "owner",
        "tags": ["官网"],
        "consent_text": "我同意通过邮件和短信接收产品资讯",
        "consent_purpose": "marketing",
        "consent_channels": ["email", "sms"],
        "thank_you_text": "谢谢！我们会尽快联系您。",
        "allowed_origins": ["https://www.acme.cn"],
    }
    data.update(overrides)
    return webform_create(actor=world.actor("admin"), data=data)


@pytest.fixture
def webform(world: Any) -> WebForm:
    return make_form(world)


class Visitor:
    """A browser (or a bot) posting to ``/f/<token>/`` from one IP address."""

    def __init__(self, ip: str = "203.0.113.7") -> None:
        self.client = Client(REMOTE_ADDR=ip)

    def post(self, form: WebForm, data: dict[str, Any], *, started: float | None = None, **kw: Any) -> Any:
        body = {"_ts": sign_start(form, at=started if started is not None else time.time() - 20), **data}
        return self.client.post(f"/f/{form.token}/", body, **kw)

    def post_json(self, form: WebForm, data: dict[str, Any], **kw: Any) -> Any:
        return self.client.post(f"/f/{form.token}/", data, content_type="application/json", **kw)

    def get(self, form: WebForm, query: str = "") -> Any:
        return self.client.get(f"/f/{form.token}/{query}")


@pytest.fixture
def visitor() -> Visitor:
    return Visitor()
