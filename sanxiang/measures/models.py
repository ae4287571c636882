"""Tasks of the seed's task table rolled out to the units (issue 16 part 2;
docs/measures.md).

A ``Rollout`` is one table rolled out by a legal office to the units of its
region for a year; it holds one ``Task`` per measure and responsible
agency. A task's stored ``state`` is what people did (open → submitted →
accepted, or returned); whether it is overdue is derived on reading from
its deadline and the official clock (``selectors.task_status``), never
stored. ``TaskReport`` rows are its progress reports, ``TaskEvidence`` its
evidence (a link to what the platform shows, found by the automatic check
of ``evidence.py``, or a document uploaded by the unit), ``Filing`` the
备案 the measure requires, linked to the catalogue's filing workflow where
one exists.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Rollout(models.Model):
    table = models.CharField(_("task table"), max_length=64)
    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    year = models.PositiveIntegerField(_("year of the deadlines"))
    rolled_out_at = models.DateTimeField(_("rolled out at"))
    rolled_out_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+", verbose_name=_("rolled out by"))

    class Meta:
        ordering = ["-rolled_out_at", "pk"]
        verbose_name = _("task table roll-out")
        verbose_name_plural = _("task table roll-outs")
        constraints = [models.UniqueConstraint(fields=["table", "region"], name="measures_rollout_once")]

    def __str__(self):
        return f"{self.region} · {self.table} · {self.year}"


class TaskState(models.TextChoices):
    OPEN = "open", pgettext_lazy("task state", "open")
    SUBMITTED = "submitted", pgettext_lazy("task state", "marked done, waiting for acceptance")
    ACCEPTED = "accepted", pgettext_lazy("task state", "accepted")
    RETURNED = "returned", pgettext_lazy("task state", "returned")


class TaskStatus(models.TextChoices):
    """What the matrix shows: derived on reading (selectors.task_status)."""

    NOT_STARTED = "not_started", pgettext_lazy("task status", "not started")
    IN_PROGRESS = "in_progress", pgettext_lazy("task status", "in progress")
    DONE = "done", pgettext_lazy("task status", "done")
    OVERDUE = "overdue", pgettext_lazy("task status", "overdue")


class Task(models.Model):
    rollout = models.ForeignKey(Rollout, on_delete=models.PROTECT, related_name="tasks", verbose_name=_("task table roll-out"))
    measure_code = models.CharField(_("measure"), max_length=16)
    system = models.CharField(_("system"), max_length=16)
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="measure_tasks", verbose_name=_("unit"))
    deadline = models.DateField(_("deadline"), null=True, blank=True, help_text=_("Blank: ongoing (长期执行)."))
    ongoing = models.BooleanField(_("ongoing after the deadline"), default=False)
    state = models.CharField(_("state"), max_length=16, choices=TaskState.choices, default=TaskState.OPEN)
    submitted_at = models.DateTimeField(_("marked done at"), null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="+", verbose_name=_("marked done by"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    return_reason = models.TextField(_("reason for return"), blank=True)
    accepted_on = models.DateField(_("accepted on"), null=True, blank=True)

    class Meta:
        ordering = ["rollout", "agency__region__code", "agency__name", "system", "measure_code"]
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        constraints = [models.UniqueConstraint(fields=["rollout", "measure_code", "agency"], name="measures_task_once")]

    def __str__(self):
        return f"{self.measure_code} · {self.agency}"


class TaskReport(models.Model):
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="reports", verbose_name=_("task"))
    text = models.TextField(_("progress"))
    on = models.DateField(_("date"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("reported by"))
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["task", "-on", "-pk"]
        verbose_name = _("progress report")
        verbose_name_plural = _("progress reports")


class EvidenceKind(models.TextChoices):
    PLATFORM = "platform", _("found on the platform")
    UPLOAD = "upload", _("uploaded document")


def _upload_to(instance, filename: str) -> str:
    return f"measures/{instance.task.rollout_id}/{instance.task_id}/{filename}"


class TaskEvidence(models.Model):
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("task"))
    kind = models.CharField(_("kind"), max_length=16, choices=EvidenceKind.choices)
    label = models.CharField(_("what it shows"), max_length=255)
    url = models.CharField(_("link"), max_length=255, blank=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    file = models.FileField(_("file"), upload_to=_upload_to, max_length=255, blank=True)
    file_type = models.CharField(_("file type"), max_length=128, blank=True)
    file_size = models.PositiveBigIntegerField(_("file size"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                           verbose_name=_("recorded by"))
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["task", "-at", "-pk"]
        verbose_name = _("task evidence")
        verbose_name_plural = _("task evidence")
        constraints = [models.UniqueConstraint(fields=["task", "object_type", "object_id"],
                                               condition=models.Q(kind="platform"), name="measures_platform_evidence_once")]


class FilingStatus(models.TextChoices):
    NOT_SUBMITTED = "not_submitted", pgettext_lazy("filing status", "not submitted")
    SUBMITTED = "submitted", pgettext_lazy("filing status", "submitted")
    FILED = "filed", pgettext_lazy("filing status", "filed")
    RETURNED = "returned", pgettext_lazy("filing status", "returned")


class Filing(models.Model):
    """The 备案 a task's measure requires. Where the catalogue app has the
    filing workflow (catalogue_kind set: 公示-3/5/6/7, 审核-6) the status is
    read from the unit's catalogue versions (selectors.filing_status) and the
    stored status is not used; otherwise the unit submits here and the
    recipient files or returns it."""

    task = models.OneToOneField(Task, on_delete=models.PROTECT, related_name="filing", verbose_name=_("task"))
    kind = models.CharField(_("filing kind"), max_length=32)
    recipient = models.ForeignKey("core.Agency", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                                  verbose_name=_("filed with"))
    catalogue_kind = models.CharField(_("catalogue"), max_length=32, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=FilingStatus.choices, default=FilingStatus.NOT_SUBMITTED)
    reference = models.CharField(_("document reference"), max_length=255, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name=_("decided by"))
    return_reason = models.TextField(_("reason for return"), blank=True)

    class Meta:
        ordering = ["task"]
        verbose_name = _("filing")
        verbose_name_plural = _("filings")
