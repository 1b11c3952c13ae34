"""REST endpoints of the public pool (公海): ``/api/v1/pool…`` and ``/api/v1/customers/{id}/release``.

Thin: ``customers.pool`` does the work. A claim the rules refuse answers 409 problem+json with a
``code``: ``already_claimed``, ``already_yours``, ``already_in_pool``, ``cap_reached``,
``daily_limit`` or ``recently_lost`` (with ``claimable_after``).
"""

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.api.auth import actor_of
from guanxi.api.idempotency import idempotent, json_response
from guanxi.api.problems import problem
from guanxi.customers import pool, pool_settings
from guanxi.customers.presenters import customer_to_dict
from guanxi.customers.schemas import CustomerOut, Strict
from guanxi.customers.selectors import customer_get

router = Router(tags=["public pool"])


class PoolQuery(Schema):
    q: str = Field("", max_length=100, description="Search names and companies (≥ 2 characters)")
    kind: str = ""
    grade: str = ""
    value_tier: str = ""
    lifecycle_stage: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    tag: str = ""
    sort: str = Field("-id", description="id, created_at, updated_at or name; prefix - for descending")
    cursor: str = Field("", max_length=500)
    limit: int = Field(50, ge=1, le=200)


class PoolCustomerOut(Schema):
    """A customer in the pool. For sales reps ``details_masked`` is true: phone, email and WeChat
    are masked and address, extra phones/emails, notes and custom fields are left out until claimed."""

    id: int
    kind: str
    name: str
    company: str
    title: str
    gender: str
    phone: str
    email: str
    wechat: str
    province: str
    city: str
    district: str
    industry: str
    size: str
    source: str
    tags: list[str]
    lifecycle_stage: str
    value_tier: str
    grade: str
    last_contacted_at: dt.datetime | None
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    in_public_pool: bool
    details_masked: bool
    pooled_at: dt.datetime | None = Field(None, description="When it (last) entered the pool")
    pool_reason: str | None = Field(None, description="release, reclaim, …")
    previous_owner: str | None = None
    release_note: str = Field("", description="Why it was released (managers and admins only)")
    claimable_after: dt.datetime | None = Field(
        None, description="You lost this customer recently: you may claim it again from this time"
    )


class PoolPage(Schema):
    items: list[PoolCustomerOut]
    next_cursor: str | None


class QuotaOut(Schema):
    owned: int
    max_owned: int | None
    claimed_today: int
    daily_claim_limit: int | None
    reclaim_block_days: int


class ReleaseIn(Strict):
    reason: str = Field(..., min_length=1, max_length=200, description="Why it goes back to the pool")


class AssignIn(Strict):
    username: str = Field(..., min_length=1, max_length=150)


class RuleIn(Strict):
    grade: str = Field("", max_length=10, description="Customer grade; empty for every other grade")
    follow_up_days: int | None = Field(
        None, ge=1, le=3650, description="Reclaim after N days without follow-up"
    )
    close_days: int | None = Field(None, ge=1, le=3650, description="Reclaim if not closed within M days")
    warn_days: int = Field(0, ge=0, le=3650, description="Warn the owner K days before; 0 for no warning")


class PoolSettingsIn(Strict):
    reclaim_enabled: bool = True
    max_owned: int | None = Field(None, ge=0, le=100_000, description="Most customers a rep may own")
    daily_claim_limit: int | None = Field(None, ge=0, le=100_000, description="Claims per rep per day")
    reclaim_block_days: int = Field(
        30, ge=0, le=3650, description="Days before a rep may claim back a customer they lost"
    )
    rules: list[RuleIn] = Field(default_factory=list, max_length=50)


class RuleOut(Schema):
    grade: str
    follow_up_days: int | None
    close_days: int | None
    warn_days: int


class PoolSettingsOut(Schema):
    reclaim_enabled: bool
    max_owned: int | None
    daily_claim_limit: int | None
    reclaim_block_days: int
    rules: list[RuleOut]


class AssignmentOut(Schema):
    id: int
    reason: str
    rule: str
    note: str
    at: dt.datetime
    from_user: str | None
    to_user: str | None
    by: str


def _refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Answer a refused claim with 409 problem+json that says which rule refused it."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except pool.PoolRefused as exc:
            return problem(409, str(exc.detail), title="Conflict", code=exc.code, **exc.extra)

    return wrapper


def _page(actor: Any, customers: list[Any]) -> list[dict[str, Any]]:
    info = pool.pool_info(actor, customers)
    return [pool.pool_customer_to_dict(c, actor, info[c.pk]) for c in customers]


def _owned_response(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_of(request)
    customer = customer_get(actor=actor, customer_id=customer_id)
    return json_response(customer_to_dict(customer, actor), headers={"ETag": f'"{customer.version}"'})


@router.get("/pool", response=PoolPage, summary="Customers in the public pool (keyset pagination)")
def list_pool(request: HttpRequest, query: Query[PoolQuery]) -> HttpResponse:
    actor = actor_of(request)
    filters = pool.PoolFilters(**query.model_dump(exclude={"sort", "cursor", "limit"}))
    page = pool.pool_list(
        actor=actor, filters=filters, sort=query.sort, cursor=query.cursor, limit=query.limit
    )
    return json_response({"items": _page(actor, page.items), "next_cursor": page.next_cursor})


@router.get("/pool/quota", response=QuotaOut, summary="My customers and claims against the pool limits")
def my_quota(request: HttpRequest) -> dict[str, Any]:
    return pool.pool_quota(actor=actor_of(request))


@router.get("/pool/settings", response=PoolSettingsOut, summary="Pool limits and reclaim rules (admin)")
def get_settings(request: HttpRequest) -> dict[str, Any]:
    return pool_settings.pool_settings_get(actor=actor_of(request))


@router.put(
    "/pool/settings", response=PoolSettingsOut, summary="Replace pool limits and reclaim rules (admin)"
)
def put_settings(request: HttpRequest, payload: PoolSettingsIn) -> dict[str, Any]:
    return pool_settings.pool_settings_update(actor=actor_of(request), data=payload.model_dump())


@router.get("/pool/{int:customer_id}", response=PoolCustomerOut, summary="One customer in the pool")
def get_pool_customer(request: HttpRequest, customer_id: int) -> HttpResponse:
    actor = actor_of(request)
    customer = pool.pool_customer_get(actor=actor, customer_id=customer_id)
    return json_response(_page(actor, [customer])[0])


@router.post(
    "/pool/{int:customer_id}/claim",
    response=CustomerOut,
    summary="Claim a customer from the pool (409 when someone was faster or a limit is reached)",
)
@idempotent
@_refusals
def claim(request: HttpRequest, customer_id: int) -> HttpResponse:
    pool.pool_claim(actor=actor_of(request), customer_id=customer_id)
    return _owned_response(request, customer_id)


@router.post(
    "/pool/{int:customer_id}/assign",
    response=CustomerOut,
    summary="Give a pool customer to a member (managers: their team; admins: anyone)",
)
@idempotent
@_refusals
def assign(request: HttpRequest, customer_id: int, payload: AssignIn) -> HttpResponse:
    actor = actor_of(request)
    customer = pool.pool_assign(actor=actor, customer_id=customer_id, username=payload.username)
    visible = customer_get(actor=actor, customer_id=customer.pk)
    return json_response(customer_to_dict(visible, actor), headers={"ETag": f'"{visible.version}"'})


@router.post(
    "/customers/{int:customer_id}/release",
    response=PoolCustomerOut,
    summary="Put a customer back in the public pool (its owner, or a manager)",
)
@idempotent
@_refusals
def release(request: HttpRequest, customer_id: int, payload: ReleaseIn) -> HttpResponse:
    actor = actor_of(request)
    pool.pool_release(actor=actor, customer_id=customer_id, reason=payload.reason)
    customer = pool.pool_customer_get(actor=actor, customer_id=customer_id)
    return json_response(_page(actor, [customer])[0])


@router.get(
    "/customers/{int:customer_id}/assignments",
    response=list[AssignmentOut],
    summary="Ownership history: claims, releases, reclaims, assignments",
)
def assignments(
    request: HttpRequest,
    customer_id: int,
    limit: int = Query(100, ge=1, le=500),  # type: ignore[type-arg]
) -> list[dict[str, Any]]:
    return pool.customer_assignments(actor=actor_of(request), customer_id=customer_id, limit=limit)
