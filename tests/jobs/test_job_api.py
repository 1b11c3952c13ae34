"""/api/v1/jobs: the starter and admins see a job; teammates, outsiders and other organisations do not."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.core.jobs import job_create
from tests.jobs import kinds  # noqa: F401  (registers test.count)


@pytest.fixture
def job(world: Any) -> Any:
    return job_create(actor=world.actor("owner"), kind="test.count", params={"n": 2})


def test_owner_polls_own_job(world: Any, job: Any) -> None:
    response = world.api("owner").get(f"/jobs/{job.pk}")
    assert response.status_code == 200
    assert response.json()["state"] == "queued"
    assert [j["id"] for j in world.api("owner").get("/jobs").json()] == [job.pk]


@pytest.mark.parametrize("who", ["teammate", "outsider", "other_admin"])
def test_others_get_404(world: Any, job: Any, who: str) -> None:
    assert world.api(who).get(f"/jobs/{job.pk}").status_code == 404
    assert world.api(who).post(f"/jobs/{job.pk}/cancel").status_code == 404
    assert job.pk not in [j["id"] for j in world.api(who).get("/jobs").json()]


def test_admin_sees_everyones_jobs(world: Any, job: Any) -> None:
    assert world.api("admin").get(f"/jobs/{job.pk}").status_code == 200
    assert job.pk in [j["id"] for j in world.api("admin").get("/jobs").json()]


def test_cancel_then_cancel_again_conflicts(world: Any, job: Any) -> None:
    api = world.api("owner")
    first = api.post(f"/jobs/{job.pk}/cancel")
    assert first.status_code == 200 and first.json()["state"] == "cancelled"
    again = api.post(f"/jobs/{job.pk}/cancel")
    assert again.status_code == 409
    assert again["Content-Type"] == "application/problem+json"
