"""A selection of customers: the list's filters (or explicit ids), as exports and "all N matching"
bulk actions see it.

The customer list (web), ``GET /api/v1/customers`` and ``guanxi export`` all describe "which
customers" with the same query parameters; this module turns any of them into one
:class:`CustomerSelection`, stores it in job parameters (JSON), and turns it back into a queryset
that starts from the actor's visible customers. Saved views (a web model) are resolved through a
lookup the web app registers, so this lower app never imports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, NotFound, ValidationFailed
from guanxi.core.models import CustomFieldDefinition
from guanxi.core.selectors import custom_field_list
from guanxi.customers.models import Customer
from guanxi.customers.selectors import SORTS, CustomerFilters, customer_queryset, filter_customers

TEXT_FILTERS = (
    "q",
    "owner",
    "team",
    "tag",
    "industry",
    "province",
    "city",
    "kind",
    "lifecycle_stage",
    "value_tier",
    "grade",
    "external_id",
)
# API names take a date-time; the list's names (…_from/…_to) take a day, "to" including that day.
DATETIME_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")
DAY_FILTERS = {
    "created_from": ("created_after", False),
    "created_to": ("created_before", True),
    "updated_from": ("updated_after", False),
    "updated_to": ("updated_before", True),
}
FILTERABLE_CUSTOM = ("text", "choice", "bool")
MAX_IDS = 10_000

SavedViewLookup = Callable[[Actor, str], str | None]
_view_lookups: list[SavedViewLookup] = []


def register_saved_view_lookup(lookup: SavedViewLookup) -> None:
    """The web app tells us how to find a saved view (by id or name) → its query string."""
    if lookup not in _view_lookups:
        _view_lookups.append(lookup)


@dataclass(frozen=True)
class CustomerSelection:
    filters: CustomerFilters = field(default_factory=CustomerFilters)
    custom: tuple[tuple[str, str, str], ...] = ()  # (key, field type, value): text/choice/bool fields
    ids: tuple[int, ...] | None = None  # an explicit selection; None: everything the filters match
    sort: str = "-id"

    def to_dict(self) -> dict[str, Any]:
        """JSON for job parameters and the audit row: only what is set."""
        filters = {
            k: (v.isoformat() if isinstance(v, dt.datetime) else v)
            for k, v in asdict(self.filters).items()
            if v not in (None, "")
        }
        data: dict[str, Any] = {"filters": filters}
        if self.custom:
            data["custom"] = [list(c) for c in self.custom]
        if self.ids is not None:
            data["ids"] = list(self.ids)
        if self.sort != "-id":
            data["sort"] = self.sort
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CustomerSelection:
        filters = dict(data.get("filters") or {})
        for name in DATETIME_FILTERS:
            if filters.get(name):
                filters[name] = dt.datetime.fromisoformat(filters[name])
        ids = data.get("ids")
        return cls(
            filters=CustomerFilters(**filters),
            custom=tuple((str(k), str(t), str(v)) for k, t, v in data.get("custom") or []),
            ids=tuple(int(i) for i in ids) if ids is not None else None,
            sort=str(data.get("sort") or "-id"),
        )


def _datetime(name: str, raw: str, errors: list[FieldError]) -> dt.datetime | None:
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, _("is not a date-time like 2026-05-03T08:00:00+08:00")))
        return None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _day(name: str, raw: str, end: bool, errors: list[FieldError]) -> dt.datetime | None:
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        errors.append(FieldError(name, _("is not a date like 2026-05-03")))
        return None
    if end:
        day += dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _ids(raw: list[str], errors: list[FieldError]) -> tuple[int, ...]:
    out: list[int] = []
    for chunk in raw:
        for part in chunk.replace(" ", ",").split(","):
            if not part:
                continue
            if not part.isdigit():
                errors.append(FieldError("ids", _("“%(v)s” is not a customer id") % {"v": part[:20]}))
                return ()
            out.append(int(part))
    if len(out) > MAX_IDS:
        errors.append(FieldError("ids", _("at most %(n)s ids at once") % {"n": MAX_IDS}))
    return tuple(dict.fromkeys(out))


def selection_from_params(
    actor: Actor, params: Mapping[str, Any], *, defs: list[CustomFieldDefinition] | None = None
) -> CustomerSelection:
    """Read the list's query parameters (web or API names, ``cf.<key>``, ``ids``, ``view``, ``sort``).

    ``view`` (a saved view's id or name) supplies the filters; parameters given beside it win.
    Every malformed parameter is reported at once, each naming itself."""
    getlist = params.getlist if isinstance(params, QueryDict) else None
    values: dict[str, str] = {}
    view = str(params.get("view", "") or "").strip()
    if view:
        query = _saved_view_query(actor, view)
        for key, value in QueryDict(query).items():
            if isinstance(value, str) and value.strip():
                values[key] = value.strip()
    for key in params:
        if key == "ids":
            continue
        raw = params.get(key)
        if isinstance(raw, str) and raw.strip():
            values[key] = raw.strip()[:200]
    errors: list[FieldError] = []
    filters: dict[str, Any] = {name: values.get(name, "")[:100] for name in TEXT_FILTERS}
    for name in DATETIME_FILTERS:
        if values.get(name):
            filters[name] = _datetime(name, values[name], errors)
    for name, (target, end) in DAY_FILTERS.items():
        if values.get(name) and not filters.get(target):
            filters[target] = _day(name, values[name], end, errors)
    sort = values.get("sort", "-id")
    if sort.lstrip("-") not in SORTS:
        errors.append(FieldError("sort", _("must be one of: %(s)s") % {"s": ", ".join(sorted(SORTS))}))
    custom = _custom_values(actor, values, defs, errors)
    ids: tuple[int, ...] | None = None
    raw_ids = getlist("ids") if getlist else params.get("ids")
    if isinstance(raw_ids, str):
        raw_ids = [raw_ids]
    if raw_ids:
        ids = _ids([str(v) for v in raw_ids], errors)
    if errors:
        raise ValidationFailed(errors=errors)
    return CustomerSelection(filters=CustomerFilters(**filters), custom=custom, ids=ids, sort=sort)


def _custom_values(
    actor: Actor,
    values: Mapping[str, str],
    defs: list[CustomFieldDefinition] | None,
    errors: list[FieldError],
) -> tuple[tuple[str, str, str], ...]:
    wanted = {k[3:]: v for k, v in values.items() if k.startswith("cf.")}
    if not wanted:
        return ()
    by_key = {d.key: d for d in (defs if defs is not None else custom_field_list(actor=actor))}
    out = []
    for key, value in sorted(wanted.items()):
        d = by_key.get(key)
        if d is None or d.field_type not in FILTERABLE_CUSTOM:
            errors.append(FieldError(f"cf.{key}", _("is not a custom field you can filter by")))
            continue
        if d.field_type == "bool" and value not in ("true", "false"):
            errors.append(FieldError(f"cf.{key}", _("must be true or false")))
            continue
        out.append((key, d.field_type, value[:100]))
    return tuple(out)


def _saved_view_query(actor: Actor, view: str) -> str:
    for lookup in _view_lookups:
        query = lookup(actor, view)
        if query is not None:
            return query
    raise NotFound(_("Saved view “%(v)s” not found.") % {"v": view[:100]})


def filter_custom_fields(
    qs: QuerySet[Customer], custom: tuple[tuple[str, str, str], ...]
) -> QuerySet[Customer]:
    """``custom`` is already checked against the definitions: text and choice match exactly, bool too."""
    for key, field_type, value in custom:
        if field_type == "bool":
            qs = qs.filter(**{f"custom__{key}": value == "true"})
        else:
            qs = qs.filter(**{f"custom__{key}": value})
    return qs


def selection_queryset(actor: Actor, selection: CustomerSelection) -> QuerySet[Customer]:
    """The selected customers the actor can see (the search index text, never output, deferred)."""
    qs = customer_queryset(actor).defer("search_text")
    qs = filter_customers(qs, actor, selection.filters)
    qs = filter_custom_fields(qs, selection.custom)
    if selection.ids is not None:
        qs = qs.filter(pk__in=selection.ids)
    return qs


def selection_check_ids(actor: Actor, selection: CustomerSelection) -> None:
    """An explicit id the actor cannot see answers 404, like any other foreign id."""
    if selection.ids is None:
        return
    found = set(customer_queryset(actor).filter(pk__in=selection.ids).values_list("pk", flat=True))
    if found != set(selection.ids):
        raise NotFound(_("Customer not found."))


def ordered(qs: QuerySet[Customer], sort: str) -> QuerySet[Customer]:
    name = sort.lstrip("-")
    if name == "id":
        return qs.order_by(sort.replace("id", "pk"))
    return qs.order_by(sort, "-pk" if sort.startswith("-") else "pk")
