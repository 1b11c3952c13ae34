"""Huey tasks of the engagement app."""

from __future__ import annotations

from huey.contrib.djhuey import db_task

from guanxi.engagement.email import email_deliver


@db_task(retries=3, retry_delay=60)  # type: ignore[untyped-decorator]
def deliver_email(message_id: int) -> str:
    # email_deliver claims the row first: a retried or duplicated message never sends twice, and
    # it raises on a failure before SMTP accepted the message, so huey retries it.
    return email_deliver(message_id)
