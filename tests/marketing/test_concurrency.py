"""The same person submitting several times at the same moment still becomes one customer."""

from __future__ import annotations

from typing import Any

import pytest

from guanxi.customers.models import Customer
from guanxi.marketing import intake
from guanxi.marketing.models import WebFormSubmission
from tests.marketing.conftest import make_form
from tests.pool.test_pool_concurrency import db_for_threads, read_back, run_together  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_submissions_never_duplicate(world: Any, db_for_threads: Any) -> None:  # noqa: F811
    form = make_form(world)
    phones = ["13800138000", "+86 138 0013 8000", "138-0013-8000", "+8613800138000"]
    jobs = [
        (
            lambda p=p, i=i: (
                intake.submit(form=form, data={"name": "王芳", "phone": p}, ip=f"192.0.2.{i}").outcome
            )
        )
        for i, p in enumerate(phones)
    ]
    outcomes = run_together(db_for_threads, jobs)
    assert sorted(map(str, outcomes)) == ["created", "updated", "updated", "updated"], outcomes

    def count() -> tuple[int, int]:
        return (
            Customer.objects.filter(organization=world.org, phone_e164="+8613800138000").count(),
            WebFormSubmission.objects.filter(form_id=form.pk).count(),
        )

    assert read_back(db_for_threads, count) == (1, 4)
