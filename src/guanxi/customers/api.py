"""REST endpoints for customers, contacts and tags (``/api/v1/...``).

Thin: services and selectors do the work."""

import datetime as dt
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from guanxi.api.auth import actor_of
from guanxi.api.idempotency import idempotent, json_response
from guanxi.api.problems import problem
from guanxi.core.audit import event_to_dict
from guanxi.core.errors import FieldError, ValidationFailed
from guanxi.core.roles import Perm
from guanxi.core.schemas import AuditOut
from guanxi.customers import contacts as contact_services
from guanxi.customers import selectors, services
from guanxi.customers import tags as tag_services
from guanxi.customers.models import Tag
from guanxi.customers.presenters import contact_to_dict, customer_to_dict
from guanxi.customers.schemas import (
    BulkIn,
    BulkOut,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    ShareIn,
    TagIn,
    TagOut,
    TagPatch,
)

router = Router(tags=["customers"])
contacts_router = Router(tags=["contacts"])
tags_router = Router(tags=["tags"])


class CustomerFilterQuery(Schema):
    """The list filters, shared by every endpoint that selects customers (the list, the export)."""

    q: str = Field(
        "", max_length=100, description="Search name, company, phone digits, email (≥ 2 characters)"
    )
    owner: str = Field("", description="Owner username; '-' for customers without an owner")
    team: str = ""
    tag: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    kind: str = ""
    lifecycle_stage: str = ""
    value_tier: str = ""
    grade: str = ""
    external_id: str = ""
    created_after: dt.datetime | None = None
    created_before: dt.datetime | None = None
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    sort: str = Field("-id", description="id, created_at, updated_at or name; prefix - for descending")


class CustomerQuery(CustomerFilterQuery):
    cursor: str = Field("", max_length=500)
    limit: int = Field(50, ge=1, le=200)


def _filters(query: CustomerQuery) -> selectors.CustomerFilters:
    data = query.model_dump(exclude={"sort", "cursor", "limit"})
    for name in ("created_after", "created_before", "updated_after", "updated_before"):
        if data[name] is not None and timezone.is_naive(data[name]):
            data[name] = timezone.make_aware(data[name])  # a time without offset is local time
    return selectors.CustomerFilters(**data)


def _etag(version: int) -> str:
    return f'"{version}"'


def _expected_version(request: HttpRequest, body_version: int | None) -> int:
    """The version the caller read, from ``If-Match`` or the body; one of them is required."""
    header = request.headers.get("If-Match", "").strip()
    if header:
        match = re.fullmatch(r'(?:W/)?"?(\d+)"?', header)
        if not match:
            raise ValidationFailed(
                errors=[FieldError("If-Match", 'must be an ETag this API gave out, like "3"')]
            )
        return int(match.group(1))
    if body_version is not None:
        return body_version
    raise _PreconditionRequired()


class _PreconditionRequired(ValidationFailed):
    status = 428
    title = "Precondition required"

    def __init__(self) -> None:
        super().__init__(
            errors=[
                FieldError(
                    "If-Match",
                    "send If-Match with the ETag you read (or 'version' in the body)",
                    code="required",
                )
            ]
        )


def _customer_response(request: HttpRequest, customer: Any, status: int = 200) -> HttpResponse:
    headers = {"ETag": _etag(customer.version)}
    if status == 201:
        headers["Location"] = f"/api/v1/customers/{customer.pk}"
    return json_response(customer_to_dict(customer, actor_of(request)), status=status, headers=headers)


def _page_response(page: selectors.Page, actor: Any) -> HttpResponse:
    # Built here and returned as JSON directly: the dicts come from one presenter, so ninja's
    # re-validation against CustomerPage (half the time of a 50-row page) would check nothing new.
    # The schema still documents the answer in OpenAPI; tests compare answers with it.
    items = [customer_to_dict(c, actor) for c in page.items]
    return json_response({"items": items, "next_cursor": page.next_cursor})


@router.get("/customers", response=CustomerPage, summary="List and search customers (keyset pagination)")
def list_customers(request: HttpRequest, query: Query[CustomerQuery]) -> HttpResponse:
    actor = actor_of(request)
    page = selectors.customer_list(
        actor=actor, filters=_filters(query), sort=query.sort, cursor=query.cursor, limit=query.limit
    )
    return _page_response(page, actor)


@router.post("/customers", response={201: CustomerOut}, summary="Create a customer")
@idempotent
def create_customer(request: HttpRequest, payload: CustomerIn, allow_duplicate: bool = False) -> HttpResponse:
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    customer = services.customer_create(actor=actor_of(request), data=data, allow_duplicate=allow_duplicate)
    customer = selectors.customer_get(actor=actor_of(request), customer_id=customer.pk)
    return _customer_response(request, customer, 201)


@router.post(
    "/customers/bulk", response=BulkOut, summary="Create or upsert up to 1,000 customers, all or nothing"
)
@idempotent
def bulk_customers(request: HttpRequest, payload: BulkIn) -> HttpResponse:
    items = [item.model_dump(exclude_unset=True, exclude={"version"}) for item in payload.items]
    results = services.customers_bulk(
        actor=actor_of(request), items=items, mode=payload.mode, allow_duplicate=payload.allow_duplicate
    )
    created = sum(1 for _, was_created in results if was_created)
    return json_response(
        {
            "created": created,
            "updated": len(results) - created,
            "items": [
                {"index": i, "id": c.pk, "created": new, "version": c.version}
                for i, (c, new) in enumerate(results)
            ],
        }
    )


@router.get("/customers/deleted", response=CustomerPage, summary="The recycle bin")
def list_deleted(request: HttpRequest, query: Query[CustomerQuery]) -> HttpResponse:
    actor = actor_of(request)
    actor.require(Perm.CUSTOMER_DELETE)
    page = selectors.customer_list(
        actor=actor,
        filters=_filters(query),
        sort=query.sort,
        cursor=query.cursor,
        limit=query.limit,
        deleted=True,
    )
    return _page_response(page, actor)


@router.get("/customers/{int:customer_id}", response=CustomerOut, summary="One customer (with ETag)")
def get_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get(actor=actor_of(request), customer_id=customer_id)
    if request.headers.get("If-None-Match", "").strip() == _etag(customer.version):
        response = HttpResponse(status=304)
        response["ETag"] = _etag(customer.version)
        return response
    return _customer_response(request, customer)


@router.patch(
    "/customers/{int:customer_id}",
    response=CustomerOut,
    summary="Change fields (needs If-Match or version; 412 when stale)",
)
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch) -> HttpResponse:
    actor = actor_of(request)
    selectors.customer_get(actor=actor, customer_id=customer_id)  # 404 before 428 for invisible ids
    version = _expected_version(request, payload.version)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    services.customer_update(actor=actor, customer_id=customer_id, data=data, expected_version=version)
    return _customer_response(request, selectors.customer_get(actor=actor, customer_id=customer_id))


@router.delete("/customers/{int:customer_id}", response={204: None}, summary="Move to the recycle bin")
def delete_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    header = request.headers.get("If-Match", "").strip()
    version = _expected_version(request, None) if header else None
    services.customer_delete(actor=actor_of(request), customer_id=customer_id, expected_version=version)
    return HttpResponse(status=204)


@router.post(
    "/customers/{int:customer_id}/restore", response=CustomerOut, summary="Restore from the recycle bin"
)
def restore_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_of(request)
    services.customer_restore(actor=actor, customer_id=customer_id)
    return _customer_response(request, selectors.customer_get(actor=actor, customer_id=customer_id))


@router.delete("/customers/{int:customer_id}/purge", response={204: None}, summary="Delete for good (admin)")
def purge_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    services.customer_purge(actor=actor_of(request), customer_id=customer_id)
    return HttpResponse(status=204)


@router.get(
    "/customers/{int:customer_id}/history",
    response=list[AuditOut],
    summary="Field history: every change with before/after",
)
def customer_history(
    request: HttpRequest,
    customer_id: int,
    before_id: int | None = None,
    limit: int = Query(100, ge=1, le=500),  # type: ignore[type-arg]
) -> list[dict[str, Any]]:
    events = selectors.customer_history(
        actor=actor_of(request), customer_id=customer_id, limit=limit, before_id=before_id
    )
    return [event_to_dict(e) for e in events]


@router.post("/customers/{int:customer_id}/shares", response={204: None}, summary="Share with another user")
def share_customer(request: HttpRequest, customer_id: int, payload: ShareIn) -> HttpResponse:
    services.customer_share(actor=actor_of(request), customer_id=customer_id, username=payload.username)
    return HttpResponse(status=204)


# Contacts -------------------------------------------------------------------------------------


@contacts_router.get("/contacts", response=ContactPage, summary="Contacts of visible customers")
def list_contacts(
    request: HttpRequest,
    customer_id: int | None = None,
    cursor: str = "",
    limit: int = Query(50, ge=1, le=200),  # type: ignore[type-arg]
) -> dict[str, Any]:
    actor = actor_of(request)
    after = int(cursor) if cursor.isdigit() else 0
    if cursor and not cursor.isdigit():
        raise ValidationFailed(errors=[FieldError("cursor", "is not a cursor this list gave out")])
    rows = contact_services.contact_list(
        actor=actor, customer_id=customer_id, after_id=after, limit=limit + 1
    )
    next_cursor = str(rows[limit - 1].pk) if len(rows) > limit else None
    return {"items": [contact_to_dict(c, actor) for c in rows[:limit]], "next_cursor": next_cursor}


@contacts_router.post("/contacts", response={201: ContactOut}, summary="Add a contact to a customer")
@idempotent
def create_contact(request: HttpRequest, payload: ContactIn) -> HttpResponse:
    actor = actor_of(request)
    data = payload.model_dump(exclude={"customer_id"})
    contact = contact_services.contact_create(actor=actor, customer_id=payload.customer_id, data=data)
    return json_response(
        contact_to_dict(contact, actor),
        status=201,
        headers={"ETag": _etag(contact.version), "Location": f"/api/v1/contacts/{contact.pk}"},
    )


@contacts_router.get("/contacts/{int:contact_id}", response=ContactOut)
def get_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    actor = actor_of(request)
    contact = contact_services.contact_get(actor=actor, contact_id=contact_id)
    return json_response(contact_to_dict(contact, actor), headers={"ETag": _etag(contact.version)})


@contacts_router.patch("/contacts/{int:contact_id}", response=ContactOut)
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch) -> HttpResponse:
    actor = actor_of(request)
    contact_services.contact_get(actor=actor, contact_id=contact_id)
    version = _expected_version(request, payload.version)
    data = payload.model_dump(exclude_unset=True, exclude={"version"})
    contact = contact_services.contact_update(
        actor=actor, contact_id=contact_id, data=data, expected_version=version
    )
    return json_response(contact_to_dict(contact, actor), headers={"ETag": _etag(contact.version)})


@contacts_router.delete("/contacts/{int:contact_id}", response={204: None})
def delete_contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact_services.contact_delete(actor=actor_of(request), contact_id=contact_id)
    return HttpResponse(status=204)


# Tags -----------------------------------------------------------------------------------------


@tags_router.get("/tags", response=list[TagOut], summary="All tags of the organisation")
def list_tags(request: HttpRequest) -> Any:
    return list(Tag.objects.filter(organization_id=actor_of(request).org_id).order_by("name"))


@tags_router.post("/tags", response={201: TagOut})
def create_tag(request: HttpRequest, payload: TagIn) -> Status[Any]:
    return Status(
        201, tag_services.tag_create(actor=actor_of(request), name=payload.name, color=payload.color)
    )


@tags_router.patch("/tags/{int:tag_id}", response=TagOut)
def update_tag(request: HttpRequest, tag_id: int, payload: TagPatch) -> Tag:
    return tag_services.tag_update(
        actor=actor_of(request), tag_id=tag_id, data=payload.model_dump(exclude_unset=True)
    )


@tags_router.delete("/tags/{int:tag_id}", response={204: None})
def delete_tag(request: HttpRequest, tag_id: int) -> HttpResponse:
    tag_services.tag_delete(actor=actor_of(request), tag_id=tag_id)
    return HttpResponse(status=204)


__all__ = ["contacts_router", "problem", "router", "tags_router"]
