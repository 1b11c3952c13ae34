"""The customers overview: counts of the actor's VISIBLE customers, charted with the local plotly."""

from __future__ import annotations

import datetime as dt
import json
import re
import zoneinfo
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.templatetags.static import static
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.customers.models import Customer
from guanxi.customers.services import customer_delete
from guanxi.web.overview_data import customer_overview, month_starts
from guanxi.web.staticfinders import PLOTLY_JS

URL = "/customers/overview/"
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _figures(html: str) -> dict[str, Any]:
    out = {}
    for name in ("stages", "months", "tiers", "grades", "provinces", "owners"):
        marker = f'<script id="fig-{name}" type="application/json">'
        if marker in html:
            start = html.index(marker) + len(marker)
            out[name] = json.loads(html[start : html.index("</script>", start)])
    return out


def _bars(fig: dict[str, Any]) -> dict[str, int]:
    trace = fig["data"][0]
    if trace["type"] == "pie":
        return dict(zip(trace["labels"], trace["values"], strict=True))
    return dict(zip(trace["y"], trace["x"], strict=True))


@pytest.fixture
def spread(world: Any, make_customer: Any) -> dict[str, Any]:
    return {
        "甲": make_customer(
            "owner", name="甲", province="广东", lifecycle_stage="active", grade="A", value_tier="high"
        ),
        "乙": make_customer("owner", name="乙", province="广东", lifecycle_stage="lead", grade="B"),
        "丙": make_customer("teammate", name="丙", province="浙江", lifecycle_stage="active", grade="A"),
        "丁": make_customer("outsider", name="丁", province="北京", lifecycle_stage="churned"),
        "戊": make_customer("other_sales", name="戊", province="广东", lifecycle_stage="active", grade="A"),
    }


@pytest.mark.parametrize(
    ("who", "total", "stages", "provinces", "owners"),
    [
        ("owner", 2, {"Active": 1, "Lead": 1}, {"广东": 2}, None),
        ("teammate", 1, {"Active": 1}, {"浙江": 1}, None),
        ("outsider", 1, {"Churned": 1}, {"北京": 1}, None),
        ("manager", 3, {"Active": 2, "Lead": 1}, {"广东": 2, "浙江": 1}, {"owner": 2, "teammate": 1}),
        ("admin", 4, {"Active": 2, "Lead": 1, "Churned": 1}, {"广东": 2, "浙江": 1, "北京": 1}, None),
        ("other_admin", 1, {"Active": 1}, {"广东": 1}, {"other_sales": 1}),
        ("readonly", 4, {"Active": 2, "Lead": 1, "Churned": 1}, {"广东": 2, "浙江": 1, "北京": 1}, None),
    ],
)
def test_counts_cover_only_visible_customers(
    login: Any,
    spread: Any,
    who: str,
    total: int,
    stages: dict[str, int],
    provinces: dict[str, int],
    owners: dict[str, int] | None,
) -> None:
    response = login(who).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="kpi-total">{total}<' in html
    figs = _figures(html)
    assert _bars(figs["stages"]) == stages
    assert _bars(figs["provinces"]) == provinces
    assert sum(figs["months"]["data"][0]["y"]) == total  # all created this month
    if who == "admin":  # the organisation-wide role that assigns sees every owner
        assert _bars(figs["owners"]) == {"owner": 2, "teammate": 1, "outsider": 1}
    elif owners is None:  # reps see only their own; viewers do not hand customers out
        assert "owners" not in figs and 'id="chart-owners"' not in html
    else:
        assert _bars(figs["owners"]) == owners


def test_grades_and_tiers_are_labelled_and_link_to_the_filtered_list(login: Any, spread: Any) -> None:
    figs = _figures(login("manager").get(URL).content.decode())
    grades = figs["grades"]["data"][0]
    assert dict(zip(grades["labels"], grades["values"], strict=True)) == {"Grade A": 2, "Grade B": 1}
    assert grades["customdata"][0] == "/customers/?grade=A"
    assert _bars(figs["tiers"]) == {"High": 1, "Not tiered": 2}
    assert figs["stages"]["data"][0]["customdata"][0] == "/customers/?lifecycle_stage=lead"


def test_figures_are_valid_plotly_and_translated(world: Any, spread: Any) -> None:
    from django.test import Client

    client = Client(headers={"Accept-Language": "zh-hans"})
    client.force_login(world.members["manager"].user)
    html = client.get(URL).content.decode()
    figs = _figures(html)
    assert set(figs) == {"stages", "months", "tiers", "grades", "provinces", "owners"}
    for fig in figs.values():
        go.Figure(fig)  # raises on anything plotly would not draw
    assert _bars(figs["stages"]) == {"活跃": 2, "线索": 1}  # the catalogue's stage names
    months = figs["months"]
    assert months["layout"]["xaxis"]["tickformat"] == "%Y年%-m月"  # not plotly's English month names
    this_month = timezone.localtime(timezone.now(), SHANGHAI).date().replace(day=1)
    assert months["data"][0]["x"][-1] == this_month.isoformat()


def test_deleted_and_other_org_customers_are_not_counted(login: Any, world: Any, spread: Any) -> None:
    customer_delete(actor=world.actor("admin"), customer_id=spread["乙"].pk)
    html = login("owner").get(URL).content.decode()
    assert 'id="kpi-total">1<' in html
    assert _bars(_figures(html)["stages"]) == {"Active": 1}


def test_nobody_to_chart_shows_an_empty_state_without_plotly(login: Any, world: Any) -> None:
    html = login("owner").get(URL).content.decode()
    assert "No customers to chart yet." in html and "plotly.min.js" not in html


def test_new_per_month_uses_the_organisation_time_zone(world: Any, spread: Any) -> None:
    def created(name: str, when: dt.datetime) -> None:
        Customer.objects.filter(pk=spread[name].pk).update(created_at=when)

    created("甲", dt.datetime(2026, 3, 1, 0, 30, tzinfo=SHANGHAI))  # 2026-02-28 16:30 UTC: March in Shanghai
    created("乙", dt.datetime(2026, 2, 28, 23, 30, tzinfo=SHANGHAI))
    created("丙", dt.datetime(2025, 3, 31, 23, 59, tzinfo=SHANGHAI))  # 12 months back: outside the window
    created("丁", dt.datetime(2025, 4, 1, 0, 0, tzinfo=SHANGHAI))
    now = dt.datetime(2026, 3, 15, 12, tzinfo=SHANGHAI)
    data = customer_overview(actor=world.actor("admin"), now=now)
    months = dict(data.months)
    assert list(months) == month_starts(dt.date(2026, 3, 15))
    assert data.months[0][0] == dt.date(2025, 4, 1) and data.months[-1][0] == dt.date(2026, 3, 1)
    assert months[dt.date(2026, 3, 1)] == 1
    assert months[dt.date(2026, 2, 1)] == 1
    assert months[dt.date(2025, 4, 1)] == 1
    assert sum(months.values()) == 3 and data.total == 4


def test_month_starts_cross_the_year() -> None:
    assert month_starts(dt.date(2026, 2, 20), 3) == [
        dt.date(2025, 12, 1),
        dt.date(2026, 1, 1),
        dt.date(2026, 2, 1),
    ]


def test_query_count_does_not_grow_with_customers(
    login: Any, world: Any, make_customer: Any, spread: Any, monkeypatch: Any
) -> None:
    from guanxi.web import overview

    monkeypatch.setattr(overview, "OVERVIEW_SECONDS", 0)  # count the computation, not the cache
    client = login("manager")
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    n_few = len(few)  # now: the captured list is a view of a log the next request resets
    for i in range(12):
        make_customer("owner" if i % 2 else "teammate", name=f"新{i}", province=f"省{i}", grade="ABCD"[i % 4])
    with CaptureQueriesContext(connection) as many:
        client.get(URL)
    n_many = len(many)
    assert n_few == n_many <= 11  # shell 5 + share probe + 4 aggregates + owner names
    monkeypatch.setattr(overview, "OVERVIEW_SECONDS", 300)
    client.get(URL)
    with CaptureQueriesContext(connection) as cached:
        client.get(URL)
    assert len(cached) == n_many - 5  # the share probe, 4 aggregates and owner names are cached


def test_overview_is_cached_per_visibility_scope_and_says_since_when(
    login: Any, world: Any, make_customer: Any, spread: Any
) -> None:
    owner, manager = login("owner"), login("manager")
    assert 'id="kpi-total">2<' in owner.get(URL).content.decode()
    assert 'id="kpi-total">3<' in manager.get(URL).content.decode()
    make_customer("owner", name="后来的")
    html = owner.get(URL).content.decode()
    assert 'id="kpi-total">2<' in html  # as of the first visit, and the page says so
    as_of = html[html.index('id="overview-as-of">') :]
    assert re.search(r"as of \d\d:\d\d\.", as_of[:200])
    cache.clear()
    assert 'id="kpi-total">3<' in owner.get(URL).content.decode()


def test_page_loads_plotly_from_the_local_package(login: Any, spread: Any) -> None:
    html = login("owner").get(URL).content.decode()
    url = static(PLOTLY_JS)
    assert f'<script src="{url}" defer id="plotly-js"></script>' in html
    assert "cdn" not in html.lower() and 'src="http' not in html
    response = login("owner").get(url)
    assert response.status_code == 200
    head = b"".join(response.streaming_content)[:300] if response.streaming else response.content[:300]
    assert b"plotly.js" in head


def test_collectstatic_copies_plotly_from_the_package(settings: Any, tmp_path: Path) -> None:
    settings.STATIC_ROOT = tmp_path
    call_command("collectstatic", "--noinput", verbosity=0)
    copied = tmp_path / PLOTLY_JS
    assert copied.is_file() and copied.stat().st_size > 1_000_000


@pytest.mark.parametrize("who", ["owner", "admin", "readonly"])
def test_overview_is_in_the_navigation(login: Any, world: Any, who: str) -> None:
    html = login(who).get("/customers/").content.decode()
    assert 'id="nav-overview"' in html and f'href="{URL}"' in html


def test_signed_out_users_are_sent_to_login(client: Any, db: Any) -> None:
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/login/")
