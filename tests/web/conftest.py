"""Web workspace fixtures: a signed-in Django test client per user of the shared ``world``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client


@pytest.fixture(autouse=True)
def _web_settings(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"  # assertions read English; the zh-hans catalogue has its own test
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def login(world: Any) -> Callable[[str], Client]:
    """``login("owner")`` → a client signed in as that member of the world (English UI)."""

    def make(who: str) -> Client:
        client = Client(headers={"Accept-Language": "en"})
        client.force_login(world.members[who].user)
        return client

    return make


def htmx(target: str = "") -> dict[str, str]:
    headers = {"HX-Request": "true"}
    if target:
        headers["HX-Target"] = target
    return headers
