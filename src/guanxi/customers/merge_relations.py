"""Moving every row that points at a customer to another customer, and back, without knowing the apps.

Customers cannot import the apps above it (engagement, sales, service …), yet a merge must move their
activities, tasks, emails, orders and tickets too. So the relations are discovered from Django's
model registry: every foreign key to ``Customer`` in any installed app, except the ones listed in
``EXCLUDED`` (rebuilt or handled by the merge itself). A new app's rows move without a code change.

A unique constraint that includes the foreign key (``CustomerTag(customer, tag)``,
``CustomerShare(customer, user)``, ``CareSend(rule, customer, occasion_key)`` …) cannot take a
second equal row: the merged record's duplicate is *dropped* — deleted, with its column values
recorded so undo can put it back — unless deleting it would touch other rows, in which case it
stays on the merged-away record (reported as *left*).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import IntegrityError, connections, models, router, transaction
from django.db.models import Q
from django.db.models.deletion import Collector
from django.utils.translation import gettext_lazy as _

from guanxi.customers.merge_fields import to_json
from guanxi.customers.models import Customer

# "app_label.model.field" of foreign keys to Customer that a merge does not move.
EXCLUDED = {
    "customers.searchgram.customer",  # the search index: rebuilt for the survivor
    "customers.customeridentifier.customer",  # normalised phones/emails: rebuilt for the survivor
    "customers.duplicatecandidate.customer_a",  # the reviewed pair is marked merged instead
    "customers.duplicatecandidate.customer_b",
    "customers.customermerge.survivor",  # earlier merges keep naming the records they joined
    "customers.customermerge.merged",
    "customers.customer.merged_into",  # a chain of merges is followed, not rewritten
}
TAGS = "customers.customertag.customer"

# Nicer names than the models' verbose names for "what will move".
NAMES = {
    "customers.customertag": (_("tag"), _("tags")),
    "customers.customershare": (_("share"), _("shares")),
    "customers.customerassignment": (_("ownership change"), _("ownership changes")),
}


@dataclass(frozen=True)
class Relation:
    label: str  # "engagement.activity.customer"
    model: type[models.Model]
    field: models.ForeignKey[Any, Any]

    @property
    def model_label(self) -> str:
        return self.model._meta.label_lower

    def name(self, count: int) -> str:
        singular, plural = NAMES.get(
            self.model_label, (self.model._meta.verbose_name, self.model._meta.verbose_name_plural)
        )
        return str(singular if count == 1 else plural)

    def rows(self, customer_id: int) -> models.QuerySet[Any]:
        return self.model._base_manager.filter(**{self.field.attname: customer_id})


def customer_relations() -> list[Relation]:
    """Every foreign key to Customer in the installed apps, minus ``EXCLUDED``.

    ``Customer._meta.related_objects`` leaves out hidden relations (``related_name="+"``), which
    most of Guanxi's foreign keys are, so this asks for the hidden ones too."""
    found = []
    for rel in Customer._meta.get_fields(include_hidden=True):
        if not rel.auto_created or rel.concrete or not (rel.one_to_many or rel.one_to_one):
            continue
        fk: Any = rel.field  # type: ignore[union-attr]
        model: Any = rel.related_model
        label = f"{model._meta.label_lower}.{fk.name}"
        if label in EXCLUDED or getattr(model._meta.pk, "fields", None):  # composite keys: index tables
            continue
        found.append(Relation(label=label, model=model, field=fk))
    return sorted(found, key=lambda r: r.label)


def relation_by_label(label: str) -> Relation | None:
    app_label, model_name, field_name = label.split(".")
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError:
        return None
    fk: Any = model._meta.get_field(field_name)
    return Relation(label=label, model=model, field=fk)


def _unique_sets(relation: Relation) -> list[tuple[list[str], Q | None]]:
    """Unique column sets of the related model that include the foreign key, minus the key itself."""
    opts = relation.model._meta
    name = relation.field.name
    sets: list[tuple[list[str], Q | None]] = []
    if relation.field.unique:
        sets.append(([], None))
    for together in opts.unique_together:
        if name in together:
            sets.append(([f for f in together if f != name], None))
    for constraint in opts.constraints:
        if (
            isinstance(constraint, models.UniqueConstraint)
            and constraint.fields
            and name in constraint.fields
        ):
            sets.append(([f for f in constraint.fields if f != name], constraint.condition))
    return sets


def _clashing_ids(relation: Relation, survivor_id: int, merged_id: int, candidates: list[int]) -> set[int]:
    clashes: set[int] = set()
    for others, condition in _unique_sets(relation):
        cond = condition or Q()
        theirs = relation.rows(merged_id).filter(cond)  # ``candidates`` are all of them
        if not others:  # unique on the foreign key alone (one-to-one): one row per customer
            if relation.rows(survivor_id).filter(cond).exists():
                clashes |= set(theirs.values_list("pk", flat=True))
            continue
        taken = set(relation.rows(survivor_id).filter(cond).values_list(*others))
        for *key, pk in theirs.values_list(*others, "pk"):
            if tuple(key) in taken:
                clashes.add(pk)
    return clashes


def _touches_others(obj: models.Model) -> bool:
    """Would deleting ``obj`` cascade to, or null out, any other row?"""
    collector = Collector(using=router.db_for_write(type(obj)))
    try:
        collector.collect([obj])
    except models.ProtectedError:
        return True
    if any(m is not type(obj) for m in collector.data) or any(qs.exists() for qs in collector.fast_deletes):
        return True
    return any(objs for (_field, _value), objs in collector.field_updates.items())


def _row_values(obj: models.Model) -> dict[str, Any]:
    return {f.attname: to_json(getattr(obj, f.attname)) for f in obj._meta.concrete_fields}


CHUNK = 5000  # ids per UPDATE on SQLite, which allows 32,766 variables per statement


def _move_ids(relation: Relation, ids: list[int], from_id: int, to_id: int) -> int:
    """Repoint exactly the rows ``ids`` (still on ``from_id``) at ``to_id``; returns how many moved."""
    model = relation.model
    conn = connections[router.db_for_write(model)]
    if conn.vendor == "postgresql":
        # One array parameter joined as a table: thousands of IN placeholders crawl through psycopg,
        # and "= ANY(%s)" compares every row with every id (40,000 ids: 21 s under load).
        table, column = model._meta.db_table, relation.field.column
        pk = model._meta.pk.column
        with conn.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" AS t SET "{column}" = %s FROM unnest(%s::bigint[]) AS m(id) '
                f'WHERE t."{pk}" = m.id AND t."{column}" = %s',
                [to_id, list(ids), from_id],
            )
            return int(cursor.rowcount)
    moved = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        moved += relation.rows(from_id).filter(pk__in=chunk).update(**{relation.field.attname: to_id})
    return moved


@dataclass
class Moved:
    rows: dict[str, list[int]] = field(default_factory=dict)  # relation label -> moved row ids
    dropped: list[dict[str, Any]] = field(default_factory=list)  # {"relation", "row"}: deleted duplicates
    left: dict[str, list[int]] = field(default_factory=dict)  # duplicates kept on the merged record

    def counts(self) -> dict[str, int]:
        return {label: len(ids) for label, ids in self.rows.items()}


def _drop(relation: Relation, ids: Iterable[int], moved: Moved) -> list[int]:
    """Delete the rows that touch nothing else (recorded); return the ids that had to stay."""
    kept = []
    for obj in relation.model._base_manager.filter(pk__in=list(ids)).order_by("pk"):
        if _touches_others(obj):
            kept.append(obj.pk)
            continue
        moved.dropped.append({"relation": relation.label, "row": _row_values(obj)})
        obj.delete()
    return kept


def move_rows(*, survivor_id: int, merged_id: int, tags: str = "union") -> Moved:
    """Repoint every related row of ``merged_id`` at ``survivor_id``.

    ``tags`` is the user's choice for tags: ``union`` moves the merged record's tags over,
    ``survivor`` leaves them on the merged record, ``merged`` replaces the survivor's tags (its own
    tag rows the merged record lacks are dropped, recorded for undo)."""
    moved = Moved()
    for relation in customer_relations():
        if relation.label == TAGS and tags == "survivor":
            continue
        ids = list(relation.rows(merged_id).order_by("pk").values_list("pk", flat=True))
        if relation.label == TAGS and tags == "merged":
            theirs = relation.rows(merged_id).values("tag_id")
            _drop(
                relation,
                relation.rows(survivor_id).exclude(tag_id__in=theirs).values_list("pk", flat=True),
                moved,
            )
        if not ids:
            continue
        clashes = _clashing_ids(relation, survivor_id, merged_id, ids)
        if clashes:
            left = _drop(relation, clashes, moved)
            if left:
                moved.left[relation.label] = left
        stays = set(moved.left.get(relation.label, []))
        to_move = [i for i in ids if i not in clashes]
        if to_move:
            # By the foreign key, not by a list of ids: one indexed UPDATE however many rows. Exact,
            # because the merged customer's row is locked FOR UPDATE — no other transaction can
            # add a row pointing at it meanwhile (its insert needs a KEY SHARE lock on that row).
            relation.rows(merged_id).exclude(pk__in=stays).update(**{relation.field.attname: survivor_id})
            moved.rows[relation.label] = to_move
    return moved


def count_rows(*, survivor_id: int, merged_id: int, tags: str = "union") -> list[tuple[Relation, int]]:
    """What ``move_rows`` would move, per relation (clashing duplicates not counted)."""
    out = []
    for relation in customer_relations():
        if relation.label == TAGS and tags == "survivor":
            continue
        ids = list(relation.rows(merged_id).values_list("pk", flat=True))
        if not ids:
            continue
        count = len(ids) - len(_clashing_ids(relation, survivor_id, merged_id, ids))
        if count:
            out.append((relation, count))
    return out


@dataclass
class MovedBack:
    rows: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    missing: dict[str, int] = field(default_factory=dict)  # moved rows deleted since the merge
    restored: int = 0  # dropped duplicates put back
    not_restored: int = 0  # dropped duplicates that clash with rows added since


def move_back(
    *, survivor_id: int, merged_id: int, rows: dict[str, list[int]], dropped: list[dict[str, Any]]
) -> MovedBack:
    """Undo ``move_rows``: exactly the recorded rows go back, then the dropped duplicates return."""
    result = MovedBack()
    for label, ids in rows.items():
        relation = relation_by_label(label)
        if relation is None:
            result.missing[label] = len(ids)
            continue
        count = _move_ids(relation, ids, survivor_id, merged_id)
        result.rows[label] = count
        if count < len(ids):
            result.missing[label] = len(ids) - count
    for item in dropped:
        relation = relation_by_label(item["relation"])
        if relation is None:
            result.not_restored += 1
            continue
        if _recreate(relation.model, item["row"]):
            result.restored += 1
        else:
            result.not_restored += 1
    result.rows = dict(result.rows)
    return result


def _recreate(model: type[models.Model], row: dict[str, Any]) -> bool:
    opts = model._meta
    values = {}
    for f in opts.concrete_fields:
        if f.attname in row:
            raw = row[f.attname]
            values[f.attname] = (
                raw if raw is None or f.get_internal_type() == "JSONField" else f.to_python(raw)
            )
    obj = model(**values)
    try:
        with transaction.atomic():
            obj.save(force_insert=True)
            # save() stamps auto_now/auto_now_add fields with the current time: put the originals back.
            stamped = {
                f.attname: values[f.attname]
                for f in opts.concrete_fields
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            }
            if stamped:
                model._base_manager.filter(pk=obj.pk).update(**stamped)
    except IntegrityError:
        return False
    return True
