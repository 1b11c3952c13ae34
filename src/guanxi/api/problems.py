"""RFC 9457 problem+json answers for every error the API can give."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import URLPattern, re_path
from django.views.decorators.csrf import csrf_exempt
from ninja.errors import AuthenticationError, HttpError, ValidationError

from guanxi.core.errors import DomainError, ValidationFailed, VersionConflict

log = logging.getLogger(__name__)
PROBLEM_TYPE = "https://guanxi.dev/problems/"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
}


def problem(
    status: int,
    detail: str = "",
    *,
    title: str = "",
    errors: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> JsonResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + str(status),
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail or title or _TITLES.get(status, "Error"),
    }
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    return JsonResponse(
        body,
        status=status,
        content_type="application/problem+json",
        json_dumps_params={"ensure_ascii": False},
    )


def _field_from_loc(loc: tuple[Any, ...] | list[Any]) -> tuple[str, int | None]:
    """("body", "payload", "items", 3, "phone") → ("phone", 3); ("query", "limit") → ("limit", None)."""
    parts = list(loc)
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        source = parts.pop(0)
        if source == "body" and parts:
            parts.pop(0)  # the view's parameter name
    index = None
    if len(parts) >= 2 and parts[0] == "items" and isinstance(parts[1], int):
        index = parts[1]
        parts = parts[2:]
    field = ""
    for part in parts:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    return field or "body", index


def _pydantic_message(err: dict[str, Any]) -> str:
    if err.get("type") == "extra_forbidden":
        return "unknown field (not accepted here)"
    if err.get("type") == "missing":
        return "is required"
    return str(err.get("msg", "is invalid"))


def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        field, index = _field_from_loc(err.get("loc", ()))
        item: dict[str, Any] = {
            "field": field,
            "message": _pydantic_message(err),
            "code": err.get("type", "invalid"),
        }
        if index is not None:
            item["index"] = index
        errors.append(item)
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem(422, detail, errors=errors)


def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    extra: dict[str, Any] = {}
    errors = None
    if isinstance(exc, ValidationFailed):
        errors = [e.as_dict() for e in exc.errors]
    if isinstance(exc, VersionConflict):
        extra = {
            "current_version": exc.current_version,
            "changed_by": exc.changed_by,
            "changed_at": exc.changed_at,
        }
    for attr in ("visible_ids",):
        if hasattr(exc, attr):
            extra["duplicate_ids"] = getattr(exc, attr)
    extra.update(getattr(exc, "problem_extra", None) or {})  # e.g. merged_into of a merged-away customer
    return problem(exc.status, str(exc.detail), title=exc.title, errors=errors, **extra)


def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        response = problem(401, "Send a bearer token (Authorization: Bearer gx_…) or sign in.")
        response["WWW-Authenticate"] = 'Bearer realm="guanxi"'
        return response
    return problem(exc.status_code, str(exc))


def on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
    return problem(404, "Not found.")


def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    log.exception("unhandled API error on %s %s", request.method, request.path)
    return problem(500, "Something went wrong on our side; it has been logged.")


def on_too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return problem(
        413,
        f"The request body is larger than {limit} bytes; send fewer items per call.",
        errors=[{"field": "body", "message": f"at most {limit} bytes", "code": "too_large"}],
    )


def _problem_405(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """django-ninja answers a wrong method with a plain-text 405; make it problem+json like the rest."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and "problem+json" not in response.get("Content-Type", ""):
            allowed = response.get("Allow", "")
            replaced = problem(405, f"Use one of: {allowed}.")
            replaced["Allow"] = allowed
            return replaced
        return response

    return wrapper


@csrf_exempt
def unknown_endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return problem(404, "No such API endpoint; see /api/v1/docs.")


def _install_url_fallbacks(api: Any) -> None:
    get_urls = api._get_urls

    def urls_with_problems() -> list[Any]:
        patterns = list(get_urls())
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = _problem_405(pattern.callback)
        return [*patterns, re_path(r"^.*$", unknown_endpoint)]

    api._get_urls = urls_with_problems


def install(api: Any) -> None:
    api.add_exception_handler(ValidationError, on_validation_error)
    api.add_exception_handler(DomainError, on_domain_error)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(RequestDataTooBig, on_too_big)
    api.add_exception_handler(Exception, on_unexpected)
    _install_url_fallbacks(api)
