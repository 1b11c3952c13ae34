"""Repository-wide test set-up that must exist before any test module is imported."""

import pytest


@pytest.fixture(autouse=True)
def _jobs_run_inline():
    """Huey runs tasks inline, in memory, so tests never need a worker or a queue file (set before every
    test, so a test that switched it off cannot leave later tests with jobs stuck in "queued")."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Code running outside a request (services, jobs, CLI) speaks English in tests, whatever an earlier
    request left active: Django's LocaleMiddleware activates a language per request and never resets
    it, so without this the language of messages would depend on which test ran before. Tests of
    Chinese output ask for it (a cookie or Accept-Language per request, translation.override)."""
    from django.utils import translation

    with translation.override("en"):
        yield
