"""API schemas of the engagement app: input schemas list exactly the writable fields."""

import datetime as dt
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

ActivityKind = Literal["call", "email", "meeting", "visit", "wechat", "sms", "note"]
PurposeT = Literal["marketing", "transactional"]


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


class ActivityIn(Strict):
    customer_id: int
    kind: ActivityKind
    occurred_at: dt.datetime | None = None
    subject: str = Field("", max_length=200)
    content: str = Field("", max_length=20000)
    outcome: str = Field("", max_length=100)
    next_step: str = Field("", max_length=300)
    next_follow_up_at: dt.datetime | None = None
    participant_ids: list[int] = Field(default_factory=list, max_length=50)
    contact_ids: list[int] = Field(default_factory=list, max_length=50)
    opportunity_id: int | None = None
    ticket_id: int | None = None


class ActivityPatch(Strict):
    kind: ActivityKind | None = None
    occurred_at: dt.datetime | None = None
    subject: str | None = Field(None, max_length=200)
    content: str | None = Field(None, max_length=20000)
    outcome: str | None = Field(None, max_length=100)
    next_step: str | None = Field(None, max_length=300)
    next_follow_up_at: dt.datetime | None = None
    participant_ids: list[int] | None = Field(None, max_length=50)
    contact_ids: list[int] | None = Field(None, max_length=50)


class ActivityOut(Schema):
    id: int
    customer_id: int
    customer_name: str
    kind: str
    occurred_at: dt.datetime
    subject: str
    content: str
    outcome: str
    next_step: str
    next_follow_up_at: dt.datetime | None
    rep: str | None
    team: str | None
    participant_ids: list[int]
    contact_ids: list[int]
    opportunity_id: int | None
    ticket_id: int | None
    created_at: dt.datetime


class ActivityPage(Schema):
    items: list[ActivityOut]
    next_cursor: str | None


class TaskIn(Strict):
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=5000)
    assignee: str | None = Field(None, max_length=150, description="username; default: yourself")
    due_at: dt.datetime
    priority: Literal["low", "normal", "high"] = "normal"
    customer_id: int | None = None
    activity_id: int | None = None
    reminder_minutes: int | None = Field(None, ge=0, le=60 * 24 * 30)


class TaskPatch(Strict):
    title: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=5000)
    assignee: str | None = Field(None, max_length=150)
    due_at: dt.datetime | None = None
    priority: Literal["low", "normal", "high"] | None = None
    reminder_minutes: int | None = Field(None, ge=0, le=60 * 24 * 30)
    done: bool | None = None


class TaskOut(Schema):
    id: int
    title: str
    description: str
    assignee: str
    due_at: dt.datetime
    priority: str
    customer_id: int | None
    activity_id: int | None
    reminder_minutes: int | None
    done: bool
    done_at: dt.datetime | None
    created_at: dt.datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class MyDayOut(Schema):
    overdue: list[TaskOut]
    today: list[TaskOut]
    upcoming: list[TaskOut]


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    read_at: dt.datetime | None
    created_at: dt.datetime


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class MarkReadIn(Strict):
    ids: list[int] | None = Field(None, max_length=500, description="omit to mark all read")


class PreferenceIn(Strict):
    email_digest: bool


class PreferenceOut(Schema):
    email_digest: bool


class TemplateIn(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    purpose: PurposeT = "marketing"
    subject: str = Field(..., min_length=1, max_length=200)
    body_text: str = Field(..., min_length=1, max_length=50000)
    body_html: str = Field("", max_length=100000)


class TemplatePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    purpose: PurposeT | None = None
    subject: str | None = Field(None, min_length=1, max_length=200)
    body_text: str | None = Field(None, min_length=1, max_length=50000)
    body_html: str | None = Field(None, max_length=100000)


class TemplateOut(Schema):
    id: int
    name: str
    purpose: str
    subject: str
    body_text: str
    body_html: str
    updated_at: dt.datetime


class EmailSendIn(Strict):
    template_id: int | None = None
    subject: str = Field("", max_length=200)
    body_text: str = Field("", max_length=50000)
    body_html: str = Field("", max_length=100000)
    purpose: PurposeT = "transactional"


class EmailOut(Schema):
    id: int
    customer_id: int
    activity_id: int | None
    template_id: int | None
    purpose: str
    from_email: str
    to_email: str
    subject: str
    status: str
    error: str
    attempts: int
    created_at: dt.datetime
    sent_at: dt.datetime | None


class BounceIn(Strict):
    error: str = Field(..., min_length=1, max_length=2000)


class ConsentIn(Strict):
    purpose: PurposeT
    channel: Literal["email", "sms", "wechat"]
    granted: bool
    source: str = Field("", max_length=100)
    at: dt.datetime | None = None


class ConsentOut(Schema):
    id: int
    customer_id: int
    purpose: str
    channel: str
    granted: bool
    source: str
    at: dt.datetime


class SettingsIn(Strict):
    from_name: str = Field("", max_length=100)
    from_email: str = Field("", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")
    reply_to: str = Field("", max_length=254, pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SettingsOut(Schema):
    from_name: str
    from_email: str
    reply_to: str


CareKind = Literal["birthday", "holiday", "anniversary", "revisit"]


class CareRuleIn(Strict):
    name: str = Field(..., min_length=1, max_length=100)
    kind: CareKind
    enabled: bool = True
    audience: dict[str, Any] = Field(default_factory=dict)
    channel: Literal["email", "task"] = "email"
    template_id: int | None = None
    send_time: dt.time = dt.time(9, 0)
    country: str = Field("CN", min_length=2, max_length=2)
    holidays: list[str] = Field(default_factory=list, max_length=50)
    revisit_days: dict[str, int] = Field(default_factory=dict)
    default_revisit_days: int | None = Field(None, ge=1, le=3650)


class CareRulePatch(Strict):
    name: str | None = Field(None, min_length=1, max_length=100)
    kind: CareKind | None = None
    enabled: bool | None = None
    audience: dict[str, Any] | None = None
    channel: Literal["email", "task"] | None = None
    template_id: int | None = None
    send_time: dt.time | None = None
    country: str | None = Field(None, min_length=2, max_length=2)
    holidays: list[str] | None = Field(None, max_length=50)
    revisit_days: dict[str, int] | None = None
    default_revisit_days: int | None = Field(None, ge=1, le=3650)


class CareRuleOut(Schema):
    id: int
    name: str
    kind: str
    enabled: bool
    audience: dict[str, Any]
    channel: str
    template_id: int | None
    send_time: dt.time
    country: str
    holidays: list[str]
    revisit_days: dict[str, int]
    default_revisit_days: int | None


class PreviewItem(Schema):
    customer_id: int
    name: str
    occasion_key: str
    occasion: str
    will_send: bool
    reason: str


class PreviewOut(Schema):
    rule_id: int
    run_at: dt.datetime
    channel: str
    items: list[PreviewItem]


class TimelineItemOut(Schema):
    id: str
    source: str
    kind: str
    at: dt.datetime
    title: str
    body: str
    actor: str
    data: dict[str, Any]


class TimelineOut(Schema):
    items: list[TimelineItemOut]
    next_cursor: str | None
