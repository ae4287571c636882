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
    # The client system's Ed25519 public key (whpk_…): with it, its pushes
    # may be signed per Standard Webhooks v1a (api/signing.py; docs/docking.md
    # "Case systems"). Empty: bearer token only.
    public_key = models.CharField(_("signing public key"), max_length=64, blank=True,
                                  help_text=_("whpk_ followed by base64; set with `sanxiang token key PREFIX --key whpk_…`"))

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class PushReceipt(models.Model):
    """One push a client system made (signed or not): when it was sent (the
    signed ``webhook-timestamp``, else the newest decision date it carried),
    when it arrived, and — for a signed push — its ``webhook-id`` and the
    answer given, so the same id again is answered the same with no second
    effect. Read for the lag and backlog figures (docking supervision)."""

    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("API token"))
    endpoint = models.CharField(_("endpoint"), max_length=64)
    webhook_id = models.CharField(_("message id"), max_length=255, null=True, blank=True)
    signed = models.BooleanField(_("signed"), default=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    records = models.PositiveIntegerField(_("records"), default=0)
    status = models.PositiveIntegerField(_("HTTP status"), default=200)
    answer = models.JSONField(_("answer"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["token", "webhook_id"], name="api_push_once")]
        indexes = [models.Index(fields=["token", "received_at"], name="api_receipt_recent")]
        verbose_name = _("push received")
        verbose_name_plural = _("pushes received")
