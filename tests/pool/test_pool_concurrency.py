"""Real races on a transactional database: separate threads, separate connections, at the same moment.

On SQLite the in-memory test database cannot be shared by connections in other threads, so it is
copied to a file first and the threads connect to that (WAL, ``BEGIN IMMEDIATE`` as in production).
On PostgreSQL the threads use the test database directly.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from guanxi.customers.models import Customer, CustomerAssignment
from guanxi.customers.pool import PoolRefused, pool_claim

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def db_for_threads(tmp_path: Any) -> dict[str, Any] | None:
    """Connection settings for worker threads; None to use the test database as it is."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return None
    return {**connection.settings_dict, "NAME": str(tmp_path / "race.sqlite3")}


def _snapshot(settings: dict[str, Any] | None) -> None:
    """Copy the in-memory test database (with everything committed so far) to the file."""
    if settings is None:
        return
    connection.ensure_connection()
    target = sqlite3.connect(settings["NAME"])
    connection.connection.backup(target)
    # A real database file is in WAL mode from its first connection on; the copy must be too, or
    # the threads' connections race to switch it and one fails with "database is locked".
    target.execute("PRAGMA journal_mode=WAL")
    target.close()


def run_together(settings: dict[str, Any] | None, jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread and connection, released at the same instant by a barrier."""
    _snapshot(settings)
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def work(i: int, job: Callable[[], Any]) -> None:
        if settings is not None:
            connections["default"].settings_dict = settings
        try:
            barrier.wait(timeout=10)
            results[i] = job()
        except Exception as exc:  # the outcome under test, reported to the main thread
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a claim hung"
    return results


def read_back(settings: dict[str, Any] | None, fn: Callable[[], Any]) -> Any:
    """Read the database the threads wrote to (the file copy on SQLite)."""
    if settings is None:
        return fn()
    result: list[Any] = []

    def work() -> None:
        connections["default"].settings_dict = settings
        try:
            result.append(fn())
        finally:
            connections.close_all()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    return result[0]


def test_two_reps_claim_the_same_customer_at_once_exactly_one_wins(world, to_pool, db_for_threads):
    customers = [to_pool(name=f"抢手客户{i}") for i in range(3)]
    reps = {"owner": world.api("owner"), "outsider": world.api("outsider")}
    for c in customers:
        statuses = run_together(
            db_for_threads,
            [lambda api=api, c=c: api.post(f"/pool/{c.pk}/claim") for api in reps.values()],
        )
        codes = sorted(r.status_code for r in statuses)
        assert codes == [200, 409], [r.content for r in statuses]
        loser = next(r for r in statuses if r.status_code == 409)
        assert loser.json()["code"] == "already_claimed"
        winner = next(r for r in statuses if r.status_code == 200).json()["owner"]

        def check(c: Customer = c) -> tuple[Any, ...]:
            row = Customer.objects.select_related("owner").get(pk=c.pk)
            claims = CustomerAssignment.objects.filter(customer_id=c.pk, reason="claim").count()
            return row.owner.username, row.in_public_pool, row.version, claims

        assert read_back(db_for_threads, check) == (winner, False, c.version + 1, 1)


def test_service_level_race_many_reps(world, to_pool, db_for_threads):
    c = to_pool(name="热门线索")
    who = ["owner", "teammate", "outsider", "manager"]
    actors = [world.actor(w) for w in who]
    results = run_together(
        db_for_threads, [lambda a=a: pool_claim(actor=a, customer_id=c.pk) for a in actors]
    )
    winners = [r for r in results if isinstance(r, Customer)]
    losers = [r for r in results if isinstance(r, PoolRefused)]
    assert len(winners) == 1 and len(losers) == 3, results
    assert {e.code for e in losers} == {"already_claimed"}
    claims = read_back(db_for_threads, lambda: CustomerAssignment.objects.filter(customer_id=c.pk).count())
    assert claims == 2  # the release into the pool and the one claim


@pytest.mark.parametrize("limit", ["max_owned", "daily_claim_limit"])
def test_one_rep_claiming_in_parallel_cannot_exceed_a_limit(world, to_pool, limits, db_for_threads, limit):
    """Both claims count 0 before either commits unless the count is serialised with the write."""
    limits(**{limit: 1})
    a, b = to_pool(name="甲"), to_pool(name="乙")
    actor = world.actor("owner")
    results = run_together(
        db_for_threads, [lambda c=c: pool_claim(actor=actor, customer_id=c.pk) for c in (a, b)]
    )
    refused = [r for r in results if isinstance(r, PoolRefused)]
    assert len(refused) == 1, results
    assert refused[0].code == ("cap_reached" if limit == "max_owned" else "daily_limit")
    owned = read_back(db_for_threads, lambda: Customer.objects.filter(owner_id=actor.user.pk).count())
    assert owned == 1
