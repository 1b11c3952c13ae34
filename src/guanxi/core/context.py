"""Who is acting: user, organisation, membership, and through which channel."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from guanxi.core.errors import PermissionDenied
from guanxi.core.roles import Perm, Role, Scope

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from guanxi.core.models import Membership, Organization


@dataclass(frozen=True)
class Actor:
    """Passed to every service and selector. Built once per request, CLI call or job."""

    membership: Membership
    via: str = "api"  # api | ui | cli | system
    token_scopes: frozenset[str] | None = None  # None: a session or CLI — no token narrowing
    ip: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> User:
        return self.membership.user

    @property
    def org(self) -> Organization:
        return self.membership.organization

    @property
    def org_id(self) -> int:
        return self.membership.organization_id

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    @property
    def scope(self) -> Scope:
        return self.membership.scope

    def has(self, perm: Perm) -> bool:
        if not self.membership.has(perm):
            return False
        if self.token_scopes is None:
            return True
        if perm in (Perm.ORG_ADMIN, Perm.AUDIT_VIEW):
            return "admin" in self.token_scopes
        return "write" in self.token_scopes

    def require(self, perm: Perm) -> None:
        if not self.has(perm):
            raise PermissionDenied()

    @property
    def sees_contact_details(self) -> bool:
        # Reading is allowed with a read-only token: it narrows writes, not what the role may see.
        return self.membership.has(Perm.VIEW_CONTACT_DETAILS)

    def audit_context(self) -> dict[str, str]:
        data = {"via": self.via}
        if self.ip:
            data["ip"] = self.ip
        data.update(self.extra)
        return data
