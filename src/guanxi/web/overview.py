"""The customers overview: the actor's visible customers by lifecycle stage, value tier, grade,
province, month of creation and owner, drawn by plotly in the browser.

Figures are plain plotly JSON dicts built here (building ``plotly.graph_objects`` figures costs
milliseconds each for validation we do not need at run time; the tests validate the dicts with
plotly instead). Colours repeat the badge colours of ``app.css`` so a stage looks the same on the
chart and in the list. ``plotly.min.js`` comes from the installed plotly package
(``web/staticfinders.py``), never from a CDN."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from guanxi.core.roles import Scope
from guanxi.customers.models import Customer
from guanxi.web import page_cache
from guanxi.web.decorators import workspace
from guanxi.web.overview_data import (
    STAGE_ORDER,
    TOP_OWNERS,
    TOP_PROVINCES,
    Overview,
    customer_overview,
    month_starts,
    org_zone,
)

# The overview aggregates every visible customer (seconds for an administrator at a million rows):
# it is computed at most once per five minutes per organisation and visibility scope, and the page
# says when ("as of 10:32"). Not dropped on every change like the list's count: an organisation
# that edits all day would otherwise recompute it on almost every visit.
OVERVIEW_SECONDS = 300

FONT = (
    '-apple-system, BlinkMacSystemFont, "Segoe UI", "PingFang SC", "Hiragino Sans GB", '
    '"Microsoft YaHei", "WenQuanYi Micro Hei", "Noto Sans CJK SC", system-ui, sans-serif'
)
INK, MUTED, GRID = "#374151", "#6b7280", "#eef0f3"
BRAND, ACCENT = "#c0262d", "#2754c5"
STAGE_COLORS = {
    "lead": "#818cf8",
    "potential": "#6366f1",
    "new": "#0891b2",
    "active": "#16a34a",
    "repeat": "#15803d",
    "at_risk": "#ea580c",
    "churned": "#a1a1aa",
}
TIER_COLORS = {"high": BRAND, "medium": "#f59e0b", "low": "#a1a1aa", "": "#e5e7eb"}
GRADE_COLORS = {"A": BRAND, "B": "#f59e0b", "C": "#93c5fd", "D": "#9ca3af", "": "#e5e7eb"}


def _layout(**extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "font": {"family": FONT, "size": 12, "color": INK},
        "margin": {"l": 8, "r": 12, "t": 8, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "showlegend": False,
        "hoverlabel": {"font": {"family": FONT}},
        "separators": ".,",
    }
    layout.update(extra)
    return layout


def _axis(**extra: Any) -> dict[str, Any]:
    axis = {"gridcolor": GRID, "zeroline": False, "automargin": True, "tickfont": {"color": MUTED}}
    axis.update(extra)
    return axis


def _list_url(**params: str) -> str:
    return f"{reverse('customers')}?{urlencode(params)}"


def stage_figure(data: Overview) -> dict[str, Any]:
    labels = dict(Customer.Lifecycle.choices)
    stages = [s for s in STAGE_ORDER if data.stages.get(s)]
    return {
        "data": [
            {
                "type": "funnel",
                "y": [str(labels[s]) for s in stages],
                "x": [data.stages[s] for s in stages],
                "customdata": [_list_url(lifecycle_stage=s) for s in stages],
                "marker": {"color": [STAGE_COLORS.get(s, ACCENT) for s in stages]},
                "textinfo": "value+percent total",
                "textfont": {"color": "#fff"},
                "connector": {"fillcolor": "#f3f4f6"},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": _layout(yaxis=_axis(gridcolor="rgba(0,0,0,0)")),
    }


def _donut(
    values: dict[str, int], labels: dict[str, str], colors: dict[str, str], param: str
) -> dict[str, Any]:
    keys = [k for k in labels if values.get(k)]
    return {
        "data": [
            {
                "type": "pie",
                "hole": 0.55,
                "sort": False,
                "direction": "clockwise",
                "labels": [labels[k] for k in keys],
                "values": [values[k] for k in keys],
                "customdata": [_list_url(**{param: k}) if k else "" for k in keys],
                "marker": {
                    "colors": [colors.get(k, ACCENT) for k in keys],
                    "line": {"color": "#fff", "width": 2},
                },
                "textinfo": "percent",
                "hovertemplate": "%{label}: %{value:,} (%{percent})<extra></extra>",
            }
        ],
        "layout": _layout(showlegend=True, legend={"orientation": "v", "x": 1, "y": 0.5}),
    }


def tier_figure(data: Overview) -> dict[str, Any]:
    labels = {value: str(label) for value, label in Customer.ValueTier.choices if value}
    labels[""] = _("Not tiered")
    return _donut(dict(data.tiers), labels, TIER_COLORS, "value_tier")


def grade_figure(data: Overview) -> dict[str, Any]:
    known = sorted(g for g in data.grades if g)
    labels = {g: _("Grade %(grade)s") % {"grade": g} for g in known}
    labels[""] = _("Not graded")
    return _donut(dict(data.grades), labels, GRADE_COLORS, "grade")


def province_figure(data: Overview) -> dict[str, Any]:
    top = [(p, n) for p, n in data.provinces if p][:TOP_PROVINCES]
    rest = sum(n for p, n in data.provinces) - sum(n for _p, n in top)
    names = [p for p, _n in top]
    counts = [n for _p, n in top]
    urls = [_list_url(province=p) for p in names]
    if rest:
        names.append(_("Other or unknown"))
        counts.append(rest)
        urls.append("")
    # Horizontal bars, biggest on top: long Chinese province names stay readable on a phone.
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": names[::-1],
                "x": counts[::-1],
                "customdata": urls[::-1],
                "marker": {"color": ACCENT},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": _layout(
            height=max(260, 22 * len(names) + 40),
            xaxis=_count_axis(max(counts, default=0)),
            yaxis=_axis(gridcolor="rgba(0,0,0,0)"),
            bargap=0.25,
        ),
    }


def month_axis_format() -> tuple[str, str]:
    """d3 formats for the month axis and its hover label, in the active language (plotly's own
    month names are English only, so Chinese spells the date with 年/月)."""
    if (translation.get_language() or "").startswith("zh"):
        return "%Y年%-m月", "%Y年%-m月"
    return "%b %Y", "%B %Y"


def _count_axis(largest: int) -> dict[str, Any]:
    """Whole numbers: a handful of customers must not read "0.5" or "500m"; a million reads "1M"."""
    axis = _axis(rangemode="tozero", tickformat="~s" if largest >= 100_000 else ",d")
    if largest < 10:
        axis["dtick"] = 1
    return axis


def months_figure(data: Overview) -> dict[str, Any]:
    tick, hover = month_axis_format()
    counts = [n for _d, n in data.months]
    return {
        "data": [
            {
                "type": "scatter",
                "mode": "lines+markers",
                "x": [d.isoformat() for d, _n in data.months],
                "y": counts,
                "line": {"color": BRAND, "width": 2.5},
                "marker": {"color": BRAND, "size": 6},
                "fill": "tozeroy",
                "fillcolor": "rgba(192,38,45,0.08)",
                "hovertemplate": f"%{{x|{hover}}}: %{{y:,}}<extra></extra>",
            }
        ],
        "layout": _layout(
            xaxis=_axis(type="date", tickformat=tick, gridcolor="rgba(0,0,0,0)", dtick="M2"),
            yaxis=_count_axis(max(counts, default=0)),
        ),
    }


def owner_names(ids: list[int]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=ids)
    return {u.pk: str(u.get_full_name() or u.get_username()) for u in users}


def owner_figure(data: Overview) -> dict[str, Any] | None:
    if data.owners is None:
        return None
    top = data.owners[:TOP_OWNERS]
    names = owner_names([pk for pk, _n in top if pk is not None])
    rest = sum(n for _pk, n in data.owners[TOP_OWNERS:])
    labels = [names.get(pk, "?") if pk is not None else _("No owner") for pk, _n in top]
    counts = [n for _pk, n in top]
    if rest:
        labels.append(_("Everyone else"))
        counts.append(rest)
    return {
        "data": [
            {
                "type": "bar",
                "orientation": "h",
                "y": labels[::-1],
                "x": counts[::-1],
                "marker": {"color": "#475569"},
                "hovertemplate": "%{y}: %{x:,}<extra></extra>",
            }
        ],
        "layout": _layout(
            height=max(220, 22 * len(labels) + 40),
            xaxis=_count_axis(max(counts, default=0)),
            yaxis=_axis(gridcolor="rgba(0,0,0,0)"),
            bargap=0.25,
        ),
    }


def overview_figures(data: Overview) -> dict[str, dict[str, Any]]:
    if not data.total:
        return {}
    figures = {
        "stages": stage_figure(data),
        "tiers": tier_figure(data),
        "grades": grade_figure(data),
        "provinces": province_figure(data),
        "months": months_figure(data),
    }
    owners = owner_figure(data)
    if owners is not None:
        figures["owners"] = owners
    return figures


def cached_overview(actor: Any) -> tuple[Overview, Any]:
    """(overview, when it was computed) for the actor's visibility scope (everyone in the
    organisation, or this user and their team) and the month the chart's window ends."""
    scope = "all" if actor.scope == Scope.ALL else f"{actor.scope}:{actor.user.pk}:{actor.membership.team_id}"
    month = month_starts(timezone.localdate(timezone.now(), org_zone(actor)), 1)[0].isoformat()
    return page_cache.cached_for(
        actor.org,
        f"overview:{scope}:{month}",
        lambda: (customer_overview(actor=actor), timezone.now()),
        OVERVIEW_SECONDS,
    )


@require_GET
@workspace()
def customers_overview(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    data, computed_at = cached_overview(actor)
    this_month = data.months[-1][1] if data.months else 0
    return render(
        request,
        "web/customers/overview.html",
        {
            "section": "overview",
            "overview": data,
            "computed_at": computed_at,
            "figures": overview_figures(data),
            "kpis": {
                "total": data.total,
                "new_this_month": this_month,
                "grade_a": data.grades.get("A", 0),
                "at_risk": data.stages.get("at_risk", 0),
            },
        },
    )
