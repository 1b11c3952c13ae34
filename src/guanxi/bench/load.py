"""Bulk loading of generated customers straight into the database, for benchmarks.

Not a service: no validation, no per-row audit, no events. It writes the rows the services would
write (phones/emails JSON, ``phone_e164``, ``search_text``, grams, identifiers, tags) as fast as the
database takes them, following DESIGN.md's measured pitfalls:

* one transaction, blocks of 10,000 rows streamed from the generator, the garbage collector off;
* SQLite: ``executemany`` on the raw ``sqlite3`` cursor; PostgreSQL: ``COPY … FROM STDIN``;
* for big loads (``DROP_INDEXES_FROM`` rows and more) the secondary indexes — and on PostgreSQL the
  foreign keys — of the tables written are dropped first and re-created from their own definitions
  at the end, inside the same transaction: building an index once is far cheaper than updating it
  25 million times, and a failed load rolls the DDL back too.

One ``AuditEvent`` (action ``bench_load``) records the load as a whole.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.db import connection, transaction
from django.utils import timezone

from guanxi.bench import data as D
from guanxi.bench.generate import BLOCK, CustomerGenerator, Row
from guanxi.core.models import AuditEvent, Membership, Organization
from guanxi.core.services import membership_upsert, organization_create
from guanxi.customers.bulkwrite import TABLES, bulk_writer
from guanxi.customers.models import Tag
from guanxi.customers.search import grams_of

DROP_INDEXES_FROM = 100_000
BENCH_TEAMS = ["华东销售部", "华南销售部", "华北销售部", "西南销售部"]
BENCH_REPS = 20


@dataclass
class Owners:
    """Who owns the loaded customers: ``(user_id, team_id)`` pairs, the manager, the admin."""

    reps: list[tuple[int, int | None]]
    manager: tuple[int, int | None]
    admin_user_id: int

    def pick(self, u: float) -> tuple[int | None, int | None]:
        """90 % sales reps (evenly), 5 % the manager, 5 % nobody — from one uniform draw."""
        if u < 0.9:
            return self.reps[min(int(u / 0.9 * len(self.reps)), len(self.reps) - 1)]
        if u < 0.95:
            return self.manager
        return None, None


@dataclass
class LoadResult:
    customers: int
    grams: int
    identifiers: int
    tags: int
    seconds: float
    first_id: int
    last_id: int
    vendor: str
    indexes_rebuilt: bool

    @property
    def rows_per_second(self) -> float:
        return self.customers / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "grams": self.grams,
            "identifiers": self.identifiers,
            "customer_tags": self.tags,
            "seconds": round(self.seconds, 2),
            "customers_per_second": round(self.rows_per_second),
            "first_id": self.first_id,
            "last_id": self.last_id,
            "database": self.vendor,
            "indexes_rebuilt": self.indexes_rebuilt,
        }


def bench_users(org_name: str = "bench", password: str | None = None) -> tuple[Organization, Owners]:
    """The benchmark organisation with an admin, a manager and 20 sales reps in 4 teams (idempotent)."""
    org, _created = organization_create(name=org_name)
    admin, _ = membership_upsert(org=org, username=f"{org_name}-admin", role="admin", password=password)
    manager, _ = membership_upsert(
        org=org, username=f"{org_name}-manager", role="manager", team=BENCH_TEAMS[0], password=password
    )
    reps = []
    for i in range(BENCH_REPS):
        m, _ = membership_upsert(
            org=org,
            username=f"{org_name}-sales{i + 1:02d}",
            role="sales",
            team=BENCH_TEAMS[i % len(BENCH_TEAMS)],
            password=password,
        )
        reps.append((m.user_id, m.team_id))
    return org, Owners(reps=reps, manager=(manager.user_id, manager.team_id), admin_user_id=admin.user_id)


def owners_of(org: Organization) -> Owners:
    members = Membership.objects.filter(organization=org, is_active=True).select_related("user")
    reps = sorted((m.user.username, m.user_id, m.team_id) for m in members if m.role == "sales")
    manager = next((m for m in members if m.role == "manager"), None)
    admin = next(m for m in members if m.role == "admin")
    return Owners(
        reps=[(uid, tid) for _, uid, tid in reps] or [(admin.user_id, admin.team_id)],
        manager=(manager.user_id, manager.team_id) if manager else (admin.user_id, admin.team_id),
        admin_user_id=admin.user_id,
    )


def _timestamps(n: int, first: int, total: int, now: dt.datetime, rng: np.random.Generator) -> np.ndarray:
    """created_at rising with the id over three years; updated_at somewhere between it and now."""
    span = 3 * 365 * 86400 * 1_000_000
    end = int(now.timestamp() * 1_000_000)
    pos = (np.arange(first, first + n) + rng.random(n)) / max(total, 1)
    created = end - span + (pos * span).astype(np.int64)
    updated = created + (rng.random(n) ** 3 * (end - created)).astype(np.int64)
    return np.stack([created, updated]).astype("datetime64[us]")


def _as_text(stamps: np.ndarray, suffix: str) -> list[list[str]]:
    text = np.char.add(np.char.replace(np.datetime_as_string(stamps, unit="us"), "T", " "), suffix)
    return text.tolist()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class _BlockSpec:
    """Everything a worker process needs to turn generator rows into database tuples."""

    seed: int
    english_share: float
    start: int  # generator row index of the first row
    count: int
    first_pk: int
    done: int  # rows of this load before the block
    total: int
    org_id: int
    owners: Owners
    tag_ids: dict[str, int]
    now: dt.datetime
    pg: bool


_Prepared = tuple[list[tuple[Any, ...]], list[tuple[int, str, int]], list[tuple[int, int, str, str]],
                  list[tuple[int, int]]]  # fmt: skip


def _prepare(spec: _BlockSpec) -> _Prepared:
    """Rows → tuples for the four tables. Pure (no database), so it can run in a worker process."""
    gc.disable()
    generator = CustomerGenerator(spec.seed, english_share=spec.english_share)
    rows = [r for block in generator.blocks(spec.count, spec.start) for r in block]
    rng = np.random.default_rng([spec.seed, 1_000_003, spec.start])
    stamps = _as_text(_timestamps(len(rows), spec.done, spec.total, spec.now, rng), "+00" if spec.pg else "")
    org_id, owners, tag_ids, pg = spec.org_id, spec.owners, spec.tag_ids, spec.pg
    customers, grams, idents, tags = [], [], [], []
    pk = spec.first_pk
    for j, row in enumerate(rows):
        owner_id, team_id = owners.pick(row.extra["u"])
        search_text = row.search_text()
        customers.append(
            _customer_tuple(
                row, pk, org_id, owner_id, team_id, owners.admin_user_id, stamps[0][j], stamps[1][j],
                search_text, pg,
            )
        )  # fmt: skip
        grams += [(org_id, g, pk) for g in grams_of(search_text)]
        idents += [(org_id, pk, "phone", p.e164) for p in row.phones]
        idents += [(org_id, pk, "email", e) for e in row.emails]
        tags += [(pk, tag_ids[t]) for t in row.tags]
        pk += 1
    # In index order, each block's grams go into the (organization, gram, customer) primary key as
    # one ordered sweep instead of 250,000 random inserts: about three times faster on SQLite.
    grams.sort()
    return customers, grams, idents, tags


def _prepared_blocks(specs: list[_BlockSpec], workers: int) -> Iterator[_Prepared]:
    """Prepare blocks in ``workers`` forked processes (a few blocks ahead), or inline when 0."""
    if workers <= 0:
        yield from map(_prepare, specs)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
        pending: deque[Any] = deque()
        todo = iter(specs)
        for spec in todo:
            pending.append(pool.submit(_prepare, spec))
            if len(pending) > workers + 1:
                break
        while pending:
            result = pending.popleft().result()
            following = next(todo, None)
            if following is not None:
                pending.append(pool.submit(_prepare, following))
            yield result


def load_customers(
    *,
    org: Organization,
    n: int,
    seed: int = 42,
    owners: Owners,
    english_share: float = 0.08,
    drop_indexes: bool | None = None,
    analyze: bool = True,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Generate and insert ``n`` customers into ``org`` in one transaction.

    Rows are prepared (generated, indexed, turned into tuples) in forked worker processes while
    this process writes — on two cores that halves the time. ``workers=0`` prepares inline.
    """
    import os

    started = time.perf_counter()
    existing = _existing_generated(org, seed)
    rebuild = n >= DROP_INDEXES_FROM if drop_indexes is None else drop_indexes
    if workers is None:
        workers = max(1, (os.cpu_count() or 2) - 1) if n >= 50_000 else 0
    counts = {"grams": 0, "identifiers": 0, "tags": 0}
    now = timezone.now()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        with transaction.atomic():
            tag_ids = _tag_ids(org)
            writer = bulk_writer()
            first_id = writer.reserve_ids(n)
            specs = []
            for offset in range(0, n, BLOCK):
                count = min(BLOCK, n - offset)
                specs.append(
                    _BlockSpec(
                        seed, english_share, existing + offset, count, first_id + offset, offset, n,
                        org.pk, owners, tag_ids, now, writer.vendor == "postgresql",
                    )
                )  # fmt: skip
            with writer.without_indexes(rebuild):
                done = 0
                for customers, grams, idents, tags in _prepared_blocks(specs, workers):
                    writer.customers(customers)
                    writer.grams(grams)
                    writer.identifiers(idents)
                    writer.tags(tags)
                    counts["grams"] += len(grams)
                    counts["identifiers"] += len(idents)
                    counts["tags"] += len(tags)
                    done += len(customers)
                    if progress:
                        progress(done, n)
            if analyze:
                writer.analyze()
            AuditEvent.objects.create(
                organization=org,
                actor_id=owners.admin_user_id,
                actor_name="bench",
                action="bench_load",
                object_type="customer",
                object_repr=f"{n} generated customers",
                changes={},
                context={"via": "bench", "customers": n, "seed": seed, "first_id": first_id},
            )
    finally:
        if gc_was_enabled:
            gc.enable()
    if analyze and connection.vendor == "postgresql" and not connection.in_atomic_block:
        # COPY leaves the visibility map empty: without VACUUM every index-only scan of the grams
        # visits the heap ("Heap Fetches") until autovacuum comes round.
        with connection.cursor() as cur:
            for table in TABLES:
                cur.execute(f"VACUUM (ANALYZE) {table}")
    return LoadResult(
        customers=n,
        grams=counts["grams"],
        identifiers=counts["identifiers"],
        tags=counts["tags"],
        seconds=time.perf_counter() - started,
        first_id=first_id,
        last_id=first_id + n - 1,
        vendor=connection.vendor,
        indexes_rebuilt=rebuild,
    )


def _existing_generated(org: Organization, seed: int) -> int:
    """How many rows of this seed the organisation already has: a second run continues after them."""
    from guanxi.customers.models import Customer

    return Customer.objects.filter(organization=org, external_id__startswith=f"GX{seed}-").count()


def _tag_ids(org: Organization) -> dict[str, int]:
    for name in D.TAGS:
        Tag.objects.get_or_create(organization=org, name=name)
    return dict(Tag.objects.filter(organization=org, name__in=D.TAGS).values_list("name", "id"))


def _customer_tuple(
    row: Row,
    pk: int,
    org_id: int,
    owner_id: int | None,
    team_id: int | None,
    created_by: int,
    created_at: str,
    updated_at: str,
    search_text: str,
    pg: bool,
) -> tuple[Any, ...]:
    phones = row.phones
    return (
        pk, org_id, row.kind, row.name, row.company, row.title, row.gender,
        phones[0].value if phones else "", phones[0].e164 if phones else "",
        row.emails[0] if row.emails else "",
        json.dumps(row.phones_json()), json.dumps(row.emails_json()),
        row.wechat, row.province, row.city, row.district, row.address,
        row.birthday.isoformat() if row.birthday else None,
        row.birthday_is_lunar if pg else int(row.birthday_is_lunar),
        row.industry, row.size, row.source, row.notes, "{}", row.external_id,
        row.lifecycle_stage, row.value_tier, row.grade,
        False if pg else 0, 1, created_at, updated_at, search_text, created_by, owner_id, team_id,
    )  # fmt: skip
