"""The automatic items of 案卷评查: what the platform judges from the case
itself, each with the evidence linked (issue 15 item 3).

Each check reads the fact through the app that owns it — officers and
certificates (cases.predicates.check_officers over core.selectors
certificate_state), deadlines (cases), required documents per the process
definition (catalog.processes, the documents app's numbered 文书 and the
step's recorded documents), AV (cases.selectors.av_items_for_step, filled by
the evidence app; an approved exemption counts), legal review
(review.evaluation.evaluate and the review rounds), publication (publicity's
decision record) and the decision's 文号 — and answers a ``Check``:
applicable or not, passed or not, a finding in Chinese and the links (a
label naming the record's id or number, and the page where it is seen).

A check is a read: it writes nothing. A check that does not apply to the
case (no decision yet, no step needing AV) passes with the full points.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.urls import reverse

from sanxiang.cases import predicates as case_predicates
from sanxiang.cases import registry as case_registry
from sanxiang.cases.models import AvExemption, Case, CaseDeadline, CaseStep, Obligor, Procedure, StepStatus
from sanxiang.cases.selectors import av_items_for_step
from sanxiang.catalog.processes import ProcessNotFound, get_process
from sanxiang.core import clock
from sanxiang.core.vocabulary import EXCHANGE_KINDS
from sanxiang.documents.models import Document
from sanxiang.publicity.models import Decision, DecisionStatus
from sanxiang.review.evaluation import evaluate as review_evaluate
from sanxiang.review.models import Discussion, DiscussionReason, Outcome, Resolution, Submission

DONE = (StepStatus.COMPLETED, StepStatus.ENDED)


@dataclass(frozen=True)
class Check:
    passed: bool
    finding: str
    applicable: bool = True
    links: list = field(default_factory=list)  # [{"label", "url"}]


def _link(label: str, url: str) -> dict:
    return {"label": label, "url": url}


def _case_link(case: Case) -> dict:
    return _link(f"案件 #{case.pk}", reverse("cases:detail", args=[case.pk]))


def _step_link(step: CaseStep) -> dict:
    return _link(f"{step.name}（环节 #{step.pk}）", reverse("cases:step", args=[step.case_id, step.pk]))


def _steps(case: Case) -> list[CaseStep]:
    return list(case.steps.filter(status__in=DONE).prefetch_related("officers").order_by("started_at", "id"))


def check_officers(case: Case, *, today: date) -> Check:
    """Two officers (the dated minimum, penalty law art. 42 / coercion law
    art. 18) with certificates valid on the day of each on-site step and
    covering the act kind; every officer recorded on a step must hold one."""
    problems, links = [], []
    for step in _steps(case):
        officers = list(step.officers.all())
        if not officers:
            continue
        verdict = case_predicates.check_officers(case, officers, on=clock.local_date(step.started_at), code=step.code)
        if not verdict:
            problems.append(f"{step.name}：{verdict.reason}")
            links.append(_step_link(step))
    assigned = [a.officer for a in case.assignments.select_related("officer")]
    minimum = int(case_predicates._officers_rule(case, case.opened_on).value)
    valid = [o for o in assigned if case_predicates.check_officer(case, o, on=case.opened_on)]
    if len(valid) < minimum:
        problems.append(f"承办人员中持有效执法证件的只有{len(valid)}人，少于{minimum}人。")
        links.append(_case_link(case))
    if problems:
        return Check(False, "；".join(problems), links=links)
    names = "、".join(f"{o.name}（{o.certificate_number}）" for o in valid)
    return Check(True, f"承办人员{names}均持有效执法证件。", links=[_case_link(case)])


def check_deadlines(case: Case, *, today: date) -> Check:
    """Every time limit the agency had to keep (case steps, the decision
    within the 90-day limit of penalty law art. 60 …) was met on time."""
    end = case.closed_on or today
    broken = []
    rows = CaseDeadline.objects.filter(case=case, obligor=Obligor.AGENCY, superseded=False).order_by("due_on", "id")
    for d in rows:
        met = clock.local_date(d.met_at) if d.met_at else None
        if (met and met > d.due_on) or (met is None and end > d.due_on):
            when = f"{met:%Y-%m-%d}完成" if met else "未完成"
            broken.append(f"{d.get_kind_display()}期限{d.due_on:%Y-%m-%d}（{d.rule_reference}），{when}")
    if broken:
        return Check(False, "超过法定期限：" + "；".join(broken), links=[_case_link(case)])
    if not rows.exists():
        return Check(True, "本案无须由执法部门遵守的期限。", applicable=False)
    return Check(True, f"{rows.count()}项法定期限均按期完成。", links=[_case_link(case)])


def _has_document(step: CaseStep, numbered: set[int]) -> bool:
    return bool(step.documents) or step.pk in numbered


def check_documents(case: Case, *, today: date) -> Check:
    """The documents the process definition requires: every step that the
    definition does not mark optional was carried out, and every step
    carried out whose definition lists records holds at least one document
    (recorded with the step, or a numbered 文书 issued in it)."""
    try:
        definition = get_process(case.act_kind, case.procedure)
    except ProcessNotFound:
        return Check(True, "本类案件没有流程定义，无法自动核对文书。", applicable=False)
    steps = _steps(case)
    numbered = set(Document.objects.filter(case=case, step__isnull=False).values_list("step_id", flat=True))
    done = {s.code for s in steps}
    missing_steps = [s.name for s in definition.steps if not s.optional and s.code not in done]
    empty, links = [], []
    for step in steps:
        try:
            spec = definition.step(step.code)
        except KeyError:
            continue
        if spec.records and not _has_document(step, numbered):
            empty.append(f"{step.name}（应有：{'、'.join(spec.records)}）")
            links.append(_step_link(step))
    problems = []
    if missing_steps and case.status == "closed":
        problems.append("缺少必经环节：" + "、".join(missing_steps))
    if empty:
        problems.append("环节无文书：" + "；".join(empty))
    if problems:
        return Check(False, "；".join(problems), links=links or [_case_link(case)])
    return Check(True, f"{len(steps)}个环节的文书齐全（{definition.title}）。", links=[_case_link(case)])


def check_av(case: Case, *, today: date) -> Check:
    """Each step that needed AV (the AV list in force when it started,
    记录-4) has AV evidence attached, or an approved exemption."""
    needing = [s for s in _steps(case) if s.av_requirement]
    if not needing:
        return Check(True, "本案没有需要音像记录的环节。", applicable=False)
    exempted = set(AvExemption.objects.filter(step__in=needing, approved_at__isnull=False).values_list("step_id", flat=True))
    missing, links = [], []
    for step in needing:
        items = list(av_items_for_step(step))
        if items:
            links.append(_step_link(step))
        elif step.pk in exempted:
            links.append(_step_link(step))
        else:
            missing.append(step.name)
            links.append(_step_link(step))
    if missing:
        return Check(False, "应当音像记录而无音像记录（也未经批准免予记录）：" + "、".join(missing), links=links)
    return Check(True, f"{len(needing)}个需要音像记录的环节均有音像记录或经批准免予记录。", links=links)


def check_legal_review(case: Case, *, today: date) -> Check:
    """A major decision (penalty law art. 58, the agency's catalogue) was
    reviewed and passed (or decided by collective discussion after a
    disagreement) before the decision day."""
    if case.decided_on is None:
        return Check(True, "本案未作出决定。", applicable=False)
    evaluation = review_evaluate(case, on=case.decided_on)
    if not evaluation.required:
        return Check(True, "本案不属于应当法制审核的重大执法决定。", applicable=False)
    link = _link(f"法制审核（案件 #{case.pk}）", reverse("review:case", args=[case.pk]))
    agreed = [s for s in Submission.objects.filter(case=case, outcome=Outcome.AGREE, opinion_at__isnull=False)
              if clock.local_date(s.opinion_at) <= case.decided_on]
    if agreed:
        s = agreed[-1]
        number = f"，意见书{s.opinion_document_number}" if s.opinion_document_number else ""
        return Check(True, f"第{s.round}次送审审核通过（{clock.local_date(s.opinion_at):%Y-%m-%d}{number}）。", links=[link])
    discussed = Discussion.objects.filter(case=case, reason=DiscussionReason.DISAGREEMENT, resolution=Resolution.DECIDE,
                                          recorded_at__isnull=False).exists()
    if discussed:
        return Check(True, "审核意见有分歧，经集体讨论决定。", links=[link])
    why = "、".join(m.rule for m in evaluation.matches)
    return Check(False, f"属于应当法制审核的重大执法决定（{why}），决定作出前没有审核通过的记录。", links=[link])


def check_publication(case: Case, *, today: date) -> Check:
    """The decision information was published by its due date (公示-10/11:
    within 7 working days), or lawfully not published with a reason."""
    if case.decided_on is None or case.act_kind not in EXCHANGE_KINDS or case.procedure == Procedure.SUMMARY:
        return Check(True, "本案不属于应当公示的一般程序处罚、许可决定。", applicable=False)
    record = Decision.objects.filter(case=case).first()
    if record is None:
        return Check(False, "没有本案决定的公示记录。", links=[_case_link(case)])
    link = _link(f"公示记录 #{record.pk}（{record.doc_number}）", reverse("publicity:private", args=[record.pk]))
    if record.status == DecisionStatus.NOT_PUBLIC:
        return Check(True, f"依法不予公开：{record.not_public_reason}", links=[link])
    due = record.publication_due
    if record.published_at is not None:
        published = clock.local_date(record.published_at)
        if due is not None and published > due:
            return Check(False, f"{published:%Y-%m-%d}公示，晚于公示期限{due:%Y-%m-%d}。", links=[link])
        return Check(True, f"{published:%Y-%m-%d}按期公示（期限{due:%Y-%m-%d}）。" if due else f"{published:%Y-%m-%d}已公示。",
                     links=[link])
    if due is not None and today > due:
        return Check(False, f"公示期限{due:%Y-%m-%d}已过，尚未公示。", links=[link])
    return Check(True, "尚未到公示期限。", links=[link])


def check_doc_number(case: Case, *, today: date) -> Check:
    """The decision document carries its 文号: the numbered 决定书 of the
    documents app, or the number recorded with the decision step."""
    if case.decided_on is None:
        return Check(True, "本案未作出决定。", applicable=False)
    number = (case_registry.decision_facts(case) or {}).get("doc_number") or ""
    link = None
    if number:
        doc = Document.objects.filter(case=case, number=number).first()
        if doc is not None:
            link = _link(f"{doc.title} {number}（文书 #{doc.pk}）", reverse("documents:case", args=[case.pk]))
    else:
        for step in case.steps.filter(code="decision", status__in=DONE).order_by("-started_at"):
            for d in step.documents or []:
                if "决定书" in str(d.get("kind", "")) and str(d.get("number", "")).strip():
                    number, link = d["number"].strip(), _step_link(step)
                    break
            if number:
                break
    if not number:
        return Check(False, "决定书没有文号。", links=[_case_link(case)])
    return Check(True, f"决定书文号：{number}。", links=[link or _case_link(case)])


CHECKS = {
    "officers": check_officers,
    "deadlines": check_deadlines,
    "documents": check_documents,
    "av": check_av,
    "legal_review": check_legal_review,
    "publication": check_publication,
    "doc_number": check_doc_number,
}


def run_check(code: str, case: Case, *, today: date | None = None) -> Check:
    return CHECKS[code](case, today=today or clock.today())
