"""API schemas of web forms: input schemas list exactly the writable fields."""

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

FieldType = Literal["text", "email", "phone", "textarea", "select", "checkbox", "date"]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class FormFieldIn(Strict):
    key: str = Field(..., max_length=40, description="lowercase letters, digits and _")
    label: str | dict[str, str] = Field(..., description='one text, or {"zh-hans": …, "en": …}')
    type: FieldType
    required: bool = False
    choices: list[str] = Field(default_factory=list, max_length=50)
    maps_to: str = Field("", max_length=60, description='a customer field, "custom.<key>", "notes" or ""')


class WebFormIn(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    title: str = Field("", max_length=200)
    intro: str = Field("", max_length=4000)
    language: Literal["zh-hans", "en"] = "zh-hans"
    fields: list[FormFieldIn] = Field(..., min_length=1, max_length=30)
    source: str = Field("", max_length=50, description="written to the customer's source channel")
    assignment: Literal["user", "round_robin", "pool"] = "pool"
    assign_user: str = Field("", max_length=150, description="username, for assignment=user")
    assign_team: str = Field("", max_length=100, description="team name, for assignment=round_robin")
    tags: list[str] = Field(default_factory=list, max_length=20)
    consent_text: str = Field("", max_length=4000)
    consent_purpose: Literal["marketing", "transactional"] = "marketing"
    consent_channels: list[Literal["email", "sms", "wechat"]] = Field(default_factory=list)
    thank_you_text: str = Field("", max_length=4000)
    redirect_url: str = Field("", max_length=500)
    allowed_origins: list[str] = Field(default_factory=list, max_length=20)
    is_active: bool = True


class WebFormPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, max_length=200)
    intro: str | None = Field(None, max_length=4000)
    language: Literal["zh-hans", "en"] | None = None
    fields: list[FormFieldIn] | None = Field(None, min_length=1, max_length=30)
    source: str | None = Field(None, max_length=50)
    assignment: Literal["user", "round_robin", "pool"] | None = None
    assign_user: str | None = Field(None, max_length=150)
    assign_team: str | None = Field(None, max_length=100)
    tags: list[str] | None = Field(None, max_length=20)
    consent_text: str | None = Field(None, max_length=4000)
    consent_purpose: Literal["marketing", "transactional"] | None = None
    consent_channels: list[Literal["email", "sms", "wechat"]] | None = None
    thank_you_text: str | None = Field(None, max_length=4000)
    redirect_url: str | None = Field(None, max_length=500)
    allowed_origins: list[str] | None = Field(None, max_length=20)
    is_active: bool | None = None


class WebFormOut(Schema):
    id: int
    name: str
    title: str
    intro: str
    language: str
    fields: list[dict[str, Any]]
    source: str
    assignment: str
    assign_user: str | None
    assign_team: str | None
    tags: list[str]
    consent_text: str
    consent_purpose: str
    consent_channels: list[str]
    thank_you_text: str
    redirect_url: str
    allowed_origins: list[str]
    is_active: bool
    token: str
    public_url: str
    created_at: dt.datetime
    updated_at: dt.datetime


class SubmissionOut(Schema):
    id: int
    outcome: str
    customer_id: int | None
    data: dict[str, Any]
    errors: list[dict[str, Any]]
    user_agent: str
    created_at: dt.datetime


class SubmissionPage(Schema):
    items: list[SubmissionOut]
    next_cursor: str | None
