"""案卷评查 online (issue 15 item 3, seed 记录-13).

- Schemes (评查标准) are versioned data: one YAML file per scheme version in
  ``schemes/`` loaded into ``Scheme`` with its items, veto items and grades
  (``schemes.py``). A loaded version is immutable (its file's SHA-256 is
  kept and a changed file refuses to load); a new version of the same code
  supersedes it from its ``valid_from``.
- An ``Evaluation`` is one evaluator's scoring of one case under one scheme:
  manual items (``ItemScore``), veto items ticked (``VetoMark``), and on
  submission the whole result (automatic items with their evidence links,
  score, grade) frozen in ``result``.
- A ``Campaign`` (评查活动) of a legal office draws a reproducible sample of
  closed cases per agency (sanxiang-draw-v1, the random-inspection draw) and
  assigns evaluators from other agencies (回避) — ``Assignment``.
- A ``Rectification`` (整改) is what an agency must put right after a
  submitted evaluation; the agency responds, the office accepts or returns.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Section(models.TextChoices):
    FORM = "form", _("file form")  # 形式
    CONTENT = "content", _("file content")  # 内容


class VetoEffect(models.TextChoices):
    ZERO = "zero", _("score set to zero")
    CAP = "cap", _("grade capped")
    FIXED = "fixed", _("fixed deduction")


class Scheme(models.Model):
    code = models.CharField(_("scheme code"), max_length=64)
    version = models.PositiveIntegerField(_("version"))
    title = models.CharField(_("title"), max_length=255)
    year = models.PositiveIntegerField(_("year"))
    act_kinds = models.JSONField(_("act kinds"), default=list)
    valid_from = models.DateField(_("valid from"))
    source = models.TextField(_("source"))
    digest = models.CharField(_("file SHA-256"), max_length=64)
    file_name = models.CharField(_("file"), max_length=128)
    loaded_at = models.DateTimeField(_("loaded at"))

    class Meta:
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="evaluation_scheme_version_once")]
        verbose_name = _("evaluation scheme")
        verbose_name_plural = _("evaluation schemes")

    def __str__(self):
        return f"{self.title}（{self.code} v{self.version}）"


class SchemeItem(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="items", verbose_name=_("evaluation scheme"))
    position = models.PositiveIntegerField(_("position"))
    code = models.CharField(_("item code"), max_length=32)
    section = models.CharField(_("section"), max_length=8, choices=Section.choices)
    title = models.CharField(_("title"), max_length=255)
    points = models.PositiveIntegerField(_("points"))
    deduct_min = models.PositiveIntegerField(_("smallest deduction"))
    deduct_max = models.PositiveIntegerField(_("largest deduction"))
    auto_check = models.CharField(_("automatic check"), max_length=32, blank=True)

    class Meta:
        ordering = ["scheme", "position"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="evaluation_item_code_once")]
        verbose_name = _("evaluation item")
        verbose_name_plural = _("evaluation items")

    def __str__(self):
        return f"{self.code} {self.title}"

    @property
    def automatic(self) -> bool:
        return bool(self.auto_check)


class VetoItem(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="vetoes", verbose_name=_("evaluation scheme"))
    position = models.PositiveIntegerField(_("position"))
    code = models.CharField(_("veto code"), max_length=32)
    text = models.CharField(_("text"), max_length=255)
    effect = models.CharField(_("effect"), max_length=8, choices=VetoEffect.choices)
    cap_grade = models.CharField(_("grade capped at"), max_length=16, blank=True)
    fixed_points = models.PositiveIntegerField(_("fixed deduction"), null=True, blank=True)
    auto_check = models.CharField(_("automatic check"), max_length=32, blank=True)

    class Meta:
        ordering = ["scheme", "position"]
        constraints = [models.UniqueConstraint(fields=["scheme", "code"], name="evaluation_veto_code_once")]
        verbose_name = _("veto item")
        verbose_name_plural = _("veto items")

    def __str__(self):
        return f"{self.code} {self.text}"


class Grade(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="grades", verbose_name=_("evaluation scheme"))
    position = models.PositiveIntegerField(_("position"))  # 0 = best
    code = models.CharField(_("grade code"), max_length=16)
    name = models.CharField(_("name"), max_length=16)
    min_score = models.DecimalField(_("lowest score"), max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["scheme", "position"]
        verbose_name = _("grade")
        verbose_name_plural = _("grades")

    def __str__(self):
        return self.name


class Campaign(models.Model):
    office = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="evaluation_campaigns",
                               verbose_name=_("legal office"))
    title = models.CharField(_("title"), max_length=128)
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="campaigns", verbose_name=_("evaluation scheme"))
    period_start = models.DateField(_("cases closed from"))
    period_end = models.DateField(_("cases closed until"))
    agencies = models.ManyToManyField("core.Agency", related_name="+", verbose_name=_("agencies evaluated"))
    evaluators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="evaluation_campaigns",
                                        verbose_name=_("evaluators"))
    sample_size = models.PositiveIntegerField(_("cases per agency"))
    evaluators_per_case = models.PositiveIntegerField(_("evaluators per case"), default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("created by"))
    created_at = models.DateTimeField(_("created at"))
    # The draw (sanxiang-draw-v1): its inputs kept so anyone can run it again.
    seed_value = models.CharField(_("public seed value"), max_length=64, blank=True)
    snapshot = models.JSONField(_("population snapshot"), default=dict, blank=True)
    snapshot_sha256 = models.CharField(_("snapshot SHA-256"), max_length=64, blank=True)
    ratios = models.JSONField(_("ratios per agency"), default=dict, blank=True)
    conflicts = models.JSONField(_("conflicts (回避)"), default=list, blank=True)
    seed = models.CharField(_("draw seed"), max_length=64, blank=True)
    result = models.JSONField(_("draw result"), default=list, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)
    drawn_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True,
                                 verbose_name=_("drawn by"))

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("evaluation campaign")
        verbose_name_plural = _("evaluation campaigns")

    def __str__(self):
        return self.title

    @property
    def drawn(self) -> bool:
        return self.drawn_at is not None


class Assignment(models.Model):
    """A drawn case and one evaluator assigned to it."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("evaluation campaign"))
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("case"))
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluation_assignments",
                                  null=True, blank=True, verbose_name=_("evaluator"))

    class Meta:
        ordering = ["campaign", "case", "pk"]
        verbose_name = _("evaluation assignment")
        verbose_name_plural = _("evaluation assignments")


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", _("being scored")
    SUBMITTED = "submitted", _("submitted")


class Evaluation(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("case"))
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="evaluations", verbose_name=_("evaluation scheme"))
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="evaluations", null=True, blank=True,
                                 verbose_name=_("evaluation campaign"))
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="evaluations",
                                  verbose_name=_("evaluator"))
    status = models.CharField(_("status"), max_length=12, choices=EvaluationStatus.choices, default=EvaluationStatus.DRAFT)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=16, blank=True)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["case", "scheme", "evaluator", "campaign"],
                                               name="evaluation_once_per_evaluator")]
        verbose_name = _("case-file evaluation")
        verbose_name_plural = _("case-file evaluations")

    def __str__(self):
        return f"{self.case} · {self.scheme.code}"


class ItemScore(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="scores", verbose_name=_("case-file evaluation"))
    item = models.ForeignKey(SchemeItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("evaluation item"))
    deduction = models.PositiveIntegerField(_("deduction"), default=0)
    finding = models.TextField(_("finding"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "item"], name="evaluation_item_scored_once")]
        verbose_name = _("item score")
        verbose_name_plural = _("item scores")


class VetoMark(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="veto_marks", verbose_name=_("case-file evaluation"))
    veto = models.ForeignKey(VetoItem, on_delete=models.PROTECT, related_name="+", verbose_name=_("veto item"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["evaluation", "veto"], name="evaluation_veto_marked_once")]
        verbose_name = _("veto found")
        verbose_name_plural = _("vetoes found")


class RectificationStatus(models.TextChoices):
    OPEN = "open", _("to rectify")  # 待整改
    RESPONDED = "responded", _("response given")  # 已报送整改情况
    ACCEPTED = "accepted", _("accepted")  # 整改通过
    RETURNED = "returned", _("returned")  # 退回重新整改


class Rectification(models.Model):
    evaluation = models.OneToOneField(Evaluation, on_delete=models.PROTECT, related_name="rectification",
                                      verbose_name=_("case-file evaluation"))
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("agency"))
    office = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="+", verbose_name=_("legal office"))
    findings = models.TextField(_("findings to rectify"))
    due_on = models.DateField(_("rectify by"))
    due_reference = models.CharField(_("deadline reference"), max_length=255)
    status = models.CharField(_("status"), max_length=12, choices=RectificationStatus.choices,
                              default=RectificationStatus.OPEN, db_index=True)
    response = models.TextField(_("agency's response"), blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                     blank=True, verbose_name=_("responded by"))
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)
    review_note = models.TextField(_("office's note"), blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
                                    blank=True, verbose_name=_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("rectification")
        verbose_name_plural = _("rectifications")

    def __str__(self):
        return f"{self.evaluation.case} · {self.get_status_display()}"
