"""The annual enforcement statistics reports (行政执法数据年度报告, issue 16).

An ``AnnualReport`` is one agency's report of one year: the figures the
agency enters because the platform cannot know them (征收, 征用, 复议 and
诉讼 outcomes — each with a note), the written explanation (情况说明), and,
once published, the frozen snapshot of every figure as published (computed
and manual), so a later correction of a record does not change a published
report. Its status (未开始 / 已起草 / 已发布, and late against 31 January of
the following year) is derived in ``annual_status.py``; "not started" is the
absence of a row. A ``RegionalSummary`` is a legal office's 通报 on its
region's reports of a year.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ReportStatus(models.TextChoices):
    DRAFTED = "drafted", _("drafted")  # 已起草: being written by the agency; private
    PUBLISHED = "published", _("published")  # 已发布: frozen snapshot, public


class AnnualReport(models.Model):
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="annual_reports",
                               verbose_name=_("agency"))
    year = models.PositiveIntegerField(_("reporting year"))
    template = models.CharField(_("counting template"), max_length=16)
    status = models.CharField(_("status"), max_length=16, choices=ReportStatus.choices, default=ReportStatus.DRAFTED)
    # {key: {"value": "12", "note": "..."}} for the template's manual rows.
    manual = models.JSONField(_("figures entered by the agency"), default=dict, blank=True)
    explanation = models.TextField(_("explanation (情况说明)"), blank=True)
    snapshot = models.JSONField(_("published snapshot"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # None for a report received from a lower platform (no account of this platform wrote it).
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   null=True, blank=True, verbose_name=_("updated by"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     null=True, blank=True, verbose_name=_("published by"))
    # The lower platform (its name on the trust list) a report published there
    # was received from (docking, issue 13 item 2; statistics/docked.py); ""
    # for a report written and published here. Shown on the public page.
    received_from = models.CharField(_("received from lower platform"), max_length=255, blank=True, default="",
                                     editable=False)

    class Meta:
        ordering = ["-year", "agency_id"]
        verbose_name = _("annual enforcement statistics report")
        verbose_name_plural = _("annual enforcement statistics reports")
        constraints = [models.UniqueConstraint(fields=["agency", "year"], name="statistics_annual_report_unique")]

    def __str__(self):
        return f"{self.agency} {self.year}"


class RegionalSummary(models.Model):
    """A legal office's 通报 on the annual reports of its region's agencies."""

    region = models.ForeignKey("core.Region", on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    year = models.PositiveIntegerField(_("reporting year"))
    text = models.TextField(_("summary text"))
    snapshot = models.JSONField(_("published snapshot"), editable=False)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("published by"))

    class Meta:
        ordering = ["-year", "region_id"]
        verbose_name = _("regional summary of annual reports")
        verbose_name_plural = _("regional summaries of annual reports")
        constraints = [models.UniqueConstraint(fields=["region", "year"], name="statistics_regional_summary_unique")]

    def __str__(self):
        return f"{self.region} {self.year}"
