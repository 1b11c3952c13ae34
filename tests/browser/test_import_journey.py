"""Importing customers in a real browser: a GBK CSV from Excel, mapped, previewed, imported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from guanxi.core.models import Job
from guanxi.customers.models import Customer, ImportMapping
from tests.browser.conftest import shot

FILES = Path(__file__).resolve().parents[1] / "imports" / "files"


def _counts(page: Any) -> dict[str, str]:
    return {
        key: page.inner_text(f"[data-count={key}]") for key in ("created", "updated", "skipped", "rejected")
    }


def test_manager_imports_a_gbk_csv(
    open_as: Any, site: Any, world: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    page = open_as("manager")
    page.click("#import-customers")
    page.wait_for_url(f"{site.url}/customers/import/")
    shot(page, "import-upload-zh")

    page.set_input_files("#import-file", str(FILES / "customers_gbk.csv"))
    page.click("#upload-submit")
    page.wait_for_selector("#mapping-table")
    # detected as GBK, columns mapped automatically from their Chinese headers
    assert "GBK/GB18030" in page.inner_text("#file-options")
    assert page.input_value("select[name=map-0]") == "name"
    assert page.input_value("select[name=map-1]") == "phones"
    assert page.input_value("select[name=map-7]") == "birthday"
    # row 5 (as Excel numbers it) has an impossible birthday: flagged in its cell before anything is saved
    assert "1985-02-30" in page.inner_text("#preview-table .cell-error")
    assert page.locator("#preview-table tbody tr").count() == 4
    shot(page, "import-map-zh", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "import-map-zh-phone", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})

    # ignoring the 电话 column refreshes the preview in place (htmx)
    page.select_option("select[name=map-2]", "")
    page.wait_for_function("!document.querySelector('#preview-table thead').innerText.includes('电话')")
    page.check("input[name=mode][value=upsert]")
    page.wait_for_selector("#preview-table")
    page.fill("#add-tag", "展会名单")
    page.fill("#save-as", "展会 Excel")
    page.click("#start-import")

    page.wait_for_selector("#import-counts")
    assert _counts(page) == {"created": "3", "updated": "0", "skipped": "0", "rejected": "1"}
    assert "1985-02-30" in page.inner_text("#import-errors")
    assert page.locator("#download-errors").count() == 1
    shot(page, "import-result-zh", full_page=True)

    assert ImportMapping.objects.get(organization=world.org, name="展会 Excel").columns["电话"] == ""
    zhang = Customer.objects.get(organization=world.org, name="张伟")
    assert [p["e164"] for p in zhang.phones] == ["+8613800138000"]  # 电话 was not imported

    page.click("#view-imported")
    page.wait_for_selector("#customer-table")
    names = page.locator("#customer-table tbody td.name a").all_inner_texts()
    assert sorted(names) == sorted(["张伟", "李娜", "赵磊"])

    # the progress page of a running import, at phone width
    running = Job.objects.create(
        organization=world.org,
        created_by=world.manager.user,
        kind="customers.import",
        state="running",
        progress_done=42_000,
        progress_total=100_000,
        params={"filename": "客户名单.csv"},
    )
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{site.url}/customers/import/jobs/{running.pk}/")
    assert page.get_attribute(".progress", "aria-valuenow") == "42"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    shot(page, "import-progress-zh-phone")
    page.once("dialog", lambda dialog: dialog.accept())  # "Cancel this import?"
    page.click("#cancel-import")
    page.wait_for_selector(".flash")
    running.refresh_from_db()
    assert running.cancel_requested


def test_admin_imports_google_contacts_in_english(
    open_as: Any, site: Any, world: Any, settings: Any, tmp_path: Path
) -> None:
    settings.DATA_DIR = tmp_path
    page = open_as("admin", lang="en", width=1440)
    page.goto(f"{site.url}/customers/import/")
    page.set_input_files("#import-file", str(FILES / "google_contacts.csv"))
    page.click("#upload-submit")
    page.wait_for_selector("#mapping-table")
    assert "Google Contacts export" in page.inner_text("#file-options")
    assert page.input_value("select[name=map-0]") == "first_name"
    shot(page, "import-map-en", full_page=True)
    page.click("#start-import")
    page.wait_for_selector("#import-counts")
    # Mary's yearless birthday and the nameless contact are rejected with their reasons
    assert _counts(page)["created"] == "1" and _counts(page)["rejected"] == "2"
    shot(page, "import-result-en", full_page=True)
    assert Customer.objects.get(organization=world.org, name="张伟").email == "zhangwei@example.com"
