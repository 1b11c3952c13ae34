"""REST endpoints for merging duplicate customers and undoing merges.

``GET /customers/{id}/merge-preview?other=ID`` shows both records and the default choice per field;
``POST /customers/{id}/merge`` merges ``other_id`` into ``{id}`` (the survivor) with the versions
the caller read (412 if either changed); ``GET /merges`` lists past merges; ``POST
/merges/{id}/undo`` undoes one. Thin: ``customers.merge`` and ``customers.merge_selectors`` do the work.
"""

import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.api.auth import actor_of
from guanxi.api.idempotency import idempotent, json_response
from guanxi.core.context import Actor
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.customers.merge import MergeUndone, customer_merge, merge_undo
from guanxi.customers.merge_selectors import merge_get, merge_list, merge_preview, merge_to_dict
from guanxi.customers.presenters import customer_to_dict
from guanxi.customers.schemas import CustomerOut, Strict
from guanxi.customers.selectors import customer_get

router = Router(tags=["merge"])
T = TypeVar("T")

# The services speak of survivor and merged record; the API of {id} and other_id.
_API_FIELDS = {"survivor_id": "id", "merged_id": "other_id", "expected_versions": "versions"}


def _api_field_names(view: Callable[..., T]) -> Callable[..., T]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return view(*args, **kwargs)
        except ValidationFailed as exc:
            renamed = [
                FieldError(_API_FIELDS.get(e.field, e.field), e.message, e.index, e.code) for e in exc.errors
            ]
            raise ValidationFailed(errors=renamed) from None

    return wrapper


class MergeFieldOut(Schema):
    field: str = Field(description="choice key: a field group, 'tags', or 'custom.<key>'")
    label: str
    survivor: Any = Field(description="the value on {id} (masked for roles that see masked details)")
    merged: Any = Field(description="the value on the other record")
    default: str = Field(description="what wins unless you choose otherwise")
    options: list[str]
    identical: bool


class MoveOut(Schema):
    relation: str = Field(description="app.model.field of the rows, e.g. engagement.activity.customer")
    name: str
    count: int


class MergePreviewOut(Schema):
    survivor: CustomerOut
    merged: CustomerOut
    fields: list[MergeFieldOut]
    moves: list[MoveOut]
    versions: dict[str, int] = Field(description="send these back as 'versions' with the merge")


class MergeIn(Strict):
    other_id: int = Field(description="the record merged away into {id}")
    choices: dict[str, str] = Field(
        default_factory=dict,
        description="field -> survivor | merged (union for phones/emails/tags, both for notes); "
        "fields left out take the preview's default",
    )
    versions: dict[str, int] = Field(description="customer id -> the version you read, for both records")


class MergeOut(Schema):
    id: int
    survivor_id: int
    survivor_name: str
    merged_id: int
    merged_name: str
    choices: dict[str, str]
    moved: dict[str, int] = Field(description="rows moved to the survivor, per relation")
    merged_by: str | None
    merged_at: dt.datetime
    undone_by: str | None
    undone_at: dt.datetime | None


class MergeCreatedOut(MergeOut):
    survivor: CustomerOut


class MergeUndoneOut(Schema):
    merge: MergeOut
    kept: list[str] = Field(description="survivor fields edited after the merge: kept, not restored")
    moved_back: dict[str, int]
    missing: dict[str, int] = Field(description="moved rows deleted since the merge")
    not_restored: list[str] = Field(description="merged record's unique values another record holds now")


class MergePage(Schema):
    items: list[MergeOut]
    next_cursor: str | None


def _versions(raw: dict[str, int]) -> dict[int, int]:
    out = {}
    for key, value in raw.items():
        if not key.isdigit():
            raise ValidationFailed(errors=[FieldError(f"versions.{key}", "is not a customer id")])
        out[int(key)] = value
    return out


@router.get(
    "/customers/{int:customer_id}/merge-preview",
    response=MergePreviewOut,
    summary="Both records side by side with the default choice per field, and what would move",
)
@_api_field_names
def preview(request: HttpRequest, customer_id: int, other: int = Query(...)) -> dict[str, Any]:  # type: ignore[type-arg]
    actor = actor_of(request)
    result = merge_preview(actor=actor, survivor_id=customer_id, merged_id=other)
    return {
        "survivor": customer_to_dict(result.survivor, actor),
        "merged": customer_to_dict(result.merged, actor),
        "fields": [
            {
                "field": f.key,
                "label": f.label,
                "survivor": f.survivor,
                "merged": f.merged,
                "default": f.default,
                "options": list(f.options),
                "identical": f.identical,
            }
            for f in result.fields
        ],
        "moves": result.moves_as_dicts(),
        "versions": {
            str(result.survivor.pk): result.survivor.version,
            str(result.merged.pk): result.merged.version,
        },
    }


@router.post(
    "/customers/{int:customer_id}/merge",
    response={201: MergeCreatedOut},
    summary="Merge other_id into this customer (needs both versions; 412 when either is stale)",
)
@idempotent
@_api_field_names
def merge(request: HttpRequest, customer_id: int, payload: MergeIn) -> HttpResponse:
    actor = actor_of(request)
    record = customer_merge(
        actor=actor,
        survivor_id=customer_id,
        merged_id=payload.other_id,
        choices=payload.choices,
        expected_versions=_versions(payload.versions),
    )
    survivor = customer_get(actor=actor, customer_id=customer_id)
    body = {**merge_to_dict(record), "survivor": customer_to_dict(survivor, actor)}
    return json_response(
        body, status=201, headers={"Location": f"/api/v1/merges/{record.pk}", "ETag": f'"{survivor.version}"'}
    )


@router.get("/merges", response=MergePage, summary="Past merges of customers you can see, newest first")
def list_merges(
    request: HttpRequest,
    customer_id: int | None = None,
    cursor: str = "",
    limit: int = Query(50, ge=1, le=200),  # type: ignore[type-arg]
) -> dict[str, Any]:
    if cursor and not cursor.isdigit():
        raise ValidationFailed(errors=[FieldError("cursor", "is not a cursor this list gave out")])
    rows = merge_list(
        actor=_merge_reader(request),
        before_id=int(cursor) if cursor else None,
        limit=limit + 1,
        customer_id=customer_id,
    )
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return {"items": [merge_to_dict(m) for m in rows[:limit]], "next_cursor": next_cursor}


@router.get("/merges/{int:merge_id}", response=MergeOut, summary="One merge")
def get_merge(request: HttpRequest, merge_id: int) -> dict[str, Any]:
    return merge_to_dict(merge_get(actor=_merge_reader(request), merge_id=merge_id))


@router.post("/merges/{int:merge_id}/undo", response=MergeUndoneOut, summary="Undo a merge (once)")
def undo(request: HttpRequest, merge_id: int) -> dict[str, Any]:
    result: MergeUndone = merge_undo(actor=actor_of(request), merge_id=merge_id)
    return {
        "merge": merge_to_dict(result.merge),
        "kept": result.kept,
        "moved_back": result.moved_back,
        "missing": result.missing,
        "not_restored": result.not_restored,
    }


def _merge_reader(request: HttpRequest) -> Actor:
    """Listing merges is part of merging: the roles that may merge (a read token is enough)."""
    from guanxi.core.errors import PermissionDenied
    from guanxi.core.roles import Perm

    actor = actor_of(request)
    if not actor.membership.has(Perm.CUSTOMER_MERGE):
        raise PermissionDenied()
    return actor
