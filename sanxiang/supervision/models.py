"""Complaints and reports about enforcement (投诉举报, issue 15 item 5).

A member of the public files a complaint about an agency (optionally one of
its officers, by certificate number, or one of its decisions, by its 文号)
on the portal or through the API, without logging in. It is routed to the
agency's supervising legal office, which assigns it to one of its
supervisors, investigates (internal notes) and replies, or does not accept
it with a reason. The complainant follows it with the tracking number.

The complainant's name and phone are personal data: shown only to the
supervisors of the office that handles the complaint, never in a public
page or API answer.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.core.models import Agency, Officer


class ComplaintStatus(models.TextChoices):
    RECEIVED = "received", _("received")
    ASSIGNED = "assigned", _("assigned")
    INVESTIGATING = "investigating", _("under investigation")
    REPLIED = "replied", _("replied")
    NOT_ACCEPTED = "not_accepted", _("not accepted")


OPEN_STATUSES = (ComplaintStatus.RECEIVED, ComplaintStatus.ASSIGNED, ComplaintStatus.INVESTIGATING)
CLOSED_STATUSES = (ComplaintStatus.REPLIED, ComplaintStatus.NOT_ACCEPTED)


class Complaint(models.Model):
    tracking_number = models.CharField(_("tracking number"), max_length=24, unique=True)
    agency = models.ForeignKey(Agency, verbose_name=_("agency complained about"), on_delete=models.PROTECT,
                               related_name="complaints")
    office = models.ForeignKey(Agency, verbose_name=_("handling legal office"), on_delete=models.PROTECT,
                               related_name="complaints_handled")
    officer = models.ForeignKey(Officer, verbose_name=_("officer"), null=True, blank=True, on_delete=models.PROTECT,
                                related_name="complaints")
    case_reference = models.CharField(_("decision or case number"), max_length=100, blank=True)
    subject = models.CharField(_("subject"), max_length=100)
    content = models.TextField(_("content"))
    complainant_name = models.CharField(_("complainant's name"), max_length=64, blank=True)
    complainant_phone = models.CharField(_("complainant's phone"), max_length=20, blank=True)
    # HMAC of the sender's address (never the address): the rate limit's counter.
    sender_key = models.CharField(_("sender key"), max_length=64, db_index=True, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=ComplaintStatus.choices,
                              default=ComplaintStatus.RECEIVED, db_index=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    received_on = models.DateField(_("received on"))
    reply_due = models.DateField(_("reply due"))
    reply_rule = models.CharField(_("deadline rule"), max_length=64)
    reply_reference = models.CharField(_("deadline reference"), max_length=255)
    reply_due_provisional = models.BooleanField(_("deadline provisional"), default=False)
    handler = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("handler"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="complaints_handling")
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    reply = models.TextField(_("reply"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("complaint")
        verbose_name_plural = _("complaints")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["office", "status"])]

    def __str__(self) -> str:
        return self.tracking_number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def anonymous(self) -> bool:
        return not (self.complainant_name or self.complainant_phone)


class ComplaintNote(models.Model):
    """An investigation note: internal to the legal office."""

    complaint = models.ForeignKey(Complaint, verbose_name=_("complaint"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("investigation note")
        verbose_name_plural = _("investigation notes")
        ordering = ["created_at", "pk"]


# --------------------------------------------------------------------------
# Alerts (预警, issue 15 item 2): materialised by the refresh job from the
# registered rules (alerts.py); the pages, to-do lists and API read this table.


class AlertLevel(models.TextChoices):
    YELLOW = "yellow", _("yellow (limit near)")
    RED = "red", _("red (overdue)")


# How bad a level is: a closed alert reopens only when its level worsens.
LEVEL_RANK = {AlertLevel.YELLOW: 1, AlertLevel.RED: 2}


class AlertStatus(models.TextChoices):
    OPEN = "open", _("open")
    CLOSED = "closed", _("closed by a supervisor")
    RESOLVED = "resolved", _("resolved (limit met or item gone)")


class Alert(models.Model):
    """One item of one rule that is near or past its limit. At most one
    unresolved row per (rule, key); a resolved one stays as history."""

    rule = models.CharField(_("rule"), max_length=64)
    key = models.CharField(_("object key"), max_length=128)
    level = models.CharField(_("level"), max_length=8, choices=AlertLevel.choices)
    status = models.CharField(_("status"), max_length=12, choices=AlertStatus.choices, default=AlertStatus.OPEN)
    title = models.CharField(_("title"), max_length=255)
    due = models.DateField(_("due"))
    agency = models.ForeignKey(Agency, verbose_name=_("responsible agency"), on_delete=models.PROTECT,
                               related_name="alerts")
    # The legal office supervising the agency when the alert was raised (escalation goes there).
    office = models.ForeignKey(Agency, verbose_name=_("supervising legal office"), null=True, blank=True,
                               on_delete=models.PROTECT, related_name="alerts_supervised")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("responsible user"), null=True, blank=True,
                             on_delete=models.PROTECT, related_name="alerts")
    object_url = models.CharField(_("object address"), max_length=255)
    raised_at = models.DateTimeField(_("first raised at"))
    red_since = models.DateField(_("red since"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    notified_level = models.CharField(_("e-mail sent for level"), max_length=8, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("closed by"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    close_reason = models.TextField(_("reason for closing"), blank=True)
    closed_level = models.CharField(_("level when closed"), max_length=8, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["due", "pk"]
        constraints = [models.UniqueConstraint(fields=["rule", "key"], condition=~models.Q(status="resolved"),
                                               name="supervision_alert_one_unresolved")]
        indexes = [models.Index(fields=["status", "agency", "level"]),
                   models.Index(fields=["status", "office", "escalated_at"]),
                   models.Index(fields=["status", "user"]),
                   models.Index(fields=["rule", "status"])]

    def __str__(self) -> str:
        return f"{self.rule} · {self.title}"


class AlertNote(models.Model):
    """A supervisor's annotation on an alert."""

    alert = models.ForeignKey(Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("author"), on_delete=models.PROTECT,
                               related_name="+")
    text = models.TextField(_("annotation"))
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("alert annotation")
        verbose_name_plural = _("alert annotations")
        ordering = ["created_at", "pk"]


# --------------------------------------------------------------------------
# Supervision instruments (issue 15 item 4): 行政执法监督意见书 and
# 监督决定书, numbered documents of the legal office (documents app kinds
# supervision_opinion / supervision_decision, its numbering and rendering),
# each with a closed loop: issued → the agency reports its rectification →
# the office accepts it, or returns it (the agency reports again).


class InstrumentKind(models.TextChoices):
    OPINION = "supervision_opinion", _("supervision opinion (行政执法监督意见书)")
    DECISION = "supervision_decision", _("supervision decision (行政执法监督决定书)")


class InstrumentStatus(models.TextChoices):
    ISSUED = "issued", _("issued, rectification awaited")
    REPORTED = "reported", _("rectification reported, to examine")
    RETURNED = "returned", _("report returned, to report again")
    ACCEPTED = "accepted", _("rectification accepted")


# The agency still owes a report in these states (the rectification alert).
OWED_STATUSES = (InstrumentStatus.ISSUED, InstrumentStatus.RETURNED)


def _instrument_upload_to(instance, filename):  # under DATA_DIR/files/supervision/
    return f"supervision/{instance.office_id}/{instance.year}/{filename}"


class Instrument(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=InstrumentKind.choices)
    office = models.ForeignKey(Agency, verbose_name=_("issuing legal office"), on_delete=models.PROTECT,
                               related_name="instruments_issued")
    agency = models.ForeignKey(Agency, verbose_name=_("supervised agency"), on_delete=models.PROTECT,
                               related_name="instruments")
    number = models.CharField(_("document number"), max_length=64, unique=True)
    year = models.PositiveIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("sequence number"))
    data = models.JSONField(_("content"), default=dict)
    rectification_due = models.DateField(_("rectification due"))
    status = models.CharField(_("status"), max_length=12, choices=InstrumentStatus.choices,
                              default=InstrumentStatus.ISSUED, db_index=True)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT,
                                  related_name="+")
    docx = models.FileField(_("DOCX file"), upload_to=_instrument_upload_to, max_length=255)
    pdf = models.FileField(_("PDF file"), upload_to=_instrument_upload_to, max_length=255)
    docx_sha256 = models.CharField(_("SHA-256 of the DOCX file"), max_length=64)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF file"), max_length=64)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision instrument")
        verbose_name_plural = _("supervision instruments")
        ordering = ["-issued_at", "-pk"]
        indexes = [models.Index(fields=["agency", "status"]), models.Index(fields=["office", "status"])]

    def __str__(self) -> str:
        return self.number

    @property
    def title(self) -> str:
        return str(InstrumentKind(self.kind).label)


class RectificationReport(models.Model):
    """The agency's report of its rectification, and the office's answer."""

    instrument = models.ForeignKey(Instrument, verbose_name=_("supervision instrument"), on_delete=models.PROTECT,
                                   related_name="reports")
    text = models.TextField(_("rectification report"))
    reported_at = models.DateTimeField(_("reported at"))
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("reported by"), on_delete=models.PROTECT,
                                    related_name="+")
    outcome = models.CharField(_("outcome"), max_length=12, blank=True,
                               choices=[("accepted", _("accepted")), ("returned", _("returned"))])
    answer = models.TextField(_("office's answer"), blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("answered by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("rectification report")
        verbose_name_plural = _("rectification reports")
        ordering = ["reported_at", "pk"]
