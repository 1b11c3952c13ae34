"""REST endpoints of the duplicate review: ``/api/v1/duplicates…`` and ``/api/v1/duplicate-rules``.

Thin: ``dedupe.services`` writes, ``dedupe.selectors`` reads. A pair is listed only when the caller
can see both customers; any other id answers 404.
"""

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema
from pydantic import Field

from guanxi.api.auth import actor_of
from guanxi.api.idempotency import idempotent, json_response
from guanxi.customers.dedupe import selectors, services
from guanxi.customers.schemas import Strict

router = Router(tags=["duplicates"])


class ScanIn(Strict):
    threshold: float | None = Field(
        None, ge=0.5, le=0.99, description="Override the organisation's threshold for this scan"
    )


class ScanAccepted(Schema):
    job_id: int
    state: str
    status_url: str


class DuplicateQuery(Schema):
    status: str = Field("open", description="open, dismissed or merged; empty for all")
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    customer: int | None = Field(None, description="Only pairs with this customer")
    cluster: int | None = Field(None, description="Only pairs of this cluster")
    cursor: str = Field("", max_length=200)
    limit: int = Field(50, ge=1, le=200)


class CustomerSide(Schema):
    id: int
    name: str
    kind: str
    company: str
    phone: str
    email: str
    province: str
    city: str
    address: str
    birthday: str | None
    version: int


class PairOut(Schema):
    id: int
    a: int = Field(..., description="Customer id (the smaller of the two)")
    b: int
    score: float = Field(..., description="0..1")
    reasons: list[str] = Field(..., description="Why, in the caller's language")
    evidence: list[dict[str, Any]] = Field(..., description="The same reasons as data, with weights")
    cluster: int | None
    status: str
    decided_by: str | None
    decided_at: str | None
    created_at: str
    customer_a: CustomerSide
    customer_b: CustomerSide


class PairPage(Schema):
    items: list[PairOut]
    next_cursor: str | None
    counts: dict[str, int]


class RulesIn(Strict):
    threshold: float | None = Field(None, description="Pairs scoring at least this are listed (0.5–0.99)")
    rules: dict[str, dict[str, Any]] | None = Field(
        None, description="Overrides of the default weights per signal; replaces earlier overrides"
    )


class RulesOut(Schema):
    threshold: float
    rules: dict[str, dict[str, Any]]
    overrides: dict[str, dict[str, Any]]


@router.post(
    "/duplicates/scan",
    response={202: ScanAccepted},
    summary="Scan the organisation for duplicates (admins and managers); poll the job",
)
@idempotent
def scan(request: HttpRequest, payload: ScanIn | None = None) -> HttpResponse:
    job = services.dedupe_scan_start(
        actor=actor_of(request), threshold=payload.threshold if payload else None
    )
    return json_response(
        {"job_id": job.pk, "state": job.state, "status_url": f"/api/v1/jobs/{job.pk}"},
        status=202,
        headers={"Location": f"/api/v1/jobs/{job.pk}"},
    )


@router.get("/duplicates", response=PairPage, summary="Candidate duplicate pairs, most certain first")
def list_duplicates(request: HttpRequest, query: Query[DuplicateQuery]) -> HttpResponse:
    actor = actor_of(request)
    params = query.model_dump()
    page = selectors.duplicate_list(actor=actor, customer_id=params.pop("customer"), **params)
    return json_response(
        {
            "items": [selectors.pair_to_dict(p, actor) for p in page.items],
            "next_cursor": page.next_cursor,
            "counts": selectors.duplicate_counts(actor=actor),
        }
    )


@router.get("/duplicates/{int:candidate_id}", response=PairOut, summary="One candidate pair")
def get_duplicate(request: HttpRequest, candidate_id: int) -> HttpResponse:
    actor = actor_of(request)
    pair = selectors.duplicate_get(actor=actor, candidate_id=candidate_id)
    return json_response(selectors.pair_to_dict(pair, actor))


def _decided(request: HttpRequest, candidate_id: int) -> HttpResponse:
    actor = actor_of(request)
    return json_response(
        selectors.pair_to_dict(selectors.duplicate_get(actor=actor, candidate_id=candidate_id), actor)
    )


@router.post(
    "/duplicates/{int:candidate_id}/dismiss",
    response=PairOut,
    summary="Not a duplicate: later scans keep the pair dismissed",
)
@idempotent
def dismiss(request: HttpRequest, candidate_id: int) -> HttpResponse:
    services.duplicate_dismiss(actor=actor_of(request), candidate_id=candidate_id)
    return _decided(request, candidate_id)


@router.post("/duplicates/{int:candidate_id}/reopen", response=PairOut, summary="Undo a dismissal")
@idempotent
def reopen(request: HttpRequest, candidate_id: int) -> HttpResponse:
    services.duplicate_reopen(actor=actor_of(request), candidate_id=candidate_id)
    return _decided(request, candidate_id)


@router.get("/duplicate-rules", response=RulesOut, summary="Duplicate-scan threshold and rules (admin)")
def get_rules(request: HttpRequest) -> dict[str, Any]:
    return services.dedupe_settings_get(actor=actor_of(request))


@router.put("/duplicate-rules", response=RulesOut, summary="Change the threshold and rule overrides (admin)")
def put_rules(request: HttpRequest, payload: RulesIn) -> dict[str, Any]:
    return services.dedupe_settings_update(
        actor=actor_of(request), threshold=payload.threshold, rules=payload.rules
    )
