"""Review lives on the case (issue 11 item 2; 审核-1 … 审核-8): the case page
says whether legal review is required and why, what the decision waits
for, each round's result and the link to submit; the package offers the
case's documents and evidence items; a missing reviewer is said with who
must register one; the registry refuses an unqualified first-time reviewer
and training dated in the future, and shows hours against the standard;
the demo's reviewer can review."""

from __future__ import annotations

import hashlib
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError

from sanxiang.cases import selectors as case_selectors
from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.review import services
from sanxiang.review.models import Part, Reviewer, Submission, Training

from .conftest import ALL_PASS, PARTS, walk


def _code(exc: ValidationError) -> str:
    return next(iter(exc.error_dict.values()))[0].code


def _case_page(user, case) -> str:
    r = client_for(user).get(f"/workbench/cases/{case.pk}/")
    assert r.status_code == 200
    return r.content.decode()


def _assert_no_template_internals(body: str, where: str):
    for internal in ("Node:", "{{", "{%", "<Block"):
        assert internal not in body, f"{where} shows template internals ({internal!r})"


# --- 0: the review pages never show template internals ------------------------------


def test_no_review_page_shows_template_internals_and_the_case_review_says_what_blocks_the_decision(
        rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=120000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    pages = ["/review/", f"/review/case/{case.pk}/", "/review/catalogue/", "/review/reviewers/", "/review/figures/",
             "/review/flowchart/"]
    for user in (rw.u_changan, rw.head, rw.u_reviewer, rw.u_legal_sjz):
        c = client_for(user)
        for url in pages:
            r = c.get(url)
            assert r.status_code == 200, (user.username, url)
            _assert_no_template_internals(r.content.decode(), f"{url} as {user.username}")
    body = client_for(rw.u_changan).get(f"/review/case/{case.pk}/").content.decode()
    # the decision block, in Chinese, where the template internals were
    assert "第1次送审尚在审核中" in body and 'id="decision-block"' in body
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=ALL_PASS)
    body = client_for(rw.u_changan).get(f"/review/case/{case.pk}/").content.decode()
    _assert_no_template_internals(body, "the case's review page after the opinion")
    assert '<p class="notice" id="decision-block">法制审核不妨碍作出决定。</p>' in body


# --- 1: the case page -----------------------------------------------------------------


def test_the_case_page_says_review_is_required_why_what_the_decision_waits_for_and_each_rounds_result(
        rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case()  # no proposed handling yet: nothing to say
    assert 'id="review-panel"' not in _case_page(rw.u_changan, case)

    from sanxiang.cases import services as case_services
    case_services.propose_decision(actor=rw.u_changan, case=case, categories=["罚款"], fine_fen=120000 * 100)
    case.refresh_from_db()
    body = _case_page(rw.u_changan, case)
    _assert_no_template_internals(body, "the case page")
    assert 'id="review-panel"' in body and "作出决定前须经法制审核" in body
    # each matched catalogue rule with its citation
    assert "对法人或者其他组织拟罚款120,000元，达到100,000元" in body
    assert "《河北省重大行政执法决定法制审核办法》" in body and "较大数额罚款" in body
    # what the decision step waits for, and the link to submit
    assert 'id="review-waits"' in body and "尚未送审" in body
    assert f'href="/review/case/{case.pk}/#submit"' in body and 'id="review-submit"' in body

    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    body = _case_page(rw.u_changan, case)
    assert "审核中" in body and "第1次送审尚在审核中" in body and 'id="review-submit"' not in body
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=ALL_PASS)
    body = _case_page(rw.u_changan, case)
    assert '<b class="review-outcome">同意</b>' in body and "刘法审" in body
    assert '<p class="notice" id="review-waits">法制审核不妨碍作出决定。</p>' in body
    assert "尚未送审" not in body and 'class="notice error" id="review-waits"' not in body
    # once decided, nothing waits any more; the round's result stays on the page
    walk(case, ["decision"], date(2026, 9, 15), user=rw.u_changan, head=rw.head)
    case.refresh_from_db()
    assert case.decided_on == date(2026, 9, 15)
    body = _case_page(rw.u_changan, case)
    assert 'id="review-waits"' not in body and '<b class="review-outcome">同意</b>' in body


def test_a_case_that_does_not_need_review_says_so_on_its_page(rw, make_case, file_catalogue):
    file_catalogue()
    case = make_case(fine_yuan=5000)
    body = _case_page(rw.u_changan, case)
    assert 'id="review-panel"' in body and "依现行目录和《行政处罚法》第五十八条，不属于重大执法决定。" in body
    assert "作出决定前须经法制审核" not in body
    assert 'id="review-submit"' not in body


# --- 2: the package offers documents and evidence items ---------------------------------


def _upload_photo(rw, case, settings, tmp_path, name="现场照片.png"):
    from sanxiang.evidence import services as evidence_services

    settings.EVIDENCE_BACKEND = "local"
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    settings.EVIDENCE_UPLOAD_DIR = tmp_path / "uploads"
    data = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4 + name.encode()
    rw.changan_officer.user = rw.u_changan
    rw.changan_officer.save(update_fields=["user"])
    upload = evidence_services.create_upload(
        actor=rw.u_changan, cases=case_selectors.cases_for(user=rw.u_changan), length=len(data), metadata={
            "sha256": hashlib.sha256(data).hexdigest(), "case": str(case.pk), "filename": name,
            "captured_at": "2026-09-01T10:30:00+08:00"})
    evidence_services.receive_upload_chunk(upload=upload, offset=0, stream=io.BytesIO(data), content_length=len(data),
                                           checksum=None)
    upload.refresh_from_db()
    return upload.evidence


def test_the_submission_form_offers_the_cases_evidence_items_and_submits_them(
        rw, make_case, file_catalogue, settings, tmp_path):
    file_catalogue()
    case = make_case(fine_yuan=120000)
    photo = _upload_photo(rw, case, settings, tmp_path)
    officer = client_for(rw.u_changan)
    body = officer.get(f"/review/case/{case.pk}/").content.decode()
    assert f'value="evidence:{photo.pk}"' in body and "现场照片.png" in body
    assert f'name="evidence_items" value="{photo.pk}"' in body
    r = officer.post(f"/review/case/{case.pk}/submit/", {
        "investigation_report": "调查终结报告", "proposed_handling": "拟罚款12万元", "draft_decision": "决定书草稿",
        "evidence_items": [str(photo.pk)], "proposed_handling_source": f"evidence:{photo.pk}"})
    assert r.status_code == 302, r.content.decode()[:2000]
    submission = Submission.objects.get(case=case)
    parts = list(Part.objects.filter(submission=submission, evidence_id=photo.pk))
    assert {p.kind for p in parts} == {"evidence_list", "proposed_handling"}
    assert all("现场照片.png" in p.label for p in parts)
    # an evidence item of another case is refused, nothing submitted
    other = make_case(fine_yuan=120000, title="另一案")
    r = client_for(rw.u_changan).post(f"/review/case/{other.pk}/submit/", {
        "investigation_report": "报告", "proposed_handling": "拟罚款", "draft_decision": "草稿",
        "evidence_items": [str(photo.pk)]})
    assert r.status_code == 400 and "不属于本案" in r.content.decode()
    assert not Submission.objects.filter(case=other).exists()
    # a malformed choice is a 400 with the field named, never a 500
    r = client_for(rw.u_changan).post(f"/review/case/{other.pk}/submit/", {"draft_decision_source": "drop:1"})
    assert r.status_code == 400 and "请选择本案的文书或证据" in r.content.decode()


# --- 3: no qualified reviewer: said, with who must register one --------------------------


def test_where_no_reviewer_is_registered_the_case_and_review_pages_say_so_and_who_must_register_one(rw, make_case):
    u_lunan = core_services.create_user(actor="t", username="lunan_officer", password=rw.password, role=Role.OFFICER,
                                        agency=rw.amr_lunan)
    head = core_services.create_user(actor="t", username="lunan_head", password=rw.password, role=Role.AGENCY_HEAD,
                                     agency=rw.amr_lunan, display_name="周局长")
    case = make_case(agency=rw.amr_lunan, user=u_lunan, head=head, officers=[rw.lunan_officer, rw.lunan_officer2],
                     fine_yuan=120000)
    for user, page in ((u_lunan, f"/workbench/cases/{case.pk}/"), (u_lunan, f"/review/case/{case.pk}/"),
                       (head, f"/review/case/{case.pk}/"), (u_lunan, "/review/")):
        body = client_for(user).get(page).content.decode()
        assert 'id="no-reviewer"' in body, page
        assert "本部门尚未登记法制审核人员" in body and "应由本部门负责人登记法制审核人员" in body, page
        assert 'href="/review/reviewers/#register"' in body, page
    assert "周局长" in _case_page(u_lunan, case)
    # the link is the head's: the registration form is on that page, for the head
    body = client_for(head).get("/review/reviewers/").content.decode()
    assert 'id="register"' in body and 'id="no-reviewer"' in body
    # Changan has reviewers: nothing of the sort there
    file_case = make_case(fine_yuan=120000, title="长安案")
    assert 'id="no-reviewer"' not in _case_page(rw.u_changan, file_case)


def test_where_every_registered_reviewer_investigated_the_case_the_page_says_none_may_review_it(rw, make_case):
    from sanxiang.core.models import Officer

    case = make_case(fine_yuan=120000)
    # both of Changan's reviewers ran a step of this case
    Officer.objects.filter(pk=rw.changan_officer2.pk).update(user=rw.u_reviewer)
    body = client_for(rw.u_changan).get(f"/review/case/{case.pk}/").content.decode()
    assert 'id="no-reviewer"' in body and "本部门已登记的法制审核人员均不能审核本案" in body
    assert "刘法审参与了本案的调查办理" in body and "陈新人系初次从事" in body


# --- 5: the registry -------------------------------------------------------------------------


def test_a_first_time_reviewer_without_the_qualification_is_refused_at_registration_citing_the_rule(rw):
    u = core_services.create_user(actor="t", username="changan_new", password=rw.password, role=Role.LEGAL_REVIEWER,
                                  agency=rw.amr_changan)
    with pytest.raises(ValidationError) as exc:
        services.register_reviewer(actor=rw.head, user=u, name="王新", first_time=True)
    assert _code(exc.value) == "reviewer_unqualified"
    assert "法律职业资格" in str(exc.value) and "第五十八条第二款" in str(exc.value) and "2021年修订" in str(exc.value)
    assert not Reviewer.objects.filter(user=u).exists()
    # the page shows the refusal and registers nothing
    r = client_for(rw.head).post("/review/reviewers/register/", {"user": u.pk, "name": "王新", "first_time": "on"},
                                 follow=False)
    assert r.status_code == 302
    assert "第五十八条第二款" in [m.message for m in get_messages(r.wsgi_request)][-1]
    assert not Reviewer.objects.filter(user=u).exists()
    # with the qualification, or as an experienced (not first-time) reviewer, it is registered
    assert services.register_reviewer(actor=rw.head, user=u, name="王新", qualification_number="A20221301009",
                                      qualification_date=date(2022, 12, 1), first_time=True).qualified
    u2 = core_services.create_user(actor="t", username="changan_old", password=rw.password, role=Role.LEGAL_REVIEWER,
                                   agency=rw.amr_changan)
    assert not services.register_reviewer(actor=rw.head, user=u2, name="老审核", first_time=False).qualified
    # a qualification obtained in the future is refused
    u3 = core_services.create_user(actor="t", username="changan_future", password=rw.password,
                                   role=Role.LEGAL_REVIEWER, agency=rw.amr_changan)
    with pytest.raises(ValidationError) as exc:
        services.register_reviewer(actor=rw.head, user=u3, qualification_number="A2099",
                                   qualification_date=clock.today() + timedelta(days=1))
    assert _code(exc.value) == "future_date"


def test_training_dated_in_the_future_is_refused_and_hours_are_shown_against_the_yearly_standard(rw):
    today = clock.today()
    with pytest.raises(ValidationError) as exc:
        services.record_training(actor=rw.head, reviewer=rw.reviewer, held_on=today + timedelta(days=1),
                                 title="行政处罚法培训", hours="8")
    assert _code(exc.value) == "future_date" and not Training.objects.filter(reviewer=rw.reviewer).exists()
    r = client_for(rw.head).post("/review/reviewers/training/", {
        "reviewer": rw.reviewer.pk, "held_on": (today + timedelta(days=3)).isoformat(), "title": "培训", "hours": "8"})
    assert "晚于今天" in [m.message for m in get_messages(r.wsgi_request)][-1]
    assert not Training.objects.filter(reviewer=rw.reviewer).exists()

    services.record_training(actor=rw.head, reviewer=rw.reviewer, held_on=today, title="法制审核实务", hours="12.5")
    services.record_training(actor=rw.head, reviewer=rw.reviewer, held_on=date(today.year - 1, 6, 1), title="往年培训",
                             hours="40")
    body = client_for(rw.head).get("/review/reviewers/").content.decode()
    row = body[body.index(f'data-reviewer="{rw.reviewer.pk}"'):]
    row = row[:row.index("</tr>")]
    # this year's hours against the rule's standard (60 a year), the shortfall, and the total
    assert f"{today.year}年：12.5学时" in row and "标准每年60学时" in row and "尚差47.5学时" in row
    assert "累计52.5学时" in row
    assert "国办发〔2023〕27号" in body
    from sanxiang.review.selectors import training_standing
    standing = training_standing(rw.reviewer, on=today)
    assert (standing.year_hours, standing.standard, standing.met) == (Decimal("12.5"), Decimal(60), False)


# --- 4: the demo registers its reviewer, who can review a round -------------------------------


def test_the_demo_registers_its_reviewer_who_can_review_a_round(db, settings):
    from sanxiang.cases import services as case_services
    from sanxiang.core.demo import load_demo
    from sanxiang.core.models import Officer, User
    from sanxiang.review.demo import load_review_demo

    settings.REQUIRE_TOTP = False
    load_demo()
    reviewer = load_review_demo()
    assert reviewer is not None and reviewer.user.username == "reviewer" and reviewer.qualified
    assert load_review_demo() is None  # once
    assert reviewer.trainings.count() == 2
    officer, head = User.objects.get(username="officer"), User.objects.get(username="head")
    officers = list(Officer.objects.filter(agency=officer.agency, status="active").order_by("pk")[:2])
    case = case_services.open_case(actor=officer, agency=officer.agency, title="演示重大案件", act_kind="penalty",
                                   procedure="general", party_name="石家庄某商贸有限公司", party_type="legal_person",
                                   opened_on=date(2026, 9, 1), officers=officers)
    walk(case, ["opening", "investigation", "notification"], date(2026, 9, 1), user=officer, head=head)
    case_services.propose_decision(actor=officer, case=case, categories=["罚款"], fine_fen=150000 * 100)
    case.refresh_from_db()
    assert services.evaluate(case).required
    submission = services.submit_for_review(actor=officer, case=case, parts=PARTS)
    services.assign_reviewer(actor=head, submission=submission, reviewer=reviewer)
    r = client_for(reviewer.user).post(f"/review/submission/{submission.pk}/opinion/",
                                       {f"{item}_result": "pass" for item in ALL_PASS})
    assert r.status_code == 302
    submission.refresh_from_db()
    assert submission.outcome == "agree"
    assert services.decision_block(case) is None
