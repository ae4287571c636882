"""Docking between instances (公示-17, 公示-18, 公示-19; docs/docking.md).

At the receiving side (the province, or a city for its counties):
- ``Instance``: a registered lower instance — what it may speak for (regions
  and agencies) — and ``InstanceKey``: its Ed25519 public keys, several at
  once while a key is rotated (the old one stays valid until
  ``valid_until``). Together they are the trust list.
- ``InboxMessage``: every message id accepted, so the same message twice
  has one effect; ``ReceivedObject``: the newest version of each object
  each instance sent, so an older version arriving late is ignored.

At the sending side (a county, or a city forwarding upward):
- ``Upstream``: where this instance pushes (one row; its own key pair lives
  in a key file, made on first use, keys.py).
- ``OutboxMessage``: each change to send, written in the transaction of the
  change itself, delivered by the job queue in order per object.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.core.models import Agency, Region


class Instance(models.Model):
    code = models.SlugField(_("instance code"), max_length=64, unique=True,
                            help_text=_("Letters, digits, - and _; the lower instance uses it as its name here"))
    name = models.CharField(_("name"), max_length=128)
    endpoint = models.URLField(_("endpoint"), max_length=300, blank=True,
                               help_text=_("Where this platform can reach the instance (reconciliation requests)"))
    regions = models.ManyToManyField(Region, verbose_name=_("regions it speaks for"), blank=True, related_name="+")
    agencies = models.ManyToManyField(Agency, verbose_name=_("agencies it speaks for"), blank=True, related_name="+")
    is_active = models.BooleanField(_("active"), default=True)
    registered_at = models.DateTimeField(_("registered at"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message at"), null=True, blank=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("docked instance")
        verbose_name_plural = _("docked instances")

    def __str__(self):
        return f"{self.name}（{self.code}）"


class InstanceKey(models.Model):
    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="keys", verbose_name=_("instance"))
    public_key = models.CharField(_("public key"), max_length=64, help_text=_("whpk_ followed by base64"))
    fingerprint = models.CharField(_("fingerprint"), max_length=16)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True,
                                       help_text=_("Empty: valid until replaced; set when a newer key is added"))

    class Meta:
        ordering = ["instance", "-added_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["instance", "public_key"], name="docking_key_once_per_instance")]
        verbose_name = _("instance key")
        verbose_name_plural = _("instance keys")


class InboxMessage(models.Model):
    msg_id = models.CharField(_("message id"), max_length=255)
    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="inbox", verbose_name=_("instance"))
    object_type = models.CharField(_("object type"), max_length=64)
    object_key = models.CharField(_("object key"), max_length=200)
    version = models.PositiveIntegerField(_("version"))
    outcome = models.CharField(_("outcome"), max_length=32)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)
    published_at = models.DateTimeField(_("published at the source"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["instance", "msg_id"], name="docking_message_once")]
        indexes = [models.Index(fields=["instance", "received_at"], name="docking_inbox_recent")]
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")


class ReceivedObject(models.Model):
    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="received_objects", verbose_name=_("instance"))
    object_type = models.CharField(_("object type"), max_length=64)
    object_key = models.CharField(_("object key"), max_length=200)
    version = models.PositiveIntegerField(_("version"))
    local_id = models.CharField(_("local record"), max_length=64, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # The reconciliation bucket of the version held (docs/docking.md
    # "Reconciliation"): the agency (or ``region:<code>``) the object belongs
    # to and the Asia/Shanghai day of the message that carried this version.
    agency_code = models.CharField(_("agency"), max_length=64, blank=True)
    source_day = models.DateField(_("day at the source"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["instance", "object_type", "object_key"],
                                               name="docking_object_once")]
        verbose_name = _("received object")
        verbose_name_plural = _("received objects")


class Upstream(models.Model):
    url = models.URLField(_("upstream address"), max_length=300,
                          help_text=_("The receiving address of the platform above, …/api/v1/docking/messages"))
    instance_code = models.SlugField(_("this instance's code there"), max_length=64)
    is_active = models.BooleanField(_("active"), default=True)
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    configured_at = models.DateTimeField(_("configured at"), auto_now=True)
    # The last reconciliation this instance ran with the platform above
    # (reconcile.py): when, and what the receiver answered.
    last_reconciled_at = models.DateTimeField(_("last reconciled at"), null=True, blank=True)
    last_reconciliation = models.JSONField(_("last reconciliation"), default=dict, blank=True)

    class Meta:
        verbose_name = _("upstream platform")
        verbose_name_plural = _("upstream platforms")


class OutboxState(models.TextChoices):
    PENDING = "pending", _("waiting to be sent")
    DELIVERED = "delivered", _("delivered")
    REFUSED = "refused", _("refused by the receiver")
    UNDELIVERABLE = "undeliverable", _("undeliverable")


class OutboxMessage(models.Model):
    msg_id = models.CharField(_("message id"), max_length=255, unique=True)
    event_type = models.CharField(_("event type"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_key = models.CharField(_("object key"), max_length=200)
    version = models.PositiveIntegerField(_("version"))
    body = models.TextField(_("body"))  # the exact bytes signed and sent (UTF-8 JSON)
    state = models.CharField(_("state"), max_length=16, choices=OutboxState.choices, default=OutboxState.PENDING)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_status = models.PositiveIntegerField(_("last HTTP status"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    # "<agency code>|<YYYY-MM-DD>": the reconciliation bucket of this
    # version, read from the body once (reconcile.py fills it lazily).
    bucket = models.CharField(_("reconciliation bucket"), max_length=100, blank=True, default="")

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="docking_outbox_due"),
                   models.Index(fields=["object_type", "object_key", "state"], name="docking_outbox_object")]
        verbose_name = _("message to send")
        verbose_name_plural = _("messages to send")


class ReconciliationOutcome(models.TextChoices):
    RUNNING = "running", _("in progress")
    AGREED = "agreed", _("in agreement")
    REPAIRED = "repaired", _("differences repaired")
    UNREPAIRED = "unrepaired", _("differences remain")


class Reconciliation(models.Model):
    """One reconciliation of a lower instance, as the receiver saw it
    (reconcile.py; docs/docking.md "Reconciliation"): the buckets compared,
    how many differed, the objects it asked for again, what still differed
    after the re-sends, and the sender's backlog at that moment."""

    instance = models.ForeignKey(Instance, on_delete=models.PROTECT, related_name="reconciliations",
                                 verbose_name=_("instance"))
    run_id = models.CharField(_("run"), max_length=64)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16, choices=ReconciliationOutcome.choices,
                               default=ReconciliationOutcome.RUNNING)
    buckets = models.PositiveIntegerField(_("buckets compared"), default=0)
    source_objects = models.PositiveIntegerField(_("objects at the source"), default=0)
    differing = models.PositiveIntegerField(_("buckets differing"), default=0)
    requested = models.PositiveIntegerField(_("objects asked for again"), default=0)
    remaining = models.PositiveIntegerField(_("buckets still differing"), default=0)
    backlog_waiting = models.PositiveIntegerField(_("messages waiting at the source"), default=0)
    backlog_oldest_at = models.DateTimeField(_("oldest waiting since"), null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["instance", "run_id"], name="docking_reconciliation_once")]
        indexes = [models.Index(fields=["instance", "-started_at"], name="docking_recon_latest")]
        verbose_name = _("reconciliation")
        verbose_name_plural = _("reconciliations")
