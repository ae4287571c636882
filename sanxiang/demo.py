"""The demo loader: from an empty directory to a running platform with demo
data (``sanxiang demo``). Safe to re-run: migrations are idempotent and each
app's demo data loads once.

It composes all apps, so it lives in the project package outside them
(docs/architecture.md); each app keeps its own demo module (core.demo: the
Hebei regions, agencies, officers and logins; catalog.demo: filed
catalogues; review.demo: the registered reviewer; publicity.demo: published
decisions; cases.demo: the demo cases' parties, facts and target states;
evidence.demo: real small photo, sketch and recording files) and this module
runs them in dependency order, then walks each demo case to its state
through the services of every app (``load_case_demo``, issue 11 item 9;
docs/demo.md). The management command ``demo`` (core) only calls
``run_demo``.
"""

from __future__ import annotations

import multiprocessing
import time

from django.conf import settings
from django.core.management import call_command
from django.db import transaction

from sanxiang.cases import demo as case_demo
from sanxiang.cases import services as case_services
from sanxiang.cases.models import Case
from sanxiang.catalog.demo import load_catalogue_demo
from sanxiang.core import clock, fonts
from sanxiang.core.calendar import add_working_days, calendar_session
from sanxiang.core.demo import DemoConflict, load_demo
from sanxiang.core.models import Agency, Officer, OfficerStatus, User
from sanxiang.docking.demo import load_docking_demo
from sanxiang.documents.services import issue_document
from sanxiang.evaluation.demo import load_evaluation_demo
from sanxiang.evidence import demo as evidence_demo
from sanxiang.evidence.models import EvidenceItem
from sanxiang.inspections.demo import DEMO_OFFICE_SECRET, load_inspection_demo, load_inspection_results_demo
from sanxiang.measures.demo import load_measures_demo
from sanxiang.publicity import services as publicity_services
from sanxiang.publicity.demo import load_publicity_demo
from sanxiang.publicity.models import Decision
from sanxiang.review import services as review_services
from sanxiang.review.evaluation import evaluate
from sanxiang.review.models import CheckItem, ItemResult, PartKind, Reviewer
from sanxiang.review.demo import load_review_demo
from sanxiang.statistics.demo import load_annual_demo
from sanxiang.supervision.demo import load_complaint_demo, load_supervision_demo

__all__ = ["DemoConflict", "build_demo", "load_case_demo", "run_demo"]


def run_demo(*, stdout, host: str = "127.0.0.1", port: int = 8000, serve: bool = True) -> None:
    """Create the data directory, migrate, load every app's demo data once,
    print the logins, then serve (unless ``serve`` is false). Raises
    DemoConflict when the database holds other data the demo would clash
    with."""
    started = time.monotonic()
    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    (settings.DATA_DIR / "files").mkdir(exist_ok=True)
    stdout.write(f"Data directory: {settings.DATA_DIR}")
    fonts_warming = _warm_fonts()
    stdout.write("Creating or upgrading the database ...")
    call_command("migrate", interactive=False, verbosity=0)
    result = build_demo(stdout=stdout, before_cases=fonts_warming.join if fonts_warming else None)
    stdout.write(f"Ready in {time.monotonic() - started:.1f} s.\n")
    stdout.write(f"Open http://{host}:{port}/\n")
    stdout.write("Logins (one per role):")
    for role, username, password, scope in result.logins:
        stdout.write(f"  {username:<15} {password}  {role}：{scope}")
    stdout.write("")
    stdout.flush()
    if serve:
        call_command("serve", host=host, port=port)


def build_demo(*, stdout=None, before_cases=None):
    """Load every app's demo data once, in dependency order (the database
    migrated): regions, agencies, officers and logins; filed catalogues;
    the registered reviewer; published decisions; the demo cases in every
    state. Safe to re-run: each part loads once. Returns the core demo's
    result (its logins). ``before_cases`` is called before the cases are
    made (``run_demo`` waits there for the font cache)."""

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text)

    say("Loading the demo data (Hebei province) ...")
    result = load_demo()
    say("Demo data loaded." if result.loaded else "Demo data already present: nothing loaded.")
    if load_catalogue_demo():
        say("Demo catalogues filed and accepted (石家庄市市场监督管理局).")
    reviewer = load_review_demo()  # the head registers the demo reviewer (审核-2/3)
    if reviewer:
        say(f"Demo legal reviewer registered: {reviewer.name} (login reviewer).")
    decisions = load_publicity_demo()
    if decisions:
        say(f"Demo decisions received and published: {decisions}.")
    draws = load_inspection_demo()
    if draws:
        say(f"Demo random inspections: a filed plan, one draw public, one waiting for 石家庄市司法局's secret "
            f"(log in as legal_sjz and reveal {DEMO_OFFICE_SECRET}).")
    received = load_docking_demo()
    if received:
        say(f"Demo docking: 正定县's platform on the trust list, {received} signed messages received.")
    if before_cases is not None:
        before_cases()
    cases = load_case_demo()
    if cases:
        say(f"Demo cases brought to every state (opened … closed with its e-case file): {cases}.")
    if load_inspection_results_demo():  # after the cases: it opens an inspection case and a penalty case
        say("Demo inspections: one under way, three results published (one referred, its case opened).")
    complaints = load_complaint_demo()
    if complaints:
        say(f"Demo complaints (投诉举报): {complaints} routed to 石家庄市司法局 (log in as legal_sjz) — new, under investigation, replied.")
    supervision = load_supervision_demo()
    if supervision:
        say(f"Demo supervision (监督文书, 预警): {supervision['instruments']} 监督意见书 of 石家庄市司法局 in each loop state; "
            f"the alert job raised {supervision['raised']} alerts, {supervision['escalated']} escalated, one closed "
            "with its reason (log in as legal_sjz: 监督预警, 监督文书; head for the agency's side).")
    evaluations = load_evaluation_demo()
    if evaluations:
        say(f"Demo case-file evaluation (案卷评查): a campaign of 石家庄市司法局 with a drawn sample, {evaluations} evaluations "
            "submitted (one with a veto), one finding under rectification (log in as legal_sjz, reviewer or head).")
    tasks = load_measures_demo()
    if tasks:
        say(f"Demo task table (三项制度任务): rolled out to {tasks} tasks, some done with evidence, some in progress, "
            "some overdue (log in as legal_hebei for the matrix).")
    annual_report = load_annual_demo()
    if annual_report:
        say(f"Demo annual statistics (行政执法数据年度报告): the {annual_report.year} report of {annual_report.agency.name} "
            "drafted, not yet published (log in as head; `sanxiang report annual --year "
            f"{annual_report.year} --agency {annual_report.agency.credit_code} --format json`).")
    return result


def _warm_fonts():
    """The PDF font cache (``core/fonts.py``: cut once per installation,
    ~20 s) is built in a child process while the database is migrated and
    loaded, so the demo cases' 决定书 do not wait for it. None where a
    process cannot be forked (the first document then builds it)."""
    try:
        context = multiprocessing.get_context("fork")
    except ValueError:
        return None
    process = context.Process(target=fonts.ensure_ready, name="sanxiang-font-cache", daemon=True)
    process.start()
    return process


# ---------------------------------------------------------------------------
# Demo cases (issue 11 item 9): a day's work in every state


CASE_USERS = ("officer", "county_officer", "head", "reviewer", "publicity")
# A body-worn camera per demo agency, handed to the officer with a login.
DEVICES = {case_demo.MAIN_AGENCY: ("SJZSJ-ZFJLY-0107", "执法记录仪 DSJ-V9"),
           case_demo.COUNTY_AGENCY: ("ZDSJ-ZFJLY-0032", "执法记录仪 DSJ-V9")}
REVIEW_ISSUES = {"law": "拟处罚款200,000元适用《中华人民共和国广告法》第五十五条第一款的顶格幅度，未说明裁量理由，"
                        "也未对照本局行政处罚裁量基准；请补充裁量理由或调整处罚幅度后重新送审。"}
PRESERVED_ITEMS = {"huimin": "一次性使用医用口罩（10只/袋）86袋，批号20260915",
                   "gucheng": "集中消毒餐具（碗、碟、杯套装）320套及其外包装"}
WITHDRAWAL_REASON = "当事人申请行政复议，复议机关以认定事实不清为由决定撤销原行政处罚决定。"


def load_case_demo() -> int:
    """Bring each demo case (``cases.demo.DEMO_CASES``) to its state through
    the services of every app, on the working days it happened (relative to
    today): opened, investigating with AV uploaded, awaiting review,
    returned by review, hearing requested, decided and published, decided
    and withdrawn from the portal, closed with its e-case file, terminated.
    Once: nothing when a demo agency has a case already. Returns how many
    cases were made."""
    users = {u.username: u for u in User.objects.filter(username__in=CASE_USERS)}
    agencies = {a.name: a for a in Agency.objects.select_related("region")
                .filter(name__in=[case_demo.MAIN_AGENCY, case_demo.COUNTY_AGENCY])}
    if len(users) < len(CASE_USERS) or len(agencies) < 2 or Case.objects.filter(agency__in=agencies.values()).exists():
        return 0
    with transaction.atomic():
        stories = _CaseStories(users=users, agencies=agencies)
        for demo in case_demo.DEMO_CASES:
            stories.tell(demo)
    return len(case_demo.DEMO_CASES)


class _CaseStories:
    def __init__(self, *, users: dict, agencies: dict):
        self.users, self.agencies = users, agencies
        self.today = clock.today()
        load_review_demo()  # the reviewer registered by the head (once)
        self.reviewer = Reviewer.objects.get(user=users["reviewer"])
        self.calendar = calendar_session()
        self.seed = 0

    def _officers(self, agency, user, *, on) -> list:
        """The officer with the login leads; the next officer whose
        certificate covers penalties and is valid from ``on`` to today
        assists (two officers: penalty law art. 42)."""
        lead = Officer.objects.get(user=user)
        other = next(o for o in Officer.objects.filter(agency=agency, status=OfficerStatus.ACTIVE).exclude(pk=lead.pk)
                     .order_by("pk") if o.valid_from <= on and o.valid_to >= self.today and "penalty" in o.categories)
        return [lead, other]

    def _device(self, agency, officer):
        serial, model = DEVICES[agency.name]
        return evidence_demo.ensure_device(actor="demo-loader", agency=agency, serial=serial, model=model,
                                           officer=officer, valid_from=officer.valid_from)

    def _upload(self, *, actor, case, step, day, what: str, place: str, device=None):
        self.seed += 1
        when = case_demo.at(day, 10, self.seed % 50) or clock.now()
        if what == "photo":
            data, name, duration = evidence_demo.scene_jpeg(seed=self.seed), f"现场照片{self.seed:02d}.jpg", None
        elif what == "sketch":
            data, name, duration = evidence_demo.sketch_png(seed=self.seed), f"缴款凭证{self.seed:02d}.png", None
        else:
            data, name, duration = evidence_demo.interview_wav(seed=self.seed), f"询问录音{self.seed:02d}.wav", 1.5
        return evidence_demo.upload_demo_file(actor=actor, case=case, step=step, data=data, filename=name,
                                              captured_at=when, place=place, duration=duration, device=device)

    def tell(self, demo: case_demo.DemoCase) -> Case:
        agency = self.agencies[demo.agency]
        main = demo.agency == case_demo.MAIN_AGENCY
        actor = self.users["officer" if main else "county_officer"]
        head, state = self.users["head"], demo.state
        opened = case_demo.working_days_ago(demo.opened_ago)

        def day(n: int):
            return add_working_days(start=opened, days=n, oracle=self.calendar).date if n else opened

        officers = self._officers(agency, actor, on=opened)
        device = self._device(agency, officers[0])
        case = case_demo.open_demo_case(actor=actor, demo=demo, agency=agency, officers=officers, opened_on=opened)
        opening = case_demo.start(actor=actor, case=case, code="opening", when=case_demo.at(opened, 9))
        if state == case_demo.OPENED:  # the newest case has its 立案审批表 on file
            issue_document(actor=actor, case=case, kind="case_opening", step=opening, data={
                "case_source": "日常监督检查", "discovered_on": opened.isoformat(), "party_address": demo.party_address,
                "legal_representative": demo.legal_representative, "summary": demo.facts,
                "suspected_provision": demo.violated_provision,
                "officers": "、".join(f"{o.name}（执法证号{o.certificate_number}）" for o in officers),
                "undertaker_opinion": "当事人涉嫌违法，建议立案调查。", "department_opinion": "同意立案。",
                "head_opinion": "同意立案，由承办人员调查取证。"})
        case_demo.finish(actor=actor, step=opening, when=case_demo.at(opened, 10),
                         note=f"案件来源：日常监督检查。{demo.facts}")
        if state == case_demo.OPENED:
            return case

        # 调查取证 (记录-4: with AV)
        investigation = case_demo.start(actor=actor, case=case, code="investigation", when=case_demo.at(day(1), 9),
                                        place=demo.place, note="现场检查并询问当事人，制作现场检查笔录、询问笔录。")
        # a scene photo and the recorded inquiry (more while still under way)
        for what in ("photo", "audio", "photo") if state == case_demo.INVESTIGATING else ("photo", "audio"):
            self._upload(actor=actor, case=case, step=investigation, day=day(1), what=what, place=demo.place,
                         device=device)
        if state == case_demo.INVESTIGATING:
            case_services.record_preservation(actor=actor, case=case, preserved_on=day(1),
                                              items=PRESERVED_ITEMS.get(demo.key, "涉案物品一批（详见先行登记保存物品清单）"))
            return case
        case_demo.finish(actor=actor, step=investigation, when=case_demo.at(day(4), 17))
        if state == case_demo.TERMINATED:
            case_services.terminate_case(actor=head, case=case, on=day(6),
                                         reason="经对同批次产品委托复检，检验结论为合格；原举报所附检测报告样品并非当事人销售，违法事实不能成立，撤销立案。")
            return case
        case_services.propose_decision(actor=actor, case=case, categories=list(demo.categories), fine_fen=demo.fine_fen)

        # 告知 and the party's answer (arts. 44, 63, 64)
        case_demo.run_step(actor=actor, case=case, code="notification", day=day(5), served_on=day(5),
                           note="直接送达行政处罚事先告知书，告知陈述、申辩和要求听证的权利。")
        if state == case_demo.HEARING_REQUESTED:
            case_services.record_hearing_request(actor=actor, case=case, requested_on=day(7))
            return case
        case_services.record_hearing_waiver(actor=actor, case=case, waived_on=day(6))

        # 法制审核 where the case is a major decision (art. 58, 审核-8)
        reviewed = evaluate(case).required
        if reviewed:
            review_step = case_demo.start(actor=actor, case=case, code="review", when=case_demo.at(day(8), 9))
            evidence = list(EvidenceItem.objects.filter(case=case).order_by("pk").values_list("pk", flat=True))
            submission = _submit_for_review(
                actor=actor, case=case, received_on=day(8), evidence_ids=evidence,
                investigation_report=f"经调查，{demo.facts}违反{demo.violated_provision}的规定，事实清楚，证据确凿。",
                proposed_handling=f"依据{demo.basis}，拟对当事人罚款人民币{demo.fine_yuan:,}元。",
                draft_decision=f"{demo.party_name}：依据{demo.basis}的规定，决定对你单位罚款人民币{demo.fine_yuan:,}元。")
            review_services.assign_reviewer(actor=head, submission=submission, reviewer=self.reviewer)
            if state == case_demo.AWAITING_REVIEW:
                return case
            if state == case_demo.REVIEW_RETURNED:
                _review_opinion(actor=self.reviewer.user, submission=submission, issues=REVIEW_ISSUES,
                                    text="裁量理由不充分，请修改后重新送审。")
                return case
            _review_opinion(actor=self.reviewer.user, submission=submission,
                                text="执法主体合法，程序合法，事实清楚，证据充分，适用依据正确，裁量适当，同意拟处理意见。")
            case_demo.finish(actor=actor, step=review_step, when=None)

        # 决定: the numbered 决定书 is what reaches the portal (公示-14)
        decision_day = self.today if reviewed else day(9)
        decision_step = case_demo.start(actor=actor, case=case, code="decision",
                                        when=None if reviewed else case_demo.at(decision_day, 9))
        issue_document(actor=actor, case=case, kind="penalty_decision", step=decision_step,
                       data=_decision_data(demo, reviewed=reviewed))
        case_demo.finish(actor=actor, step=decision_step, when=None if reviewed else case_demo.at(decision_day, 16))
        record = Decision.objects.filter(case=case).first()
        if record is not None and state != case_demo.CLOSED:
            # the closed case's record is left for the publicity check (overdue)
            publicity_services.publish_decision(actor=self.users["publicity"], decision=record, confirmed=True)

        if state == case_demo.DECIDED_PUBLISHED:
            service = case_demo.start(actor=actor, case=case, code="service", when=None, place="本局行政处罚案件办理窗口")
            case_services.request_av_exemption(actor=actor, step=service, reason=(
                "当事人到本局办案窗口领取决定书，执法记录仪送检维修，以送达回证签收和窗口监控为证，申请免于音像记录。"))
            return case
        service = case_demo.start(actor=actor, case=case, code="service", when=case_demo.at(day(10), 9),
                                  place=demo.place)
        self._upload(actor=actor, case=case, step=service, day=day(10), what="photo", place=demo.place, device=device)
        case_demo.finish(actor=actor, step=service, when=case_demo.at(day(10), 11))
        if state == case_demo.WITHDRAWN:
            # 复议 revoked it (penalty law art. 48, 公示-2): the record leaves the portal with a notice
            publicity_services.record_decision_change(actor=self.users["publicity"], decision=record,
                                                      via="reconsideration", outcome="revoked",
                                                      reason=WITHDRAWAL_REASON, changed_on=self.today)
            # nothing left to execute: the step is recorded without AV on the head's approval, and the case closed
            execution = case_demo.start(actor=actor, case=case, code="execution", when=None)
            exemption = case_services.request_av_exemption(actor=actor, step=execution, reason=(
                "原处罚决定已被复议机关撤销，无执行活动，无需现场音像记录。"))
            case_services.approve_av_exemption(actor=head, exemption=exemption)
            case_demo.finish(actor=actor, step=execution, when=None, note="原处罚决定已被行政复议机关撤销，不再执行。")
            closure = case_demo.start(actor=actor, case=case, code="closure", when=None)
            case_demo.finish(actor=actor, step=closure, when=None, note="原处罚决定被撤销，经负责人批准结案。")
            return case
        execution = case_demo.start(actor=actor, case=case, code="execution", when=case_demo.at(day(11), 9))
        self._upload(actor=actor, case=case, step=execution, day=day(11), what="sketch", place="本局办公室")
        case_demo.finish(actor=actor, step=execution, when=case_demo.at(day(11), 15),
                         note="当事人已按期缴纳罚款，取得罚没款缴款凭证。")
        case_demo.run_step(actor=actor, case=case, code="closure", day=day(12), hours=(9, 10),
                           note="处罚决定已执行完毕，经负责人批准结案。")
        return case


def _decision_data(demo: case_demo.DemoCase, *, reviewed: bool) -> dict:
    """The 行政处罚决定书's fields for a demo case."""
    review = "本案经法制审核，审核意见为同意。" if reviewed else ""
    return {
        "party_address": demo.party_address, "legal_representative": demo.legal_representative,
        "facts": demo.facts, "evidence": ["现场检查笔录", "询问笔录", "现场照片", "询问录音"],
        "statement_review": f"当事人在法定期限内未提出陈述、申辩，书面放弃听证。{review}",
        "violated_provision": demo.violated_provision, "basis": demo.basis,
        "discretion": "当事人积极配合调查，如实陈述违法事实，依照本局行政处罚裁量基准予以处罚。",
        "penalty": f"罚款人民币{demo.fine_yuan:,}元", "fine": f"{demo.fine_yuan}.00",
        "payment_channel": "中国工商银行石家庄分行营业部（非税收入代收账户）",
        "review_body": "石家庄市人民政府", "court": "石家庄市长安区人民法院",
    }


def _submit_for_review(*, actor, case, received_on, investigation_report: str, proposed_handling: str,
                       draft_decision: str, evidence_ids=()):
    """送审 (审核-1): the required parts, with the case's evidence items as
    the evidence list."""
    parts = [{"kind": PartKind.INVESTIGATION_REPORT, "text": investigation_report},
             {"kind": PartKind.PROPOSED_HANDLING, "text": proposed_handling},
             {"kind": PartKind.DRAFT_DECISION, "text": draft_decision}]
    parts += [{"kind": PartKind.EVIDENCE_LIST, "evidence_id": pk} for pk in evidence_ids]
    return review_services.submit_for_review(actor=actor, case=case, parts=parts, received_on=received_on)


def _review_opinion(*, actor, submission, text: str, issues: dict[str, str] | None = None):
    """The reviewer's opinion over the fixed checklist: every item passes
    but those in ``issues`` (item → the problem and what to change)."""
    issues = issues or {}
    checklist = {item.value: ({"result": ItemResult.ISSUE, "comment": issues[item.value]} if item.value in issues
                              else {"result": ItemResult.PASS, "comment": ""}) for item in CheckItem}
    return review_services.record_opinion(actor=actor, submission=submission, checklist=checklist, opinion_text=text)
