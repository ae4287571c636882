"""Demo of 案卷评查 (issue 15 item 3), and the case files the tests use.

``build_case_file`` makes one closed case file the way an imported older
file (案卷) looks: its steps, officers, documents, deadlines, AV exemptions
and review flags written as records, the decision information received and
published through the publicity app's own doors. With ``flaw`` it is built
to fail exactly one automatic item (``FLAWS``; a decision without 文号
cannot be published either, so that file also fails publication).

``load_evaluation_demo``: the demo scheme loaded; case files in
石家庄市市场监督管理局 (one sound, one per flaw) and 正定县市场监督管理局;
a campaign of 石家庄市司法局 over both with a drawn sample (fixed public
seed value, so the demo draws the same cases each time), evaluators from
the other agency (回避), some evaluations submitted (one with a veto), one
finding under 整改 (the agency's response waiting for the office).
Loaded once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sanxiang.cases.models import (AvExemption, Case, CaseDeadline, CaseOfficer, CaseStatus, CaseStep, DeadlineKind,
                                   Obligor, OfficerRole, StepStatus)
from sanxiang.catalog.processes import get_process
from sanxiang.core import clock
from sanxiang.core.calendar import calendar_session
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.models import Agency, Officer, User
from sanxiang.core.selectors import certificate_state
from sanxiang.core.validators import make_credit_code
from sanxiang.core.vocabulary import PenaltyCategory
from sanxiang.publicity import intake
from sanxiang.publicity import services as publicity_services
from sanxiang.publicity.case_sync import raw_record
from sanxiang.review.models import CaseReview

from . import selectors, services
from .models import Campaign, Evaluation

ACTOR = "demo-loader"
FLAWS = ("officers", "deadlines", "documents", "av", "legal_review", "publication", "doc_number")
AV_TEXT = "现场执法全过程音像记录"
FLAW_TITLES = {
    None: "销售标签不符合规定的预包装食品案",
    "officers": "未按规定公示食品经营许可证案",
    "deadlines": "经营超过保质期食品案",
    "documents": "未建立进货查验记录制度案",
    "av": "使用未经检验的计量器具案",
    "legal_review": "生产不符合安全标准的食品案",
    "publication": "擅自改变经营场所案",
    "doc_number": "未按规定索证索票案",
}
MAIN_AGENCY = "石家庄市市场监督管理局"
COUNTY_AGENCY = "正定县市场监督管理局"
SEED_VALUE = "demo-2026-evaluation"


def _working_days_before(day: date, n: int) -> date:
    calendar = calendar_session()
    while not calendar.status(day)[0]:
        day -= timedelta(days=1)
    while n > 0:
        day -= timedelta(days=1)
        if calendar.status(day)[0]:
            n -= 1
    return day


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=clock.SHANGHAI)


def valid_officers(agency: Agency, n: int = 2, *, on: date | None = None) -> list[Officer]:
    """``n`` officers of the agency with a certificate valid on the day that covers penalties."""
    on = on or clock.today()
    found = [o for o in Officer.objects.filter(agency=agency).order_by("pk")
             if "penalty" in (o.categories or []) and certificate_state(o, on=on) == "valid"
             and o.valid_from <= on - timedelta(days=200)]
    return found[:n]


def build_case_file(*, agency: Agency, officers: list[Officer], creator: User, flaw: str | None = None,
                    serial: int = 1, today: date | None = None) -> Case:
    """One closed penalty case file (general procedure), sound or built to
    fail the automatic item ``flaw``."""
    if flaw not in (None, *FLAWS):
        raise ValueError(f"unknown flaw {flaw!r}")
    today = today or clock.today()
    definition = get_process("penalty", "general")
    # Decided recently (its publication still on time when published now),
    # except where the flaw needs a publication overdue.
    decided_on = _working_days_before(today, 12 if flaw == "publication" else 2)
    opened_on = decided_on - timedelta(days=120 if flaw == "deadlines" else 30)
    number = "" if flaw == "doc_number" else f"{agency.short_name or '冀演示'}罚〔{decided_on.year}〕{900 + serial}号"
    case = Case.objects.create(
        agency=agency, title=f"{FLAW_TITLES[flaw]}（评查演示{serial}）", act_kind="penalty", procedure="general",
        status=CaseStatus.CLOSED, current_step="closure", opened_on=opened_on, closed_on=decided_on,
        party_name=f"石家庄评查演示{serial}商贸有限公司", party_type="legal_person",
        party_credit_code=make_credit_code(region_code=agency.region.code, serial=7000 + serial * 13 + agency.pk),
        created_by=creator, proposed_penalty_categories=[PenaltyCategory.WARNING.value, PenaltyCategory.FINE.value], proposed_fine_fen=200000,
        notified_on=opened_on + timedelta(days=20), decided_on=decided_on, served_on=decided_on)
    for n, officer in enumerate(officers):
        CaseOfficer.objects.create(case=case, officer=officer, role=OfficerRole.LEAD if n == 0 else OfficerRole.ASSIST,
                                   assigned_at=_at(opened_on, 9))
    # Steps at their days: the first ones after opening, the decision's
    # on the decision day, the rest on it too (fine paid on the spot).
    plan = [s for s in definition.steps if not s.optional]
    days = {"opening": opened_on, "investigation": opened_on + timedelta(days=5), "notification": opened_on + timedelta(days=20)}
    for k, spec in enumerate(plan):
        day = days.get(spec.code, decided_on)
        documents = [{"kind": spec.records[0], "number": ""}] if spec.records else []
        if spec.code == "decision":
            documents = [{"kind": "行政处罚决定书", "number": number}]
        if flaw == "documents" and spec.code == "notification":
            documents = []
        step = CaseStep.objects.create(
            case=case, code=spec.code, name=spec.name, started_at=_at(day, 9) + timedelta(minutes=k),
            completed_at=_at(day, 11) + timedelta(minutes=k), status=StepStatus.COMPLETED, documents=documents,
            av_requirement=AV_TEXT if spec.code in ("investigation", "service") else "",
            place=agency.address or agency.name, note=f"{spec.name}（评查演示记录）", started_by=creator, completed_by=creator)
        on_step = officers[:1] if flaw == "officers" and spec.code == "investigation" else officers
        step.officers.set(on_step)
        if step.av_requirement and not (flaw == "av" and spec.code == "investigation"):
            AvExemption.objects.create(step=step, reason="执法记录仪故障，以现场笔录和照片固定，经负责人批准免予音像记录。",
                                       requested_by=creator, requested_at=_at(day, 12), approved_by=creator,
                                       approved_at=_at(day, 14))
    limit = deadline_for(rule="penalty.decision_limit", start=opened_on, agency=agency)
    CaseDeadline.objects.create(case=case, kind=DeadlineKind.DECISION, obligor=Obligor.AGENCY, start_on=opened_on,
                                due_on=limit.date, provisional=limit.provisional, rule_name=limit.rule.name,
                                rule_amount=int(limit.rule.value), rule_unit=limit.rule.unit,
                                rule_reference=limit.rule.reference[:255], met_at=_at(decided_on, 11))
    if flaw == "legal_review":
        CaseReview.objects.create(case=case, major_public_interest=True)
    if number:
        _publicity(case, number=number, publish=flaw != "publication")
    return case


def _publicity(case: Case, *, number: str, publish: bool) -> None:
    raw = raw_record(case, facts={
        "doc_number": number, "facts": "当事人经营的预包装食品标签不符合规定。", "basis": "《中华人民共和国食品安全法》第一百二十五条",
        "content": "警告，罚款人民币2000元", "violation_type": "违反《中华人民共和国食品安全法》第六十七条"})
    record, errors = intake.validate_record(raw, index=0)
    if record is None:
        raise ValueError(f"demo decision record refused: {[e.message for e in errors]}")
    [result] = publicity_services.receive_records(actor=ACTOR, agency=case.agency, records=[record], source="case",
                                                  reason="", case=case)
    if result.errors:
        raise ValueError(f"demo decision record refused: {result.errors}")
    if publish:
        from_db = case.publicity_decisions.get()
        if from_db.status == "pending":
            publicity_services.publish_decision(actor=ACTOR, decision=from_db)


def load_evaluation_demo() -> int:
    """Once (nothing when a campaign exists). Returns the evaluations submitted."""
    services.load_schemes(actor=ACTOR)
    main = Agency.objects.filter(name=MAIN_AGENCY).first()
    county = Agency.objects.filter(name=COUNTY_AGENCY).first()
    office_user = User.objects.filter(username="legal_sjz").first()
    head = User.objects.filter(username="head").first()
    reviewer = User.objects.filter(username="reviewer").first()
    county_officer = User.objects.filter(username="county_officer").first()
    if None in (main, county, office_user, head, reviewer, county_officer) or Campaign.objects.exists():
        return 0
    main_officers, county_officers = valid_officers(main), valid_officers(county)
    if len(main_officers) < 2 or len(county_officers) < 2:
        return 0
    for serial, flaw in enumerate((None, *FLAWS), start=1):
        build_case_file(agency=main, officers=main_officers, creator=head, flaw=flaw, serial=serial)
    county_head = User.objects.filter(agency=county).order_by("pk").first() or county_officer
    for serial in (11, 12, 13):
        build_case_file(agency=county, officers=county_officers, creator=county_head, serial=serial)
    today = clock.today()
    scheme = selectors.scheme_for(Case.objects.filter(agency=main, title__contains="评查演示").first())
    campaign = services.create_campaign(
        actor=office_user, office=office_user.agency, title=f"{today.year}年度行政处罚案卷交叉评查（演示）", scheme=scheme,
        period_start=date(today.year, 1, 1), period_end=today, agencies=[main, county],
        evaluators=[reviewer, county_officer, office_user], sample_size=4, evaluators_per_case=1)
    services.draw_campaign(actor=office_user, campaign=campaign, seed_value=SEED_VALUE)
    submitted = 0
    assignments = list(campaign.assignments.select_related("case", "evaluator").order_by("case_id"))
    for n, a in enumerate(assignments[:-1]):  # the last one left to score (on its evaluator's to-do list)
        evaluation = services.start_evaluation(actor=a.evaluator, case=a.case, scheme=scheme, campaign=campaign)
        scores = {item.code: {"deduction": 0, "finding": ""} for item in scheme.items.filter(auto_check="")}
        vetoes = {}
        if n == 0:
            scores["C7"] = {"deduction": 3, "finding": "罚款数额的裁量理由未说明所适用的裁量基准档次。"}
        if n == 1:
            vetoes = {"V7": "卷内无陈述申辩笔录，也无当事人放弃陈述申辩的书面记录。"}
        services.save_scores(actor=a.evaluator, evaluation=evaluation, scores=scores, vetoes=vetoes, submit=True)
        submitted += 1
    first = Evaluation.objects.filter(campaign=campaign, rectification__isnull=False).order_by("pk").first()
    if first is not None:
        responder = User.objects.filter(agency=first.case.agency, role__in=("agency_head", "legal_reviewer")).order_by("pk").first()
        if responder is not None:
            services.respond_rectification(actor=responder, rectification=first.rectification,
                                           text="已组织承办人员学习裁量基准，对该案补充裁量说理，并在全局开展案卷自查。")
    return submitted
