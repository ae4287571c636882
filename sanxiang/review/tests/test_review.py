"""Legal review of major decisions (issue 5; seeds 审核-1 … 审核-8; penalty
law arts. 57, 58): the catalogue decides, reviewers are qualified and
independent, the review has a time limit, disagreement goes to the agency
heads, and no decision is made without it — through every door."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.cases import services as case_services
from sanxiang.cases.models import Case, CaseStep
from sanxiang.core.audit import verify_chain
from sanxiang.core.calendar import add_working_days
from sanxiang.core.models import AuditEntry, Officer
from sanxiang.review import services
from sanxiang.review.models import CaseReview, Discussion, Notice, PartKind, Submission

from .conftest import ALL_PASS, PARTS, at, submit_and_pass, submit_and_review


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _code(exc: ValidationError) -> str:
    return next(iter(exc.error_dict.values()))[0].code


# --- the catalogue -----------------------------------------------------------------


def test_a_120000_yuan_fine_to_a_company_under_a_100000_threshold_requires_review_citing_the_rule(
        rw, make_case, file_catalogue):
    version = file_catalogue()
    case = make_case(fine_yuan=120000)
    evaluation = services.record_evaluation(actor=rw.u_changan, case=case)
    assert evaluation.required
    [match] = evaluation.matches
    assert "120,000" in match.rule and "100,000" in match.rule
    assert f"法制审核目录清单（第{version.number}版" in match.citation and "第1项「较大数额罚款」" in match.citation
    # recorded on the case
    row = CaseReview.objects.get(case=case)
    assert row.required and row.matches[0]["citation"] == match.citation and row.catalogue_version == version
    block = services.decision_block(case)
    assert "第1项「较大数额罚款」" in block and "第五十八条" in block and "尚未送审" in block


def test_an_80000_yuan_fine_does_not_require_review_unless_all_non_summary_review_is_switched_on(
        rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=80000)
    assert not services.record_evaluation(actor=rw.u_changan, case=case).required
    assert services.decision_block(case) is None
    # 审核-7: the agency extends review to every non-summary decision (a new filed version)
    file_catalogue(all_non_summary=True, effective=date(2026, 2, 1))
    evaluation = services.record_evaluation(actor=rw.u_changan, case=case)
    assert evaluation.required and "简易程序以外" in evaluation.matches[0].rule
    assert CaseReview.objects.get(case=case).required
    assert "简易程序以外" in services.decision_block(case)


def test_a_case_that_went_through_a_hearing_requires_review_whatever_the_catalogue(rw, make_case, file_catalogue):
    file_catalogue(fine_org=10_000_000)  # a catalogue that would never catch this fine
    case = make_case(fine_yuan=50000, hearing=True)
    evaluation = services.record_evaluation(actor=rw.u_changan, case=case)
    assert evaluation.required
    assert any("第五十八条第一款第（二）项" in m.citation and "听证" in m.rule for m in evaluation.matches)
    verdict = case_services.start_step  # the decide step refuses
    with pytest.raises(ValidationError) as exc:
        verdict(actor=rw.u_changan, case=case, code="decision", at=at(date(2026, 9, 15)))
    assert _code(exc.value) == "review_required"


# --- no decision without it (审核-8) ------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_deciding_without_a_passing_review_fails_by_page_api_and_admin_and_changes_nothing(
        rw, make_case, file_catalogue, settings):
    file_catalogue()
    case = make_case(fine_yuan=120000)
    steps_before = list(CaseStep.objects.filter(case=case).values_list("pk", flat=True))
    current_step = case.current_step
    audit_before = AuditEntry.objects.count()

    # page
    page = client_for(rw.u_changan)
    r = page.post(f"/workbench/cases/{case.pk}/steps/start/decision/",
                  {"officers": [rw.changan_officer.pk, rw.changan_officer2.pk], "place": "局机关", "note": "作出处罚决定"})
    assert r.status_code == 400 and "第五十八条" in r.content.decode() and "尚未送审" in r.content.decode()

    # API
    _, token = create_token(actor="t", agency=rw.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = api.post(f"/api/v1/cases/{case.pk}/steps", {"code": "decision"}, content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "review_required" and "第五十八条" in r.json()["message"]
    r = api.get(f"/api/v1/review/cases/{case.pk}")
    assert r.status_code == 200 and r.json()["required"] and "第五十八条" in r.json()["block"]

    # admin: the back office is read-only over cases (no service sets a
    # decision date by hand): the change is refused and nothing is saved
    settings.REQUIRE_TOTP = False
    head_admin = Client()
    rw.u_admin.is_superuser = True
    rw.u_admin.save()
    head_admin.force_login(rw.u_admin)
    r = head_admin.post(f"/admin/cases/case/{case.pk}/change/", {
        "title": case.title, "party_name": case.party_name, "party_type": case.party_type,
        "party_credit_code": case.party_credit_code, "decided_on": "2026-09-30", "served_on": ""}, follow=True)
    assert r.status_code == 403
    case.refresh_from_db()
    assert case.decided_on is None

    # any other admin over the same tables (a form that writes the decision date)
    settings.ROOT_URLCONF = "sanxiang.review.tests.admin_urls"
    admin = Client(raise_request_exception=True)
    rw.u_admin.is_superuser = True
    rw.u_admin.save()
    admin.force_login(rw.u_admin)
    with pytest.raises(ValidationError) as exc:
        admin.post(f"/admin/cases/case/{case.pk}/change/", {"decided_on": "2026-09-30"})
    assert _code(exc.value) == "review_required"
    with pytest.raises(ValidationError):
        admin.post("/admin/cases/casestep/add/", {
            "case": case.pk, "code": "decision", "name": "决定", "started_at_0": "2026-09-30", "started_at_1": "09:00:00",
            "status": "in_progress", "officers": [rw.changan_officer.pk]})

    # import / script: the same guard
    with pytest.raises(ValidationError):
        CaseStep.objects.create(case=case, code="decision", name="决定", started_at=at(date(2026, 9, 30)))
    with pytest.raises(ValidationError):
        Case.objects.create(agency=rw.amr_changan, title="导入的已决案件", act_kind="penalty", opened_on=date(2026, 9, 1),
                            party_name="某公司", party_type="legal_person", created_by=rw.u_changan,
                            proposed_penalty_categories=["罚款"], proposed_fine_fen=12_000_000, decided_on=date(2026, 9, 30))

    # nothing changed
    case.refresh_from_db()
    assert case.decided_on is None and case.current_step == current_step
    assert list(CaseStep.objects.filter(case=case).values_list("pk", flat=True)) == steps_before
    assert not Case.objects.filter(title="导入的已决案件").exists()
    # nothing of a step or a document reached the audit chain
    new = set(AuditEntry.objects.filter(seq__gt=audit_before).values_list("action", flat=True))
    assert not {a for a in new if a.startswith(("case.", "document."))}, new


def _documents_app():
    from django.apps import apps

    if not apps.is_installed("sanxiang.documents"):
        pytest.skip("the documents app is not installed")


def test_no_decision_document_number_is_issued_without_a_passing_review(rw, make_case, file_catalogue):
    _documents_app()
    from sanxiang.core import services as core_services
    from sanxiang.documents.models import Document
    from sanxiang.documents.services import issue_document

    core_services.update_agency(actor="t", agency=rw.amr_changan, short_name="冀石长市监")
    file_catalogue()
    case = make_case(fine_yuan=120000)
    with pytest.raises(ValidationError) as exc:
        issue_document(actor=rw.u_changan, case=case, kind="penalty_decision", data={})
    assert "第五十八条" in str(exc.value)
    assert not Document.objects.filter(case=case).exists()


# --- reviewers (审核-2/3/4) ----------------------------------------------------------


def test_a_reviewer_who_investigated_the_case_cannot_be_assigned(rw, make_case, file_catalogue):
    from sanxiang.core import services as core_services
    from sanxiang.core.models import Role

    file_catalogue()
    # 李秀英 investigated the case and also sits in the legal-review office
    insider = core_services.create_user(actor="t", username="changan_insider", password=rw.password,
                                        role=Role.LEGAL_REVIEWER, agency=rw.amr_changan)
    Officer.objects.filter(pk=rw.changan_officer2.pk).update(user=insider)
    reviewer = services.register_reviewer(actor=rw.head, user=insider, name="李秀英", qualification_number="A2018",
                                          qualification_date=date(2018, 12, 1), first_time=False)
    case = make_case(fine_yuan=120000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    with pytest.raises(ValidationError) as exc:
        services.assign_reviewer(actor=rw.head, submission=submission, reviewer=reviewer)
    assert _code(exc.value) == "reviewer_investigated" and "李秀英" in str(exc.value)
    submission.refresh_from_db()
    assert submission.reviewer is None and submission.stage == "submission"


def test_a_first_time_reviewer_without_the_qualification_cannot_be_assigned(rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=120000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    with pytest.raises(ValidationError) as exc:
        services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.novice)
    assert _code(exc.value) == "reviewer_unqualified" and "法律职业资格" in str(exc.value) and "第五十八条第二款" in str(exc.value)
    # the qualified first-timer may, and after the first opinion is no longer first-time
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=ALL_PASS)
    rw.reviewer.refresh_from_db()
    assert not rw.reviewer.first_time


# --- time limit -------------------------------------------------------------------------


def test_a_review_not_done_in_7_working_days_is_escalated_and_an_approved_extension_moves_the_deadline(
        rw, make_case, file_catalogue):
    # 正定县 (130123): its local rule allows 5 more working days with the head's approval
    file_catalogue(agency=rw.amr_zhengding, head=rw.head_zd)
    case = make_case(agency=rw.amr_zhengding, user=rw.u_zhengding, head=rw.head_zd,
                     officers=[rw.zhengding_officer, rw.zhengding_officer2], fine_yuan=150000)
    submission = services.submit_for_review(actor=rw.u_zhengding, case=case, parts=PARTS, received_on=date(2026, 9, 1))
    assert submission.due_on == add_working_days(start=date(2026, 9, 1), days=7).date == date(2026, 9, 10)
    assert submission.due_rule["name"] == "legal_review.review_limit" and submission.due_rule["value"] == 7
    services.assign_reviewer(actor=rw.head_zd, submission=submission, reviewer=rw.reviewer_zd)

    assert services.run_deadline_job(today=date(2026, 9, 7)) == 0
    assert services.run_deadline_job(today=date(2026, 9, 8)) == 1  # reminder 2 working days ahead
    assert services.run_deadline_job(today=date(2026, 9, 10)) == 0  # due today, not late, reminded already
    assert services.run_deadline_job(today=date(2026, 9, 11)) == 1  # late: escalated
    assert services.run_deadline_job(today=date(2026, 9, 14)) == 0  # once
    escalation = Notice.objects.get(submission=submission, kind="escalation")
    assert "zhengding_head" in escalation.recipients and "2026年09月10日" in escalation.message
    assert AuditEntry.objects.filter(action="review.escalation", object_id=str(submission.pk)).count() == 1

    extension = services.request_extension(actor=rw.u_reviewer_zd, submission=submission, reason="案情复杂，需调取补充证据")
    with pytest.raises(Exception):
        services.approve_extension(actor=rw.u_reviewer_zd, extension=extension)  # not by the reviewer
    services.approve_extension(actor=rw.head_zd, extension=extension)
    submission.refresh_from_db()
    assert submission.due_on == add_working_days(start=date(2026, 9, 10), days=5).date == date(2026, 9, 17)
    extension.refresh_from_db()
    assert extension.rule["value"] == 5 and extension.rule["unit"] == "working_days"
    assert services.run_deadline_job(today=date(2026, 9, 18)) == 1  # the new deadline passed: escalated again
    assert verify_chain().ok


def test_a_pending_review_of_a_terminated_case_is_withdrawn_with_it_and_never_escalated(
        rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=150000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS, received_on=date(2026, 9, 1))
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    assert submission.due_on == date(2026, 9, 10)
    case_services.terminate_case(actor=rw.head, case=case, reason="当事人已注销，无权利义务承受人", on=date(2026, 9, 4))

    assert services.run_deadline_job(today=date(2026, 9, 8)) == 0  # no reminder either
    assert services.run_deadline_job(today=date(2026, 9, 11)) == 0
    assert services.run_deadline_job(today=date(2026, 9, 30)) == 0
    assert not Notice.objects.filter(submission=submission).exists()
    assert not AuditEntry.objects.filter(action__in=["review.reminder", "review.escalation"]).exists()
    submission.refresh_from_db()
    assert not submission.is_open and submission.outcome == ""  # withdrawn, not reviewed
    assert submission.withdrawn_at is not None and "终止" in submission.withdrawn_reason
    [entry] = AuditEntry.objects.filter(action="review.withdraw", object_id=str(submission.pk))
    payload = json.loads(entry.payload)
    assert entry.actor == rw.head.username  # withdrawn in the termination's own transaction
    assert payload["case_status"] == "terminated" and payload["closed_on"] == "2026-09-04" and payload["round"] == 1
    with pytest.raises(ValidationError) as exc:
        services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=ALL_PASS)
    assert _code(exc.value) == "withdrawn"
    page = client_for(rw.u_reviewer).get(f"/review/case/{case.pk}/").content.decode()
    assert "已撤回" in page and submission.withdrawn_reason in page
    assert verify_chain().ok


def test_the_deadline_job_withdraws_a_round_whose_case_ended_without_withdrawing_it(rw, make_case, file_catalogue):
    """A round left open while its case is no longer open (an ending that
    did not pass through terminate_case, e.g. a data fix): the reviewer
    cannot go on with it, and the next job run withdraws it."""
    file_catalogue()
    case = make_case(fine_yuan=150000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS, received_on=date(2026, 9, 1))
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    Case.objects.filter(pk=case.pk).update(status="closed", closed_on=date(2026, 9, 4))
    with pytest.raises(ValidationError) as exc:
        services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=ALL_PASS)
    assert _code(exc.value) == "case_not_open"
    submission.refresh_from_db()
    assert submission.is_open and not submission.checklist.exists()
    assert services.run_deadline_job(today=date(2026, 9, 11)) == 0
    submission.refresh_from_db()
    assert submission.withdrawn_at is not None and "结案" in submission.withdrawn_reason
    assert AuditEntry.objects.get(action="review.withdraw", object_id=str(submission.pk)).actor == "system:review-deadlines"


# --- disagreement and collective discussion (art. 57) -------------------------------------


def test_a_disagreement_leads_to_collective_discussion_after_which_the_decision_can_be_made(rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=120000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    services.request_consultation(actor=rw.u_reviewer, submission=submission, counsel_name="王律师", counsel_kind="counsel",
                                  question="违法所得的计算口径")
    checklist = dict(ALL_PASS, law={"result": "issue", "comment": "裁量过重，建议按从轻情节罚款8万元"})
    with pytest.raises(ValidationError) as exc:
        services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=checklist)
    assert _code(exc.value) == "consultation_pending"
    consultation = submission.consultations.get()
    services.record_counsel_opinion(actor=rw.u_reviewer, consultation=consultation, opinion="应扣除成本后计算")
    submission = services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=checklist)
    assert submission.outcome == "issues" and submission.stage == "opinion"
    assert "存在问题" in services.decision_block(case)

    # the unit disagrees → collective discussion; until it is held, no decision
    services.respond_to_opinion(actor=rw.u_changan, submission=submission, disagree=True, reason="当事人拒不改正，不适用从轻")
    submission.refresh_from_db()
    assert submission.stage == "discussion"
    discussion = Discussion.objects.get(case=case)
    assert "集体讨论" in services.decision_block(case)
    with pytest.raises(ValidationError):
        case_services.start_step(actor=rw.u_changan, case=case, code="decision", at=at(date(2026, 9, 20)))

    services.record_discussion(actor=rw.head, discussion=discussion, held_at=at(date(2026, 9, 21), 15), place="局会议室",
                               chair="张局长", participants=["张局长（局长）", "李副局长", "赵副局长"], recorder="孙秘书",
                               minutes="承办人汇报案情，法制审核人员说明审核意见。", opinions=["同意承办机构意见"],
                               resolution="decide", resolution_text="维持罚款12万元的拟处理意见")
    assert services.decision_block(case) is None
    step = case_services.start_step(actor=rw.u_changan, case=case, code="decision", at=at(date(2026, 9, 22)))
    case_services.complete_step(actor=rw.u_changan, step=step, at=at(date(2026, 9, 22), 10))
    case.refresh_from_db()
    assert case.decided_on == date(2026, 9, 22)
    # every round and the discussion are kept
    assert Submission.objects.filter(case=case).count() == 1 and Discussion.objects.get(case=case).resolution == "decide"


# --- more of the workflow -----------------------------------------------------------------


def test_an_incomplete_package_cannot_be_submitted_and_the_page_says_what_is_missing(rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=120000, hearing=True)
    with pytest.raises(ValidationError) as exc:
        services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS[:2])
    assert _code(exc.value) == "incomplete"
    for missing in (PartKind.DRAFT_DECISION, PartKind.EVIDENCE_LIST, PartKind.HEARING_RECORD):
        assert str(missing.label) in str(exc.value)
    page = client_for(rw.u_changan)
    r = page.post(f"/review/case/{case.pk}/submit/", {"investigation_report": "调查终结报告", "proposed_handling": "拟罚款"})
    assert r.status_code == 400
    body = r.content.decode()
    assert "缺少" in body and "听证" in body
    assert not Submission.objects.filter(case=case).exists()


def test_a_changed_proposal_needs_a_new_review_and_every_round_is_kept(rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=120000)
    first = submit_and_review(rw, case, checklist=dict(ALL_PASS, facts={"result": "issue", "comment": "违法所得证据不足"}))
    services.respond_to_opinion(actor=rw.u_changan, submission=first, disagree=False)
    second = submit_and_pass(rw, case)
    assert second.round == 2 and second.outcome == "agree"
    assert services.decision_block(case) is None
    case_services.propose_decision(actor=rw.u_changan, case=case, categories=["罚款"], fine_fen=13_000_000)
    assert "已经变更" in services.decision_block(case)
    assert [s.outcome for s in Submission.objects.filter(case=case).order_by("round")] == ["issues", "agree"]


def test_the_review_flowchart_is_drawn_from_the_definition_the_workflow_runs_on(rw, client):
    from sanxiang.review import workflow

    definition = workflow.definition()
    r = client.get("/review/flowchart/")
    assert r.status_code == 200
    body = r.content.decode()
    for step in definition.steps:
        assert f'data-step="{step.code}"' in body and step.name in body
    assert "7个工作日" in body
    assert workflow.can_move("opinion", "submission") and workflow.can_move("opinion", "discussion")
    assert not workflow.can_move("submission", "opinion")


def test_figures_for_supervisors_are_scoped_and_exported_to_excel(rw, make_case, file_catalogue):
    import io

    import openpyxl

    file_catalogue()
    case = make_case(fine_yuan=120000)
    submit_and_pass(rw, case)
    step = case_services.start_step(actor=rw.u_changan, case=case, code="decision")
    case_services.complete_step(actor=rw.u_changan, step=step)
    sup = client_for(rw.u_legal_sjz)
    r = sup.get("/review/figures/")
    assert r.status_code == 200 and "石家庄市长安区市场监督管理局" in r.content.decode()
    assert "唐山市路南区市场监督管理局" not in r.content.decode()
    r = sup.get("/review/figures/export.xlsx")
    assert r.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(r.content))["按部门"]
    rows = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    changan = rows["石家庄市长安区市场监督管理局"]
    assert changan[2:5] == (1, 1, 100)  # decided, reviewed before, share
    assert "唐山市路南区市场监督管理局" not in rows
    assert client_for(rw.u_legal_ts).get("/review/figures/export.xlsx").status_code == 200


def test_the_review_opinion_and_the_discussion_record_are_issued_as_documents(rw, make_case, file_catalogue):
    _documents_app()
    import os
    import tempfile
    from pathlib import Path

    from sanxiang.core import services as core_services

    os.environ.setdefault("SANXIANG_FONT_CACHE_DIR", str(Path(tempfile.gettempdir()) / "sanxiang-font-cache"))
    core_services.update_agency(actor="t", agency=rw.amr_changan, short_name="冀石长市监")
    file_catalogue()
    case = make_case(fine_yuan=120000)
    submission = submit_and_review(rw, case, checklist=dict(ALL_PASS, law={"result": "issue", "comment": "裁量过重"}))
    doc = services.issue_opinion_document(actor=rw.u_reviewer, submission=submission)
    assert doc.kind == "legal_review_opinion" and doc.number and "审" in doc.number
    assert doc.data["conclusion"] == "存在问题" and any("裁量过重" in i for i in doc.data["issues"])
    services.respond_to_opinion(actor=rw.u_changan, submission=submission, disagree=True, reason="不同意")
    discussion = Discussion.objects.get(case=case)
    services.record_discussion(actor=rw.head, discussion=discussion, held_at=at(date(2026, 9, 21), 15), place="会议室",
                               chair="张局长", participants=["张局长", "李副局长"], recorder="孙秘书", minutes="讨论情况",
                               resolution="decide", resolution_text="维持拟处理意见")
    record = services.issue_discussion_record(actor=rw.head, discussion=discussion)
    assert record.kind == "collective_discussion" and "维持拟处理意见" in record.data["conclusion"]
    assert record.number and "议〔" in record.number
    submission.refresh_from_db()
    assert submission.opinion_document_number == doc.number


def test_a_refused_actor_gets_the_predicates_code_through_the_api(rw, make_case, file_catalogue):
    """Every refusal carries a code (issue 10): the case unit's system may
    submit but not assign a reviewer (the legal-review office does), nor
    record the opinion (only the assigned reviewer does)."""
    file_catalogue()
    case = make_case(fine_yuan=120000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    _, token = create_token(actor="t", agency=rw.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = api.post(f"/api/v1/review/submissions/{submission.pk}/assign", {"reviewer_id": rw.reviewer.pk},
                 content_type="application/json")
    assert r.status_code == 403
    assert (r.json()["code"], r.json()["field"]) == ("wrong_role", "actor") and "法制审核机构" in r.json()["message"]
    r = api.post(f"/api/v1/review/submissions/{submission.pk}/opinion", {"checklist": ALL_PASS},
                 content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "not_assigned_reviewer"


def test_the_review_pages_carry_a_case_through_review_and_discussion_and_show_refusals(rw, make_case, file_catalogue):
    """The POST pages of a case's review (flags, assignment, extension,
    counsel, opinion, response, discussion) each do their write and come
    back to the case's review page; a refusal is shown there, nothing
    written."""
    from django.contrib.messages import get_messages

    from sanxiang.review.models import CaseReview, Consultation, Extension

    file_catalogue()
    case = make_case(fine_yuan=120000)
    back = f"/review/case/{case.pk}/"
    officer, head, reviewer = client_for(rw.u_changan), client_for(rw.head), client_for(rw.u_reviewer)

    r = officer.post(f"/review/case/{case.pk}/flags/", {"complex": "on", "domain": "食品"})
    assert r.status_code == 302 and r.url == back
    assert CaseReview.objects.get(case=case).complex is True

    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    # a refusal: only the agency head assigns the reviewer
    r = officer.post(f"/review/submission/{submission.pk}/assign/", {"reviewer": rw.reviewer.pk})
    assert r.status_code == 302 and r.url == back
    assert [m.level_tag for m in get_messages(r.wsgi_request)][-1] == "error"
    submission.refresh_from_db()
    assert submission.reviewer_id is None
    assert head.post(f"/review/submission/{submission.pk}/assign/", {"reviewer": rw.reviewer.pk}).url == back
    submission.refresh_from_db()
    assert submission.reviewer_id == rw.reviewer.pk

    assert reviewer.post(f"/review/submission/{submission.pk}/extension/", {"reason": "案情复杂"}).url == back
    extension = Extension.objects.get(submission=submission)
    # Changan's rules set no extension: the approval is refused with the reason
    r = head.post(f"/review/extension/{extension.pk}/approve/")
    assert r.url == back
    assert "未设延长审核期限" in [m.message for m in get_messages(r.wsgi_request)][-1]
    extension.refresh_from_db()
    assert extension.approved_by_id is None

    assert reviewer.post(f"/review/submission/{submission.pk}/consult/", {
        "counsel_name": "王律师", "counsel_kind": "counsel", "question": "违法所得的计算口径"}).url == back
    consultation = Consultation.objects.get(submission=submission)
    assert reviewer.post(f"/review/consultation/{consultation.pk}/opinion/", {"opinion": "应扣除成本后计算"}).url == back
    consultation.refresh_from_db()
    assert consultation.opinion == "应扣除成本后计算"

    checklist = {f"{item}_result": "pass" for item in ALL_PASS}
    checklist.update(law_result="issue", law_comment="裁量过重")
    assert reviewer.post(f"/review/submission/{submission.pk}/opinion/", checklist).url == back
    submission.refresh_from_db()
    assert submission.outcome == "issues"

    assert officer.post(f"/review/submission/{submission.pk}/response/", {"disagree": "1", "reason": "不适用从轻"}).url == back
    discussion = Discussion.objects.get(case=case)
    r = head.post(f"/review/discussion/{discussion.pk}/", {
        "held_at": "2026-09-21T15:00", "place": "局会议室", "chair": "张局长", "participants": "张局长\n李副局长\n赵副局长",
        "recorder": "孙秘书", "minutes": "承办人汇报案情。", "opinions": "同意承办机构意见", "resolution": "decide",
        "resolution_text": "维持拟处理意见"})
    assert r.url == back
    assert [m.level_tag for m in get_messages(r.wsgi_request)][-1] == "success"
    discussion.refresh_from_db()
    assert discussion.resolution == "decide"
    assert services.decision_block(case) is None


def test_loading_2027_recomputes_a_provisional_review_limit_with_its_extension_and_audits_it(
        rw, make_case, file_catalogue):
    """A review limit counted into 2027 while 2027 has no official schedule is
    provisional; loading the year recomputes the limit and the approved
    extension on top of it, no longer provisional, with an audit entry."""
    from pathlib import Path

    from sanxiang.core.calendar import load_schedule
    from sanxiang.core.deadlines import deadline_for

    file_catalogue(agency=rw.amr_zhengding, head=rw.head_zd)
    case = make_case(agency=rw.amr_zhengding, user=rw.u_zhengding, head=rw.head_zd,
                     officers=[rw.zhengding_officer, rw.zhengding_officer2], fine_yuan=150000)
    submission = services.submit_for_review(actor=rw.u_zhengding, case=case, parts=PARTS, received_on=date(2026, 9, 1))
    services.assign_reviewer(actor=rw.head_zd, submission=submission, reviewer=rw.reviewer_zd)
    # Received on 24 December (every write refuses a day after today): the
    # limit is counted by the same rule the submission uses.
    limit = deadline_for(rule="legal_review.review_limit", start=date(2026, 12, 24), agency=case.agency)
    assert limit.provisional and limit.date == date(2027, 1, 4)  # 25, 28, 29, 30, 31 Dec, 1 and 4 Jan
    Submission.objects.filter(pk=submission.pk).update(
        received_on=date(2026, 12, 24), due_on=limit.date, due_rule={**submission.due_rule, "provisional": True})
    extension = services.request_extension(actor=rw.u_reviewer_zd, submission=submission, reason="案情复杂")
    services.approve_extension(actor=rw.head_zd, extension=extension)
    submission.refresh_from_db()
    assert submission.due_on == date(2027, 1, 11)  # + 5 working days, Monday to Friday only

    load_schedule(path=Path(__file__).resolve().parents[2] / "core/tests/data/schedule-2027-fixture.yaml", actor="t")
    submission.refresh_from_db()
    # the fixture's 1 January is a holiday: the limit is 5 January, the extension 12 January
    assert (submission.due_on, submission.due_rule["provisional"]) == (date(2027, 1, 12), False)
    extension.refresh_from_db()
    assert (extension.old_due_on, extension.new_due_on) == (date(2027, 1, 5), date(2027, 1, 12))
    payload = json.loads(AuditEntry.objects.get(action="review.deadline_recompute").payload)
    assert (payload["before"]["due_on"], payload["after"]["due_on"]) == ("2027-01-11", "2027-01-12")
    assert verify_chain().ok
