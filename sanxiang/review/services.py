"""Writes for legal review (重大执法决定法制审核, seeds 审核-1 … 审核-8).

    catalogue:   start_catalogue_draft → add_catalogue_rule … → submit_catalogue
                 → accept_catalogue | return_catalogue          (审核-6/7, 备案)
    per case:    set_case_flags / record_evaluation (by writes)  (目录清单 + art. 58); evaluate is pure
    review:      submit_for_review → assign_reviewer → [request_consultation
                 → record_counsel_opinion] → record_opinion
                 (同意 | 存在问题 → respond_to_opinion: resubmit, or disagree
                 → record_discussion)                           (art. 57, 58)
    time limit:  request_extension → approve_extension; run_deadline_job
    documents:   issue_opinion_document, issue_discussion_record
    the gate:    decision_block(case) -> str | None             (审核-8)

Every write is keyword-only, checks who acts, runs in one transaction and
appends its audit entry inside it. Stage changes of a submission follow the
edges of ``process.yaml`` (workflow.can_move), the same definition the
published flowchart is drawn from. Refusals are ValidationError with a
Chinese message (citing the article) and a stable code, or PermissionDenied.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sanxiang.core.audit import append_audit
from sanxiang.core.calendar import add_period, add_working_days
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.models import Agency, Role
from sanxiang.rules import RuleNotFound, get_rule

from . import workflow
from .models import (
    EDITABLE_STATUSES, CaseReview, CatalogueRule, CheckItem, ChecklistEntry, Consultation, Discussion, DiscussionReason,
    Extension, FilingEvent, ItemResult, Notice, NoticeKind, Outcome, Part, PartKind, Resolution, ReviewCatalogueVersion,
    Reviewer, Submission, Training, UnitResponse, VersionStatus,
)
from sanxiang.core import clock

PENALTY_LAW = "《中华人民共和国行政处罚法》"
ART58 = f"{PENALTY_LAW}第五十八条"
ART57_2 = f"{PENALTY_LAW}第五十七条第二款"
ART58_ITEMS = {
    1: ("涉及重大公共利益", f"{ART58}第一款第（一）项"),
    2: ("直接关系当事人或者第三人重大权益，经过听证程序", f"{ART58}第一款第（二）项"),
    3: ("案件情况疑难复杂、涉及多个法律关系", f"{ART58}第一款第（三）项"),
    4: ("法律、法规规定应当进行法制审核", f"{ART58}第一款第（四）项"),
}
CITIZEN_PARTY_TYPES = {"natural_person", "individual_business"}  # as cases.predicates (art. 51 practice)
CASE_ROLES = {Role.OFFICER, Role.AGENCY_HEAD, Role.API_CLIENT}  # the case unit (承办机构)
REVIEW_OFFICE_ROLES = {Role.LEGAL_REVIEWER, Role.AGENCY_HEAD}  # the agency's legal-review office and head
CATALOGUE_EDITOR_ROLES = {Role.LEGAL_REVIEWER, Role.AGENCY_HEAD}
# Parts every package needs (domain.md §3 "Submission package"); the hearing
# record is added where a hearing took place.
REQUIRED_PARTS = (PartKind.INVESTIGATION_REPORT, PartKind.PROPOSED_HANDLING, PartKind.DRAFT_DECISION, PartKind.EVIDENCE_LIST)


def _refuse(field: str, message: str, code: str):
    raise ValidationError({field: ValidationError(message, code=code)})


def _active(actor) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", True))


def _require(actor, agency_id: int, roles, message: str) -> None:
    if not _active(actor) or actor.role not in roles or actor.agency_id != agency_id:
        raise PermissionDenied(message)


def _yuan(fen: int | None) -> str:
    if fen is None:
        return "0"
    return f"{Decimal(fen) / 100:,.2f}".rstrip("0").rstrip(".")


def _fen(value) -> int | None:
    if value in (None, ""):
        return None
    return int((Decimal(str(value)) * 100).to_integral_value())


def proposal_of(case) -> dict:
    """The proposed decision as reviewed (拟作出的处理决定): what a passing
    review or a resolution covers. Any change needs a new review."""
    return {"categories": sorted(case.proposed_penalty_categories or []), "fine_fen": case.proposed_fine_fen,
            "confiscation_fen": case.proposed_confiscation_fen}


def describe_proposal(proposal: dict) -> str:
    parts = []
    for c in proposal.get("categories") or []:
        if c == "罚款" and proposal.get("fine_fen"):
            parts.append(f"罚款{_yuan(proposal['fine_fen'])}元")
        elif c.startswith("没收") and proposal.get("confiscation_fen"):
            parts.append(f"{c}{_yuan(proposal['confiscation_fen'])}元")
        else:
            parts.append(c)
    if proposal.get("fine_fen") and "罚款" not in (proposal.get("categories") or []):
        parts.append(f"罚款{_yuan(proposal['fine_fen'])}元")
    return "、".join(parts) or "（未记录拟处理决定）"


# --------------------------------------------------------------------------
# The catalogue (目录清单, 审核-6/7), filed like the catalog app's lists


def _catalogue_editor(actor, agency: Agency) -> None:
    _require(actor, agency.pk, CATALOGUE_EDITOR_ROLES, "只有本部门的法制审核机构人员或负责人可以编制法制审核目录清单。")


def _locked_version(version) -> ReviewCatalogueVersion:
    return ReviewCatalogueVersion.objects.select_for_update().select_related("agency", "agency__region").get(pk=version.pk)


def _catalogue_audit(actor, action, version, **payload):
    append_audit(actor=actor, action=action, obj=version, payload={
        "agency": version.agency.credit_code, "number": version.number, "status": version.status, **payload})


RULE_FIELDS = ("title", "act_kinds", "domain", "penalty_categories", "fine_citizen_fen", "fine_organisation_fen",
               "confiscation_citizen_fen", "confiscation_organisation_fen", "hearing_held", "major_public_interest",
               "complex", "social_impact", "outside_benchmark", "citation")


@transaction.atomic
def start_catalogue_draft(*, actor, agency: Agency, note: str = "") -> ReviewCatalogueVersion:
    """Open the next version, starting from the latest accepted one's rules."""
    _catalogue_editor(actor, agency)
    Agency.objects.select_for_update().filter(pk=agency.pk).first()
    if ReviewCatalogueVersion.objects.filter(agency=agency, status__in=[
            VersionStatus.DRAFT, VersionStatus.SUBMITTED, VersionStatus.RETURNED]).exists():
        _refuse("version", "法制审核目录清单已有正在编制或报送中的版本，请先处理该版本。", "open_version")
    number = (ReviewCatalogueVersion.objects.filter(agency=agency).aggregate(n=Max("number"))["n"] or 0) + 1
    base = ReviewCatalogueVersion.objects.filter(agency=agency, status=VersionStatus.ACCEPTED).order_by("-number").first()
    version = ReviewCatalogueVersion.objects.create(agency=agency, number=number, note=note.strip(), created_by=actor,
                                                    all_non_summary=base.all_non_summary if base else False)
    if base:
        CatalogueRule.objects.bulk_create([
            CatalogueRule(version=version, position=r.position, **{f: getattr(r, f) for f in RULE_FIELDS})
            for r in base.rules.all()])
    FilingEvent.objects.create(version=version, action=FilingEvent.Action.CREATED, actor=actor,
                               text=f"v{base.number}" if base else "")
    _catalogue_audit(actor, "review.catalogue_draft", version, based_on=base.number if base else None)
    return version


def _editable(version) -> None:
    if version.status not in EDITABLE_STATUSES:
        _refuse("status", f"该版本状态为“{version.get_status_display()}”，不能修改。", "not_editable")


@transaction.atomic
def add_catalogue_rule(*, actor, version: ReviewCatalogueVersion, title: str, act_kinds=(), domain: str = "",
                       penalty_categories=(), fine_citizen_yuan=None, fine_organisation_yuan=None,
                       confiscation_citizen_yuan=None, confiscation_organisation_yuan=None, hearing_held: bool = False,
                       major_public_interest: bool = False, complex: bool = False, social_impact: bool = False,
                       outside_benchmark: bool = False, citation: str = "") -> CatalogueRule:
    """One rule of the catalogue: act kinds, domain, penalty categories,
    fine and confiscation thresholds (达到此数额含本数) for citizens and for
    organisations, hearing held, and the flags."""
    from sanxiang.core.models import ActKind

    version = _locked_version(version)
    _catalogue_editor(actor, version.agency)
    _editable(version)
    if not (title or "").strip():
        _refuse("title", "请填写事项名称。", "required")
    bad = [k for k in act_kinds if k not in ActKind.values]
    if bad:
        _refuse("act_kinds", f"执法行为类别无效：{'、'.join(bad)}。", "invalid")
    amounts = {}
    for name, value in (("fine_citizen_fen", fine_citizen_yuan), ("fine_organisation_fen", fine_organisation_yuan),
                        ("confiscation_citizen_fen", confiscation_citizen_yuan),
                        ("confiscation_organisation_fen", confiscation_organisation_yuan)):
        try:
            amounts[name] = _fen(value)
        except ArithmeticError:
            _refuse(name, "金额格式无效。", "invalid")
        if amounts[name] is not None and amounts[name] < 0:
            _refuse(name, "金额不能为负数。", "invalid")
    position = (version.rules.aggregate(n=Max("position"))["n"] or 0) + 1
    rule = CatalogueRule.objects.create(
        version=version, position=position, title=title.strip(), act_kinds=list(act_kinds), domain=domain.strip(),
        penalty_categories=[c.strip() for c in penalty_categories if c.strip()], hearing_held=hearing_held,
        major_public_interest=major_public_interest, complex=complex, social_impact=social_impact,
        outside_benchmark=outside_benchmark, citation=citation.strip(), **amounts)
    _catalogue_audit(actor, "review.catalogue_rule_add", version, rule={f: getattr(rule, f) for f in RULE_FIELDS},
                     position=position)
    return rule


@transaction.atomic
def remove_catalogue_rule(*, actor, rule: CatalogueRule) -> None:
    version = _locked_version(rule.version)
    _catalogue_editor(actor, version.agency)
    _editable(version)
    _catalogue_audit(actor, "review.catalogue_rule_remove", version, position=rule.position, title=rule.title)
    rule.delete()


@transaction.atomic
def set_all_non_summary(*, actor, version: ReviewCatalogueVersion, enabled: bool) -> ReviewCatalogueVersion:
    """审核-7: extend review to every decision outside the summary procedure."""
    version = _locked_version(version)
    _catalogue_editor(actor, version.agency)
    _editable(version)
    version.all_non_summary = bool(enabled)
    version.save(update_fields=["all_non_summary"])
    _catalogue_audit(actor, "review.catalogue_switch", version, all_non_summary=version.all_non_summary)
    return version


@transaction.atomic
def submit_catalogue(*, actor, version: ReviewCatalogueVersion, effective_date: date) -> ReviewCatalogueVersion:
    """报本级政府法制办备案 (审核-6)."""
    version = _locked_version(version)
    _catalogue_editor(actor, version.agency)
    _editable(version)
    if effective_date is None:
        _refuse("effective_date", "请填写生效日期。", "required")
    if not version.rules.exists() and not version.all_non_summary:
        _refuse("rules", "目录清单为空，不能报送：请先添加审核事项。", "empty")
    latest = ReviewCatalogueVersion.objects.filter(agency=version.agency, status=VersionStatus.ACCEPTED) \
        .order_by("-effective_date").first()
    if latest and effective_date < latest.effective_date:
        _refuse("effective_date", f"生效日期不得早于已备案的第{latest.number}版的生效日期（{latest.effective_date:%Y-%m-%d}）。",
                "before_filed")
    version.status, version.effective_date = VersionStatus.SUBMITTED, effective_date
    version.submitted_at, version.submitted_by, version.return_reason = timezone.now(), actor, ""
    version.save()
    FilingEvent.objects.create(version=version, action=FilingEvent.Action.SUBMITTED, actor=actor, text=effective_date.isoformat())
    _catalogue_audit(actor, "review.catalogue_submit", version, effective_date=effective_date.isoformat(),
                     rules=version.rules.count())
    return version


def _filing_decider(actor, version) -> None:
    from sanxiang.catalog.permissions import can_decide_filing

    if not can_decide_filing(actor, version.agency):
        raise PermissionDenied("只有该部门所属的司法局（法制机构）可以审查备案。")
    if version.status != VersionStatus.SUBMITTED:
        _refuse("status", f"该版本状态为“{version.get_status_display()}”，不在待备案状态。", "not_submitted")


@transaction.atomic
def accept_catalogue(*, actor, version: ReviewCatalogueVersion) -> ReviewCatalogueVersion:
    version = _locked_version(version)
    _filing_decider(actor, version)
    version.status, version.decided_at, version.decided_by = VersionStatus.ACCEPTED, timezone.now(), actor
    version.save(update_fields=["status", "decided_at", "decided_by"])
    FilingEvent.objects.create(version=version, action=FilingEvent.Action.ACCEPTED, actor=actor)
    _catalogue_audit(actor, "review.catalogue_accept", version, effective_date=version.effective_date.isoformat())
    return version


@transaction.atomic
def return_catalogue(*, actor, version: ReviewCatalogueVersion, reason: str) -> ReviewCatalogueVersion:
    version = _locked_version(version)
    _filing_decider(actor, version)
    reason = (reason or "").strip()
    if not reason:
        _refuse("reason", "退回须写明理由。", "required")
    version.status, version.decided_at, version.decided_by, version.return_reason = \
        VersionStatus.RETURNED, timezone.now(), actor, reason
    version.save(update_fields=["status", "decided_at", "decided_by", "return_reason"])
    FilingEvent.objects.create(version=version, action=FilingEvent.Action.RETURNED, actor=actor, text=reason)
    _catalogue_audit(actor, "review.catalogue_return", version, reason=reason)
    return version


def catalogue_in_force(agency, *, on: date) -> ReviewCatalogueVersion | None:
    return (ReviewCatalogueVersion.objects.filter(agency=agency, status=VersionStatus.ACCEPTED, effective_date__lte=on)
            .order_by("-effective_date", "-number").first())


# --------------------------------------------------------------------------
# Evaluation: does the case need review? (目录清单 + art. 58)


@dataclass(frozen=True)
class Match:
    rule: str  # what matched, in words
    citation: str  # where the rule comes from


@dataclass
class Evaluation:
    required: bool
    matches: list[Match] = field(default_factory=list)
    discussion_required: bool = False
    discussion_reasons: list[Match] = field(default_factory=list)
    catalogue_version: ReviewCatalogueVersion | None = None

    def reason_text(self) -> str:
        return "；".join(f"{m.rule}（{m.citation}）" for m in self.matches)


def _hearing_held(case) -> bool:
    if case.hearing_on is not None:
        return True
    if case.pk is None:
        return False
    return case.steps.filter(code="hearing", status="completed").exists()


def _rule_matches(rule: CatalogueRule, case, flags: CaseReview, hearing: bool) -> list[str]:
    """The triggers of `rule` that hold for the case (empty: no match)."""
    if rule.act_kinds and case.act_kind not in rule.act_kinds:
        return []
    if rule.domain and rule.domain != flags.domain:
        return []
    citizen = case.party_type in CITIZEN_PARTY_TYPES
    fine, confiscation = case.proposed_fine_fen or 0, case.proposed_confiscation_fen or 0
    triggers, found = 0, []
    categories = set(case.proposed_penalty_categories or [])
    if rule.penalty_categories:
        triggers += 1
        hit = [c for c in rule.penalty_categories if c in categories]
        if hit:
            found.append(f"拟给予{'、'.join(hit)}")
    fine_limit = rule.fine_citizen_fen if citizen else rule.fine_organisation_fen
    who = "公民" if citizen else "法人或者其他组织"
    if rule.fine_citizen_fen is not None or rule.fine_organisation_fen is not None:
        triggers += 1
        if fine_limit is not None and fine and fine >= fine_limit:
            found.append(f"对{who}拟罚款{_yuan(fine)}元，达到{_yuan(fine_limit)}元")
    conf_limit = rule.confiscation_citizen_fen if citizen else rule.confiscation_organisation_fen
    if rule.confiscation_citizen_fen is not None or rule.confiscation_organisation_fen is not None:
        triggers += 1
        if conf_limit is not None and confiscation and confiscation >= conf_limit:
            found.append(f"对{who}拟没收{_yuan(confiscation)}元，达到{_yuan(conf_limit)}元")
    for attr, label in (("hearing_held", "经过听证程序"), ("major_public_interest", "涉及重大公共利益"),
                        ("complex", "案情疑难复杂、涉及多个法律关系"), ("social_impact", "社会影响重大"),
                        ("outside_benchmark", "超出裁量基准")):
        if getattr(rule, attr):
            triggers += 1
            held = hearing if attr == "hearing_held" else getattr(flags, attr)
            if held:
                found.append(label)
    if triggers == 0:
        found.append("属于本项范围")
    return found


def _default_rules(case, *, on: date) -> list[Match]:
    """Without a filed catalogue in force, the platform's dated default
    thresholds apply (legal_review.catalogue_fine_threshold_*)."""
    if case.act_kind != "penalty" or not case.proposed_fine_fen:
        return []
    citizen = case.party_type in CITIZEN_PARTY_TYPES
    name = "legal_review.catalogue_fine_threshold_citizen" if citizen else "legal_review.catalogue_fine_threshold_organisation"
    try:
        rule = get_rule(name, on=on, agency=case.agency)
    except RuleNotFound:
        return []
    limit = _fen(rule.value)
    if case.proposed_fine_fen >= limit:
        who = "公民" if citizen else "法人或者其他组织"
        return [Match(f"对{who}拟罚款{_yuan(case.proposed_fine_fen)}元，达到{_yuan(limit)}元（本部门未备案目录清单，适用平台默认标准）",
                      rule.reference)]
    return []


def evaluate(case, *, on: date | None = None) -> Evaluation:
    """Pure: whether the case needs legal review, every matching rule with
    its citation, and whether collective discussion is required."""
    on = on or clock.today()
    flags = (CaseReview.objects.filter(case=case).first() if case.pk else None) or CaseReview()
    matches: list[Match] = []
    hearing = _hearing_held(case)
    # The statutory triggers of art. 58 always apply, whatever the catalogue.
    if flags.major_public_interest:
        matches.append(Match(ART58_ITEMS[1][0], ART58_ITEMS[1][1]))
    if hearing:
        matches.append(Match(ART58_ITEMS[2][0], ART58_ITEMS[2][1]))
    if flags.complex:
        matches.append(Match(ART58_ITEMS[3][0], ART58_ITEMS[3][1]))
    if flags.required_by_law.strip():
        matches.append(Match(ART58_ITEMS[4][0], f"{ART58_ITEMS[4][1]}；{flags.required_by_law.strip()}"))
    version = catalogue_in_force(case.agency, on=on)
    if version is None:
        matches.extend(_default_rules(case, on=on))
    else:
        name = f"{case.agency.name}法制审核目录清单（第{version.number}版，{version.effective_date:%Y年%m月%d日}起施行）"
        if version.all_non_summary and case.procedure != "summary":
            matches.append(Match("本部门对法定简易程序以外的所有执法决定进行法制审核", f"{name}（审核-7）"))
        for rule in version.rules.all():
            found = _rule_matches(rule, case, flags, hearing)
            if found:
                basis = f"；{rule.citation}" if rule.citation else ""
                matches.append(Match(f"{'，'.join(found)}", f"{name}第{rule.position}项「{rule.title}」{basis}"))
    reasons = []
    if flags.complex:
        reasons.append(Match("情节复杂", ART57_2))
    if flags.serious:
        reasons.append(Match("重大违法行为给予行政处罚", ART57_2))
    return Evaluation(required=bool(matches), matches=matches, discussion_required=bool(reasons),
                      discussion_reasons=reasons, catalogue_version=version)


def record_evaluation(*, actor, case) -> Evaluation:
    """Record the evaluation on the case (CaseReview) with an audit entry
    naming the acting user, when it changed. Called only by the writes that
    change its inputs (the flags, the proposed decision, a hearing or the
    decision step, a submission), never by a read: reads and predicates use
    the pure ``evaluate``. A change of the catalogue in force is recorded by
    the catalogue's own entries and shows in the next recording (at the
    latest, the decision step's)."""
    if actor is None or (not isinstance(actor, str) and not getattr(actor, "is_authenticated", False)):
        raise PermissionDenied("记录法制审核评估须有办理人。")
    result = evaluate(case)
    row = CaseReview.objects.filter(case=case).first()
    matches = [{"rule": m.rule, "citation": m.citation} for m in result.matches]
    inputs = {**proposal_of(case), "hearing": _hearing_held(case), "procedure": case.procedure}
    if row is not None and row.required == result.required and row.matches == matches \
            and row.discussion_required == result.discussion_required and row.inputs == inputs \
            and row.catalogue_version_id == (result.catalogue_version.pk if result.catalogue_version else None):
        return result
    if row is None and not result.required and not result.discussion_required:
        return result  # nothing to record: no row means "not required"
    with transaction.atomic():
        row = row or CaseReview(case=case)
        row.required, row.matches, row.discussion_required = result.required, matches, result.discussion_required
        row.catalogue_version, row.inputs, row.evaluated_at = result.catalogue_version, inputs, timezone.now()
        row.save()
        append_audit(actor=actor, action="review.evaluate", obj=case, payload={
            "required": result.required, "matches": matches, "discussion_required": result.discussion_required,
            "catalogue_version": result.catalogue_version.number if result.catalogue_version else None, "inputs": inputs})
    return result


FLAG_FIELDS = ("domain", "major_public_interest", "complex", "serious", "social_impact", "outside_benchmark",
               "required_by_law")


@transaction.atomic
def set_case_flags(*, actor, case, **flags) -> Evaluation:
    """The case unit states the facts the catalogue and art. 58 ask about."""
    _require(actor, case.agency_id, CASE_ROLES | {Role.LEGAL_REVIEWER}, "只有本部门人员可以填写本案的法制审核情形。")
    unknown = set(flags) - set(FLAG_FIELDS)
    if unknown:
        _refuse("flags", f"未知的情形：{'、'.join(sorted(unknown))}。", "invalid")
    row, _ = CaseReview.objects.get_or_create(case=case)
    before = {f: getattr(row, f) for f in FLAG_FIELDS}
    for name, value in flags.items():
        setattr(row, name, value.strip() if isinstance(value, str) else bool(value))
    row.save()
    append_audit(actor=actor, action="review.case_flags", obj=case,
                 payload={"before": before, "after": {f: getattr(row, f) for f in FLAG_FIELDS}})
    return record_evaluation(actor=actor, case=case)


# --------------------------------------------------------------------------
# Reviewers (审核-2/3/4)


def _head(actor, agency_id: int, message: str = "须由本部门负责人办理。") -> None:
    _require(actor, agency_id, {Role.AGENCY_HEAD}, message)


@transaction.atomic
def register_reviewer(*, actor, user, qualification_number: str = "", qualification_date: date | None = None,
                      first_time: bool = True, name: str = "") -> Reviewer:
    """Register a legal reviewer of the agency (its head does)."""
    if user.agency_id is None:
        _refuse("user", "审核人员须属于一个执法部门。", "no_agency")
    _head(actor, user.agency_id, "法制审核人员由本部门负责人登记。")
    if user.role != Role.LEGAL_REVIEWER:
        _refuse("user", "该账号的角色不是法制审核人员。", "not_reviewer_role")
    if bool(qualification_number.strip()) != bool(qualification_date):
        _refuse("qualification_number", "法律职业资格证书编号和取得日期须同时填写。", "incomplete")
    reviewer, created = Reviewer.objects.update_or_create(user=user, defaults={
        "agency_id": user.agency_id, "name": name.strip() or str(user), "qualification_number": qualification_number.strip(),
        "qualification_date": qualification_date, "first_time": first_time, "active": True})
    append_audit(actor=actor, action="review.reviewer_register", obj=reviewer, payload={
        "user": user.username, "qualified": reviewer.qualified, "qualification_number": reviewer.qualification_number,
        "first_time": first_time, "created": created})
    return reviewer


@transaction.atomic
def record_training(*, actor, reviewer: Reviewer, held_on: date, title: str, hours, provider: str = "",
                    method: str = "") -> Training:
    """A training record (审核-4: regular training of reviewers)."""
    _head(actor, reviewer.agency_id, "培训记录由本部门负责人登记。")
    try:
        hours = Decimal(str(hours))
    except ArithmeticError:
        _refuse("hours", "学时格式无效。", "invalid")
    if hours <= 0 or not title.strip():
        _refuse("hours", "请填写培训内容和大于0的学时。", "invalid")
    training = Training.objects.create(reviewer=reviewer, held_on=held_on, title=title.strip(), hours=hours,
                                       provider=provider.strip(), method=method.strip())
    append_audit(actor=actor, action="review.training", obj=reviewer,
                 payload={"held_on": held_on.isoformat(), "title": training.title, "hours": str(hours)})
    return training


def investigated(reviewer: Reviewer, case) -> bool:
    """Did the reviewer take part in the case (assigned officer, an officer
    of any step, or the account that opened the case or ran a step)?"""
    user = reviewer.user
    if case.created_by_id == user.pk or case.steps.filter(started_by=user).exists() \
            or case.steps.filter(completed_by=user).exists():
        return True
    officer = getattr(user, "officer", None)
    if officer is None:
        return False
    return case.assignments.filter(officer=officer).exists() or case.steps.filter(officers=officer).exists()


def assignment_refusal(reviewer: Reviewer, case) -> tuple[str, str] | None:
    """(code, message) why the reviewer cannot review the case, or None."""
    if not reviewer.active or reviewer.agency_id != case.agency_id:
        return "reviewer_unavailable", "该审核人员不是本部门在册的法制审核人员。"
    if investigated(reviewer, case):
        return ("reviewer_investigated",
                f"{reviewer.name}参与了本案的调查办理，不得担任本案的法制审核人员（审核与调查相分离，{ART58}）。")
    if reviewer.first_time and not reviewer.qualified:
        return ("reviewer_unqualified",
                f"{reviewer.name}系初次从事行政处罚决定法制审核，尚未取得法律职业资格，不得指定（{ART58}第二款）。")
    return None


# --------------------------------------------------------------------------
# Submission (送审)


def _hearing_part_needed(case) -> bool:
    return _hearing_held(case)


def missing_parts(case, parts: list[dict]) -> list[str]:
    """Names of the required parts absent from `parts` (each {kind, ...})."""
    have = {p.get("kind") for p in parts if _part_has_content(p)}
    needed = list(REQUIRED_PARTS) + ([PartKind.HEARING_RECORD] if _hearing_part_needed(case) else [])
    return [str(PartKind(k).label) for k in needed if k not in have]


def _part_has_content(p: dict) -> bool:
    return bool(p.get("document_id") or p.get("evidence_id") or str(p.get("text") or "").strip())


def _resolve_part(case, p: dict) -> Part:
    kind = p.get("kind")
    if kind not in PartKind.values:
        _refuse("parts", f"送审材料类别无效：{kind!r}。", "invalid")
    part = Part(kind=kind, text=str(p.get("text") or "").strip())
    if p.get("document_id"):
        from django.apps import apps

        Document = apps.get_model("documents", "Document")
        doc = Document.objects.filter(pk=p["document_id"], case_id=case.pk).first()
        if doc is None:
            _refuse("parts", f"文书 {p['document_id']} 不存在或不属于本案。", "document_unknown")
        part.document_id, part.label = doc.pk, f"{doc.title} {doc.number or ''}".strip()
    elif p.get("evidence_id"):
        from django.apps import apps

        Item = apps.get_model("evidence", "EvidenceItem")
        item = Item.objects.filter(pk=p["evidence_id"], case_id=case.pk, deleted_at__isnull=True).first()
        if item is None:
            _refuse("parts", f"证据 {p['evidence_id']} 不存在或不属于本案。", "evidence_unknown")
        part.evidence_id, part.label = item.pk, str(item)[:255]
    elif not part.text:
        _refuse("parts", f"“{PartKind(kind).label}”没有内容。", "empty_part")
    return part


def _transition(submission: Submission, to: str) -> None:
    if not workflow.can_move(submission.stage, to):
        _refuse("stage", f"按法制审核流程，当前环节“{workflow.stage_name(submission.stage)}”之后不能进行“{workflow.stage_name(to)}”。",
                "stage_not_next")
    submission.stage = to


def latest_submission(case) -> Submission | None:
    return Submission.objects.filter(case=case).order_by("-round").first()


@transaction.atomic
def submit_for_review(*, actor, case, parts: list[dict], received_on: date | None = None) -> Submission:
    """The case unit submits the package (送审). Refused while incomplete
    (the message lists every missing part), while a round is open, or while
    a collective discussion on the last round is pending."""
    from sanxiang.cases.models import Case

    _require(actor, case.agency_id, CASE_ROLES, "只有本部门的承办机构可以送审。")
    case = Case.objects.select_for_update().select_related("agency", "agency__region").get(pk=case.pk)
    if case.status != "open":
        _refuse("case", "案件已结案或终止。", "case_not_open")
    received_on = received_on or clock.today()
    if received_on > clock.today() or received_on < case.opened_on:
        _refuse("received_on", "送审日期须在立案之后、且不晚于今天。", "invalid")
    if case.act_kind == "penalty" and not case.proposed_penalty_categories and not case.proposed_fine_fen:
        _refuse("proposal", "尚未记录拟作出的处理决定，不能送审。", "no_proposal")
    missing = missing_parts(case, parts)
    if missing:
        _refuse("parts", f"送审材料不齐全，缺少：{'、'.join(missing)}。", "incomplete")
    last = latest_submission(case)
    if last is not None:
        if last.is_open:
            _refuse("case", f"第{last.round}次送审尚在审核中（{workflow.stage_name(last.stage)}）。", "review_open")
        if last.discussions.filter(recorded_at__isnull=True).exists():
            _refuse("case", "对审核意见的异议正待集体讨论，讨论决定前不能重新送审。", "discussion_pending")
        if not workflow.can_move(last.stage, workflow.definition().steps[0].code):
            _refuse("case", "按法制审核流程，当前不能重新送审。", "stage_not_next")
    resolved = [_resolve_part(case, p) for p in parts]
    evaluation = record_evaluation(actor=actor, case=case)
    limit = deadline_for(rule="legal_review.review_limit", start=received_on, agency=case.agency)
    submission = Submission.objects.create(
        case=case, round=(last.round + 1) if last else 1, stage=workflow.definition().steps[0].code,
        proposal=proposal_of(case), evaluation=[{"rule": m.rule, "citation": m.citation} for m in evaluation.matches],
        submitted_by=actor, submitted_at=timezone.now(), received_on=received_on, due_on=limit.date,
        due_rule={"name": limit.rule.name, "value": int(limit.rule.value), "unit": limit.rule.unit,
                  "reference": limit.rule.reference, "provisional": limit.provisional})
    for part in resolved:
        part.submission = submission
    Part.objects.bulk_create(resolved)
    append_audit(actor=actor, action="review.submit", obj=submission, payload={
        "case": case.pk, "round": submission.round, "proposal": submission.proposal, "received_on": received_on.isoformat(),
        "due_on": limit.date.isoformat(), "rule": submission.due_rule,
        "parts": [{"kind": p.kind, "document_id": p.document_id, "evidence_id": p.evidence_id, "label": p.label} for p in resolved]})
    return submission


def _pending(submission: Submission) -> None:
    """Refuse to go on with a round that is over: its opinion given, withdrawn
    with its case, or its case closed or terminated since (the deadline job
    withdraws such a round on its next run)."""
    if submission.withdrawn_at is not None:
        _refuse("submission", f"该次送审已撤回：{submission.withdrawn_reason}", "withdrawn")
    if submission.outcome:
        _refuse("submission", "该次送审已出具审核意见。", "closed")
    if submission.case.status != "open":
        _refuse("case", "案件已结案或终止，不再进行法制审核。", "case_not_open")


def _locked_submission(submission) -> Submission:
    return Submission.objects.select_for_update(of=("self",)).select_related("case", "case__agency", "reviewer", "reviewer__user") \
        .get(pk=submission.pk)


@transaction.atomic
def assign_reviewer(*, actor, submission: Submission, reviewer: Reviewer) -> Submission:
    """受理并指定审核人员: never someone who investigated the case; a
    first-time reviewer only with the legal professional qualification
    (art. 58 (2))."""
    submission = _locked_submission(submission)
    case = submission.case
    _require(actor, case.agency_id, REVIEW_OFFICE_ROLES, "只有本部门法制审核机构人员或负责人可以指定审核人员。")
    _pending(submission)
    refusal = assignment_refusal(reviewer, case)
    if refusal:
        _refuse("reviewer", refusal[1], refusal[0])
    if submission.stage != "assignment":
        _transition(submission, "assignment")
    previous = submission.reviewer.name if submission.reviewer else None
    submission.reviewer, submission.assigned_by, submission.assigned_at = reviewer, actor, timezone.now()
    submission.save()
    append_audit(actor=actor, action="review.assign", obj=submission, payload={
        "case": case.pk, "round": submission.round, "reviewer": reviewer.user.username, "previous": previous,
        "qualified": reviewer.qualified, "first_time": reviewer.first_time})
    return submission


def _the_reviewer(actor, submission: Submission) -> None:
    if submission.reviewer is None or not _active(actor) or submission.reviewer.user_id != actor.pk:
        raise PermissionDenied("只有指定的法制审核人员可以办理。")


@transaction.atomic
def request_consultation(*, actor, submission: Submission, counsel_name: str, counsel_kind: str,
                         question: str) -> Consultation:
    """审核-5: the reviewer asks a legal counsel or public lawyer."""
    submission = _locked_submission(submission)
    _the_reviewer(actor, submission)
    _pending(submission)
    if counsel_kind not in Consultation.CounselKind.values:
        _refuse("counsel_kind", "请选择法律顾问或公职律师。", "invalid")
    if not counsel_name.strip() or not question.strip():
        _refuse("question", "请填写咨询对象和咨询事项。", "required")
    if submission.stage != "consultation":
        _transition(submission, "consultation")
        submission.save(update_fields=["stage"])
    consultation = Consultation.objects.create(submission=submission, counsel_name=counsel_name.strip(),
                                               counsel_kind=counsel_kind, question=question.strip(), requested_by=actor,
                                               requested_at=timezone.now())
    append_audit(actor=actor, action="review.consult", obj=submission, payload={
        "counsel": consultation.counsel_name, "kind": counsel_kind, "question": consultation.question})
    return consultation


@transaction.atomic
def record_counsel_opinion(*, actor, consultation: Consultation, opinion: str) -> Consultation:
    submission = _locked_submission(consultation.submission)
    _the_reviewer(actor, submission)
    if consultation.opinion_at is not None:
        _refuse("opinion", "该咨询意见已记录。", "already_recorded")
    if not opinion.strip():
        _refuse("opinion", "请填写法律顾问或公职律师的意见。", "required")
    consultation.opinion, consultation.opinion_at = opinion.strip(), timezone.now()
    consultation.save(update_fields=["opinion", "opinion_at"])
    append_audit(actor=actor, action="review.counsel_opinion", obj=submission,
                 payload={"counsel": consultation.counsel_name, "opinion": consultation.opinion})
    return consultation


@transaction.atomic
def record_opinion(*, actor, submission: Submission, checklist: dict, opinion_text: str = "") -> Submission:
    """The reviewer's opinion over the fixed checklist: every item pass or
    issue (an issue needs a comment). All pass → 同意; any issue → 存在问题,
    and the case goes back to its unit (resubmit, or disagree → collective
    discussion)."""
    submission = _locked_submission(submission)
    _the_reviewer(actor, submission)
    _pending(submission)
    if submission.consultations.filter(opinion_at__isnull=True).exists():
        _refuse("checklist", "已征求法律顾问或公职律师意见，请先记录其意见。", "consultation_pending")
    entries = []
    for item in CheckItem:
        value = checklist.get(item.value)
        if value is None:
            _refuse("checklist", f"审核项目“{item.label}”尚未填写。", "checklist_incomplete")
        result, comment = (value.get("result"), value.get("comment", "")) if isinstance(value, dict) else value
        if result not in ItemResult.values:
            _refuse("checklist", f"审核项目“{item.label}”的结论须为“通过”或“存在问题”。", "invalid")
        comment = (comment or "").strip()
        if result == ItemResult.ISSUE and not comment:
            _refuse("checklist", f"审核项目“{item.label}”存在问题，须写明问题和修改意见。", "comment_required")
        entries.append(ChecklistEntry(submission=submission, item=item.value, result=result, comment=comment))
    _transition(submission, "opinion")
    ChecklistEntry.objects.bulk_create(entries)
    issues = [e for e in entries if e.result == ItemResult.ISSUE]
    submission.outcome = Outcome.ISSUES if issues else Outcome.AGREE
    submission.opinion_text, submission.opinion_at = opinion_text.strip(), timezone.now()
    submission.save()
    reviewer = submission.reviewer
    if reviewer.first_time:
        reviewer.first_time = False
        reviewer.save(update_fields=["first_time"])
    append_audit(actor=actor, action="review.opinion", obj=submission, payload={
        "case": submission.case_id, "round": submission.round, "outcome": submission.outcome,
        "checklist": {e.item: [e.result, e.comment] for e in entries}, "opinion": submission.opinion_text,
        "on_time": submission.on_time(), "due_on": submission.due_on.isoformat()})
    return submission


@transaction.atomic
def respond_to_opinion(*, actor, submission: Submission, disagree: bool, reason: str = "") -> Submission:
    """The case unit's answer to 存在问题: accept (fix and resubmit) or
    disagree, which sends the matter to collective discussion (art. 57)."""
    submission = _locked_submission(submission)
    _require(actor, submission.case.agency_id, CASE_ROLES, "只有本案承办机构可以答复审核意见。")
    if submission.outcome != Outcome.ISSUES:
        _refuse("submission", "只有“存在问题”的审核意见需要答复。", "not_issues")
    if submission.response:
        _refuse("submission", "已答复该审核意见。", "already_responded")
    if disagree and not reason.strip():
        _refuse("reason", "有异议的，须写明理由。", "required")
    submission.response = UnitResponse.DISAGREED if disagree else UnitResponse.ACCEPTED
    submission.response_reason, submission.response_at = reason.strip(), timezone.now()
    if disagree:
        _transition(submission, "discussion")
        Discussion.objects.create(case=submission.case, submission=submission, reason=DiscussionReason.DISAGREEMENT,
                                  proposal=submission.proposal, requested_by=actor, requested_at=timezone.now())
    submission.save()
    append_audit(actor=actor, action="review.response", obj=submission, payload={
        "case": submission.case_id, "round": submission.round, "response": submission.response, "reason": submission.response_reason})
    return submission


@transaction.atomic
def request_discussion(*, actor, case, reason: str = DiscussionReason.COMPLEX) -> Discussion:
    """Put a complex or serious case to the agency heads (art. 57 (2))."""
    _require(actor, case.agency_id, CASE_ROLES | {Role.LEGAL_REVIEWER}, "只有本部门人员可以提请集体讨论。")
    if reason not in DiscussionReason.values:
        _refuse("reason", "提请集体讨论的理由无效。", "invalid")
    if Discussion.objects.filter(case=case, recorded_at__isnull=True).exists():
        _refuse("case", "本案已有待举行的集体讨论。", "discussion_pending")
    discussion = Discussion.objects.create(case=case, submission=latest_submission(case), reason=reason,
                                           proposal=proposal_of(case), requested_by=actor, requested_at=timezone.now())
    append_audit(actor=actor, action="review.discussion_request", obj=case, payload={"reason": reason, "discussion": discussion.pk})
    return discussion


@transaction.atomic
def record_discussion(*, actor, discussion: Discussion, held_at: datetime, place: str, chair: str,
                      participants: list[str], recorder: str, minutes: str, resolution: str, resolution_text: str,
                      opinions: list[str] | None = None) -> Discussion:
    """The agency heads' collective discussion: participants, minutes and
    the resolution. A resolution to decide covers the proposed decision as
    it stands now; changing it afterwards needs a new review."""
    discussion = Discussion.objects.select_for_update().select_related("case", "case__agency").get(pk=discussion.pk)
    case = discussion.case
    _head(actor, case.agency_id, "集体讨论由本部门负责人主持并记录。")
    if discussion.recorded_at is not None:
        _refuse("discussion", "该次集体讨论已记录。", "already_recorded")
    participants = [p.strip() for p in participants if p and p.strip()]
    if not chair.strip() or not participants or not minutes.strip() or not recorder.strip():
        _refuse("participants", "请填写主持人、出席人员、记录人和讨论情况。", "required")
    if resolution not in Resolution.values or not resolution_text.strip():
        _refuse("resolution", "请选择讨论决定并写明决定内容。", "required")
    if held_at is None or held_at > timezone.now():
        _refuse("held_at", "讨论时间不能晚于当前时间。", "invalid")
    submission = discussion.submission
    if submission is not None and discussion.reason == DiscussionReason.DISAGREEMENT:
        submission = _locked_submission(submission)
        if submission.stage != "discussion":
            _transition(submission, "discussion")
            submission.save(update_fields=["stage"])
    discussion.held_at, discussion.place, discussion.chair = held_at, place.strip(), chair.strip()
    discussion.participants, discussion.recorder, discussion.minutes = participants, recorder.strip(), minutes.strip()
    discussion.opinions = [o.strip() for o in (opinions or []) if o and o.strip()]
    discussion.resolution, discussion.resolution_text = resolution, resolution_text.strip()
    discussion.proposal = proposal_of(case)
    discussion.recorded_by, discussion.recorded_at = actor, timezone.now()
    discussion.save()
    append_audit(actor=actor, action="review.discussion", obj=case, payload={
        "discussion": discussion.pk, "reason": discussion.reason, "held_at": held_at.isoformat(), "chair": discussion.chair,
        "participants": participants, "minutes": discussion.minutes, "resolution": resolution,
        "resolution_text": discussion.resolution_text, "proposal": discussion.proposal})
    return discussion


# --------------------------------------------------------------------------
# Time limit: extension, reminders and escalation


@transaction.atomic
def request_extension(*, actor, submission: Submission, reason: str) -> Extension:
    submission = _locked_submission(submission)
    _the_reviewer(actor, submission)
    _pending(submission)
    if not reason.strip():
        _refuse("reason", "请写明延长审核期限的理由。", "required")
    if submission.extensions.exists():
        _refuse("submission", "本次送审已申请过延长审核期限。", "extension_used")
    extension = Extension.objects.create(submission=submission, reason=reason.strip(), requested_by=actor,
                                         requested_at=timezone.now())
    append_audit(actor=actor, action="review.extension_request", obj=submission, payload={"reason": extension.reason})
    return extension


@transaction.atomic
def approve_extension(*, actor, extension: Extension) -> Extension:
    """The agency head approves: the deadline moves by the dated rule
    legal_review.review_extension (working days) from the current one."""
    submission = _locked_submission(extension.submission)
    _head(actor, submission.case.agency_id, "延长审核期限须经本部门负责人批准。")
    extension = Extension.objects.select_for_update().get(pk=extension.pk)
    if extension.approved_at is not None:
        _refuse("extension", "该延期申请已批准。", "already_approved")
    _pending(submission)
    rule = get_rule("legal_review.review_extension", on=submission.received_on, agency=submission.case.agency)
    if int(rule.value) <= 0:
        _refuse("extension", f"本地规定未设延长审核期限（{rule.reference}）。", "no_extension")
    moved = add_period(start=submission.due_on, amount=int(rule.value), unit=rule.unit)
    extension.old_due_on, extension.new_due_on = submission.due_on, moved.date
    extension.rule = {"name": rule.name, "value": int(rule.value), "unit": rule.unit, "reference": rule.reference}
    extension.approved_by, extension.approved_at = actor, timezone.now()
    extension.save()
    submission.due_on = moved.date
    submission.save(update_fields=["due_on"])
    append_audit(actor=actor, action="review.extension_approve", obj=submission, payload={
        "old_due_on": extension.old_due_on.isoformat(), "new_due_on": moved.date.isoformat(), "rule": extension.rule})
    return extension


def reminder_lead_days() -> int:
    """Working days before the deadline when the reminder is made: an
    operational setting, not a legal limit (SANXIANG_REVIEW_REMINDER_DAYS)."""
    import os

    from django.conf import settings

    return int(getattr(settings, "REVIEW_REMINDER_DAYS", os.environ.get("SANXIANG_REVIEW_REMINDER_DAYS", 2)))


def _recipients(submission: Submission, kind: str) -> list[str]:
    from sanxiang.core.models import User

    names = [submission.reviewer.user.username] if submission.reviewer else []
    if kind == NoticeKind.ESCALATION or submission.reviewer is None:
        names += list(User.objects.filter(agency_id=submission.case.agency_id, role=Role.AGENCY_HEAD, is_active=True)
                      .order_by("username").values_list("username", flat=True))
    return names


DEADLINE_JOB_ACTOR = "system:review-deadlines"
CASE_END_TEXT = {"closed": "结案", "terminated": "终止（撤销立案）"}


def _withdraw_with_case(submission: Submission, *, actor) -> None:
    """送审撤回: the case of a pending round was closed or terminated, so no
    decision will be made on what was submitted and there is nothing left to
    review (penalty law art. 58 reviews a decision about to be made). The
    round keeps its record (parts, reviewer, notices) and is marked withdrawn
    with the reason; the audit chain says when and why."""
    case = submission.case
    ended = CASE_END_TEXT.get(case.status, case.status)
    when = f"于{case.closed_on:%Y年%m月%d日}" if case.closed_on else ""
    submission.withdrawn_at = timezone.now()
    submission.withdrawn_reason = f"案件已{when}{ended}，本次送审撤回，不再审核。"
    submission.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    append_audit(actor=actor, action="review.withdraw", obj=submission, payload={
        "case": case.pk, "round": submission.round, "stage": submission.stage, "case_status": case.status,
        "closed_on": case.closed_on.isoformat() if case.closed_on else None, "due_on": submission.due_on.isoformat(),
        "reviewer": submission.reviewer.user.username if submission.reviewer else None,
        "reason": submission.withdrawn_reason})


def withdraw_reviews_of_ended_case(*, case, actor) -> int:
    """Withdraw every pending review round of a case that has just been
    closed or terminated (called by the cases app in the same transaction,
    so the round never outlives its case; the deadline job catches any that
    did). Returns how many were withdrawn."""
    withdrawn = 0
    for submission in Submission.objects.filter(case=case, outcome="", withdrawn_at__isnull=True):
        locked = _locked_submission(submission)
        if locked.is_open and locked.case.status != "open":
            _withdraw_with_case(locked, actor=actor)
            withdrawn += 1
    return withdrawn


def run_deadline_job(*, today: date | None = None) -> int:
    """Reminders before and escalations after the review deadline, once per
    (round, kind, deadline): recorded as Notice rows and in the audit chain.
    Idempotent; an extension (a new deadline) gets its own notices. A pending
    round whose case has been closed or terminated is withdrawn instead
    (``review.withdraw``), never reminded or escalated. Returns the number of
    notices made."""
    today = today or clock.today()
    lead = reminder_lead_days()
    made = 0
    pending = Submission.objects.filter(outcome="", withdrawn_at__isnull=True)
    for submission in pending.select_related("case", "case__agency", "reviewer__user"):
        if submission.case.status != "open":
            with transaction.atomic():
                locked = _locked_submission(submission)
                if locked.is_open and locked.case.status != "open":
                    _withdraw_with_case(locked, actor=DEADLINE_JOB_ACTOR)
            continue
        if today > submission.due_on:
            kind = NoticeKind.ESCALATION
            message = (f"{submission.case.title}（第{submission.round}次送审）的法制审核已于{submission.due_on:%Y年%m月%d日}"
                       f"届满仍未出具审核意见，报请机关负责人督办（{submission.due_rule.get('reference', '')}）。")
        elif lead > 0 and add_working_days(start=today, days=lead).date >= submission.due_on:
            kind = NoticeKind.REMINDER
            message = f"{submission.case.title}（第{submission.round}次送审）的法制审核期限将于{submission.due_on:%Y年%m月%d日}届满。"
        else:
            continue
        with transaction.atomic():
            locked = _locked_submission(submission)
            if not locked.is_open or locked.case.status != "open" or locked.due_on != submission.due_on:
                continue  # changed since listed: the next run judges it as it stands
            if Notice.objects.filter(submission=submission, kind=kind, due_on=submission.due_on).exists():
                continue
            notice = Notice.objects.create(submission=submission, kind=kind, due_on=submission.due_on, made_on=today,
                                           recipients=_recipients(submission, kind), message=message)
            append_audit(actor=DEADLINE_JOB_ACTOR, action=f"review.{kind}", obj=submission, payload={
                "case": submission.case_id, "round": submission.round, "due_on": submission.due_on.isoformat(),
                "made_on": today.isoformat(), "recipients": notice.recipients})
        made += 1
    return made


# --------------------------------------------------------------------------
# Documents (文书): the opinion and the discussion record


def _issue(*, actor, case, kind: str, data: dict):
    from sanxiang.documents.services import issue_document

    return issue_document(actor=actor, case=case, kind=kind, data=data, through="review")


@transaction.atomic
def issue_opinion_document(*, actor, submission: Submission):
    """法制审核意见书 as a numbered 文书 (documents app)."""
    submission = _locked_submission(submission)
    _require(actor, submission.case.agency_id, REVIEW_OFFICE_ROLES, "只有本部门法制审核机构可以制作法制审核意见书。")
    if not submission.outcome:
        _refuse("submission", "尚未出具审核意见。", "no_opinion")
    if submission.opinion_document_id:
        _refuse("submission", f"已制作法制审核意见书（{submission.opinion_document_number}）。", "already_issued")
    labels = dict(CheckItem.choices)
    issues = [f"{labels[e.item]}：{e.comment}" for e in submission.checklist.all() if e.result == ItemResult.ISSUE]
    doc = _issue(actor=actor, case=submission.case, kind="legal_review_opinion", data={
        "submitted_on": submission.received_on.isoformat(), "submitting_unit": "案件承办机构",
        "proposed_decision": describe_proposal(submission.proposal),
        "conclusion": OUTCOME_TEXT[submission.outcome],
        "issues": issues, "reviewers": submission.reviewer.name})
    submission.opinion_document_id, submission.opinion_document_number = doc.pk, doc.number or ""
    submission.save(update_fields=["opinion_document_id", "opinion_document_number"])
    append_audit(actor=actor, action="review.opinion_document", obj=submission,
                 payload={"document": doc.pk, "number": doc.number})
    return doc


OUTCOME_TEXT = {Outcome.AGREE: "同意", Outcome.ISSUES: "存在问题"}
RESOLUTION_TEXT = {Resolution.DECIDE: "同意作出处理决定", Resolution.REVISE: "修改后重新送审",
                   Resolution.NO_DECISION: "不予作出处理决定"}


@transaction.atomic
def issue_discussion_record(*, actor, discussion: Discussion):
    """集体讨论记录 as a 文书 of the case (documents app)."""
    discussion = Discussion.objects.select_for_update().select_related("case", "case__agency").get(pk=discussion.pk)
    _head(actor, discussion.case.agency_id, "集体讨论记录由本部门负责人制作。")
    if discussion.recorded_at is None:
        _refuse("discussion", "集体讨论尚未记录。", "not_held")
    if discussion.document_id:
        _refuse("discussion", "已制作集体讨论记录。", "already_issued")
    held = clock.local_time(discussion.held_at)
    doc = _issue(actor=actor, case=discussion.case, kind="collective_discussion", data={
        "held_at": f"{held:%Y年%m月%d日 %H:%M}", "place": discussion.place or "本机关会议室", "chair": discussion.chair,
        "attendees": "、".join(discussion.participants), "recorder": discussion.recorder,
        "case_report": discussion.minutes, "opinions": discussion.opinions or [discussion.minutes],
        "conclusion": f"{RESOLUTION_TEXT[discussion.resolution]}：{discussion.resolution_text}"})
    discussion.document_id, discussion.document_number = doc.pk, doc.number or ""
    discussion.save(update_fields=["document_id", "document_number"])
    append_audit(actor=actor, action="review.discussion_document", obj=discussion.case,
                 payload={"discussion": discussion.pk, "document": doc.pk, "number": doc.number})
    return doc


# --------------------------------------------------------------------------
# The gate (审核-8)


def _matching(case, current: dict, reason: str) -> bool:
    """The latest held discussion of this reason resolved to decide on the
    proposed decision as it stands now."""
    d = Discussion.objects.filter(case=case, reason=reason, recorded_at__isnull=False).order_by("-recorded_at", "-id").first()
    return d is not None and d.resolution == Resolution.DECIDE and d.proposal == current


def decision_block(case) -> str | None:
    """Why no decision may be made on this case yet, in Chinese citing the
    article, or None. Evaluates (purely: a read, nothing recorded) whether
    review is required, so a changed proposed decision is judged as it
    stands. Called by the cases app's ``requires_review_block`` (decide
    step, documents numbering), the pages and by the save-time guards."""
    evaluation = evaluate(case)
    current = proposal_of(case)
    if evaluation.discussion_required and not _matching(case, current, DiscussionReason.COMPLEX) \
            and not _matching(case, current, DiscussionReason.DISAGREEMENT):
        why = "、".join(m.rule for m in evaluation.discussion_reasons)
        return f"本案{why}，应当由行政机关负责人集体讨论决定，尚无集体讨论同意作出决定的记录（{ART57_2}）。"
    if not evaluation.required:
        return None
    last = latest_submission(case)
    if last is not None and last.outcome == Outcome.AGREE and last.proposal == current:
        return None
    if _matching(case, current, DiscussionReason.DISAGREEMENT):
        return None
    first = evaluation.matches[0]
    head = (f"本案属于重大执法决定（{first.rule}，{first.citation}），未经法制审核或者审核未通过的，不得作出决定"
            f"（{ART58}）")
    if last is None:
        return f"{head}；尚未送审。"
    if last.is_open:
        return f"{head}；第{last.round}次送审尚在审核中（{workflow.stage_name(last.stage)}，审核期限至{last.due_on:%Y年%m月%d日}）。"
    if last.proposal != current:
        return f"{head}；拟作出的处理决定在审核后已经变更，须重新送审。"
    if last.response == UnitResponse.DISAGREED:
        return f"{head}；承办机构对审核意见有异议，须经机关负责人集体讨论决定（{ART57_2}）。"
    return f"{head}；第{last.round}次审核意见为“存在问题”，须修改后重新送审。"


__all__ = [
    "Evaluation", "Match", "accept_catalogue", "add_catalogue_rule", "approve_extension", "assign_reviewer",
    "decision_block", "evaluate", "record_evaluation", "issue_discussion_record", "issue_opinion_document", "missing_parts",
    "proposal_of", "record_counsel_opinion", "record_discussion", "record_opinion", "record_training",
    "register_reviewer", "request_consultation", "request_discussion", "request_extension", "respond_to_opinion",
    "return_catalogue", "run_deadline_job", "set_all_non_summary", "set_case_flags", "start_catalogue_draft",
    "submit_catalogue", "submit_for_review",
]
