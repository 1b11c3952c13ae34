"""Workspace pages of the engagement app: my day, the follow-up records table, logging a follow-up.

Thin like the API: forms clean input, services write, selectors read. Hook into the shell with
``path("engagement/", include("guanxi.engagement.urls"))`` in ``guanxi/urls.py``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST

from guanxi.core.errors import ValidationFailed
from guanxi.core.roles import Perm
from guanxi.customers.selectors import customer_get
from guanxi.engagement import selectors, services
from guanxi.engagement.models import Activity
from guanxi.web.decorators import workspace


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(label=_l("Kind"), choices=Activity.Kind.choices)
    occurred_at = forms.DateTimeField(
        label=_l("When"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    subject = forms.CharField(label=_l("Subject"), max_length=200, required=False)
    content = forms.CharField(
        label=_l("What happened"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    outcome = forms.CharField(label=_l("Outcome"), max_length=100, required=False)
    next_step = forms.CharField(label=_l("Next step"), max_length=300, required=False)
    next_follow_up_at = forms.DateTimeField(
        label=_l("Next follow-up"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class FilterForm(forms.Form):
    rep = forms.CharField(label=_l("Rep"), required=False, max_length=150)
    team = forms.CharField(label=_l("Team"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_l("Kind"), required=False, choices=[("", _l("All kinds")), *Activity.Kind.choices]
    )
    outcome = forms.CharField(label=_l("Outcome"), required=False, max_length=100)
    date_from = forms.DateField(
        label=_l("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(label=_l("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _day_start(day: dt.date | None, *, next_day: bool = False) -> dt.datetime | None:
    if day is None:
        return None
    if next_day:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(0)))  # the org zone is active


@workspace()
def my_day(request: HttpRequest) -> HttpResponse:
    day = selectors.my_day(actor=request.actor)  # type: ignore[attr-defined]
    return render(request, "engagement/my_day.html", {"day": day, "section": "my_day"})


@require_POST
@workspace(Perm.CUSTOMER_CHANGE)
def task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    done = request.POST.get("done", "1") == "1"
    services.task_update(actor=request.actor, task_id=task_id, data={"done": done})  # type: ignore[attr-defined]
    if getattr(request, "htmx", False):
        return HttpResponse("")
    return redirect("engagement:my_day")


@workspace()
def activities(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    filters = selectors.ActivityFilters()
    if form.is_valid():
        data = form.cleaned_data
        filters = selectors.ActivityFilters(
            rep=data["rep"],
            team=data["team"],
            kind=data["kind"],
            outcome=data["outcome"],
            occurred_from=_day_start(data["date_from"]),
            occurred_to=_day_start(data["date_to"], next_day=True),
        )
    cursor = request.GET.get("cursor", "")
    try:
        page = selectors.activity_list(actor=request.actor, filters=filters, cursor=cursor, limit=50)  # type: ignore[attr-defined]
    except ValidationFailed:
        page = selectors.activity_list(actor=request.actor, filters=filters, limit=50)  # type: ignore[attr-defined]
    export = {
        k: v
        for k, v in {
            "rep": filters.rep,
            "team": filters.team,
            "kind": filters.kind,
            "outcome": filters.outcome,
            "from": filters.occurred_from.isoformat() if filters.occurred_from else "",
            "to": filters.occurred_to.isoformat() if filters.occurred_to else "",
        }.items()
        if v
    }
    query = request.GET.copy()
    query.pop("cursor", None)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "section": "activities",
        "export_url": "/api/v1/activities/export.csv" + (f"?{urlencode(export)}" if export else ""),
        "more_query": query.urlencode(),
        "can_export": request.actor.has(Perm.CUSTOMER_EXPORT),  # type: ignore[attr-defined]
    }
    return render(request, "engagement/activities.html", context)


@workspace()
def activity_new(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    customer = customer_get(actor=actor, customer_id=customer_id)
    if not actor.has(Perm.CUSTOMER_CHANGE):
        from guanxi.web.decorators import forbidden

        return forbidden(request)
    form = ActivityForm(request.POST or None, initial={"kind": "call"})
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "") or k == "kind"}
        try:
            services.activity_create(actor=actor, customer_id=customer.pk, data=data)
        except ValidationFailed as exc:
            for err in exc.errors:
                form.add_error(err.field if err.field in form.fields else None, err.message)
        else:
            messages.success(request, _("Follow-up logged."))
            return redirect(reverse("customer_detail", args=[customer.pk]))
    return render(
        request, "engagement/activity_form.html", {"form": form, "customer": customer, "section": "customers"}
    )
