"""API tokens: one per client system of an agency, stored as a SHA-256 hash,
scoped, revocable, shown in clear exactly once (when created)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    name = models.CharField(_("name"), max_length=64)
    agency = models.ForeignKey("core.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="api_tokens")
    # The account the token acts as (role api_client, same agency): every
    # selector then scopes token requests exactly as it scopes people.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="api_tokens")
    prefix = models.CharField(_("token prefix"), max_length=16, unique=True, help_text=_("The public part of the token, shown in lists."))
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    scopes = models.JSONField(_("scopes"), default=list)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
