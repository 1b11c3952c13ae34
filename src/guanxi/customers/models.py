"""Customers (people or companies), their contacts, tags, shares and search index."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from guanxi.core.context import Actor


class CustomerQuerySet(models.QuerySet["Customer"]):
    def alive(self) -> CustomerQuerySet:
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, actor: Actor, *, include_deleted: bool = False) -> CustomerQuerySet:
        """The only door to customer rows: the actor's organisation, narrowed by role scope."""
        from guanxi.core.roles import Scope

        qs = self.filter(organization_id=actor.org_id)
        if not include_deleted:
            qs = qs.filter(deleted_at__isnull=True)
        scope = actor.scope
        if scope == Scope.ALL:
            return qs
        shared = CustomerShare.objects.filter(user_id=actor.user.pk, organization_id=actor.org_id).values(
            "customer_id"
        )
        # Without shares (the common case) "own" is a plain owner filter, which the (organization,
        # owner, id) index answers in list order. OR-ing in the shares subquery makes SQLite collect
        # and sort every own row first: 3.6 s for a rep with 45,000 customers (docs/performance.md).
        own = Q(owner_id=actor.user.pk) | Q(pk__in=shared) if shared.exists() else Q(owner_id=actor.user.pk)
        if scope == Scope.TEAM and actor.membership.team_id:
            team_id = actor.membership.team_id
            team_users = actor.org.memberships.filter(team_id=team_id).values("user_id")
            return qs.filter(own | Q(team_id=team_id) | Q(owner_id__in=team_users))
        return qs.filter(own)


class Customer(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        COMPANY = "company", _("Company")

    class Gender(models.TextChoices):
        UNKNOWN = "", _("Unknown")
        MALE = "male", _("Male")
        FEMALE = "female", _("Female")

    class Lifecycle(models.TextChoices):
        LEAD = "lead", _("Lead")
        POTENTIAL = "potential", _("Potential")
        NEW = "new", _("New")
        ACTIVE = "active", _("Active")
        REPEAT = "repeat", _("Repeat")
        AT_RISK = "at_risk", _("At risk")
        CHURNED = "churned", _("Churned")

    class ValueTier(models.TextChoices):
        NONE = "", _("Unrated")
        HIGH = "high", _("High")
        MEDIUM = "medium", _("Medium")
        LOW = "low", _("Low")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=100, blank=True)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True, default="")
    phone = models.CharField(_("phone"), max_length=40, blank=True)  # primary, as given
    phone_e164 = models.CharField(_("phone (E.164)"), max_length=20, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)  # primary, normalised
    phones = models.JSONField(_("phones"), default=list, blank=True)  # [{label, value, e164}]
    emails = models.JSONField(_("emails"), default=list, blank=True)  # [{label, value}]
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    province = models.CharField(_("province"), max_length=50, blank=True)
    city = models.CharField(_("city"), max_length=50, blank=True)
    district = models.CharField(_("district"), max_length=50, blank=True)
    address = models.CharField(_("street address"), max_length=300, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    birthday_is_lunar = models.BooleanField(_("lunar birthday"), default=False)
    industry = models.CharField(_("industry"), max_length=50, blank=True)
    size = models.CharField(_("company size"), max_length=30, blank=True)
    source = models.CharField(_("source channel"), max_length=50, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey("core.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tags = models.ManyToManyField("customers.Tag", through="customers.CustomerTag", related_name="customers")
    notes = models.TextField(_("notes"), blank=True)
    custom = models.JSONField(_("custom fields"), default=dict, blank=True)
    external_id = models.CharField(_("external ID"), max_length=100, blank=True)

    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=Lifecycle.choices, default=Lifecycle.POTENTIAL
    )
    value_tier = models.CharField(_("value tier"), max_length=10, choices=ValueTier.choices, blank=True)
    grade = models.CharField(_("grade"), max_length=10, blank=True)
    # Computed by the insights module; kept here so lists can filter and sort on them cheaply.
    rfm_r = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_f = models.PositiveSmallIntegerField(null=True, blank=True)
    rfm_m = models.PositiveSmallIntegerField(null=True, blank=True)
    clv = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    churn_risk = models.FloatField(null=True, blank=True)
    p_alive = models.FloatField(null=True, blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    last_ordered_at = models.DateTimeField(null=True, blank=True)
    in_public_pool = models.BooleanField(default=False)

    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Lowercased name | company | phone digits | emails | WeChat: the text a search verifies against.
    search_text = models.TextField(blank=True, default="")

    objects = CustomerQuerySet.as_manager()

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["organization", "owner", "id"], name="cust_owner_idx"),
            models.Index(fields=["organization", "team", "id"], name="cust_team_idx"),
            models.Index(fields=["organization", "created_at", "id"], name="cust_created_idx"),
            models.Index(fields=["organization", "updated_at", "id"], name="cust_updated_idx"),
            models.Index(fields=["organization", "name", "id"], name="cust_name_idx"),
            models.Index(fields=["organization", "province", "id"], name="cust_province_idx"),
            models.Index(fields=["organization", "industry", "id"], name="cust_industry_idx"),
            models.Index(fields=["organization", "lifecycle_stage", "id"], name="cust_lifecycle_idx"),
            models.Index(fields=["organization", "value_tier", "id"], name="cust_tier_idx"),
            models.Index(fields=["organization", "grade", "id"], name="cust_grade_idx"),
            models.Index(fields=["organization", "deleted_at"], name="cust_deleted_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=~Q(external_id=""),
                name="cust_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomerIdentifier(models.Model):
    """Every normalised phone and email of a customer: the exact-duplicate check reads this."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=10)  # phone | email
    value = models.CharField(max_length=254)

    class Meta:
        indexes = [models.Index(fields=["organization", "kind", "value"], name="ident_lookup_idx")]
        constraints = [
            models.UniqueConstraint(fields=["customer", "kind", "value"], name="ident_unique_per_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}"


class SearchGram(models.Model):
    """An n-gram of a customer's searchable text (see ``customers.search``)."""

    pk = models.CompositePrimaryKey("organization_id", "gram", "customer_id")
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    gram = models.CharField(max_length=8)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return self.gram


class CustomerShare(models.Model):
    """A customer explicitly shared with a user who would not otherwise see it."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="share_unique")]
        indexes = [models.Index(fields=["organization", "user"], name="share_user_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}→{self.user_id}"


class Tag(models.Model):
    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=50)
    color = models.CharField(_("color"), max_length=7, default="#64748b")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="tag_unique_name")]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customertag_unique")]
        indexes = [models.Index(fields=["tag", "customer"], name="customertag_tag_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id}:{self.tag_id}"


class Contact(models.Model):
    """A person at a company customer."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    title = models.CharField(_("title"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    phone_e164 = models.CharField(max_length=20, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    wechat = models.CharField(_("WeChat ID"), max_length=64, blank=True)
    is_primary = models.BooleanField(_("primary contact"), default=False)
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [models.Index(fields=["organization", "customer", "id"], name="contact_customer_idx")]

    def __str__(self) -> str:
        return self.name


# Public pool (公海) ---------------------------------------------------------------------------


class PoolSettings(models.Model):
    """An organisation's public-pool limits. No row means the defaults below."""

    organization = models.OneToOneField("core.Organization", on_delete=models.CASCADE, related_name="+")
    reclaim_enabled = models.BooleanField(_("reclaim overdue customers"), default=True)
    max_owned = models.PositiveIntegerField(_("most customers a rep may own"), null=True, blank=True)
    daily_claim_limit = models.PositiveIntegerField(_("claims per rep per day"), null=True, blank=True)
    reclaim_block_days = models.PositiveIntegerField(
        _("days before a rep may claim back a customer they lost"), default=30
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("public pool settings")
        verbose_name_plural = _("public pool settings")

    def __str__(self) -> str:
        return f"pool settings of {self.organization_id}"


class PoolRule(models.Model):
    """When an owned customer goes back to the pool. ``grade`` "" is the rule for every other grade."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    grade = models.CharField(_("grade"), max_length=10, blank=True)
    follow_up_days = models.PositiveIntegerField(
        _("reclaim after days without follow-up"), null=True, blank=True
    )
    close_days = models.PositiveIntegerField(_("reclaim after days without a deal"), null=True, blank=True)
    warn_days = models.PositiveIntegerField(_("warn the owner this many days before"), default=0)

    class Meta:
        verbose_name = _("public pool rule")
        verbose_name_plural = _("public pool rules")
        ordering = ["grade"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "grade"], name="poolrule_unique_grade"),
        ]

    def __str__(self) -> str:
        return f"{self.grade or '*'}: {self.follow_up_days}/{self.close_days}"


class CustomerAssignment(models.Model):
    """One change of a customer's owner: claim, reclaim, release or assignment. Never edited."""

    class Reason(models.TextChoices):
        CLAIM = "claim", _("Claimed from the pool")
        RECLAIM = "reclaim", _("Reclaimed to the pool")
        RELEASE = "release", _("Released to the pool")
        ASSIGN = "assign", _("Assigned")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="assignments")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(  # who did it; empty for the reclaim job
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("reason"), max_length=10, choices=Reason.choices)
    rule = models.CharField(max_length=20, blank=True)  # reclaim: follow_up | close
    note = models.CharField(_("note"), max_length=200, blank=True)  # why it was released
    at = models.DateTimeField()

    class Meta:
        verbose_name = _("customer assignment")
        verbose_name_plural = _("customer assignments")
        indexes = [
            models.Index(fields=["customer", "at"], name="assign_customer_idx"),
            models.Index(fields=["organization", "to_user", "reason", "at"], name="assign_claims_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}: {self.from_user_id}→{self.to_user_id} ({self.reason})"


class PoolWarning(models.Model):
    """A reclaim warning sent to an owner, so each deadline is warned about once."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    rule = models.CharField(max_length=20)
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["customer", "user", "rule", "due_at"], name="poolwarning_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}→{self.user_id} {self.rule} {self.due_at:%Y-%m-%d}"


class ImportMapping(models.Model):
    """A saved column mapping for imports ("our ERP export"), reusable by name."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    # {"source column header": "customer field" | "custom.<key>" | "tags" | ""}
    columns = models.JSONField(_("columns"), default=dict)
    options = models.JSONField(default=dict, blank=True)  # mode, match_on, encoding, sheet …
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("import mapping")
        verbose_name_plural = _("import mappings")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="importmapping_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class DedupeSettings(models.Model):
    """An organisation's duplicate-scan rules: threshold and field weights (defaults when absent)."""

    organization = models.OneToOneField("core.Organization", on_delete=models.CASCADE, related_name="+")
    threshold = models.FloatField(_("threshold"), default=0.8)
    rules = models.JSONField(_("rules"), default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("duplicate rules")
        verbose_name_plural = _("duplicate rules")

    def __str__(self) -> str:
        return f"{self.organization_id}: {self.threshold}"


class DuplicateCandidate(models.Model):
    """A pair of customers the duplicate scan thinks are the same, with its score and reasons."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DISMISSED = "dismissed", _("Not a duplicate")
        MERGED = "merged", _("Merged")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    # Always customer_a_id < customer_b_id, so a pair is stored once.
    customer_a = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    customer_b = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("score"))
    reasons = models.JSONField(_("reasons"), default=list)
    cluster = models.PositiveIntegerField(null=True, blank=True)  # smallest customer id of its cluster
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("duplicate candidate")
        verbose_name_plural = _("duplicate candidates")
        indexes = [
            models.Index(fields=["organization", "status", "-score"], name="dupcand_review_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer_a", "customer_b"], name="dupcand_unique_pair"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_a_id}~{self.customer_b_id} {self.score:.2f}"


class CustomerMerge(models.Model):
    """One merge: what the survivor became, and everything needed to undo it."""

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    survivor = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    # field -> "survivor" | "merged" (which record's value won)
    choices = models.JSONField(default=dict, blank=True)
    survivor_before = models.JSONField(default=dict)  # the survivor's fields before the merge
    merged_before = models.JSONField(default=dict)  # the merged-away record's fields before the merge
    moved = models.JSONField(default=dict)  # relation name -> list of moved row ids
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField()
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("customer merge")
        verbose_name_plural = _("customer merges")
        indexes = [models.Index(fields=["organization", "-merged_at"], name="merge_org_idx")]

    def __str__(self) -> str:
        return f"{self.merged_id}→{self.survivor_id}"
