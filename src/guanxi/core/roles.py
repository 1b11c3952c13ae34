"""Roles, what each may do, and how far each sees customers.

One table, read by selectors (scope) and services (permissions), so the UI, the API and the CLI
can never disagree about who may do what.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    ADMIN = "admin"
    MANAGER = "manager"
    SALES = "sales"
    MARKETING = "marketing"
    SERVICE = "service"
    READONLY = "readonly"


ROLE_LABELS = {
    Role.ADMIN: _("Administrator"),
    Role.MANAGER: _("Sales manager"),
    Role.SALES: _("Sales rep"),
    Role.MARKETING: _("Marketing"),
    Role.SERVICE: _("Service agent"),
    Role.READONLY: _("Read-only"),
}
ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]


class Scope(StrEnum):
    """How many customers a role sees."""

    OWN = "own"  # owned by the user, or explicitly shared with them
    TEAM = "team"  # owned by anyone in the user's team (and own/shared)
    ALL = "all"  # the whole organisation


class Perm(StrEnum):
    CUSTOMER_ADD = "customer.add"
    CUSTOMER_CHANGE = "customer.change"
    CUSTOMER_DELETE = "customer.delete"
    CUSTOMER_PURGE = "customer.purge"
    CUSTOMER_EXPORT = "customer.export"
    CUSTOMER_ASSIGN = "customer.assign"
    CUSTOMER_IMPORT = "customer.import"  # bulk-import files (creates/updates many customers at once)
    CUSTOMER_MERGE = "customer.merge"  # merge duplicates (soft-deletes one of them) and undo merges
    VIEW_CONTACT_DETAILS = "view_contact_details"
    TAG_MANAGE = "tag.manage"
    AUDIT_VIEW = "audit.view"
    ORG_ADMIN = "org.admin"


_WRITE = {Perm.CUSTOMER_ADD, Perm.CUSTOMER_CHANGE}
ROLE_PERMISSIONS: dict[Role, frozenset[Perm]] = {
    Role.ADMIN: frozenset(Perm),
    Role.MANAGER: frozenset(
        _WRITE
        | {
            Perm.CUSTOMER_DELETE,
            Perm.CUSTOMER_EXPORT,
            Perm.CUSTOMER_ASSIGN,
            Perm.CUSTOMER_IMPORT,
            Perm.CUSTOMER_MERGE,
            Perm.VIEW_CONTACT_DETAILS,
            Perm.TAG_MANAGE,
            Perm.AUDIT_VIEW,
        }
    ),
    Role.SALES: frozenset(_WRITE | {Perm.VIEW_CONTACT_DETAILS}),
    Role.MARKETING: frozenset(_WRITE | {Perm.CUSTOMER_EXPORT, Perm.TAG_MANAGE}),
    Role.SERVICE: frozenset(_WRITE | {Perm.VIEW_CONTACT_DETAILS}),
    Role.READONLY: frozenset(),
}

ROLE_SCOPE: dict[Role, Scope] = {
    Role.ADMIN: Scope.ALL,
    Role.MANAGER: Scope.TEAM,
    Role.SALES: Scope.OWN,
    Role.MARKETING: Scope.ALL,
    Role.SERVICE: Scope.ALL,
    Role.READONLY: Scope.ALL,
}


def role_has(role: str, perm: Perm) -> bool:
    return perm in ROLE_PERMISSIONS.get(Role(role), frozenset())
