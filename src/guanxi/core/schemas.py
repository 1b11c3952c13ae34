import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

RoleName = Literal["admin", "manager", "sales", "marketing", "service", "readonly"]
FieldTypeName = Literal["text", "number", "date", "choice", "multi_choice", "bool"]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class MeOut(Schema):
    username: str
    organization: str
    role: str
    team: str | None
    permissions: list[str]
    organizations: list[str]


class MembershipOut(Schema):
    id: int
    username: str
    email: str
    display_name: str
    role: str
    team: str | None
    is_active: bool
    created_at: dt.datetime


class MembershipIn(Strict):
    username: str = Field(..., min_length=1, max_length=150)
    role: RoleName
    team: str | None = Field(None, max_length=100)
    email: str = Field("", max_length=254)
    display_name: str = Field("", max_length=150)
    password: str | None = Field(None, min_length=8, max_length=128)


class MembershipPatch(Strict):
    role: RoleName | None = None
    team: str | None = Field(None, max_length=100)
    is_active: bool | None = None


class TeamOut(Schema):
    id: int
    name: str


class TeamIn(Strict):
    name: str = Field(..., min_length=1, max_length=100)


class CustomFieldOut(Schema):
    id: int
    key: str
    label: str
    field_type: str
    choices: list[str]
    required: bool
    unique: bool
    position: int


class CustomFieldIn(Strict):
    key: str = Field(..., min_length=1, max_length=50)
    label: str = Field(..., min_length=1, max_length=100)
    field_type: FieldTypeName
    choices: list[str] = Field(default_factory=list, max_length=200)
    required: bool = False
    unique: bool = False
    position: int = Field(0, ge=0, le=10000)


class CustomFieldPatch(Strict):
    label: str | None = Field(None, min_length=1, max_length=100)
    field_type: FieldTypeName | None = None
    choices: list[str] | None = Field(None, max_length=200)
    required: bool | None = None
    unique: bool | None = None
    position: int | None = Field(None, ge=0, le=10000)


class AuditOut(Schema):
    id: int
    action: str
    actor: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    context: dict[str, Any]
    created_at: dt.datetime


class JobOut(Schema):
    id: int
    kind: str
    state: str
    progress_done: int
    progress_total: int | None
    percent: int | None
    counts: dict[str, Any]
    errors: list[Any]
    result: dict[str, Any]
    message: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
