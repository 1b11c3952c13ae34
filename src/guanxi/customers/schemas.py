"""API schemas: input schemas list exactly the writable fields and reject anything else."""

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

Kind = Literal["person", "company"]
Gender = Literal["", "male", "female"]
Lifecycle = Literal["lead", "potential", "new", "active", "repeat", "at_risk", "churned"]
Tier = Literal["", "high", "medium", "low"]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class PhoneIn(Strict):
    label: str = Field("mobile", max_length=20)
    value: str = Field(..., max_length=40)


class EmailIn(Strict):
    label: str = Field("work", max_length=20)
    value: str = Field(..., max_length=254)


class PhoneOut(Schema):
    label: str
    value: str
    e164: str


class EmailOut(Schema):
    label: str
    value: str


class CustomerPatch(Strict):
    kind: Kind | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    company: str | None = Field(None, max_length=200)
    title: str | None = Field(None, max_length=100)
    gender: Gender | None = None
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    phones: list[PhoneIn] | None = Field(None, max_length=10)
    emails: list[EmailIn] | None = Field(None, max_length=10)
    wechat: str | None = Field(None, max_length=64)
    province: str | None = Field(None, max_length=50)
    city: str | None = Field(None, max_length=50)
    district: str | None = Field(None, max_length=50)
    address: str | None = Field(None, max_length=300)
    industry: str | None = Field(None, max_length=50)
    size: str | None = Field(None, max_length=30)
    source: str | None = Field(None, max_length=50)
    birthday: dt.date | None = None
    birthday_is_lunar: bool | None = None
    owner: str | None = Field(None, max_length=150)
    team: str | None = Field(None, max_length=100)
    tags: list[str] | None = Field(None, max_length=50)
    notes: str | None = Field(None, max_length=10000)
    custom: dict[str, Any] | None = None
    lifecycle_stage: Lifecycle | None = None
    value_tier: Tier | None = None
    grade: str | None = Field(None, max_length=10)
    external_id: str | None = Field(None, max_length=100)
    version: int | None = Field(None, description="The version you read; alternative to If-Match.")


class CustomerIn(CustomerPatch):
    name: str = Field(..., min_length=1, max_length=200)
    version: None = Field(None, exclude=True)


class CustomerOut(Schema):
    id: int
    kind: str
    name: str
    company: str
    title: str
    gender: str
    phone: str
    phone_e164: str
    email: str
    phones: list[PhoneOut]
    emails: list[EmailOut]
    wechat: str
    province: str
    city: str
    district: str
    address: str
    industry: str
    size: str
    source: str
    birthday: dt.date | None
    birthday_is_lunar: bool
    owner: str | None
    team: str | None
    tags: list[str]
    notes: str
    custom: dict[str, Any]
    lifecycle_stage: str
    value_tier: str
    grade: str
    external_id: str
    last_contacted_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: dt.datetime | None


class CustomerPage(Schema):
    items: list[CustomerOut]
    next_cursor: str | None


class BulkIn(Strict):
    mode: Literal["create", "upsert"] = "upsert"
    allow_duplicate: bool = Field(False, description="Accept phones/emails another customer already has")
    items: list[CustomerIn] = Field(..., min_length=1, max_length=1000)


class BulkResultItem(Schema):
    index: int
    id: int
    created: bool
    version: int


class BulkOut(Schema):
    created: int
    updated: int
    items: list[BulkResultItem]


class ShareIn(Strict):
    username: str = Field(..., max_length=150)


class TagIn(Strict):
    name: str = Field(..., min_length=1, max_length=50)
    color: str = Field("#64748b", pattern=r"^#[0-9a-fA-F]{6}$")


class TagPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=50)
    color: str | None = Field(None, pattern=r"^#[0-9a-fA-F]{6}$")


class TagOut(Schema):
    id: int
    name: str
    color: str


class ContactIn(Strict):
    customer_id: int
    name: str = Field(..., min_length=1, max_length=100)
    title: str = Field("", max_length=100)
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    wechat: str = Field("", max_length=64)
    is_primary: bool = False
    notes: str = Field("", max_length=5000)


class ContactPatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    title: str | None = Field(None, max_length=100)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    wechat: str | None = Field(None, max_length=64)
    is_primary: bool | None = None
    notes: str | None = Field(None, max_length=5000)
    version: int | None = None


class ContactOut(Schema):
    id: int
    customer_id: int
    name: str
    title: str
    phone: str
    phone_e164: str
    email: str
    wechat: str
    is_primary: bool
    notes: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


class ContactPage(Schema):
    items: list[ContactOut]
    next_cursor: str | None
