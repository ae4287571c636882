"""Legal review of major enforcement decisions (重大执法决定法制审核, seeds
审核-1 … 审核-8; penalty law arts. 57, 58).

- The review catalogue (目录清单, 审核-6/7) is a catalogue kind of the
  catalog app (``CatalogueKind.REVIEW_CATALOGUE``, its rules
  ``catalog.ReviewRule``), filed through the catalog app's one workflow;
  this app reads it.
- CaseReview: per case, the flags the catalogue and art. 58 ask about and
  the latest evaluation (required?, every matching rule with its citation).
- Reviewer / Training: the reviewer registry (审核-2/3/4).
- Submission (one row per round) with its Parts, checklist Items, Extension,
  Consultation (审核-5) and Notice (reminders and escalations).
- Discussion: collective discussion of the agency heads (art. 57).

No business logic beyond single-row invariants: writes go through
``services.py``, reads through ``selectors.py``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from sanxiang.core import clock


# --------------------------------------------------------------------------
# Per case: flags and the evaluation


class CaseReview(models.Model):
    """The legal-review facts of one case: the flags the case unit states
    (art. 58 situations, catalogue factors) and the latest evaluation."""

    case = models.OneToOneField("cases.Case", on_delete=models.PROTECT, related_name="legal_review", verbose_name=_("case"))
    domain = models.CharField(_("domain"), max_length=64, blank=True)
    major_public_interest = models.BooleanField(_("major public interest"), default=False)  # art. 58 (1)
    complex = models.BooleanField(_("complex, several legal relations"), default=False)  # art. 58 (3), art. 57
    serious = models.BooleanField(_("serious violation"), default=False)  # art. 57 (2): 重大违法行为
    social_impact = models.BooleanField(_("major social impact"), default=False)
    outside_benchmark = models.BooleanField(_("outside the discretion benchmark"), default=False)
    required_by_law = models.CharField(_("review required by (law)"), max_length=255, blank=True)  # art. 58 (4)
    # The latest evaluation recorded by a write that changed its inputs (services.record_evaluation).
    required = models.BooleanField(_("review required"), default=False)
    discussion_required = models.BooleanField(_("collective discussion required"), default=False)
    matches = models.JSONField(_("matching rules"), default=list, blank=True)
    catalogue_version = models.ForeignKey("catalog.CatalogueVersion", null=True, blank=True, on_delete=models.PROTECT,
                                          related_name="+", verbose_name=_("catalogue version"))
    inputs = models.JSONField(default=dict, blank=True, verbose_name=_("evaluated inputs"))  # what was evaluated (the proposal and flags)
    evaluated_at = models.DateTimeField(null=True, blank=True, verbose_name=_("evaluated at"))

    class Meta:
        verbose_name = _("case legal review")
        verbose_name_plural = _("case legal reviews")


# --------------------------------------------------------------------------
# Reviewers (审核-2/3/4)


class Reviewer(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviewer_profile",
                                verbose_name=_("account"))
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="reviewers", verbose_name=_("agency"))
    name = models.CharField(_("name"), max_length=64)
    qualification_number = models.CharField(_("legal professional qualification number"), max_length=32, blank=True)
    qualification_date = models.DateField(_("qualification obtained on"), null=True, blank=True)
    first_time = models.BooleanField(_("first-time reviewer"), default=True)
    active = models.BooleanField(_("active"), default=True)
    registered_at = models.DateTimeField(auto_now_add=True, verbose_name=_("registered at"))

    class Meta:
        ordering = ["agency", "name"]
        verbose_name = _("legal reviewer")
        verbose_name_plural = _("legal reviewers")

    def __str__(self):
        return self.name

    @property
    def qualified(self) -> bool:
        return bool(self.qualification_number and self.qualification_date)


class Training(models.Model):
    """A training record of a reviewer (审核-4)."""

    reviewer = models.ForeignKey(Reviewer, on_delete=models.PROTECT, related_name="trainings", verbose_name=_("reviewer"))
    held_on = models.DateField(_("date"))
    title = models.CharField(_("course"), max_length=255)
    hours = models.DecimalField(_("hours"), max_digits=6, decimal_places=1)
    provider = models.CharField(_("provider"), max_length=128, blank=True)
    method = models.CharField(_("training method"), max_length=64, blank=True)  # 互联网+培训, 案例教学 ...

    class Meta:
        ordering = ["-held_on", "id"]
        verbose_name = _("training record")
        verbose_name_plural = _("training records")


# --------------------------------------------------------------------------
# Submissions: one row per round


class Outcome(models.TextChoices):
    AGREE = "agree", _("agree")  # 同意
    ISSUES = "issues", _("issues found")  # 存在问题


class UnitResponse(models.TextChoices):
    NONE = "", _("no response")
    ACCEPTED = "accepted", _("accepted the opinion")  # fixes and resubmits
    DISAGREED = "disagreed", _("disagrees")  # → collective discussion (art. 57)


class Submission(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="review_submissions", verbose_name=_("case"))
    round = models.PositiveIntegerField(_("round"))
    stage = models.CharField(_("stage"), max_length=32)  # a step code of process.yaml
    proposal = models.JSONField(_("proposed decision"), default=dict)  # snapshot of what is reviewed
    evaluation = models.JSONField(default=list, blank=True, verbose_name=_("review evaluation"))  # matching rules when submitted
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("submitted by"))
    submitted_at = models.DateTimeField(_("submitted at"))
    received_on = models.DateField(_("received on"))
    due_on = models.DateField(_("due on"))
    due_rule = models.JSONField(default=dict, verbose_name=_("period rule"))  # name, value, unit, reference, provisional
    reviewer = models.ForeignKey(Reviewer, null=True, blank=True, on_delete=models.PROTECT, related_name="submissions",
                                 verbose_name=_("reviewer"))
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("assigned by"))
    assigned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("assigned at"))
    outcome = models.CharField(_("outcome"), max_length=8, choices=Outcome.choices, blank=True)
    opinion_text = models.TextField(_("opinion"), blank=True)
    opinion_at = models.DateTimeField(_("opinion given at"), null=True, blank=True)
    opinion_document_id = models.IntegerField(null=True, blank=True, verbose_name=_("opinion document ID"))
    opinion_document_number = models.CharField(max_length=64, blank=True, verbose_name=_("opinion document number"))
    response = models.CharField(_("unit's response"), max_length=12, choices=UnitResponse.choices, blank=True)
    response_reason = models.TextField(blank=True, verbose_name=_("response reason"))
    response_at = models.DateTimeField(null=True, blank=True, verbose_name=_("response at"))
    # A round still pending when its case was closed or terminated is withdrawn
    # (送审撤回) by the deadline job: never reviewed, reminded or escalated.
    withdrawn_at = models.DateTimeField(_("submission withdrawn at"), null=True, blank=True)
    withdrawn_reason = models.TextField(_("reason the submission was withdrawn"), blank=True)

    class Meta:
        ordering = ["case", "round"]
        constraints = [models.UniqueConstraint(fields=["case", "round"], name="review_submission_round_unique")]
        verbose_name = _("review submission")
        verbose_name_plural = _("review submissions")

    def __str__(self):
        return f"{self.case} · 第{self.round}次送审"

    @property
    def is_open(self) -> bool:
        return not self.outcome and self.withdrawn_at is None

    def on_time(self) -> bool | None:
        if self.opinion_at is None:
            return None
        return clock.local_date(self.opinion_at) <= self.due_on


class PartKind(models.TextChoices):
    INVESTIGATION_REPORT = "investigation_report", _("investigation report")  # 调查终结报告
    PROPOSED_HANDLING = "proposed_handling", _("proposed handling")  # 拟处理意见
    DRAFT_DECISION = "draft_decision", _("draft decision")  # 处理决定书（草稿）
    EVIDENCE_LIST = "evidence_list", _("evidence list")  # 证据清单
    HEARING_RECORD = "hearing_record", _("hearing record or assessment")  # 听证笔录 / 听证报告
    OTHER = "other", _("other material")


class Part(models.Model):
    """One part of a submission package: an issued document, an uploaded
    evidence item, or text."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="parts", verbose_name=_("review round"))
    kind = models.CharField(_("part"), max_length=24, choices=PartKind.choices)
    document_id = models.IntegerField(null=True, blank=True, verbose_name=_("document ID"))  # sanxiang.documents.Document
    evidence_id = models.IntegerField(null=True, blank=True, verbose_name=_("evidence ID"))  # sanxiang.evidence.EvidenceItem
    text = models.TextField(_("text"), blank=True)
    label = models.CharField(_("label"), max_length=255, blank=True)  # document number or evidence name, as seen

    class Meta:
        ordering = ["submission", "id"]
        verbose_name = _("submitted material")
        verbose_name_plural = _("submitted materials")


class CheckItem(models.TextChoices):
    # The fixed checklist (domain.md §3; 118号).
    STANDING = "standing", _("agency standing and authority")  # 执法主体是否合法、是否超越职权
    QUALIFICATION = "qualification", _("officer qualification")  # 执法人员是否具备执法资格
    PROCEDURE = "procedure", _("procedure")  # 执法程序是否合法
    FACTS = "facts", _("facts and evidence")  # 事实是否清楚，证据是否合法充分
    LAW = "law", _("application of law and discretion benchmark")  # 适用法律是否准确，裁量基准运用是否适当
    DOCUMENTS = "documents", _("documents")  # 执法文书是否完备、规范
    TRANSFER = "transfer", _("transfer to the judiciary")  # 是否涉嫌犯罪需移送司法机关


class ItemResult(models.TextChoices):
    PASS = "pass", _("pass")
    ISSUE = "issue", _("issue")


class ChecklistEntry(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="checklist", verbose_name=_("review round"))
    item = models.CharField(_("item"), max_length=16, choices=CheckItem.choices)
    result = models.CharField(_("result"), max_length=8, choices=ItemResult.choices)
    comment = models.TextField(_("comment"), blank=True)

    class Meta:
        ordering = ["submission", "id"]
        constraints = [models.UniqueConstraint(fields=["submission", "item"], name="review_checklist_once")]
        verbose_name = _("checklist entry")
        verbose_name_plural = _("checklist entries")


class Extension(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="extensions", verbose_name=_("review round"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("approved by"))
    approved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("approved at"))
    old_due_on = models.DateField(null=True, blank=True, verbose_name=_("old due date"))
    new_due_on = models.DateField(null=True, blank=True, verbose_name=_("new due date"))
    rule = models.JSONField(default=dict, blank=True, verbose_name=_("rule applied"))

    class Meta:
        ordering = ["submission", "id"]
        verbose_name = _("extension")
        verbose_name_plural = _("extensions")


class Consultation(models.Model):
    """A question to a legal counsel or public lawyer and the answer (审核-5)."""

    class CounselKind(models.TextChoices):
        COUNSEL = "counsel", _("legal counsel")  # 法律顾问
        PUBLIC_LAWYER = "public_lawyer", _("public lawyer")  # 公职律师

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="consultations", verbose_name=_("review round"))
    counsel_name = models.CharField(_("counsel"), max_length=64)
    counsel_kind = models.CharField(_("kind"), max_length=16, choices=CounselKind.choices)
    question = models.TextField(_("question"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    opinion = models.TextField(_("counsel's opinion"), blank=True)
    opinion_at = models.DateTimeField(null=True, blank=True, verbose_name=_("opinion at"))

    class Meta:
        ordering = ["submission", "id"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")


class NoticeKind(models.TextChoices):
    REMINDER = "reminder", _("reminder")  # the deadline is near
    ESCALATION = "escalation", _("escalation")  # overdue: reported to the agency head


class Notice(models.Model):
    """A reminder or escalation made by the deadline job: recorded here and
    in the audit chain (no e-mail); shown on the workbench of the people it
    names."""

    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="notices", verbose_name=_("review round"))
    kind = models.CharField(_("kind"), max_length=12, choices=NoticeKind.choices)
    due_on = models.DateField(_("due on"))
    made_on = models.DateField(_("made on"))
    recipients = models.JSONField(default=list, verbose_name=_("recipients"))  # usernames
    message = models.TextField(verbose_name=_("notice text"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["-made_on", "-id"]
        constraints = [models.UniqueConstraint(fields=["submission", "kind", "due_on"], name="review_notice_once")]
        verbose_name = _("review notice")
        verbose_name_plural = _("review notices")


# --------------------------------------------------------------------------
# Collective discussion (art. 57)


class DiscussionReason(models.TextChoices):
    DISAGREEMENT = "disagreement", _("the unit disagrees with the review opinion")
    COMPLEX = "complex", _("complex or serious case")  # art. 57 (2)


class Resolution(models.TextChoices):
    DECIDE = "decide", _("make the decision as proposed")  # 同意作出处理决定
    REVISE = "revise", _("revise and resubmit")  # 修改后重新送审
    NO_DECISION = "no_decision", _("no decision")  # 不予作出处理决定


class Discussion(models.Model):
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="collective_discussions", verbose_name=_("case"))
    submission = models.ForeignKey(Submission, null=True, blank=True, on_delete=models.PROTECT, related_name="discussions", verbose_name=_("review round"))
    reason = models.CharField(_("reason"), max_length=16, choices=DiscussionReason.choices)
    proposal = models.JSONField(default=dict, verbose_name=_("proposed decision"))  # the proposed decision discussed
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(verbose_name=_("requested at"))
    held_at = models.DateTimeField(_("held at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=128, blank=True)
    chair = models.CharField(_("chair"), max_length=64, blank=True)
    participants = models.JSONField(_("participants"), default=list, blank=True)  # ["姓名（职务）", ...]
    recorder = models.CharField(_("minute-taker"), max_length=64, blank=True)
    minutes = models.TextField(_("minutes"), blank=True)
    opinions = models.JSONField(_("opinions"), default=list, blank=True)
    resolution = models.CharField(_("resolution"), max_length=16, choices=Resolution.choices, blank=True)
    resolution_text = models.TextField(_("resolution text"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("recorded at"))
    document_id = models.IntegerField(null=True, blank=True, verbose_name=_("discussion record ID"))
    document_number = models.CharField(max_length=64, blank=True, verbose_name=_("discussion record number"))

    class Meta:
        ordering = ["case", "requested_at", "id"]
        verbose_name = _("collective discussion")
        verbose_name_plural = _("collective discussions")

    @property
    def is_held(self) -> bool:
        return self.recorded_at is not None
