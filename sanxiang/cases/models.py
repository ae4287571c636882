"""Cases and their procedure steps (执法全过程记录, seed 记录-1).

A case runs the process definition of its act kind and procedure
(`sanxiang.catalog.processes.get_process`), the same data the published
flowchart is drawn from (公示-6)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from sanxiang.core.vocabulary import ActKind, PartyType

from . import registry


class Procedure(models.TextChoices):
    SUMMARY = "summary", _("summary procedure")  # 简易程序 (penalty law art. 51)
    GENERAL = "general", _("general procedure")  # 一般程序


class CaseStatus(models.TextChoices):
    OPEN = "open", _("open")  # steps are being carried out
    CLOSED = "closed", _("closed")  # 结案: archived, read-only
    TERMINATED = "terminated", _("terminated")  # 终止 / 撤销立案


class StepStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("in progress")  # started, its record still open; no other step may start
    COMPLETED = "completed", _("completed")  # record closed (who, when, where, documents, evidence fixed)
    # The case was terminated while the step was under way: its record was
    # closed with the case, the step itself was not carried out to its end.
    ENDED = "ended", _("ended with the case")


class OfficerRole(models.TextChoices):
    LEAD = "lead", _("lead officer")  # 主办人
    ASSIST = "assist", _("assisting officer")  # 协办人


class DeadlineKind(models.TextChoices):
    DECISION = "decision", _("decision")  # penalty law art. 60 / licensing law art. 42: decide within the limit
    SERVICE = "service", _("service")  # penalty law art. 61: serve the decision
    HEARING_REQUEST = "hearing_request", _("hearing request")  # art. 64 (1): the party's period to ask for a hearing
    HEARING_NOTICE = "hearing_notice", _("hearing notice")  # art. 64 (2): earliest lawful hearing day after the notice
    SEIZURE = "seizure", _("seizure")  # coercion law art. 25: seizure ends
    SEIZURE_EXTENSION = "seizure_extension", _("seizure extension")  # art. 25: the one extension ends
    PRESERVATION = "preservation", _("evidence preservation")  # penalty law art. 56: decide on preserved evidence


class Obligor(models.TextChoices):
    AGENCY = "agency", _("agency")  # the agency must act by the date: overdue is a breach
    PARTY = "party", _("party")  # the party's period (e.g. to request a hearing): it lapses, nobody is overdue
    NOT_BEFORE = "not_before", _("not before")  # the earliest lawful day for an act (hearing after its notice)


class AvCategory(models.TextChoices):
    SCENE = "scene", _("on-site enforcement")  # 现场执法
    INTERVIEW = "interview", _("interview")  # 询问、听证
    CONFIRMATION = "confirmation", _("confirmation and service")  # 告知、送达、签收确认


class Case(models.Model):
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="cases", verbose_name=_("agency"))
    title = models.CharField(_("case title"), max_length=255)
    act_kind = models.CharField(_("act kind"), max_length=16, choices=ActKind.choices)
    procedure = models.CharField(_("procedure"), max_length=16, choices=Procedure.choices, default=Procedure.GENERAL)
    status = models.CharField(_("status"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    current_step = models.CharField(_("current step"), max_length=32, blank=True)
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    party_name = models.CharField(_("party"), max_length=255)
    party_type = models.CharField(_("party type"), max_length=24, choices=PartyType.choices)
    party_credit_code = models.CharField(_("party credit code"), max_length=18, blank=True)
    party_id_number = models.CharField(_("party ID number"), max_length=18, blank=True)
    created_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("created by"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    # The proposed decision (拟作出的处理决定): what the summary-procedure
    # limits (art. 51) and the hearing duty (art. 63) are checked against.
    proposed_penalty_categories = models.JSONField(_("proposed penalty categories"), default=list, blank=True)
    proposed_fine_fen = models.BigIntegerField(_("proposed fine (fen)"), null=True, blank=True)
    proposed_confiscation_fen = models.BigIntegerField(_("proposed confiscation (fen)"), null=True, blank=True)
    # Notification of rights (事先告知, arts. 44, 62) and hearing (arts. 63-65).
    notified_on = models.DateField(_("party notified on"), null=True, blank=True)
    hearing_requested = models.BooleanField(_("hearing requested"), default=False)
    hearing_requested_on = models.DateField(_("hearing requested on"), null=True, blank=True)
    # The party stated in writing that it will not ask for a hearing: the
    # decision need not wait for the request period to run out.
    hearing_waived_on = models.DateField(_("hearing waived on"), null=True, blank=True)
    hearing_notified_on = models.DateField(_("hearing notice served on"), null=True, blank=True)
    # The hearing day the notice (听证通知书) names: at least the notice period
    # after the notice was served (art. 64 (2), ``penalty.hearing_notice_limit``).
    hearing_scheduled_on = models.DateField(_("hearing scheduled on"), null=True, blank=True)
    hearing_on = models.DateField(_("hearing held on"), null=True, blank=True)
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    served_on = models.DateField(_("served on"), null=True, blank=True)
    seized_on = models.DateField(_("seized on"), null=True, blank=True)
    # 终止 / 撤销立案, approved by the agency head (``services.terminate_case``);
    # the day is ``closed_on``.
    termination_reason = models.TextField(_("reason for termination"), blank=True)
    terminated_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True,
                                      verbose_name=_("terminated by"))

    class Meta:
        ordering = ["-opened_on", "-id"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        # 审核-8 at every door (services, back office, imports, scripts): a
        # decision date is recorded only where no registered decision guard
        # blocks it (registry.py; a case created already decided is asked
        # too). Fixtures (raw saves) do not pass through here.
        if self.decided_on is not None and (
                self.pk is None or type(self).objects.filter(pk=self.pk, decided_on__isnull=True).exists()):
            registry.refuse_blocked_decision(self)
        super().save(*args, **kwargs)


class CaseStep(models.Model):
    """One step of a case's procedure as carried out: who, when, where,
    what documents and what evidence."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="steps", verbose_name=_("case"))
    code = models.CharField(_("step"), max_length=32)
    name = models.CharField(_("step name"), max_length=64)
    started_at = models.DateTimeField(_("started at"))
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    place = models.CharField(_("place"), max_length=255, blank=True)
    note = models.TextField(_("record"), blank=True)
    officers = models.ManyToManyField("core.Officer", related_name="case_steps", verbose_name=_("officers"))
    status = models.CharField(_("status"), max_length=16, choices=StepStatus.choices, default=StepStatus.IN_PROGRESS)
    # Carried out in the agency's case-handling premises (执法办案场所):
    # whole-process AV there (国办发〔2018〕118号, seed 记录-4).
    at_premises = models.BooleanField(_("in case-handling premises"), default=False)
    # Documents (文书) the step produced: [{"kind": "询问笔录", "number": "..."}];
    # the documents app adds numbered 文书 with their own key to the step.
    documents = models.JSONField(_("documents"), default=list, blank=True)
    # The AV requirement in force when the step started (the agency's AV
    # list, else the process definition's flag), kept so a later change of
    # the list does not rewrite history; "" when no AV is needed.
    av_requirement = models.CharField(_("AV requirement"), max_length=255, blank=True)
    started_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("started by"))
    completed_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("completed by"))

    class Meta:
        ordering = ["case", "started_at", "id"]
        verbose_name = _("case step")
        verbose_name_plural = _("case steps")

    def __str__(self):
        return f"{self.case} · {self.name}"

    def save(self, *args, **kwargs):
        # 审核-8 at every door: a decision step is not begun while a
        # registered decision guard blocks the decision (registry.py).
        if self.pk is None and self.code == "decision":
            registry.refuse_blocked_decision(self.case)
        super().save(*args, **kwargs)

    @property
    def needs_av(self) -> bool:
        return bool(self.av_requirement)


class CaseOfficer(models.Model):
    """An officer assigned to a case (承办人员)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("case"))
    officer = models.ForeignKey("core.Officer", on_delete=models.PROTECT, related_name="case_assignments", verbose_name=_("officer"))
    role = models.CharField(_("role"), max_length=8, choices=OfficerRole.choices, default=OfficerRole.ASSIST)
    assigned_at = models.DateTimeField(_("assigned at"))

    class Meta:
        ordering = ["case", "role", "id"]
        constraints = [models.UniqueConstraint(fields=["case", "officer"], name="case_officer_once")]
        verbose_name = _("case officer")
        verbose_name_plural = _("case officers")


class CaseDeadline(models.Model):
    """A legal time limit of a case, computed from a dated rule on the
    official calendar (the rule's name, value, unit and reference kept)."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="deadlines", verbose_name=_("case"))
    kind = models.CharField(_("kind"), max_length=24, choices=DeadlineKind.choices)
    obligor = models.CharField(_("who must act"), max_length=12, choices=Obligor.choices, default=Obligor.AGENCY)
    start_on = models.DateField(_("counted from"))
    due_on = models.DateField(_("due on"))
    provisional = models.BooleanField(_("provisional"), default=False)  # a year in the span has no official schedule
    rule_name = models.CharField(_("rule"), max_length=64)
    rule_amount = models.IntegerField(_("amount"))
    rule_unit = models.CharField(_("unit"), max_length=16)
    rule_reference = models.CharField(_("legal basis"), max_length=255)
    met_at = models.DateTimeField(_("met at"), null=True, blank=True)
    superseded = models.BooleanField(_("superseded"), default=False)  # replaced (e.g. seizure extended)

    class Meta:
        ordering = ["due_on", "id"]
        verbose_name = _("case deadline")
        verbose_name_plural = _("case deadlines")

    def __str__(self):
        return f"{self.case} · {self.get_kind_display()} · {self.due_on}"


class EvidencePreservation(models.Model):
    """证据先行登记保存 (penalty law art. 56): evidence that may be lost or
    hard to obtain later, registered and kept where it is, with the agency
    head's approval; the agency decides on it within the period of
    ``penalty.preservation_decision_limit`` (7 working days), recorded as
    its ``deadline`` row and met by ``handled_on``."""

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="preservations", verbose_name=_("case"))
    preserved_on = models.DateField(_("preserved on"))
    items = models.TextField(_("items preserved"))
    deadline = models.OneToOneField(CaseDeadline, on_delete=models.PROTECT, related_name="preservation", verbose_name=_("case deadline"))
    handled_on = models.DateField(_("handled on"), null=True, blank=True)
    handling = models.TextField(_("handling decision"), blank=True)  # e.g. 解除登记保存 / 移送 / 依法没收
    recorded_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"))

    class Meta:
        ordering = ["case", "preserved_on", "id"]
        verbose_name = _("evidence preservation")
        verbose_name_plural = _("evidence preservations")

    def __str__(self):
        return f"{self.case} · {self.preserved_on}"


class AvRequirement(models.Model):
    """An agency's own entry of its AV list (音像记录事项清单, seed 记录-4).

    The platform's default list is data in ``av_list.yaml``; a row here
    adds to it or replaces the default entry with the same (act kind, step,
    place). Read the merged list with ``selectors.av_list_for``."""

    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="av_requirements", verbose_name=_("agency"))
    act_kind = models.CharField(_("act kind"), max_length=16, choices=ActKind.choices)
    step_code = models.CharField(_("step"), max_length=32, blank=True, help_text=_("Blank: every step at the place named."))
    required = models.BooleanField(_("AV required"), default=True)
    whole_process = models.BooleanField(_("whole-process AV"), default=False)
    place = models.CharField(_("place"), max_length=128, blank=True)
    device = models.CharField(_("device"), max_length=128, blank=True)
    content = models.TextField(_("what must be recorded"))
    category = models.CharField(_("category"), max_length=16, choices=AvCategory.choices)
    retention_years = models.PositiveIntegerField(_("retention (years)"), null=True, blank=True, help_text=_("Blank: permanent."))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering = ["agency", "act_kind", "step_code", "place"]
        constraints = [models.UniqueConstraint(fields=["agency", "act_kind", "step_code", "place"], name="av_requirement_once")]
        verbose_name = _("AV list entry")
        verbose_name_plural = _("AV list entries")


class AvExemption(models.Model):
    """Why a step that needs AV has none, and the supervisor who accepted it."""

    step = models.OneToOneField(CaseStep, on_delete=models.PROTECT, related_name="av_exemption", verbose_name=_("step"))
    reason = models.TextField(_("reason"))
    requested_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", verbose_name=_("requested by"))
    requested_at = models.DateTimeField(_("requested at"))
    approved_by = models.ForeignKey("core.User", on_delete=models.PROTECT, related_name="+", null=True, blank=True, verbose_name=_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        verbose_name = _("AV exemption")
        verbose_name_plural = _("AV exemptions")

    @property
    def is_approved(self) -> bool:
        return self.approved_at is not None
