"""The duplicate review pages: pairs side by side with score and reasons, "Not a duplicate" (htmx),
"Merge" (the merge page), "Run scan" with a progress bar, and the rules page for admins.

Thin: ``customers.dedupe`` services and selectors decide who sees and may do what; these views read
the form and pick a template. A pair the user cannot see both halves of is a 404 here as in the API.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from guanxi.core import jobs
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, ValidationFailed
from guanxi.core.models import Job
from guanxi.core.roles import Perm
from guanxi.customers.dedupe import selectors, services
from guanxi.customers.dedupe.reasons import describe
from guanxi.customers.dedupe.rules import SIGNALS
from guanxi.customers.models import DuplicateCandidate
from guanxi.web.decorators import workspace

SIDE_FIELDS = (
    ("phone", gettext_lazy("Phone")),
    ("email", gettext_lazy("Email")),
    ("company", gettext_lazy("Company")),
    ("city", gettext_lazy("City")),
    ("address", gettext_lazy("Address")),
    ("birthday", gettext_lazy("Birthday")),
)
SIGNAL_LABELS = {
    "name": gettext_lazy("Name (characters, pinyin, typos)"),
    "phone": gettext_lazy("Phone numbers"),
    "email": gettext_lazy("Email addresses"),
    "wechat": gettext_lazy("WeChat ID"),
    "birthday": gettext_lazy("Birthday"),
    "address": gettext_lazy("Street address"),
    "city": gettext_lazy("City"),
    "company": gettext_lazy("Company"),
    "custom": gettext_lazy("Custom fields (rare shared values)"),
}
PAGE = 30


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined,no-any-return]


def _pair_view(pair: DuplicateCandidate, actor: Actor) -> dict[str, Any]:
    data = selectors.pair_to_dict(pair, actor)
    a, b = data["customer_a"], data["customer_b"]
    data["rows"] = [
        {"label": label, "a": a[key] or "", "b": b[key] or "", "same": bool(a[key]) and a[key] == b[key]}
        for key, label in SIDE_FIELDS
        if a[key] or b[key]
    ]
    data["percent"] = round(pair.score * 100)
    data["chips"] = [
        {"text": describe(r, actor), "against": float(r.get("weight", 0)) < 0} for r in pair.reasons
    ]
    data["merge_url"] = f"/customers/{pair.customer_a_id}/merge/{pair.customer_b_id}/"
    return data


def _running_scan(actor: Actor) -> Job | None:
    return (
        Job.objects.filter(
            organization_id=actor.org_id,
            kind=services.SCAN_KIND,
            state__in=[Job.State.QUEUED, Job.State.RUNNING],
        )
        .order_by("-id")
        .first()
    )


@require_GET
@workspace()
def duplicates(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    status = request.GET.get("status", "open")
    try:
        min_score = float(request.GET.get("min_score") or 0)
    except ValueError:
        min_score = 0.0
    cluster = request.GET.get("cluster", "")
    page = selectors.duplicate_list(
        actor=actor,
        status=status if status in selectors.STATUSES else "open",
        min_score=min(max(min_score, 0.0), 1.0),
        cluster=int(cluster) if cluster.isdigit() else None,
        cursor=request.GET.get("cursor", ""),
        limit=PAGE,
    )
    pairs = [_pair_view(p, actor) for p in page.items]
    groups = [
        {"cluster": key, "pairs": list(items)}
        for key, items in groupby(
            sorted(pairs, key=lambda p: (p["cluster"] or 0, -p["score"])), key=lambda p: p["cluster"]
        )
    ]
    groups.sort(key=lambda g: -max(p["score"] for p in g["pairs"]))
    job_id = request.GET.get("job", "")
    job = None
    if job_id.isdigit():
        job = Job.objects.filter(
            pk=int(job_id), organization_id=actor.org_id, kind=services.SCAN_KIND
        ).first()
    job = job or _running_scan(actor)
    context = {
        "section": "duplicates",
        "groups": groups,
        "next_cursor": page.next_cursor,
        "status": status,
        "min_score": min_score,
        "cluster": cluster,
        "counts": selectors.duplicate_counts(actor=actor),
        "can_scan": services.can_scan(actor),
        "can_review": services.can_review(actor),
        "can_merge": actor.has(Perm.CUSTOMER_MERGE),
        "is_admin": actor.has(Perm.ORG_ADMIN),
        "job": job,
        "active": job is not None and job.state in (Job.State.QUEUED, Job.State.RUNNING),
        "last_scan": Job.objects.filter(
            organization_id=actor.org_id, kind=services.SCAN_KIND, state=Job.State.SUCCEEDED
        )
        .order_by("-id")
        .first(),
    }
    if request.htmx and request.GET.get("cursor"):  # type: ignore[attr-defined]
        return render(request, "web/duplicates/list.html#more", context)
    return render(request, "web/duplicates/list.html", context)


@require_POST
@workspace()
def duplicates_scan(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    try:
        job = services.dedupe_scan_start(actor=actor)
    except Conflict as exc:
        messages.info(request, str(exc.detail))
        running = _running_scan(actor)
        return redirect(reverse("duplicates") + (f"?job={running.pk}" if running else ""))
    return redirect(reverse("duplicates") + f"?job={job.pk}")


@require_GET
@workspace()
def duplicates_scan_status(request: HttpRequest, job_id: int) -> HttpResponse:
    actor = _actor(request)
    job = Job.objects.filter(pk=job_id, organization_id=actor.org_id, kind=services.SCAN_KIND).first()
    if job is None:
        job = jobs.job_get(actor=actor, job_id=job_id)  # raises NotFound → 404
    context = {"job": job, "active": job.state in (Job.State.QUEUED, Job.State.RUNNING)}
    return render(request, "web/duplicates/list.html#scan_status", context)


def _decide(request: HttpRequest, candidate_id: int, *, dismiss: bool) -> HttpResponse:
    actor = _actor(request)
    if dismiss:
        services.duplicate_dismiss(actor=actor, candidate_id=candidate_id)
    else:
        services.duplicate_reopen(actor=actor, candidate_id=candidate_id)
    pair = selectors.duplicate_get(actor=actor, candidate_id=candidate_id)
    context = {
        "p": _pair_view(pair, actor),
        "can_review": True,
        "can_merge": actor.has(Perm.CUSTOMER_MERGE),
        "just_decided": True,
        "counts": selectors.duplicate_counts(actor=actor),  # the tabs' counts change with the decision
    }
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/duplicates/_pair.html", context)
    return redirect("duplicates")


@require_POST
@workspace()
def duplicate_dismiss(request: HttpRequest, candidate_id: int) -> HttpResponse:
    return _decide(request, candidate_id, dismiss=True)


@require_POST
@workspace()
def duplicate_reopen(request: HttpRequest, candidate_id: int) -> HttpResponse:
    return _decide(request, candidate_id, dismiss=False)


@require_http_methods(["GET", "POST"])
@workspace(Perm.ORG_ADMIN)
def duplicate_settings(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    errors: dict[str, str] = {}
    current = services.dedupe_settings_get(actor=actor)
    if request.method == "POST":
        overrides = {k: dict(v) for k, v in current["overrides"].items()}
        for signal in SIGNALS:
            overrides.setdefault(signal, {})["enabled"] = request.POST.get(f"on_{signal}") == "on"
        ignore = [k.strip() for k in request.POST.get("custom_ignore", "").split(",") if k.strip()]
        overrides["custom"]["ignore"] = ignore
        raw = request.POST.get("threshold", "").strip()
        try:
            threshold: Any = float(raw)
        except ValueError:
            threshold = raw or None
        try:
            services.dedupe_settings_update(actor=actor, threshold=threshold, rules=overrides)
        except ValidationFailed as exc:
            errors = {e.field: str(e.message) for e in exc.errors}
        else:
            messages.success(request, _("Duplicate rules saved. They apply from the next scan."))
            return redirect("duplicate_settings")
    current = services.dedupe_settings_get(actor=actor)
    signals = [
        {"key": s, "label": SIGNAL_LABELS[s], "on": current["rules"][s].get("enabled", True)} for s in SIGNALS
    ]
    return render(
        request,
        "web/duplicates/settings.html",
        {
            "section": "duplicates",
            "threshold": request.POST.get("threshold", current["threshold"])
            if errors
            else current["threshold"],
            "signals": signals,
            "custom_ignore": ", ".join(current["rules"]["custom"].get("ignore", [])),
            "errors": errors,
        },
        status=422 if errors else 200,
    )
