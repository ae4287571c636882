"""双随机一公开: random inspections (公示-5, 公示-15; docs/random-inspection.md).

- ``InspectionObject``: the directory of inspection objects (检查对象名录库),
  with its credit-risk tier (the draw's stratum) and labels. A natural
  person is kept with a masked ID number only (and a hash of the full one,
  to find the same person twice), never the number itself.
- ``Conflict``: an officer who must not inspect an object (回避), with the
  reason; the draw never assigns them together.
- ``InspectionPlan`` / ``InspectionBatch``: an agency's annual plan, filed
  with its legal office; each batch names an item of the accepted
  随机抽查事项清单, the scope over the directory, the ratio per tier, the
  inspectors per object and the limit per inspector.
- ``Draw`` / ``DrawParticipant``: one run of sanxiang-draw-v1 (drawv1.py):
  the snapshot published with every participant's commitment before the
  draw, the reveals, the seed and the result; a re-draw names the draw it
  replaces and its published reason.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.core.models import Agency, Officer, Region


class RiskTier(models.TextChoices):
    A = "A", _("tier A (low risk)")
    B = "B", _("tier B")
    C = "C", _("tier C")
    D = "D", _("tier D (high risk)")


class InspectionObject(models.Model):
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(_("unified social credit code"), max_length=18, blank=True)
    natural_person = models.BooleanField(_("natural person"), default=False)
    id_masked = models.CharField(_("ID number (masked)"), max_length=32, blank=True)
    id_hash = models.CharField(_("ID number key"), max_length=64, blank=True, editable=False)
    legal_representative = models.CharField(_("legal representative"), max_length=64, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    industry = models.CharField(_("industry"), max_length=64, blank=True)
    risk_tier = models.CharField(_("credit-risk tier"), max_length=1, choices=RiskTier.choices, default=RiskTier.B)
    labels = models.JSONField(_("labels"), default=list, blank=True)
    is_active = models.BooleanField(_("in the directory"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["credit_code"], condition=~models.Q(credit_code=""),
                                    name="inspections_object_credit_code_once"),
            models.UniqueConstraint(fields=["id_hash"], condition=~models.Q(id_hash=""),
                                    name="inspections_object_person_once"),
        ]
        indexes = [models.Index(fields=["region", "risk_tier"], name="inspections_object_scope")]
        verbose_name = _("inspection object")
        verbose_name_plural = _("inspection objects")

    def __str__(self):
        return self.name

    @property
    def draw_id(self) -> str:
        """Its id in a draw's snapshot: the directory number, nothing personal."""
        return str(self.pk)


class Conflict(models.Model):
    officer = models.ForeignKey(Officer, on_delete=models.CASCADE, related_name="+", verbose_name=_("officer"))
    object = models.ForeignKey(InspectionObject, on_delete=models.CASCADE, related_name="conflicts",
                               verbose_name=_("inspection object"))
    reason = models.CharField(_("reason"), max_length=255)
    declared_by = models.CharField(_("declared by"), max_length=150)
    declared_at = models.DateTimeField(_("declared at"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["officer", "object"], name="inspections_conflict_once")]
        verbose_name = _("conflict of interest")
        verbose_name_plural = _("conflicts of interest")


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted for filing")
    FILED = "filed", _("filed")
    RETURNED = "returned", _("returned")


class InspectionPlan(models.Model):
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    year = models.PositiveIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=200)
    status = models.CharField(_("status"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True)
    return_reason = models.CharField(_("reason for return"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["-year", "agency", "pk"]
        verbose_name = _("annual inspection plan")
        verbose_name_plural = _("annual inspection plans")

    def __str__(self):
        return self.title


class InspectionBatch(models.Model):
    plan = models.ForeignKey(InspectionPlan, on_delete=models.CASCADE, related_name="batches", verbose_name=_("plan"))
    title = models.CharField(_("title"), max_length=200)
    # The item of the agency's accepted 随机抽查事项清单 (公示-5), by its code.
    item_code = models.CharField(_("inspection item code"), max_length=64)
    item_name = models.CharField(_("inspection item"), max_length=255)
    joint_agencies = models.ManyToManyField(Agency, blank=True, related_name="+",
                                            verbose_name=_("agencies inspecting jointly"))
    scope_region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    scope_industry = models.CharField(_("industry"), max_length=64, blank=True)
    scope_label = models.CharField(_("label"), max_length=64, blank=True)
    ratios = models.JSONField(_("ratio per tier"), default=dict)  # {"A": "0.03", ...}: exact decimals as text
    inspectors_per_object = models.PositiveSmallIntegerField(_("inspectors per object"), default=2)
    limit_per_inspector = models.PositiveSmallIntegerField(_("objects per inspector at most"), null=True, blank=True)
    starts_on = models.DateField(_("inspections from"))
    ends_on = models.DateField(_("inspections until"))

    class Meta:
        ordering = ["plan", "starts_on", "pk"]
        verbose_name = _("inspection batch")
        verbose_name_plural = _("inspection batches")

    def __str__(self):
        return self.title


class DrawStatus(models.TextChoices):
    AWAITING_COMMITMENTS = "awaiting_commitments", _("awaiting the participants' commitments")
    AWAITING_REVEALS = "awaiting_reveals", _("awaiting the participants' secrets")
    DRAWN = "drawn", _("drawn")
    REPLACED = "replaced", _("replaced by a re-draw")


class Draw(models.Model):
    batch = models.ForeignKey(InspectionBatch, on_delete=models.PROTECT, related_name="draws", verbose_name=_("batch"))
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=20, choices=DrawStatus.choices,
                              default=DrawStatus.AWAITING_COMMITMENTS)
    algorithm = models.CharField(_("algorithm"), max_length=32)
    snapshot = models.JSONField(_("snapshot"))
    snapshot_sha256 = models.CharField(_("snapshot SHA-256"), max_length=64)
    conflicts = models.JSONField(_("conflicts"), default=list)  # [{"inspector", "object"}], frozen with the snapshot
    ratios = models.JSONField(_("ratio per tier"), default=dict)
    k = models.PositiveSmallIntegerField(_("inspectors per object"))
    limit = models.PositiveSmallIntegerField(_("objects per inspector at most"), null=True, blank=True)
    public_value_note = models.CharField(_("public value to be entered"), max_length=300, blank=True,
                                         help_text=_("Announced before the draw, e.g. a lottery result of a given day"))
    public_value = models.CharField(_("public value"), max_length=300, blank=True)
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    result = models.JSONField(_("result"), default=list, blank=True)
    replaces = models.OneToOneField("self", on_delete=models.PROTECT, null=True, blank=True,
                                    related_name="replaced_by", verbose_name=_("replaces draw"))
    redraw_reason = models.CharField(_("reason for the re-draw"), max_length=500, blank=True)
    created_by = models.CharField(_("created by"), max_length=150)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [models.UniqueConstraint(fields=["batch", "number"], name="inspections_draw_number_once")]
        verbose_name = _("draw")
        verbose_name_plural = _("draws")


class DrawParticipant(models.Model):
    """A party whose secret goes into the seed: the agency (each agency of a
    joint batch) and its supervising legal office, by agency id."""

    draw = models.ForeignKey(Draw, on_delete=models.CASCADE, related_name="participants", verbose_name=_("draw"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("participant"))
    commitment = models.CharField(_("commitment (SHA-256 of the secret)"), max_length=64, blank=True)
    committed_by = models.CharField(_("committed by"), max_length=150, blank=True)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    secret = models.CharField(_("secret"), max_length=64, blank=True)
    revealed_by = models.CharField(_("revealed by"), max_length=150, blank=True)
    revealed_at = models.DateTimeField(_("revealed at"), null=True, blank=True)

    class Meta:
        ordering = ["agency_id"]
        constraints = [models.UniqueConstraint(fields=["draw", "agency"], name="inspections_participant_once")]
        verbose_name = _("draw participant")
        verbose_name_plural = _("draw participants")


class InspectionResult(models.TextChoices):
    NO_PROBLEM = "no_problem", _("no problem found")
    CORRECTED = "corrected", _("problem found, ordered to correct")
    REFERRED = "referred", _("problem found, a case opened")
    NOT_FOUND = "not_found", _("not found at its registered address")
    REFUSED = "refused", _("refused the inspection")


class Inspection(models.Model):
    """One drawn object inspected by its drawn inspectors (issue 14 item 4):
    carried out as an inspection case of the cases app (行政检查 process:
    preparation, on-site inspection with AV, notification, follow-up,
    publication, filing) and, when a problem is referred, linked to the
    penalty case opened from it. Its result is public (公示-15) within the
    dated limit from the inspection (random_inspection.result_publication_limit)."""

    draw = models.ForeignKey(Draw, on_delete=models.PROTECT, related_name="inspections", verbose_name=_("draw"))
    object = models.ForeignKey(InspectionObject, on_delete=models.PROTECT, related_name="inspections",
                               verbose_name=_("inspection object"))
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    inspectors = models.JSONField(_("inspectors (certificate numbers)"), default=list)
    officers = models.ManyToManyField(Officer, related_name="+", verbose_name=_("inspectors"))
    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
                                verbose_name=_("inspection case"))
    result = models.CharField(_("result"), max_length=16, choices=InspectionResult.choices, blank=True)
    inspected_on = models.DateField(_("inspected on"), null=True, blank=True)
    public_note = models.TextField(_("what was found (public, redacted)"), blank=True)
    referred_case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, null=True, blank=True,
                                         related_name="+", verbose_name=_("case opened from it"))
    publication_due = models.DateField(_("publication due"), null=True, blank=True)
    publication_due_provisional = models.BooleanField(default=False, verbose_name=_("publication due date provisional"))
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, db_index=True)
    recorded_by = models.CharField(_("recorded by"), max_length=150, blank=True)

    class Meta:
        ordering = ["draw", "pk"]
        constraints = [models.UniqueConstraint(fields=["draw", "object"], name="inspections_inspection_once")]
        indexes = [models.Index(fields=["agency", "published_at"], name="inspections_published")]
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")

    def __str__(self):
        return f"{self.object} ({self.draw.batch})"
