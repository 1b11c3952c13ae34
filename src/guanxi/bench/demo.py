"""The demo organisation: users for every role, custom fields, ~2,300 customers, contacts, a token.

Everything here is idempotent: a second run updates the users and adds nothing else. Customers are
written in bulk but through the same cleaning, search-text, indexing and audit code the services
use (``clean_customer_input``, ``search_text_of``, ``grams_of``/``identifiers_of``,
``snapshot``/``diff``), so the rows are exactly those ``customer_create`` would write — in seconds
instead of a minute.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from guanxi.bench import data as D
from guanxi.bench.generate import CustomerGenerator, Row
from guanxi.core.audit import audit, diff
from guanxi.core.context import Actor
from guanxi.core.errors import ValidationFailed
from guanxi.core.models import (
    ApiToken,
    AuditEvent,
    CustomFieldDefinition,
    Membership,
    Organization,
    hash_token,
)
from guanxi.core.services import (
    TOKEN_PREFIX,
    custom_field_create,
    membership_upsert,
    organization_create,
)
from guanxi.customers import contacts as contact_services
from guanxi.customers.cleaning import clean_customer_input
from guanxi.customers.indexing import identifiers_of, search_text_of
from guanxi.customers.models import Contact, Customer, CustomerIdentifier, CustomerTag, SearchGram, Tag
from guanxi.customers.search import grams_of
from guanxi.customers.services import AUDITED_FIELDS, snapshot

DEMO_ORG = "demo"
DEMO_PASSWORD = "guanxi-demo-2026"
DEMO_SEED = 2026
CHUNK = 500

# username, role, team, display name
DEMO_USERS: list[tuple[str, str, str | None, str]] = [
    ("admin", "admin", None, "王建国"),
    ("manager", "manager", "华东销售部", "李明华"),
    ("sales1", "sales", "华东销售部", "张晓明"),
    ("sales2", "sales", "华南销售部", "陈丽"),
    ("marketing", "marketing", None, "刘芳"),
    ("service", "service", None, "赵静"),
    ("readonly", "readonly", None, "孙磊"),
]
CUSTOM_FIELDS: list[dict[str, Any]] = [
    {"key": "campaign", "label": "客户来源活动", "field_type": "text", "position": 1},
    {"key": "annual_purchase", "label": "年采购额", "field_type": "number", "position": 2},
    {"key": "signed", "label": "是否签约", "field_type": "bool", "position": 3},
    {
        "key": "partner_level",
        "label": "合作级别",
        "field_type": "choice",
        "choices": ["战略合作", "核心伙伴", "普通合作"],
        "position": 4,
    },
]
CAMPAIGNS = ["2025广交会", "春季新品发布会", "双十一促销", "华东行业峰会", "老客户答谢会", "抖音直播"]
TAG_COLORS = ["#dc2626", "#d97706", "#059669", "#2563eb", "#7c3aed", "#db2777", "#0891b2", "#64748b"]


@dataclass
class DemoResult:
    organization: Organization
    users: list[dict[str, str]]
    token: str
    created: dict[str, int] = field(default_factory=dict)
    totals: dict[str, int] = field(default_factory=dict)


def demo_token(org: Organization) -> str:
    """The admin's demo token: derived from SECRET_KEY, so every run prints the same one."""
    digest = hmac.new(settings.SECRET_KEY.encode(), f"guanxi-demo-token:{org.pk}".encode(), hashlib.sha256)
    return TOKEN_PREFIX + base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def demo_password_hash() -> str:
    """The hash of DEMO_PASSWORD with a salt derived from SECRET_KEY: the same string every run.

    One hash for all seven users instead of seven (PBKDF2 is slow on purpose), and a second run can
    see by comparing strings that nothing needs to change. The password is printed anyway.
    """
    salt = hmac.new(settings.SECRET_KEY.encode(), b"guanxi-demo-salt", hashlib.sha256).hexdigest()[:22]
    return make_password(DEMO_PASSWORD, salt=salt)


def _ensure_token(admin: Membership) -> str:
    raw = demo_token(admin.organization)
    if not ApiToken.objects.filter(token_hash=hash_token(raw)).exists():
        # Not api_token_create: that makes a random secret, and the demo wants the same token every run.
        token = ApiToken.objects.create(
            organization_id=admin.organization_id,
            user_id=admin.user_id,
            name="demo",
            prefix=raw[:10],
            token_hash=hash_token(raw),
            scopes=["admin", "read", "write"],
        )
        audit(
            actor=None,
            action="token_create",
            object_type="api_token",
            object_id=token.pk,
            object_repr=f"{admin.user.username} {token.prefix}…",
            changes={"scopes": [None, token.scopes]},
            org_id=admin.organization_id,
            context={"via": "demo"},
        )
    return raw


def _ensure_custom_fields(actor: Actor) -> list[CustomFieldDefinition]:
    have = set(
        CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer").values_list(
            "key", flat=True
        )
    )
    for spec in CUSTOM_FIELDS:
        if spec["key"] not in have:
            custom_field_create(actor=actor, data=spec)
    return list(CustomFieldDefinition.objects.filter(organization_id=actor.org_id, entity="customer"))


def _ensure_tags(org: Organization) -> dict[str, Tag]:
    for i, name in enumerate(D.TAGS):
        Tag.objects.get_or_create(organization=org, name=name, defaults={"color": TAG_COLORS[i % 8]})
    return {t.name: t for t in Tag.objects.filter(organization=org, name__in=D.TAGS)}


def _custom_values(row: Row) -> dict[str, Any]:
    v = row.extra["v"]
    values: dict[str, Any] = {}
    if v < 0.45:
        values["campaign"] = CAMPAIGNS[row.index % len(CAMPAIGNS)]
    if row.kind == "company" or row.company:
        if v > 0.3:
            values["annual_purchase"] = (row.index * 7919 % 200 + 1) * 5000
        values["signed"] = row.lifecycle_stage in ("active", "repeat")
        if row.value_tier:
            values["partner_level"] = {"high": "战略合作", "medium": "核心伙伴", "low": "普通合作"}[
                row.value_tier
            ]
    return values


def _owner_for(row: Row) -> str | None:
    """Sales reps own most customers, the manager some, and a few are unowned (public pool)."""
    u = row.extra["u"]
    return "sales1" if u < 0.42 else "sales2" if u < 0.84 else "manager" if u < 0.94 else None


def _demo_rows(chinese: int, english: int) -> Iterator[Row]:
    yield from CustomerGenerator(DEMO_SEED, english_share=0.0, external_prefix="DEMO-CN-").rows(chinese)
    yield from CustomerGenerator(DEMO_SEED + 1, english_share=1.0, external_prefix="DEMO-EN-").rows(english)


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _index(customers: list[Customer]) -> None:
    """What ``indexing.reindex`` writes for new customers (same ``grams_of``/``identifiers_of``), with
    ``executemany`` instead of 60,000 ORM objects: the biggest part of the demo's start-up time."""
    grams = [(c.organization_id, g, c.pk) for c in customers for g in grams_of(c.search_text)]
    idents = [(c.organization_id, c.pk, k, v) for c in customers for k, v in identifiers_of(c)]
    with connection.cursor() as cur:
        cur.executemany(
            f"INSERT INTO {SearchGram._meta.db_table} (organization_id, gram, customer_id) "
            "VALUES (%s, %s, %s)",
            grams,
        )
        cur.executemany(
            f"INSERT INTO {CustomerIdentifier._meta.db_table} (organization_id, customer_id, kind, value) "
            "VALUES (%s, %s, %s, %s)",
            idents,
        )


def _insert_chunk(
    actor: Actor,
    rows: list[Row],
    defs: list[CustomFieldDefinition],
    tags: dict[str, Tag],
    seen: set[tuple[str, str]],
    users: dict[int, Any],
    teams: dict[int, Any],
) -> tuple[list[Customer], int]:
    planned: list[tuple[Customer, list[str]]] = []
    for row in rows:
        data = row.record()
        data["owner"] = _owner_for(row)
        data["custom"] = _custom_values(row)
        # customer_create refuses a second customer with the same phone or email: drop such values.
        if data.get("email") and ("email", data["email"]) in seen:
            del data["email"]
        cleaned = clean_customer_input(actor=actor, data=data, custom_defs=defs)
        if cleaned.errors:
            raise ValidationFailed(errors=cleaned.errors)
        values = cleaned.values
        for p in values.get("phones", []):
            seen.add(("phone", p["e164"]))
        for e in values.get("emails", []):
            seen.add(("email", e["value"]))
        customer = Customer(organization_id=actor.org_id, created_by_id=actor.user.pk, **values)
        customer.search_text = search_text_of(customer)
        planned.append((customer, cleaned.tags or []))
    customers = Customer.objects.bulk_create([c for c, _ in planned])
    _index(customers)
    CustomerTag.objects.bulk_create(
        [CustomerTag(customer=c, tag=tags[name]) for c, names in planned for name in names]
    )
    events = []
    for customer, names in planned:
        customer.owner = users.get(customer.owner_id) if customer.owner_id else None
        customer.team = teams.get(customer.team_id) if customer.team_id else None
        after = {k: v for k, v in snapshot(customer, names).items() if v not in ("", None, [], {}, False)}
        events.append(
            AuditEvent(
                organization_id=actor.org_id,
                actor=actor.user,
                actor_name=actor.user.get_username(),
                action="create",
                object_type="customer",
                object_id=str(customer.pk),
                object_repr=customer.name[:200],
                changes=diff({}, after, AUDITED_FIELDS),
                context={"via": "demo"},
            )
        )
    AuditEvent.objects.bulk_create(events)
    # Domain events ("customer.created") are not emitted for demo rows: nothing should react to them.
    contacts = _insert_contacts(actor, [c for c, _ in planned if c.kind == "company"])
    return customers, contacts


def _insert_contacts(actor: Actor, companies: list[Customer]) -> int:
    if not companies:
        return 0
    people = CustomerGenerator(DEMO_SEED + 7, english_share=0.0, company_share=0.0).rows(
        len(companies) * 3, start=companies[0].pk * 3
    )
    contacts: list[Contact] = []
    for company in companies:
        how_many = 1 + company.pk % 3
        for k in range(3):
            person = next(people)
            if k >= how_many:
                continue
            data = {
                "name": person.name,
                "title": person.title or D.TITLES[(company.pk + k) % len(D.TITLES)][0],
                "phone": person.phones[0].value if person.phones else "",
                "email": person.emails[0] if person.emails else "",
                "wechat": person.wechat,
                "is_primary": k == 0,
            }
            values = contact_services._clean(actor, data, creating=True)
            contacts.append(Contact(organization_id=actor.org_id, customer=company, **values))
    Contact.objects.bulk_create(contacts)
    events = []
    for contact in contacts:
        events.append(
            AuditEvent(
                organization_id=actor.org_id,
                actor=actor.user,
                actor_name=actor.user.get_username(),
                action="create",
                object_type="contact",
                object_id=str(contact.pk),
                object_repr=contact.name,
                changes=diff({}, contact_services._snap(contact)),
                context={"via": "demo", "customer_id": contact.customer_id},
            )
        )
        events.append(
            AuditEvent(
                organization_id=actor.org_id,
                actor=actor.user,
                actor_name=actor.user.get_username(),
                action="contact_add",
                object_type="customer",
                object_id=str(contact.customer_id),
                object_repr=contact.customer.name[:200],
                changes={"contacts": [None, contact.name]},
                context={"via": "demo"},
            )
        )
    AuditEvent.objects.bulk_create(events)
    return len(contacts)


def demo_prepare(
    *,
    customers: int = 2000,
    english: int | None = None,
    log: Callable[[str], Any] | None = None,
) -> DemoResult:
    """Create (or bring up to date) the demo organisation; safe to run any number of times."""
    english = max(1, customers * 3 // 20) if english is None else english
    org, _ = organization_create(name=DEMO_ORG)
    memberships: dict[str, Membership] = {}
    password = demo_password_hash()
    for username, role, team, display in DEMO_USERS:
        memberships[username], _ = membership_upsert(
            org=org,
            username=username,
            role=role,
            team=team,
            email=f"{username}@demo.guanxi.local",
            display_name=display,
        )
        user = memberships[username].user
        if user.password != password:
            user.password = password
            user.save(update_fields=["password"])
    admin = Membership.objects.select_related("user", "organization", "team").get(pk=memberships["admin"].pk)
    actor = Actor(membership=admin, via="cli", extra={"via": "demo"})
    defs = _ensure_custom_fields(actor)
    tags = _ensure_tags(org)
    token = _ensure_token(admin)

    existing = set(
        Customer.objects.filter(organization=org, external_id__startswith="DEMO-").values_list(
            "external_id", flat=True
        )
    )
    todo = (row for row in _demo_rows(customers, english) if row.external_id not in existing)
    seen = set(CustomerIdentifier.objects.filter(organization=org).values_list("kind", "value"))
    users = {u.pk: u for u in get_user_model().objects.filter(memberships__organization=org)}
    teams = {t.pk: t for t in org.teams.all()}
    created = {"customers": 0, "contacts": 0}
    for chunk in _chunks(todo, CHUNK):
        with transaction.atomic():
            rows, contacts = _insert_chunk(actor, chunk, defs, tags, seen, users, teams)
        created["customers"] += len(rows)
        created["contacts"] += contacts
        if log:
            log(f"  {created['customers']:,} customers, {created['contacts']:,} contacts added")
    totals = {
        "customers": Customer.objects.filter(organization=org).count(),
        "contacts": Contact.objects.filter(organization=org).count(),
        "tags": Tag.objects.filter(organization=org).count(),
        "custom_fields": len(defs),
        "users": len(DEMO_USERS),
    }
    # Follow-ups, tasks, consent, templates, care rules and the pool: a CRM that looks used.
    from guanxi.bench.demo_engagement import demo_engagement

    totals.update(demo_engagement(org, actor))
    users_out = [{"username": u, "role": r, "team": t or "", "name": n} for u, r, t, n in DEMO_USERS]
    return DemoResult(organization=org, users=users_out, token=token, created=created, totals=totals)
