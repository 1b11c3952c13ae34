"""The public pool (公海): reads and writes of customers nobody owns, and the reclaim job.

What is in the pool: live customers of the organisation with ``in_public_pool=True`` and no owner.
A customer without an owner that is not flagged is "unassigned" (a manager's list, ``owner=-``);
a manager puts it into the pool with a release.

Who works the pool: active admins, managers and sales reps — reps too, although their normal scope
is their own customers, so the pool selector starts from the organisation's customers, not from
``visible_to``. Reps see the pool with contact details masked (phone, email, WeChat) and without
the street address, extra phones and emails, notes, custom fields or the release note, and a pool
search matches names and companies only (a phone-number search would tell a rep whether a masked
number is the one they typed). They see everything once they own the customer. Managers and
admins, who assign from the pool, see it in full.

Every move (claim, release, reclaim, assign) is one conditional ``UPDATE`` that bumps ``version``,
one ``CustomerAssignment`` row (the ownership history), one audit row with the owner before and
after, and events on commit (``pool.claimed`` … and ``customer.updated``).

Race safety of a claim: the ``UPDATE … WHERE in_public_pool AND owner IS NULL`` lets exactly one of
two simultaneous claims win; the loser gets a 409. The cap and the daily limit are counted in the
same transaction after locking the claimer's membership row (PostgreSQL), so one rep's parallel
claims cannot all squeeze under a limit; on SQLite the ``IMMEDIATE`` transaction holds the write
lock from the start and serialises claims.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import Conflict, DomainError, FieldError, NotFound, PermissionDenied, ValidationFailed
from guanxi.core.events import emit
from guanxi.core.models import Membership, Organization, Team
from guanxi.core.normalize import clean_text, mask_email, mask_phone, mask_text
from guanxi.core.roles import Perm, Role, Scope
from guanxi.customers.models import Customer, CustomerAssignment, PoolSettings
from guanxi.customers.pool_settings import pool_settings_of
from guanxi.customers.presenters import customer_to_dict
from guanxi.customers.selectors import Page, apply_search, customer_get, paginate, with_tags

POOL_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.SALES})
# A customer has "closed" (成交) once it reaches one of these stages.
CLOSED_STAGES = (Customer.Lifecycle.NEW, Customer.Lifecycle.ACTIVE, Customer.Lifecycle.REPEAT)
Reason = CustomerAssignment.Reason
EVENTS = {
    Reason.CLAIM: "pool.claimed",
    Reason.RELEASE: "pool.released",
    Reason.RECLAIM: "pool.reclaimed",
    Reason.ASSIGN: "pool.assigned",
}


class PoolRefused(Conflict):
    """A claim or assignment the pool's rules do not allow; ``code`` says which rule."""

    def __init__(self, detail: str, *, code: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.extra = extra


# Access ---------------------------------------------------------------------------------------


def _require_pool(actor: Actor) -> None:
    if not actor.membership.is_active or actor.role not in POOL_ROLES:
        raise PermissionDenied(_("Only sales reps, managers and administrators work the public pool."))


def sees_pool_in_full(actor: Actor) -> bool:
    """Managers and admins (who assign from the pool) see contact details there; reps after claiming."""
    return actor.sees_contact_details and actor.membership.has(Perm.CUSTOMER_ASSIGN)


# Reads ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolFilters:
    q: str = ""
    kind: str = ""
    grade: str = ""
    value_tier: str = ""
    lifecycle_stage: str = ""
    industry: str = ""
    province: str = ""
    city: str = ""
    tag: str = ""


def pool_base(org_id: int) -> QuerySet[Customer]:
    """Every customer in an organisation's pool. Not narrowed by role scope: callers check access."""
    return Customer.objects.filter(
        organization_id=org_id, deleted_at__isnull=True, in_public_pool=True, owner__isnull=True
    )


def pool_queryset(actor: Actor) -> QuerySet[Customer]:
    _require_pool(actor)
    return pool_base(actor.org_id).select_related("team")


def _search(qs: QuerySet[Customer], org_id: int, q: str, *, full: bool) -> QuerySet[Customer]:
    return apply_search(qs, org_id, q, contact_details=full)


def filter_pool(
    qs: QuerySet[Customer], org_id: int, filters: PoolFilters, *, full: bool
) -> QuerySet[Customer]:
    for name in ("kind", "grade", "value_tier", "lifecycle_stage", "industry", "province", "city"):
        value = getattr(filters, name)
        if value:
            qs = qs.filter(**{name: value})
    if filters.tag:
        qs = qs.filter(tags__name=filters.tag)
    return _search(qs, org_id, filters.q, full=full) if filters.q else qs


def pool_list(
    *, actor: Actor, filters: PoolFilters, sort: str = "-id", cursor: str = "", limit: int = 50
) -> Page:
    qs = filter_pool(pool_queryset(actor), actor.org_id, filters, full=sees_pool_in_full(actor))
    return paginate(qs, sort=sort, cursor=cursor, limit=limit)


def pool_customer_get(*, actor: Actor, customer_id: int) -> Customer:
    customer = with_tags(pool_queryset(actor)).filter(pk=customer_id).first()
    if customer is None:
        raise NotFound(_("This customer is not in the public pool."))
    return customer


def pool_quota(*, actor: Actor, now: dt.datetime | None = None) -> dict[str, Any]:
    """The caller's own numbers: how many they own and have claimed today, against the limits."""
    _require_pool(actor)
    now = now or timezone.now()
    cfg = pool_settings_of(actor.org_id)
    return {
        "owned": _owned_count(actor.org_id, actor.user.pk),
        "max_owned": cfg.max_owned,
        "claimed_today": _claims_today(actor.org, actor.user.pk, now),
        "daily_claim_limit": cfg.daily_claim_limit,
        "reclaim_block_days": cfg.reclaim_block_days,
    }


def pool_info(
    actor: Actor, customers: list[Customer], now: dt.datetime | None = None
) -> dict[int, dict[str, Any]]:
    """Per customer: when and why it entered the pool, from whom, and when the caller may claim it."""
    now = now or timezone.now()
    ids = [c.pk for c in customers]
    info: dict[int, dict[str, Any]] = {
        pk: {
            "pooled_at": None,
            "pool_reason": None,
            "previous_owner": None,
            "note": "",
            "claimable_after": None,
        }
        for pk in ids
    }
    entries = (
        CustomerAssignment.objects.filter(customer_id__in=ids, to_user__isnull=True)
        .order_by("customer_id", "-at", "-id")
        .values("customer_id", "at", "reason", "note", "from_user__username")
    )
    done: set[int] = set()
    for row in entries:
        if row["customer_id"] in done:
            continue
        done.add(row["customer_id"])
        info[row["customer_id"]].update(
            pooled_at=row["at"],
            pool_reason=row["reason"],
            previous_owner=row["from_user__username"],
            note=row["note"],
        )
    block = pool_settings_of(actor.org_id).reclaim_block_days
    if block:
        lost = CustomerAssignment.objects.filter(
            customer_id__in=ids, from_user_id=actor.user.pk, at__gt=now - dt.timedelta(days=block)
        ).values_list("customer_id", "at")
        for pk, at in lost:
            until = at + dt.timedelta(days=block)
            current = info[pk]["claimable_after"]
            info[pk]["claimable_after"] = max(current, until) if current else until
    return info


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def pool_customer_to_dict(customer: Customer, actor: Actor, info: dict[str, Any]) -> dict[str, Any]:
    full = sees_pool_in_full(actor)
    if full:
        data = customer_to_dict(customer, actor)
    else:
        data = {
            "id": customer.pk,
            "kind": customer.kind,
            "name": customer.name,
            "company": customer.company,
            "title": customer.title,
            "gender": customer.gender,
            "phone": mask_phone(customer.phone),
            "email": mask_email(customer.email),
            "wechat": mask_text(customer.wechat),
            "province": customer.province,
            "city": customer.city,
            "district": customer.district,
            "industry": customer.industry,
            "size": customer.size,
            "source": customer.source,
            "tags": [t.name for t in customer.tags.all()],
            "lifecycle_stage": customer.lifecycle_stage,
            "value_tier": customer.value_tier,
            "grade": customer.grade,
            "last_contacted_at": _iso(customer.last_contacted_at),
            "version": customer.version,
            "created_at": _iso(customer.created_at),
            "updated_at": _iso(customer.updated_at),
        }
    data.update(
        {
            "in_public_pool": True,
            "details_masked": not full,
            "pooled_at": _iso(info.get("pooled_at")),
            "pool_reason": info.get("pool_reason"),
            "previous_owner": info.get("previous_owner"),
            "release_note": info.get("note", "") if full else "",
            "claimable_after": _iso(info.get("claimable_after")),
        }
    )
    return data


def customer_assignments(*, actor: Actor, customer_id: int, limit: int = 100) -> list[dict[str, Any]]:
    """The ownership history of a customer the caller can see (or that is in the pool), newest first."""
    try:
        customer_get(actor=actor, customer_id=customer_id)
    except NotFound:
        pool_customer_get(actor=actor, customer_id=customer_id)
    rows = (
        CustomerAssignment.objects.filter(organization_id=actor.org_id, customer_id=customer_id)
        .order_by("-at", "-id")
        .values(
            "id",
            "reason",
            "rule",
            "note",
            "at",
            "from_user__username",
            "to_user__username",
            "actor__username",
        )
    )[:limit]
    full = (
        actor.membership.has(Perm.CUSTOMER_ASSIGN)
        or Customer.objects.filter(pk=customer_id, owner_id=actor.user.pk).exists()
    )
    return [
        {
            "id": r["id"],
            "reason": r["reason"],
            "rule": r["rule"],
            "note": r["note"] if full else "",
            "at": r["at"],
            "from_user": r["from_user__username"],
            "to_user": r["to_user__username"],
            "by": r["actor__username"] or "system",
        }
        for r in rows
    ]


# Limits ---------------------------------------------------------------------------------------


def _owned_count(org_id: int, user_id: int) -> int:
    return Customer.objects.filter(organization_id=org_id, owner_id=user_id, deleted_at__isnull=True).count()


def _day_start(org: Organization, now: dt.datetime) -> dt.datetime:
    tz = ZoneInfo(org.time_zone or settings.TIME_ZONE)
    return now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)


def _claims_today(org: Organization, user_id: int, now: dt.datetime) -> int:
    start = _day_start(org, now)
    return CustomerAssignment.objects.filter(
        organization_id=org.pk,
        to_user_id=user_id,
        reason=Reason.CLAIM,
        at__gte=start,
        at__lt=start + dt.timedelta(days=1),
    ).count()


def _lock_membership(membership_id: int) -> None:
    """Serialise one rep's claims (PostgreSQL row lock; SQLite already holds the write lock)."""
    list(Membership.objects.select_for_update().filter(pk=membership_id).values_list("pk", flat=True))


def _check_cap(cfg: PoolSettings, member: Membership, *, own: bool) -> None:
    if cfg.max_owned is None:
        return
    owned = _owned_count(member.organization_id, member.user_id)
    if owned >= cfg.max_owned:
        if own:
            detail = _(
                "You already own %(n)s customers, the most a rep may hold (%(cap)s). "
                "Release one to the pool before claiming another."
            ) % {"n": owned, "cap": cfg.max_owned}
        else:
            detail = _("%(user)s already owns %(n)s customers, the most a rep may hold (%(cap)s).") % {
                "user": member.user.get_username(),
                "n": owned,
                "cap": cfg.max_owned,
            }
        raise PoolRefused(detail, code="cap_reached", owned=owned, max_owned=cfg.max_owned)


def _check_daily_limit(cfg: PoolSettings, actor: Actor, now: dt.datetime) -> None:
    if cfg.daily_claim_limit is None:
        return
    claimed = _claims_today(actor.org, actor.user.pk, now)
    if claimed >= cfg.daily_claim_limit:
        raise PoolRefused(
            _("You have claimed %(n)s customers today, the daily limit. You can claim more tomorrow.")
            % {"n": claimed},
            code="daily_limit",
            claimed_today=claimed,
            daily_claim_limit=cfg.daily_claim_limit,
        )


def _check_recently_lost(cfg: PoolSettings, actor: Actor, customer_id: int, now: dt.datetime) -> None:
    if not cfg.reclaim_block_days:
        return
    lost_at = (
        CustomerAssignment.objects.filter(
            customer_id=customer_id,
            from_user_id=actor.user.pk,
            at__gt=now - dt.timedelta(days=cfg.reclaim_block_days),
        )
        .order_by("-at")
        .values_list("at", flat=True)
        .first()
    )
    if lost_at is not None:
        until = lost_at + dt.timedelta(days=cfg.reclaim_block_days)
        tz = ZoneInfo(actor.org.time_zone or settings.TIME_ZONE)
        raise PoolRefused(
            _("You lost this customer on %(lost)s; you can claim it again from %(until)s.")
            % {
                "lost": f"{lost_at.astimezone(tz):%Y-%m-%d}",
                "until": f"{until.astimezone(tz):%Y-%m-%d %H:%M}",
            },
            code="recently_lost",
            claimable_after=until.isoformat(),
        )


def _not_in_pool(actor: Actor, customer_id: int) -> DomainError:
    """A claim of a customer that is not (or no longer) in the pool: 409 if it was taken, else 404."""
    row = (
        Customer.objects.filter(organization_id=actor.org_id, pk=customer_id, deleted_at__isnull=True)
        .values("owner_id")
        .first()
    )
    if row is not None and row["owner_id"] == actor.user.pk:
        return PoolRefused(_("You already own this customer."), code="already_yours")
    if row is not None and CustomerAssignment.objects.filter(customer_id=customer_id).exists():
        return PoolRefused(
            _("Someone else took this customer first: it is no longer in the public pool."),
            code="already_claimed",
        )
    if row is not None and Customer.objects.visible_to(actor).filter(pk=customer_id).exists():
        return PoolRefused(_("This customer is not in the public pool."), code="not_in_pool")
    return NotFound(_("This customer is not in the public pool."))


# Moves ----------------------------------------------------------------------------------------


def _names(user_ids: set[int | None], team_ids: set[int | None]) -> tuple[dict[int, str], dict[int, str]]:
    users = dict(
        get_user_model().objects.filter(pk__in=[u for u in user_ids if u]).values_list("pk", "username")
    )
    teams = dict(Team.objects.filter(pk__in=[t for t in team_ids if t]).values_list("pk", "name"))
    return users, teams


def move_customer(
    *,
    actor: Actor | None,
    org_id: int,
    customer: Customer,
    to: Membership | None,
    reason: str,
    now: dt.datetime,
    expect: dict[str, Any],
    rule: str = "",
    note: str = "",
    context: dict[str, Any] | None = None,
) -> bool:
    """Give ``customer`` to ``to`` (None: the pool) if it still matches ``expect``; history, audit, events."""
    from_user, from_team = customer.owner_id, customer.team_id
    to_user, to_team = (to.user_id, to.team_id) if to else (None, None)
    updated = Customer.objects.filter(pk=customer.pk, organization_id=org_id, **expect).update(
        owner_id=to_user,
        team_id=to_team,
        in_public_pool=to is None,
        version=F("version") + 1,
        updated_at=now,
    )
    if not updated:
        return False
    CustomerAssignment.objects.create(
        organization_id=org_id,
        customer_id=customer.pk,
        from_user_id=from_user,
        to_user_id=to_user,
        actor_id=actor.user.pk if actor else None,
        reason=reason,
        rule=rule,
        note=note,
        at=now,
    )
    users, teams = _names({from_user, to_user}, {from_team, to_team})
    changes = diff(
        {
            "owner": users.get(from_user) if from_user else None,
            "team": teams.get(from_team) if from_team else None,
            "in_public_pool": customer.in_public_pool,
        },
        {
            "owner": users.get(to_user) if to_user else None,
            "team": teams.get(to_team) if to_team else None,
            "in_public_pool": to is None,
        },
    )
    ctx = {"reason": reason, **({"rule": rule} if rule else {}), **({"note": note} if note else {})}
    audit(
        actor=actor,
        action=f"pool_{reason}",
        object_type="customer",
        object_id=customer.pk,
        object_repr=customer.name,
        changes=changes,
        org_id=org_id,
        context={**ctx, **(context or {})},
    )
    payload = {
        "org_id": org_id,
        "customer_id": customer.pk,
        "actor_id": actor.user.pk if actor else None,
        "from_user_id": from_user,
        "to_user_id": to_user,
    }
    emit(EVENTS[Reason(reason)], **payload, rule=rule)
    emit("customer.updated", **payload, fields=sorted(changes), source="pool")
    customer.owner_id, customer.team_id, customer.in_public_pool = to_user, to_team, to is None
    customer.version += 1
    return True


_IN_POOL = {"in_public_pool": True, "owner__isnull": True, "deleted_at__isnull": True}


def pool_claim(*, actor: Actor, customer_id: int, now: dt.datetime | None = None) -> Customer:
    """Take a customer from the pool. Exactly one of two simultaneous claims wins; the other gets 409."""
    _require_pool(actor)
    actor.require(Perm.CUSTOMER_CHANGE)
    now = now or timezone.now()
    with transaction.atomic():
        _lock_membership(actor.membership.pk)
        customer = pool_base(actor.org_id).filter(pk=customer_id).first()
        if customer is None:
            raise _not_in_pool(actor, customer_id)
        cfg = pool_settings_of(actor.org_id)
        _check_recently_lost(cfg, actor, customer.pk, now)
        _check_daily_limit(cfg, actor, now)
        _check_cap(cfg, actor.membership, own=True)
        if not move_customer(
            actor=actor,
            org_id=actor.org_id,
            customer=customer,
            to=actor.membership,
            reason=Reason.CLAIM,
            now=now,
            expect=_IN_POOL,
        ):
            raise _not_in_pool(actor, customer_id)
    return customer


def pool_assign(*, actor: Actor, customer_id: int, username: str, now: dt.datetime | None = None) -> Customer:
    """A manager or admin gives a pool customer to a member (managers: within their team).

    The owner cap applies to the receiver; the daily claim limit and the lost-within-D-days rule
    are for claims a rep makes, not for a manager's decision (which is audited)."""
    _require_pool(actor)
    actor.require(Perm.CUSTOMER_ASSIGN)
    now = now or timezone.now()
    with transaction.atomic():
        target = (
            Membership.objects.select_related("user")
            .filter(organization_id=actor.org_id, user__username=username, is_active=True)
            .first()
        )
        if target is None or Role(target.role) not in POOL_ROLES:
            raise ValidationFailed(
                errors=[
                    FieldError(
                        "username",
                        _("no active sales rep, manager or administrator “%(u)s” in this organisation")
                        % {"u": username},
                    )
                ]
            )
        mine = actor.membership
        if (
            actor.scope != Scope.ALL
            and target.pk != mine.pk
            and (not mine.team_id or target.team_id != mine.team_id)
        ):
            raise ValidationFailed(
                errors=[
                    FieldError(
                        "username", _("you can assign only to members of your own team"), code="forbidden"
                    )
                ]
            )
        _lock_membership(target.pk)
        customer = pool_base(actor.org_id).filter(pk=customer_id).first()
        if customer is None:
            raise _not_in_pool(actor, customer_id)
        _check_cap(pool_settings_of(actor.org_id), target, own=target.pk == mine.pk)
        if not move_customer(
            actor=actor,
            org_id=actor.org_id,
            customer=customer,
            to=target,
            reason=Reason.ASSIGN,
            now=now,
            expect=_IN_POOL,
        ):
            raise _not_in_pool(actor, customer_id)
    return customer


def pool_release(*, actor: Actor, customer_id: int, reason: str, now: dt.datetime | None = None) -> Customer:
    """The owner (or a manager who sees the customer) puts it back in the pool, saying why."""
    _require_pool(actor)
    actor.require(Perm.CUSTOMER_CHANGE)
    note = clean_text(reason or "")
    if not note or len(note) > 200:
        message = _("say why the customer goes back to the pool") if not note else _("at most 200 characters")
        raise ValidationFailed(
            errors=[FieldError("reason", message, code="required" if not note else "invalid")]
        )
    now = now or timezone.now()
    with transaction.atomic():
        if pool_base(actor.org_id).filter(pk=customer_id).exists():
            raise PoolRefused(_("This customer is already in the public pool."), code="already_in_pool")
        customer = customer_get(actor=actor, customer_id=customer_id, for_update=True)
        if customer.owner_id != actor.user.pk and not actor.has(Perm.CUSTOMER_ASSIGN):
            raise PermissionDenied(
                _("Only the customer's owner or a manager can put it back in the public pool.")
            )
        if not move_customer(
            actor=actor,
            org_id=actor.org_id,
            customer=customer,
            to=None,
            reason=Reason.RELEASE,
            now=now,
            note=note,
            expect={"version": customer.version, "deleted_at__isnull": True},
        ):
            raise Conflict(_("The customer was changed at the same moment. Reload it and try again."))
    return customer
