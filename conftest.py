"""Repository-wide test set-up that must exist before any test module is imported."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def _jobs_run_inline():
    """Huey runs tasks inline, in memory, so tests never need a worker or a queue file."""
    from huey.contrib.djhuey import HUEY

    HUEY.immediate = True
    yield
