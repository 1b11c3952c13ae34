"""Marketing: web forms that capture leads from the organisation's website (campaigns come later)."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.engagement.models import Purpose


def new_form_token() -> str:
    """The public, unguessable id of a form in its URL (/f/<token>/): 192 random bits."""
    return secrets.token_urlsafe(24)


class WebForm(models.Model):
    """A public form on the organisation's website whose submissions become customers."""

    class Assignment(models.TextChoices):
        USER = "user", _("A fixed user")
        ROUND_ROBIN = "round_robin", _("Round-robin within a team")
        POOL = "pool", _("The public pool")

    class Language(models.TextChoices):
        ZH_HANS = "zh-hans", "中文"
        EN = "en", "English"

    ConsentPurpose = Purpose  # the consent a submission records is engagement's, so are its purposes

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    token = models.CharField(max_length=64, unique=True, default=new_form_token)
    language = models.CharField(_("language"), max_length=10, choices=Language.choices, default="zh-hans")
    title = models.CharField(_("page title"), max_length=200, blank=True)
    intro = models.TextField(_("introduction"), blank=True)
    # Ordered [{key, label: str | {lang: str}, type, required, choices, maps_to}] (see webform_config).
    fields: Any = models.JSONField(_("fields"), default=list)
    source = models.CharField(_("source channel"), max_length=50, blank=True)
    assignment = models.CharField(
        _("owner assignment"), max_length=20, choices=Assignment.choices, default=Assignment.POOL
    )
    assign_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assign_team = models.ForeignKey(
        "core.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Round-robin cursor: the member who got the previous lead.
    last_assigned_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    tags: Any = models.JSONField(_("tags"), default=list, blank=True)
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_purpose = models.CharField(
        _("consent purpose"), max_length=20, choices=ConsentPurpose.choices, default="marketing"
    )
    consent_channels: Any = models.JSONField(_("consent channels"), default=list, blank=True)
    thank_you_text = models.TextField(_("thank-you text"), blank=True)
    redirect_url = models.URLField(_("redirect URL"), max_length=500, blank=True)
    allowed_origins: Any = models.JSONField(_("allowed embedding origins"), default=list, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("web form")
        verbose_name_plural = _("web forms")
        indexes = [models.Index(fields=["organization", "name"], name="webform_org_idx")]

    def __str__(self) -> str:
        return self.name


class WebFormSubmission(models.Model):
    """One POST to a form: what came in, what became of it. Also the rate limiter's ledger."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("New customer created")
        UPDATED = "updated", _("Existing customer updated")
        REJECTED = "rejected", _("Rejected (invalid)")
        SPAM = "spam", _("Spam")

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    form = models.ForeignKey(WebForm, on_delete=models.CASCADE, related_name="submissions")
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    data: Any = models.JSONField(_("submitted data"), default=dict, blank=True)
    errors: Any = models.JSONField(default=list, blank=True)
    # HMAC of the client address with the secret key: enough to rate-limit, useless to identify.
    ip_hash = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("web form submission")
        verbose_name_plural = _("web form submissions")
        indexes = [
            models.Index(fields=["form", "ip_hash", "created_at"], name="wfsub_ip_rate_idx"),
            models.Index(fields=["form", "created_at"], name="wfsub_form_rate_idx"),
            models.Index(fields=["form", "-id"], name="wfsub_list_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.form_id}#{self.pk} {self.outcome}"
