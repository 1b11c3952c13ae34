"""Domain errors raised by services and selectors; the API and UI translate them for the user."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str
    index: int | None = None  # item position in a bulk call
    code: str = "invalid"

    def as_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"field": self.field, "message": str(self.message), "code": self.code}
        if self.index is not None:
            data["index"] = self.index
        return data


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class ValidationFailed(DomainError):
    errors: list[FieldError] = field(default_factory=list)
    detail: str = ""
    status = 422
    title = "Validation failed"

    def __post_init__(self) -> None:
        if not self.detail:
            self.detail = "; ".join(f"{e.field}: {e.message}" for e in self.errors[:5])
        Exception.__init__(self, self.detail)


class NotFound(DomainError):
    status = 404
    title = "Not found"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or _("Not found."))


class PermissionDenied(DomainError):
    status = 403
    title = "Forbidden"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or _("You do not have permission to do this."))


class VersionConflict(DomainError):
    """Someone else changed the record since the caller read it."""

    status = 412
    title = "Precondition failed"

    def __init__(self, *, current_version: int, changed_by: str = "", changed_at: str = "") -> None:
        super().__init__(
            _("The record was changed by someone else (now version %(version)s). Reload it and try again.")
            % {"version": current_version}
        )
        self.current_version = current_version
        self.changed_by = changed_by
        self.changed_at = changed_at


class Conflict(DomainError):
    status = 409
    title = "Conflict"
