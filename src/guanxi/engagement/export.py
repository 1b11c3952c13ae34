"""The follow-up records table (跟进记录表) as CSV: UTF-8 with BOM (Excel), formulas neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit
from guanxi.core.context import Actor
from guanxi.core.roles import Perm
from guanxi.core.spreadsheet import BOM, safe_cell
from guanxi.engagement.models import Activity
from guanxi.engagement.selectors import ActivityFilters, activity_filter, org_zone


def header() -> list[str]:
    return [
        _("Occurred at"),
        _("Customer ID"),
        _("Customer"),
        _("Kind"),
        _("Subject"),
        _("Content"),
        _("Outcome"),
        _("Next step"),
        _("Next follow-up"),
        _("Rep"),
        _("Team"),
    ]


def activities_export(*, actor: Actor, filters: ActivityFilters) -> Iterator[str]:
    """Audit the export, then stream the CSV rows of every matching visible activity."""
    actor.require(Perm.CUSTOMER_EXPORT)
    qs = activity_filter(actor, filters).select_related("customer", "created_by", "team")
    audit(
        actor=actor,
        action="export",
        object_type="activity",
        object_repr=_("follow-up records"),
        context={
            "filters": {k: str(v) for k, v in vars(filters).items() if v not in (None, "")},
            "rows": qs.count(),
        },
    )
    zone = org_zone(actor.org.time_zone)
    kinds = dict(Activity.Kind.choices)

    def fmt(value: object) -> str:
        if value is None:
            return ""
        return timezone.localtime(value, zone).strftime("%Y-%m-%d %H:%M")  # type: ignore[arg-type]

    def rows() -> Iterator[str]:
        buf = io.StringIO()
        writer = csv.writer(buf)

        def flush() -> str:
            out = buf.getvalue()
            buf.seek(0)
            buf.truncate()
            return out

        writer.writerow([safe_cell(h) for h in header()])
        yield BOM + flush()
        for a in qs.order_by("-occurred_at", "-id").iterator(chunk_size=1000):
            writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        fmt(a.occurred_at),
                        a.customer_id,
                        a.customer.name,
                        kinds.get(a.kind, a.kind),
                        a.subject,
                        a.content,
                        a.outcome,
                        a.next_step,
                        fmt(a.next_follow_up_at),
                        a.created_by.get_username() if a.created_by else "",
                        a.team.name if a.team else "",
                    )
                ]
            )
            yield flush()

    return rows()
