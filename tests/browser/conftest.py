"""Playwright journeys in Debian's Chromium against pytest-django's live server.

Skipped (with the reason) when ``/usr/bin/chromium`` is missing. Screenshots go to the git-ignored
``artifacts/screenshots/`` at the repository root.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PASSWORD

# Playwright's sync API runs an event loop in this thread; the Django ORM calls made by fixtures
# and assertions are still synchronous and safe here.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason=f"{CHROMIUM} not installed (apt install chromium)"))


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(transactional_db: Any, live_server: Any, world: Any) -> Any:
    """The live server with the shared ``world``; every member can sign in with ``PASSWORD``."""
    for membership in world.members.values():
        membership.user.set_password(PASSWORD)
        membership.user.save(update_fields=["password"])
    return live_server


@pytest.fixture
def open_as(chromium: Any, site: Any) -> Iterator[Callable[..., Any]]:
    """``open_as("owner", lang="zh-hans", width=1366)`` → a signed-in Playwright page."""
    contexts: list[Any] = []

    def make(who: str, *, lang: str = "zh-hans", width: int = 1366, height: int = 900) -> Any:
        context = chromium.new_context(
            viewport={"width": width, "height": height},
            locale="zh-CN" if lang == "zh-hans" else "en-US",
        )
        context.add_cookies([{"name": "django_language", "value": lang, "url": site.url}])
        contexts.append(context)
        page = context.new_page()
        # Generous: CI runs the SQLite and PostgreSQL suites side by side on two cores. A passing
        # step never waits for it; only a failing one does.
        page.set_default_timeout(30_000)
        page.goto(f"{site.url}/login/")
        page.fill("input[name=username]", who)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{site.url}/customers/")
        return page

    yield make
    for context in contexts:
        context.close()


def shot(page: Any, name: str, *, full_page: bool = False) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)
