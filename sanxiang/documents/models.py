"""Documents (文书) issued in a case, their number counters and number patterns.

Seed 记录-2 (standard, numbered enforcement documents), 记录-3 (text records
of every step, kept in the case file), 公示-10/11 (decisions served as
numbered documents, whose number the publication carries).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.cases import registry

from .kinds import KindNotFound, get_kind


class DocumentCounter(models.Model):
    """The last sequence number taken for (agency, kind, year). Locked and
    incremented inside the transaction that creates the document
    (numbering.take_number), so a rolled-back issue leaves no gap."""

    agency = models.ForeignKey("core.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("document kind"), max_length=48)
    year = models.PositiveIntegerField(_("year"))
    last_seq = models.PositiveIntegerField(_("last sequence number"), default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "kind", "year"], name="documents_counter_unique")]
        verbose_name = _("document number counter")
        verbose_name_plural = _("document number counters")


class NumberPattern(models.Model):
    """An agency's own 文号 pattern, for one kind or (kind "") for all."""

    agency = models.ForeignKey("core.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("document kind"), max_length=48, blank=True)
    pattern = models.CharField(_("number pattern"), max_length=64)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "kind"], name="documents_pattern_unique")]
        verbose_name = _("document number pattern")
        verbose_name_plural = _("document number patterns")


def _upload_to(instance, filename):  # files live under DATA_DIR/files/documents/
    return f"documents/{instance.agency_id}/{instance.year}/{filename}"


class Document(models.Model):
    """One issued document: the data it was rendered from, its number (if
    its kind is numbered) and the DOCX and PDF as issued, with their SHA-256."""

    case = models.ForeignKey("cases.Case", verbose_name=_("case"), on_delete=models.PROTECT, related_name="documents")
    # The step of the case the document was issued in (记录-2/记录-3: each
    # step's text record and documents kept together): by default the step in
    # progress at issue time; null when none was (or for documents issued
    # before steps were recorded).
    step = models.ForeignKey("cases.CaseStep", on_delete=models.PROTECT, related_name="issued_documents", null=True,
                             blank=True, verbose_name=_("step"))
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="documents", verbose_name=_("agency"),
                               help_text=_("The issuing agency (the case's agency when issued)."))
    kind = models.CharField(_("document kind"), max_length=48)
    kind_version = models.PositiveIntegerField(_("document kind version"), default=1)
    title = models.CharField(_("document title"), max_length=64)
    number = models.CharField(_("issued number"), max_length=64, null=True, blank=True, unique=True)
    year = models.PositiveIntegerField(_("year"))
    seq = models.PositiveIntegerField(_("sequence number"), null=True, blank=True)
    data = models.JSONField(_("content"), default=dict)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey("core.User", verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    docx = models.FileField(_("DOCX file"), upload_to=_upload_to, max_length=255)
    pdf = models.FileField(_("PDF file"), upload_to=_upload_to, max_length=255)
    docx_sha256 = models.CharField(_("SHA-256 of the DOCX file"), max_length=64)
    pdf_sha256 = models.CharField(_("SHA-256 of the PDF file"), max_length=64)

    class Meta:
        ordering = ["case", "issued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "kind", "year", "seq"], name="documents_seq_unique"),
        ]
        verbose_name = _("document")
        verbose_name_plural = _("documents")

    def __str__(self):
        return f"{self.title} {self.number or ''}".strip()

    def save(self, *args, **kwargs):
        # 审核-8 at every door: a final decision (a kind with ``review_gate``)
        # is not created while a decision guard registered with the cases app
        # blocks it (sanxiang.cases.registry). An unknown kind is left to
        # ``kinds.get_kind``'s own error where the document is issued.
        if self.pk is None:
            try:
                gated = get_kind(self.kind).review_gate
            except KindNotFound:
                gated = False
            if gated:
                registry.refuse_blocked_decision(self.case)
        super().save(*args, **kwargs)
