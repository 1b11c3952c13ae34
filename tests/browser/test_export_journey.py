"""Exports and "all N matching" bulk actions in a real browser: filter the list, export everything
that matches, tag every matching customer (beyond the 50 on the page), follow a job to its file."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from guanxi.core.models import AuditEvent, Job
from guanxi.customers.models import Customer
from tests.browser.conftest import shot


@pytest.fixture(autouse=True)
def _catalogue_overlay(settings: Any, tmp_path: Any) -> None:
    """With GUANXI_I18N_OVERLAY=file.json (msgid → 中文, not yet merged into the catalogue), the
    screenshots show those translations too: the overlay is compiled over the shipped catalogue."""
    overlay = os.environ.get("GUANXI_I18N_OVERLAY", "")
    if not overlay:
        return
    import polib

    shipped = Path(__file__).resolve().parents[2] / "src/guanxi/locale/zh_Hans/LC_MESSAGES/django.po"
    po = polib.pofile(str(shipped))
    for key, value in json.loads(Path(overlay).read_text()).items():
        singular, _bar, plural = key.partition("|")
        entry = po.find(singular)
        if entry is None:
            entry = polib.POEntry(msgid=singular, msgid_plural=plural)
            po.append(entry)
        if plural:
            entry.msgid_plural, entry.msgstr_plural = plural, {0: value}
        else:
            entry.msgstr = value
    target = tmp_path / "locale/zh_Hans/LC_MESSAGES"
    target.mkdir(parents=True)
    po.save_as_mofile(str(target / "django.mo"))
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]


@pytest.fixture
def many(world: Any, make_customer: Any, settings: Any, tmp_path: Any) -> None:
    settings.DATA_DIR = tmp_path / "data"
    cities = ["深圳", "广州", "东莞"]
    for i in range(60):
        make_customer(
            "owner",
            name=f"客户{i:02d}",
            company=f"广东{cities[i % 3]}制造有限公司",
            phone=f"138{i:08d}",
            province="广东",
            city=cities[i % 3],
            grade="A",
        )
    for i in range(5):
        make_customer("outsider", name=f"浙江客户{i}", province="浙江", grade="B")


def _rows(page: Any) -> int:
    return int(page.evaluate("document.querySelectorAll('#customer-table tbody td.name a').length"))


def test_export_and_bulk_tag_all_matching(
    open_as: Any, site: Any, world: Any, many: Any, settings: Any
) -> None:
    page = open_as("admin", width=1440)
    page.select_option("select[name=grade]", "A")
    page.wait_for_url(re.compile(r".*grade=A.*"))
    page.wait_for_function("document.querySelector('#result-count').innerText.includes('60')")
    assert _rows(page) == 50

    # Export all 60 matching as CSV: the menu counts them, the file has them all.
    page.click("#export-menu summary")
    assert "(60)" in page.inner_text("#export-menu")
    page.check("#export-menu input[name=format][value=csv]")
    shot(page, "export-menu-zh")
    with page.expect_download() as info:
        page.click("#export-submit")
    path = info.value.path()
    content = Path(path).read_bytes()
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.count("\n") == 61 and "客户00" in text and "浙江客户" not in text
    assert AuditEvent.objects.get(action="customers.exported").context["rows"] == 60

    # Tick the page: Gmail-style banner offers all 60 matching; apply "add tag" to all of them.
    page.check("[data-select-all]")
    banner = page.locator("[data-select-all-banner]")
    banner.wait_for(state="visible")
    assert "50" in banner.inner_text() and "60" in banner.inner_text()
    page.click("[data-select-matching]")
    assert "60" in page.inner_text("[data-selected-count]")
    shot(page, "export-select-all-zh")
    page.select_option("[data-bulk-action]", "tag_add")
    page.fill("#bulk input[name=tag]", "华南重点")
    page.click("#bulk button.primary")
    page.wait_for_selector("#confirm-bulk")
    assert "60" in page.inner_text("#confirm-count")
    shot(page, "export-confirm-zh")
    with page.expect_navigation(timeout=90_000):  # 60 audited edits on a busy 2-core machine
        page.click("#confirm-bulk-submit", no_wait_after=True)
    assert re.search(r"/customers/\?.*grade=A", page.url)
    assert Customer.objects.filter(tags__name="华南重点").count() == 60
    assert not Customer.objects.filter(tags__name="华南重点", province="浙江").exists()

    # Large exports become a job: the page follows it to a download link.
    settings.GUANXI_EXPORT_SYNC_MAX_ROWS = 10
    page.click("#export-menu summary")
    page.check("#export-menu input[name=format][value=xlsx]")
    page.click("#export-submit")
    page.wait_for_url(re.compile(r".*/jobs/\d+/"))
    page.wait_for_selector("#export-download")
    job = Job.objects.get(kind="customers.export")
    assert job.state == "succeeded" and job.result["rows"] == 60
    shot(page, "export-job-zh")
    with page.expect_download() as info:
        page.click("#export-download")
    assert info.value.suggested_filename.endswith(".xlsx")


def test_bulk_job_page_and_phone_layout_in_english(
    open_as: Any, site: Any, world: Any, many: Any, settings: Any
) -> None:
    settings.GUANXI_BULK_SYNC_MAX = 10
    page = open_as("admin", lang="en", width=390, height=844)
    page.goto(f"{site.url}/customers/?grade=A")
    page.check("[data-select-all]")
    page.click("[data-select-matching]")
    assert "All 60 customers matching the filter are selected." in page.inner_text("[data-select-all-banner]")
    shot(page, "export-select-all-en-phone")
    page.select_option("[data-bulk-action]", "assign")
    page.select_option("#bulk select[name=owner]", "teammate")
    page.click("#bulk button.primary")
    page.wait_for_selector("#confirm-bulk")
    assert "Give all 60 customers matching the filter to teammate?" in page.inner_text("#confirm-count")
    assert "runs in the background" in page.inner_text("#confirm-bulk")
    shot(page, "export-confirm-en-phone")
    with page.expect_navigation(timeout=90_000):  # huey runs inline in tests: the job finishes first
        page.click("#confirm-bulk-submit", no_wait_after=True)
    assert re.search(r"/jobs/\d+/", page.url)
    page.wait_for_selector("#bulk-result")
    assert "60 of 60" in page.inner_text("#bulk-result")
    assert Customer.objects.filter(owner__username="teammate", grade="A").count() == 60
    shot(page, "export-bulk-job-en-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "no sideways scrolling on a phone"

    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{site.url}/customers/?grade=A")
    page.click("#export-menu summary")
    shot(page, "export-menu-en")
