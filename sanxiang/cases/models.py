"""Cases and their procedure steps (执法全过程记录, seed 记录-1).

A case runs the process definition of its act kind and procedure
(`sanxiang.catalog.processes.get_process`), the same data the published
flowchart is drawn from (公示-6)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.core.models import ActKind


class Procedure(models.TextChoices):
    SUMMARY = "summary", _("summary procedure")  # 简易程序 (penalty law art. 51)
    GENERAL = "general", _("general procedure")  # 一般程序


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")  # steps are being carried out
    CLOSED = "closed", _("closed")  # 结案: archived, read-only
    TERMINATED = "terminated", _("terminated")  # 终止 / 撤销立案


class Case(models.Model):
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="cases")
    title = models.CharField(_("case title"), max_length=255)
    act_kind = models.CharField(_("act kind"), max_length=16, choices=ActKind.choices)
    procedure = models.CharField(_("procedure"), max_length=16, choices=Procedure.choices, default=Procedure.GENERAL)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    current_step = models.CharField(_("current step"), max_length=32, blank=True)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    party_name = models.CharField(_("party"), max_length=255)
    party_type = models.CharField(_("party type"), max_length=24)
    party_credit_code = models.CharField(_("party credit code"), max_length=18, blank=True)
    party_id_number = models.CharField(_("party ID number"), max_length=18, blank=True)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self):
        return self.title


class CaseStep(models.Model):
    """One step of a case's procedure as carried out: who, when, where,
    what documents and what evidence."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="steps")
    code = models.CharField(_("step"), max_length=32)
    name = models.CharField(_("step name"), max_length=64)
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=255, blank=True)
    note = models.TextField(_("record"), blank=True)
    officers = models.ManyToManyField("core.Officer", related_name="case_steps", verbose_name=_("officers"))

    class Meta:
        ordering = ["case", "started_at", "id"]
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")

    def __str__(self):
        return f"{self.case} · {self.name}"
