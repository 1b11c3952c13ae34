"""Rows of a source file → cleaned customer values, by the same rules as every other channel.

Each row goes through the import's ``RowMapper`` (the file's conventions: dates, 男/女, split cells)
and then the services' ``clean_customer_input`` (one set of rules for the UI, the API and imports).
Large imports clean in forked worker processes while the parent reads the file and writes the
database; cleaning then touches no database (members and teams come from a ``MemberDirectory``),
so a worker never uses the parent's connection.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from guanxi.core.context import Actor
from guanxi.core.models import CustomFieldDefinition
from guanxi.customers.bulkwrite import CUSTOMER_COLUMNS
from guanxi.customers.cleaning import MemberDirectory, clean_customer_input
from guanxi.customers.imports.rows import RowError, RowMapper
from guanxi.customers.models import Customer
from guanxi.customers.search import search_text_for

SourceRow = tuple[int, list[str]]
JSON_COLUMNS = {"phones", "emails", "custom"}
BOOL_COLUMNS = {"birthday_is_lunar", "in_public_pool"}
_DEFAULTS = {f.attname: f.get_default() for f in Customer._meta.concrete_fields}


@dataclass
class Prepared:
    """One source row after mapping and cleaning."""

    row: int
    values: list[str]  # as in the file (for the error file)
    data: dict[str, Any]  # the mapped input, as the API would take it
    errors: list[RowError]
    cleaned: dict[str, Any] = field(default_factory=dict)  # clean_customer_input's values
    tags: list[str] = field(default_factory=list)
    tuple_: tuple[Any, ...] | None = None  # a customers row without its id, ready for the writer
    search_text: str = ""
    can_create: bool = True  # False: cleaned as an update only (no name), so it must match a customer
    keys: list[tuple[str, str]] | None = None  # identity_keys(), worked out once

    def identity_keys(self) -> list[tuple[str, str]]:
        """What identifies the customer: external id, normalised phones, normalised emails."""
        if self.keys is None:
            cleaned = self.cleaned
            keys = [("external_id", cleaned["external_id"])] if cleaned.get("external_id") else []
            keys += [("phone", p["e164"]) for p in cleaned.get("phones", ())]
            keys += [("email", e["value"]) for e in cleaned.get("emails", ())]
            self.keys = keys
        return self.keys

    def slim(self, mode: str) -> Prepared:
        """Drop what the parent will not read before a worker sends the row back (pickling is paid
        twice, in the worker and in the parent): the keys are kept, the cleaned values are not, and
        the mapped input only where a row may update a customer (it is cleaned again then)."""
        self.identity_keys()
        self.cleaned = {}
        if mode == "create":
            self.data = {}
        return self


@dataclass
class CleanContext:
    actor: Actor
    mapper: RowMapper
    custom_defs: list[CustomFieldDefinition]
    directory: MemberDirectory
    default_owner: str | None
    add_tags: tuple[str, ...]
    pg: bool
    mode: str = "create"


class TuplePlan:
    """``customers_customer`` rows in ``CUSTOMER_COLUMNS`` order (without the leading id), built from
    a template of the columns' defaults and the chunk's fixed values: a row only writes the columns
    its cleaned values have, converted by the column's kind (JSON text, ISO date, 0/1 on SQLite)."""

    def __init__(self, ctx: CleanContext, stamp: str) -> None:
        fixed = {
            "organization_id": ctx.actor.org_id,
            "created_by_id": ctx.actor.user.pk,
            "created_at": stamp,
            "updated_at": stamp,
            "version": 1,
        }
        self.pg = ctx.pg
        self.position = {c: i for i, c in enumerate(_COLUMNS) if c not in fixed and c != "search_text"}
        self.search_at = _COLUMNS.index("search_text")
        template = [fixed[c] if c in fixed else _DEFAULTS.get(c) for c in _COLUMNS]
        for column, i in self.position.items():
            template[i] = self._convert(column, template[i])
        self.template = template

    def _convert(self, column: str, value: Any) -> Any:
        if column in JSON_COLUMNS:
            return _dumps(value if value is not None else ({} if column == "custom" else []))
        if column == "birthday":
            return value.isoformat() if value else None
        if column in BOOL_COLUMNS and not self.pg:
            return int(bool(value))
        return value

    def row(self, values: dict[str, Any], search_text: str) -> tuple[Any, ...]:
        row = self.template.copy()
        position, convert = self.position, self._convert
        for column, value in values.items():
            i = position.get(column)
            if i is not None:
                row[i] = value if column in _PLAIN else convert(column, value)
        row[self.search_at] = search_text
        return tuple(row)


def customer_tuple(
    values: dict[str, Any], *, ctx: CleanContext, stamp: str, search_text: str
) -> tuple[Any, ...]:
    """A ``customers_customer`` row in ``CUSTOMER_COLUMNS`` order, without the leading id."""
    return TuplePlan(ctx, stamp).row(values, search_text)


_COLUMNS = CUSTOMER_COLUMNS[1:]
_PLAIN = frozenset(c for c in _COLUMNS if c not in JSON_COLUMNS | BOOL_COLUMNS | {"birthday"})
_dumps = json.JSONEncoder().encode  # json.dumps() without its keyword checks: the same text


def prepare(ctx: CleanContext, chunk: list[SourceRow]) -> list[Prepared]:
    """Map and clean a chunk of rows. Pure apart from reading ``ctx``: safe in a worker process."""
    now = timezone.now()
    today = timezone.localdate(now)
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f") + ("+00" if ctx.pg else "")
    plan = TuplePlan(ctx, stamp)
    out = []
    for row, values in chunk:
        data, errors = ctx.mapper.to_input(row, values)
        if ctx.default_owner and not data.get("owner"):
            data["owner"] = ctx.default_owner
        if ctx.add_tags:
            data["tags"] = [
                *data.get("tags", []),
                *(t for t in ctx.add_tags if t not in data.get("tags", [])),
            ]
        item = Prepared(row=row, values=values, data=data, errors=errors)
        if not errors:
            # Update mode (and an upsert row without a name, which can only update) cleans against a
            # blank customer: only the columns present count and no name is required; the row is
            # cleaned again against the matched customer before it is written.
            as_update = ctx.mode == "update" or (ctx.mode == "upsert" and not data.get("name"))
            item.can_create = not as_update
            cleaned = clean_customer_input(
                actor=ctx.actor,
                data=data,
                existing=Customer(organization_id=ctx.actor.org_id) if as_update else None,
                custom_defs=ctx.custom_defs,
                directory=ctx.directory,
                today=today,
            )
            item.errors = [
                RowError(row, ctx.mapper.column_for(e.field, row), str(e.message)) for e in cleaned.errors
            ]
            item.cleaned = cleaned.values
            item.tags = cleaned.tags or []
            if not item.errors and item.can_create:
                phones = cleaned.values.get("phones", [])
                item.search_text = search_text_for(
                    name=cleaned.values.get("name", ""),
                    company=cleaned.values.get("company", ""),
                    phones_e164=[p["e164"] for p in phones],
                    phones_raw=[p["value"] for p in phones],
                    emails=[e["value"] for e in cleaned.values.get("emails", [])],
                    wechat=cleaned.values.get("wechat", ""),
                )
                item.tuple_ = plan.row(cleaned.values, item.search_text)
        out.append(item)
    return out


_worker_context: CleanContext | None = None  # set in the parent just before forking
_worker_chunks = 0  # chunks this worker process has cleaned
COLLECT_EVERY = 10


def _prepare_in_worker(chunk: list[SourceRow]) -> list[Prepared]:
    # Automatic collection would rescan everything the worker inherited from the parent for every
    # few hundred new objects; instead the inherited heap is frozen once and cycles are collected
    # every few chunks (a collection walks the chunk in hand, ~60 ms), so the worker's memory
    # stays flat however long the file is.
    global _worker_chunks
    if gc.isenabled():
        gc.disable()
        gc.freeze()
    assert _worker_context is not None
    _worker_chunks += 1
    if _worker_chunks % COLLECT_EVERY == 0:
        gc.collect()
    return [item.slim(_worker_context.mode) for item in prepare(_worker_context, chunk)]


def prepared_chunks(
    ctx: CleanContext, chunks: Iterable[list[SourceRow]], workers: int
) -> Iterator[list[Prepared]]:
    """Chunks in file order, cleaned inline (``workers=0``) or by forked workers a few chunks ahead."""
    if workers <= 0:
        for chunk in chunks:
            yield prepare(ctx, chunk)
        return
    global _worker_context
    _worker_context = ctx
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork")) as pool:
            pending: deque[Future[list[Prepared]]] = deque()
            source = iter(chunks)
            for chunk in source:
                pending.append(pool.submit(_prepare_in_worker, chunk))
                if len(pending) > workers + 1:
                    break
            while pending:
                result = pending.popleft().result()
                following = next(source, None)
                if following is not None:
                    pending.append(pool.submit(_prepare_in_worker, following))
                yield result
    finally:
        _worker_context = None
