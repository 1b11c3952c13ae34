"""``Idempotency-Key`` on POST: a retried request gets the first answer instead of a second write."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from guanxi.api.auth import actor_of
from guanxi.api.problems import problem
from guanxi.core.models import IdempotencyRecord

KEY_HEADER = "Idempotency-Key"


def idempotent(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = request.headers.get(KEY_HEADER, "").strip()
        if not key:
            return view(request, *args, **kwargs)
        if len(key) > 255:
            return problem(400, "Idempotency-Key is longer than 255 characters.")
        actor = actor_of(request)
        method = request.method or "POST"
        fingerprint = hashlib.sha256(method.encode() + request.path.encode() + request.body).hexdigest()
        lookup = {"organization_id": actor.org_id, "user_id": actor.user.pk, "key": key}
        previous = IdempotencyRecord.objects.filter(**lookup).first()
        if previous is not None:
            return _replay(previous, fingerprint)
        try:
            with transaction.atomic():
                response = view(request, *args, **kwargs)
                if 200 <= response.status_code < 300:
                    IdempotencyRecord.objects.create(
                        **lookup,
                        method=method,
                        path=request.path[:255],
                        fingerprint=fingerprint,
                        status_code=response.status_code,
                        response_body=response.content.decode(),
                        headers={
                            k: v for k, v in response.items() if k in ("Location", "ETag", "Content-Type")
                        },
                    )
            return response
        except IntegrityError:
            # Another request with the same key committed first: its answer is the answer.
            previous = IdempotencyRecord.objects.filter(**lookup).first()
            if previous is None:
                raise
            return _replay(previous, fingerprint)

    return wrapper


def _replay(record: IdempotencyRecord, fingerprint: str) -> HttpResponse:
    if record.fingerprint != fingerprint:
        return problem(
            422,
            "This Idempotency-Key was used with a different request.",
            errors=[
                {"field": KEY_HEADER, "message": "reused with a different body or path", "code": "mismatch"}
            ],
        )
    response = HttpResponse(record.response_body, status=record.status_code)
    for name, value in (record.headers or {}).items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, default=str), status=status, content_type="application/json"
    )
    for name, value in (headers or {}).items():
        response[name] = value
    return response
