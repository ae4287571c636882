"""The rules of procedure as predicates: what may happen next to a case.

Seed 记录-1 asks for whole-process records of every kind of enforcement
act; issue 4 asks that "the rules of procedure are enforced, not advised".
Each ``can_*`` function answers with a ``Verdict``: true, or false with a
Chinese reason that cites the article it applies (taken from the dated
rule's reference where a rule exists) and a stable code for machines.
``services.py`` refuses every write whose predicate is false; pages and the
API show the same predicates, so what is offered is what is allowed.

The steps a case may take come from its process definition
(``sanxiang.catalog.processes``): after the last completed step, the
``next`` and ``returns`` of that step; at the start, the first step; never
two steps at once.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal


from sanxiang.catalog.processes import ProcessDefinition, get_process
from sanxiang.core.vocabulary import CASE_HANDLERS, CITIZEN_PARTY_TYPES, EnforcementCategory, Role
from sanxiang.core.predicates import ALLOWED, Verdict, refuse  # one Verdict for the platform; re-exported here
from sanxiang.core.selectors import certificate_state
from sanxiang.rules.loader import get_rule

from . import registry
from .models import Case, CaseStatus, CaseStep, DeadlineKind, OfficerRole, Procedure, StepStatus
from sanxiang.core import clock

# Penalty categories the summary procedure may impose (art. 51: 警告 or a small 罚款).
SUMMARY_CATEGORIES = {"警告", "罚款"}
# Party types fined at the citizen's limit of art. 51 (公民):
# core.vocabulary.CITIZEN_PARTY_TYPES (an individual business is a natural
# person carrying on business, treated as a citizen as market-regulation
# practice does).

# Steps carried out on site by officers, where the minimum number of
# officers with valid certificates applies (penalty law arts. 42, 55;
# coercion law art. 18 (2); licensing law art. 36 on-site verification by two).
# Any officer recorded on any step must still hold a valid certificate that
# covers the act kind.
ON_SITE_STEPS = {
    "penalty": {"investigation"},
    "inspection": {"investigation"},
    "levy": {"investigation"},
    "license": {"review"},
    "coercion": {"notification", "execution"},
}
# The dated rule giving the minimum number of officers, per act kind.
MIN_OFFICERS_RULE = {"coercion": "coercion.min_officers"}
DEFAULT_MIN_OFFICERS_RULE = "penalty.min_officers"
STATUS_TEXT = {"expired": "已过有效期", "not_yet_valid": "尚未生效", "suspended": "已被暂扣", "revoked": "已被吊销或注销"}




def definition_of(case: Case) -> ProcessDefinition:
    return get_process(case.act_kind, case.procedure)


def _steps(case: Case) -> list[CaseStep]:
    return list(case.steps.order_by("started_at", "id"))


def step_in_progress(case: Case) -> CaseStep | None:
    return case.steps.filter(status=StepStatus.IN_PROGRESS).order_by("-started_at", "-id").first()


def last_completed_step(case: Case) -> CaseStep | None:
    return case.steps.filter(status=StepStatus.COMPLETED).order_by("-completed_at", "-id").first()


def allowed_next_codes(case: Case) -> list[str]:
    """Codes the process definition allows next, before any other check."""
    if case.status != CaseStatus.OPEN or step_in_progress(case) is not None:
        return []
    definition = definition_of(case)
    last = last_completed_step(case)
    if last is None:
        return [definition.steps[0].code]
    step = definition.step(last.code)
    return list(step.next) + [c for c in step.returns if c not in step.next]


def next_steps(case: Case, *, on: date | None = None) -> list[tuple[str, str, Verdict]]:
    """(code, name, verdict) for each step the definition allows next; the
    verdict says whether it may start now, and why not."""
    definition = definition_of(case)
    return [(code, definition.step(code).name, can_start_step(case, code, on=on)) for code in allowed_next_codes(case)]


# --------------------------------------------------------------------------
# Officers (penalty law art. 42, coercion law art. 18)


def _officers_rule(case: Case, on: date):
    return get_rule(MIN_OFFICERS_RULE.get(case.act_kind, DEFAULT_MIN_OFFICERS_RULE), on=on, agency=case.agency)


def check_officer(case: Case, officer, *, on: date, rule=None) -> Verdict:
    """One officer may act in the case on the day: belongs to the case's
    agency and holds a certificate valid on the day whose categories cover
    the act kind (penalty law art. 42, coercion law art. 18)."""
    rule = rule or _officers_rule(case, on)
    if officer.agency_id != case.agency_id:
        return refuse(f"执法人员{officer.name}不属于本案承办部门，不能参与本案（{rule.reference}）。",
                      "officer_other_agency", "officers")
    state = certificate_state(officer, on=on)
    if state != "valid":
        return refuse(
            f"执法人员{officer.name}的执法证（{officer.certificate_number}）于{on:%Y年%m月%d日}{STATUS_TEXT.get(state, state)}，"
            f"不得从事执法活动（{rule.reference}）。", "certificate_invalid", "officers")
    if case.act_kind in EnforcementCategory.values and case.act_kind not in (officer.categories or []):
        label = EnforcementCategory(case.act_kind).label
        return refuse(f"执法人员{officer.name}的执法证执法类别不包括{label}，不能办理本案（{rule.reference}）。",
                      "category_not_covered", "officers")
    return ALLOWED


def check_officers(case: Case, officers, *, on: date, code: str) -> Verdict:
    """Each officer passes ``check_officer`` on the day; on-site steps need
    the minimum number of such officers from the dated rule."""
    rule = _officers_rule(case, on)
    officers = list(officers)
    for officer in officers:
        verdict = check_officer(case, officer, on=on, rule=rule)
        if not verdict:
            return verdict
    if code in ON_SITE_STEPS.get(case.act_kind, set()):
        minimum = int(rule.value)
        if len({o.pk for o in officers}) < minimum:
            return refuse(
                f"执法人员不得少于{minimum}人，且须持有有效执法证（{rule.reference}）；本环节只有{len(officers)}名符合条件的执法人员。",
                "too_few_officers", "officers")
    return ALLOWED


# --------------------------------------------------------------------------
# Summary procedure (penalty law art. 51)


def summary_fine_limit_fen(case: Case, *, on: date):
    """The art. 51 limit for this party, in fen, with the rule it comes from."""
    name = "penalty.summary_fine_limit_citizen" if case.party_type in CITIZEN_PARTY_TYPES \
        else "penalty.summary_fine_limit_organisation"
    rule = get_rule(name, on=on, agency=case.agency)
    return int(Decimal(rule.value) * 100), rule


def check_summary_limits(case: Case, *, categories, fine_fen, confiscation_fen=None, on: date) -> Verdict:
    """Summary procedure only for a warning or a fine within art. 51's limit."""
    if case.act_kind != "penalty" or case.procedure != Procedure.SUMMARY:
        return ALLOWED
    limit_fen, rule = summary_fine_limit_fen(case, on=on)
    others = [c for c in (categories or []) if c not in SUMMARY_CATEGORIES]
    if others or confiscation_fen:
        what = "、".join(others) or "没收"
        return refuse(f"简易程序只能当场给予警告或者小额罚款，不能给予{what}；请改用一般程序（{rule.reference}）。",
                      "summary_category", "proposed_penalty_categories")
    if fine_fen and fine_fen > limit_fen:
        who = "公民" if case.party_type in CITIZEN_PARTY_TYPES else "法人或者其他组织"
        return refuse(
            f"简易程序对{who}罚款不得超过{Decimal(limit_fen) / 100:g}元，拟罚款{Decimal(fine_fen) / 100:g}元超出限额；"
            f"请改用一般程序（{rule.reference}）。", "summary_fine_limit", "proposed_fine_fen")
    return ALLOWED


# --------------------------------------------------------------------------
# Predicates


def _completed(case: Case, code: str):
    return case.steps.filter(code=code, status=StepStatus.COMPLETED)


def hearing_requested_in_time(case: Case) -> bool:
    if not case.hearing_requested or case.hearing_requested_on is None:
        return False
    limit = case.deadlines.filter(kind=DeadlineKind.HEARING_REQUEST, superseded=False).order_by("-id").first()
    return limit is None or case.hearing_requested_on <= limit.due_on


def hearing_request_period_running(case: Case, *, on: date):
    """The party's hearing-request deadline while it still runs on `on` —
    no request recorded, no written waiver — else None. Until it lapses the
    party may still ask for a hearing (art. 64 (1)), so no decision yet."""
    if case.hearing_requested or case.hearing_waived_on is not None:
        return None
    limit = case.deadlines.filter(kind=DeadlineKind.HEARING_REQUEST, superseded=False).order_by("-id").first()
    if limit is None or on > limit.due_on:
        return None
    return limit


def requires_review_block(case: Case) -> str | None:
    """The decision guards' reason to refuse a decision (``registry.py``)."""
    return registry.decision_block(case)


def can_decide(case: Case, *, on: date | None = None) -> Verdict:
    """A decision may be made: the party was told of the facts, reasons,
    basis and rights (arts. 44, 62) after the last investigation; a hearing
    requested in time was held (art. 63-65); the legal review, where
    required, does not block (art. 58, via ``requires_review_block``); a
    summary decision stays within art. 51."""
    on = on or clock.today()
    definition = definition_of(case)
    if "notification" in definition.codes:
        notified = _completed(case, "notification").order_by("-completed_at").first()
        last_investigation = case.steps.filter(code="investigation").order_by("-started_at").first()
        if notified is None or (last_investigation and notified.completed_at < last_investigation.started_at):
            return refuse("作出决定前，应当告知当事人拟作出决定的内容及事实、理由、依据，并告知其陈述、申辩、要求听证等权利；"
                          "告知环节尚未完成（《中华人民共和国行政处罚法》第四十四条、第六十二条）。", "not_notified")
    if "hearing" in definition.codes and hearing_requested_in_time(case) and not _completed(case, "hearing").exists():
        return refuse("当事人在法定期限内要求听证，须先举行听证再作出决定（《中华人民共和国行政处罚法》第六十三条、第六十四条、第六十五条）。",
                      "hearing_pending")
    period = hearing_request_period_running(case, on=on)
    if period is not None:
        return refuse(f"当事人要求听证的期限（告知后{period.rule_amount}个工作日）至{period.due_on:%Y年%m月%d日}届满；"
                      f"期满且未要求听证，或当事人书面放弃听证后，方可作出决定（{period.rule_reference}）。",
                      "hearing_period_running", "at")
    block = requires_review_block(case)
    if block:
        return refuse(block, "review_required")
    return check_summary_limits(case, categories=case.proposed_penalty_categories, fine_fen=case.proposed_fine_fen,
                                confiscation_fen=case.proposed_confiscation_fen, on=on)


def can_handle(actor, agency_id: int | None) -> Verdict:
    """May ``actor`` act in the agency's cases: the case unit (承办机构,
    core.vocabulary.CASE_HANDLERS: its officers, its head, its API clients).
    Legal offices and administrators read."""
    if getattr(actor, "is_authenticated", False) and getattr(actor, "role", None) in CASE_HANDLERS \
            and agency_id is not None and actor.agency_id == agency_id:
        return ALLOWED
    return refuse("只有本部门的执法人员、负责人或本部门授权的系统可以办理本案。", "forbidden", "actor")


def can_approve(actor, agency_id: int | None) -> Verdict:
    """The agency head (负责人) of the agency: who approves what an officer
    may not decide alone (AV exemptions, terminating a case, 文号 patterns)."""
    if getattr(actor, "is_authenticated", False) and getattr(actor, "role", None) == Role.AGENCY_HEAD \
            and agency_id is not None and actor.agency_id == agency_id:
        return ALLOWED
    return refuse("只有本部门负责人可以批准。", "forbidden", "actor")


def can_write_case(case: Case) -> Verdict:
    """Anything may still be written on the case: it is open. A closed
    (结案) or terminated (终止 / 撤销立案) case is filed as it stands
    (记录-3): no step, officer, hearing record, deadline, proposal or
    exemption changes after it ended. Every case-write service goes through
    this predicate (``services.case_write``); documents and evidence ask it
    too. Building the e-case file of an ended case is not a write on the
    case (it reads the record and files it)."""
    if case.status != CaseStatus.OPEN:
        when = f"于{case.closed_on:%Y年%m月%d日}" if case.closed_on else ""
        what = "终止" if case.status == CaseStatus.TERMINATED else "结案"
        return refuse(f"案件已{when}{what}，案卷已归档，不能再修改或补充记录。", "case_not_open", "case")
    return ALLOWED


def can_record_hearing(case: Case) -> Verdict:
    """The party's hearing request or waiver, and the hearing notice, belong
    before the decision (penalty law arts. 63-64): once decided, they are
    refused rather than dated after the decision."""
    verdict = can_write_case(case)
    if not verdict:
        return verdict
    if case.decided_on is not None or _completed(case, "decision").exists():
        return refuse("本案已作出决定，不能再登记听证申请、放弃听证或听证通知（《中华人民共和国行政处罚法》第六十三条、第六十四条）。",
                      "already_decided", "case")
    return ALLOWED


def can_start_step(case: Case, code: str, *, on: date | None = None, officers=None) -> Verdict:
    """May the step `code` start on day `on` with these officers (default:
    the case's assigned officers)?"""
    on = on or clock.today()
    if case.status != CaseStatus.OPEN:
        return refuse("案件已结案或终止，不能再进行办案环节。", "case_not_open")
    definition = definition_of(case)
    if code not in definition.codes:
        return refuse(f"本案流程（{definition.title}）中没有环节 {code}。", "unknown_step")
    running = step_in_progress(case)
    if running is not None:
        return refuse(f"环节「{running.name}」尚未完成，完成后才能开始下一环节。", "step_in_progress")
    allowed = allowed_next_codes(case)
    if code not in allowed:
        names = "、".join(definition.step(c).name for c in allowed) or "无"
        return refuse(f"按本案流程（{definition.title}），当前只能进行：{names}。", "step_not_next")
    if on < case.opened_on:
        return refuse("环节日期不能早于立案（启动）日期。", "before_opening", "at")
    if officers is None:
        officers = [a.officer for a in case.assignments.select_related("officer")]
    verdict = check_officers(case, officers, on=on, code=code)
    if not verdict:
        return verdict
    if code == "decision":
        verdict = can_decide(case, on=on)
        if not verdict:
            return verdict
    if code == "hearing" and case.act_kind == "penalty":
        if not case.hearing_requested:
            return refuse("当事人未要求听证，不进行听证环节（《中华人民共和国行政处罚法》第六十三条）。", "hearing_not_requested")
        notice = case.deadlines.filter(kind=DeadlineKind.HEARING_NOTICE, superseded=False).order_by("-id").first()
        if notice is None:
            return refuse("举行听证前须送达听证通知书（《中华人民共和国行政处罚法》第六十四条第（二）项）。", "hearing_not_noticed")
        if on < notice.due_on:
            return refuse(f"听证应当在举行的七个工作日前通知当事人；按通知日期，最早可于{notice.due_on:%Y年%m月%d日}举行（{notice.rule_reference}）。",
                          "hearing_too_early", "at")
    if code == "extension" and case.act_kind == "coercion":
        rule = get_rule("coercion.seizure_extension_count", on=on, agency=case.agency)
        if _completed(case, "extension").count() >= int(rule.value):
            return refuse(f"查封、扣押期限只能延长{rule.value}次（{rule.reference}）。", "extension_limit")
    return ALLOWED


def can_complete_step(step: CaseStep, *, on: date | None = None) -> Verdict:
    """A step's record may be closed: it is in progress, and where AV is
    required (the agency's AV list, 记录-4) AV evidence is attached or an
    exemption was approved by the agency head."""
    if step.status != StepStatus.IN_PROGRESS:
        return refuse("该环节已完成。", "step_not_in_progress")
    if step.case.status != CaseStatus.OPEN:
        return refuse("案件已结案或终止。", "case_not_open")
    if step.needs_av:
        if not registry.step_av_items(step):
            exemption = getattr(step, "av_exemption", None) if _has_exemption(step) else None
            if exemption is None or not exemption.is_approved:
                pending = "（免于音像记录的申请待负责人批准）" if exemption is not None else ""
                return refuse(
                    f"本环节须音像记录：{step.av_requirement}。未上传音像资料，且未经负责人批准免于记录，不能完成本环节{pending}"
                    "（国办发〔2018〕118号“全面推行执法全过程记录制度”；本部门《音像记录事项清单》）。", "av_missing")
    return ALLOWED


def _has_exemption(step: CaseStep) -> bool:
    from .models import AvExemption

    try:
        step.av_exemption
    except AvExemption.DoesNotExist:
        return False
    return True


def can_close(case: Case) -> Verdict:
    """A case may be closed (结案) through its final step once no other step
    is open, a decision (where the process has one) was made and served."""
    if case.status != CaseStatus.OPEN:
        return refuse("案件已结案或终止。", "case_not_open")
    definition = definition_of(case)
    running = step_in_progress(case)
    final = [s.code for s in definition.steps if not s.next]
    if running is not None and running.code not in final:
        return refuse(f"环节「{running.name}」尚未完成。", "step_in_progress")
    if "decision" in definition.codes and not _completed(case, "decision").exists():
        return refuse("尚未作出决定，不能结案。", "not_decided")
    if "service" in definition.codes and not _completed(case, "service").exists():
        return refuse("决定书尚未送达，不能结案（《中华人民共和国行政处罚法》第六十一条）。", "not_served")
    if running is None and not any(c in allowed_next_codes(case) for c in final):
        return refuse("按流程定义，尚未到结案环节。", "step_not_next")
    return ALLOWED


# --------------------------------------------------------------------------
# Termination (终止 / 撤销立案) and the case's officers


def can_terminate(case: Case) -> Verdict:
    """A case may be terminated (终止 / 撤销立案: the violation is not
    established, the party died or was dissolved with no successor, the
    matter went to the judiciary ...) while it is open and no decision has
    been made: once the decision step is completed the case runs on to
    service and execution and ends by closure (结案). A coercion case whose
    seizure was carried out needs its handling decision (release,
    confiscation ...) first, whatever else happens to the case: the decision
    step's legal basis says so (coercion law arts. 27, 28)."""
    if case.status != CaseStatus.OPEN:
        return refuse("案件已结案或终止，不能再终止。", "case_not_open", "case")
    definition = definition_of(case)
    if "decision" in definition.codes and _completed(case, "decision").exists():
        return refuse("本案已作出决定，应当送达、执行后结案，不能终止（撤销立案）。", "already_decided", "case")
    if case.act_kind == "coercion" and "decision" in definition.codes and _completed(case, "execution").exists():
        basis = "、".join(definition.step("decision").basis)
        return refuse(f"已实施查封、扣押的，应当作出解除查封、扣押或者依法处理的决定，不能以终止案件代替"
                      f"{f'（{basis}）' if basis else ''}。", "seizure_in_place", "case")
    return ALLOWED


def can_change_officers(case: Case) -> Verdict:
    """The officers of a case change only while it is open."""
    if case.status != CaseStatus.OPEN:
        return refuse("案件已结案或终止，不能再调整承办人员。", "case_not_open", "officer")
    return ALLOWED


def can_remove_officer(case: Case, officer, *, on: date | None = None) -> Verdict:
    """An assigned officer other than the lead (主办人: name another lead
    first) may leave an open case, unless the officers left who may act on
    the day (``check_officer``) are too few for the on-site steps of the act
    kind (``check_officers`` with the dated minimum, penalty law art. 42 /
    coercion law art. 18). The rule is checked whatever step the case is at:
    a later step may still return to an on-site one."""
    on = on or clock.today()
    verdict = can_change_officers(case)
    if not verdict:
        return verdict
    assignments = list(case.assignments.select_related("officer"))
    mine = next((a for a in assignments if a.officer_id == officer.pk), None)
    if mine is None:
        return refuse(f"{officer.name}不是本案承办人员。", "not_assigned", "officer")
    if mine.role == OfficerRole.LEAD:
        return refuse(f"{officer.name}是本案主办人，请先指定其他主办人再移除。", "lead_required", "officer")
    qualified = [a.officer for a in assignments if a.officer_id != officer.pk and check_officer(case, a.officer, on=on)]
    on_site = sorted(ON_SITE_STEPS.get(case.act_kind, set()))
    if on_site:
        verdict = check_officers(case, qualified, on=on, code=on_site[0])
        if not verdict:
            definition = definition_of(case)
            names = "、".join(definition.step(c).name for c in on_site if c in definition.codes)
            return refuse(f"移除{officer.name}后，本案只剩{len(qualified)}名可执法的承办人员，不能进行{names}等现场环节："
                          f"{verdict.reason}", verdict.code, "officer")
    return ALLOWED
