"""A decided case reaches publicity by itself, and an agency's 文号 are one
namespace whatever the door (公示-14, 公示-19; issue 11 item 1).

Everything goes through the real services: a penalty case opened, walked to
its decision step, its 行政处罚决定书 issued by the documents app, the step
completed; the record the publicity app derives is then checked, published,
corrected and withdrawn through the publicity services and pages."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from sanxiang.cases import services as case_services
from sanxiang.conftest import make_user
from sanxiang.core import clock, services as core_services
from sanxiang.core.models import Role
from sanxiang.core.refusals import Refused
from sanxiang.documents import services as doc_services
from sanxiang.publicity import services
from sanxiang.publicity.models import Decision, DecisionStatus, PublicDecision, WithdrawalNotice
from sanxiang.publicity.shuanggongshi import import_file

from .test_intake import company_code, id_number, penalty_record
from .test_push_api import publicity_api_mounted, push, token_for  # noqa: F401 (fixture)
from .test_shuanggongshi import csv_bytes, penalty_row

DECISION_DATA = {
    "party_address": "石家庄市长安区中山东路100号",
    "legal_representative": "张三",
    "facts": "当事人于2026年8月1日在其经营场所销售超过保质期的“康乐牌”酸奶12盒，货值金额人民币96元。",
    "evidence": ["现场检查笔录及现场照片", "询问笔录"],
    "statement_review": "当事人在法定期限内未提出陈述、申辩。",
    "violated_provision": "《中华人民共和国食品安全法》第三十四条第（十）项",
    "basis": "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
    "penalty": "罚款人民币50000元",
    "fine": "50000",
    "payment_channel": "中国工商银行石家庄长安支行（代收罚没款）",
    "review_body": "石家庄市长安区人民政府",
    "court": "石家庄市长安区人民法院",
}


def at(day: date, hour: int = 9) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@pytest.fixture
def cw(world):
    world.amr_changan = core_services.update_agency(actor="t", agency=world.amr_changan, short_name="冀石长市监")
    world.head = make_user("changan_head", Role.AGENCY_HEAD, agency=world.amr_changan)
    world.pub_admin = make_user("changan_publicity", Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    return world


def open_case(w, fine_fen=5_000_000, **kw):
    params = dict(actor=w.u_changan, agency=w.amr_changan, title="某公司销售过期食品案", act_kind="penalty",
                  procedure="general", party_name="石家庄康乐商贸有限公司", party_type="legal_person",
                  party_credit_code=company_code(77), opened_on=date(2026, 9, 1),
                  officers=[w.changan_officer, w.changan_officer2])
    params.update(kw)
    case = case_services.open_case(**params)
    case_services.propose_decision(actor=w.u_changan, case=case, categories=["罚款"], fine_fen=fine_fen)
    return case


def run(w, case, code, day, hour, *, during=None):
    step = case_services.start_step(actor=w.u_changan, case=case, code=code, at=at(day, hour))
    if step.needs_av:
        ex = case_services.request_av_exemption(actor=w.u_changan, step=step, reason="执法记录仪故障，已报修")
        case_services.approve_av_exemption(actor=w.head, exemption=ex)
    if during is not None:
        during(step)
    case_services.complete_step(actor=w.u_changan, step=step, at=at(day, hour + 1))
    case.refresh_from_db()
    return step


def decide(w, case, *, data=None, issue=True, day=date(2026, 9, 30)):
    """Opening … notification on 2 September, the decision on ``day`` with
    its 行政处罚决定书 issued in the step (unless ``issue`` is false)."""
    for i, code in enumerate(["opening", "investigation", "notification"]):
        run(w, case, code, date(2026, 9, 2), 8 + 2 * i)

    def issue_decision(step):
        if issue:
            doc_services.issue_document(actor=w.u_changan, case=case, kind="penalty_decision",
                                        data=data or DECISION_DATA, step=step)

    run(w, case, "decision", day, 9, during=issue_decision)
    return case


def issued_number(case) -> str:
    return case.documents.get(kind="penalty_decision").number


# --- the decision reaches publicity ---------------------------------------------------


def test_completing_the_decision_step_creates_the_record_from_the_case_with_its_due_date(cw):
    case = decide(cw, open_case(cw))
    record = Decision.objects.get(case=case)
    number = issued_number(case)
    assert record.external_id == f"case-{case.pk}" and record.doc_number == number
    assert record.status == DecisionStatus.PENDING and record.version == 1
    assert record.decision_date == date(2026, 9, 30)
    data = record.data
    assert data["party_name"] == "石家庄康乐商贸有限公司" and data["party_credit_code"] == company_code(77)
    assert data["legal_representative"] == "张三"
    assert data["facts"] == DECISION_DATA["facts"] and data["basis"] == DECISION_DATA["basis"]
    assert data["violation_type"] == "违反《中华人民共和国食品安全法》第三十四条第（十）项"
    assert data["penalty_categories"] == ["罚款"] and data["fine_fen"] == 5_000_000
    assert data["content"] == "罚款人民币50000元"
    # 7 working days from 30 September 2026 across the National Day holiday
    assert record.publication_due is not None and record.publication_due > date(2026, 10, 8)
    assert "118" in record.publication_rule
    assert record.versions.get().source == "case"


def test_the_publicity_administrator_checks_and_publishes_and_the_portal_shows_it(cw):
    case = decide(cw, open_case(cw))
    record = Decision.objects.get(case=case)
    with pytest.raises(Refused):
        services.publish_decision(actor=cw.u_changan, decision=record, confirmed=True)  # an officer does not publish
    services.publish_decision(actor=cw.pub_admin, decision=record, confirmed=True, checked_version=1)
    public = PublicDecision.objects.get(decision=record)
    page = Client().get(f"/decisions/{public.pk}/")
    assert page.status_code == 200 and issued_number(case) in page.content.decode()


def test_with_automatic_publication_the_decision_is_public_at_once_and_redacted(cw):
    services.set_auto_publish(actor=cw.pub_admin, agency=cw.amr_changan, enabled=True)
    case = open_case(cw, party_type="natural_person", party_name="李建华", party_credit_code="",
                     party_id_number=id_number(serial="321"), fine_fen=500_000)
    decide(cw, case, data={**DECISION_DATA, "legal_representative": "", "fine": "5000", "penalty": "罚款人民币5000元"})
    record = Decision.objects.get(case=case)
    assert record.status == DecisionStatus.PUBLISHED
    public = PublicDecision.objects.get(decision=record)
    assert public.party_name != "李建华" and public.party_name.startswith("李")
    assert id_number(serial="321") not in str(public.data)
    assert record.data["party_id_number"] == id_number(serial="321")  # the private record keeps it


def test_a_new_decision_document_corrects_the_record_instead_of_adding_one(cw):
    case = decide(cw, open_case(cw))
    first = Decision.objects.get(case=case)
    services.publish_decision(actor=cw.pub_admin, decision=first, confirmed=True)
    # the service step: nothing of the decision changed, nothing stored
    run(cw, case, "service", date(2026, 10, 9), 9)
    assert Decision.objects.get(case=case).version == 1
    # a corrected 决定书 issued during execution, then a case change: a correction
    run(cw, case, "execution", date(2026, 10, 12), 9, during=lambda step: doc_services.issue_document(
        actor=cw.u_changan, case=case, kind="penalty_decision", step=step,
        data={**DECISION_DATA, "penalty": "罚款人民币40000元", "fine": "40000"}))
    record = Decision.objects.get(case=case)
    assert Decision.objects.filter(agency=cw.amr_changan).count() == 1
    assert record.version == 2 and record.data["fine_fen"] == 4_000_000
    assert record.status == DecisionStatus.PUBLISHED
    public = PublicDecision.objects.get(decision=record)
    assert public.version == 2 and public.history.count() == 2


def test_a_decided_case_without_a_numbered_decision_says_why_and_goes_once_it_is_issued(cw, settings):
    settings.REQUIRE_TOTP = False
    case = decide(cw, open_case(cw), issue=False)
    assert not Decision.objects.filter(case=case).exists()
    client = Client()
    client.force_login(cw.u_changan)
    page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'id="case-publicity"' in page and "尚未出具有文号的决定书" in page
    run(cw, case, "service", date(2026, 10, 9), 9, during=lambda step: doc_services.issue_document(
        actor=cw.u_changan, case=case, kind="penalty_decision", data=DECISION_DATA, step=step))
    assert Decision.objects.get(case=case).doc_number == issued_number(case)


def test_the_case_page_shows_the_publicity_status_the_due_date_and_the_public_link(cw, settings):
    settings.REQUIRE_TOTP = False
    case = decide(cw, open_case(cw))
    record = Decision.objects.get(case=case)
    officer, admin = Client(), Client()
    officer.force_login(cw.u_changan)
    admin.force_login(cw.pub_admin)
    page = officer.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'data-publicity-status="pending"' in page and record.publication_due.isoformat() in page
    assert f"/workbench/publicity/{record.pk}/" not in page  # an officer has no publicity workbench
    services.publish_decision(actor=cw.pub_admin, decision=record, confirmed=True)
    public = PublicDecision.objects.get(decision=record)
    page = officer.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'data-publicity-status="published"' in page and f'href="/decisions/{public.pk}/"' in page


# --- a later change of the decision ----------------------------------------------------


def test_a_revoked_decision_is_withdrawn_with_the_reason_by_page(cw, settings):
    settings.REQUIRE_TOTP = False
    case = decide(cw, open_case(cw))
    record = Decision.objects.get(case=case)
    services.publish_decision(actor=cw.pub_admin, decision=record, confirmed=True)
    client = Client()
    client.force_login(cw.pub_admin)
    response = client.post(f"/workbench/publicity/{record.pk}/change/", {
        "via": "reconsideration", "outcome": "revoked", "reason": "石长政复决字〔2026〕8号行政复议决定撤销原处罚决定"})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == DecisionStatus.WITHDRAWN
    notice = WithdrawalNotice.objects.get(decision=record)
    assert notice.ground == "revoked" and "行政复议" in notice.reason and "撤销原处罚决定" in notice.reason
    public = PublicDecision.objects.get(decision=record)
    assert Client().get(f"/decisions/{public.pk}/").status_code == 410
    # the case goes on, even with a new 决定书: the withdrawn record stays as it is
    run(cw, case, "service", date(2026, 10, 9), 9, during=lambda step: doc_services.issue_document(
        actor=cw.u_changan, case=case, kind="penalty_decision", step=step,
        data={**DECISION_DATA, "penalty": "罚款人民币30000元", "fine": "30000"}))
    assert Decision.objects.get(pk=record.pk).version == 1


def test_a_decision_changed_by_a_court_is_corrected_with_the_reason(cw):
    case = decide(cw, open_case(cw))
    record = Decision.objects.get(case=case)
    services.publish_decision(actor=cw.pub_admin, decision=record, confirmed=True)
    services.record_decision_change(actor=cw.pub_admin, decision=record, via="litigation", outcome="changed",
                                   reason="（2026）冀0102行初12号判决变更罚款数额", content="罚款人民币80000元")
    record.refresh_from_db()
    assert record.version == 2 and record.data["content"] == "罚款人民币80000元"
    public = PublicDecision.objects.get(decision=record)
    assert public.history.get(number=2).reason.startswith("行政诉讼")
    # a later write on the case does not overwrite what the court decided
    run(cw, case, "service", date(2026, 10, 9), 9)
    record.refresh_from_db()
    assert record.version == 2 and record.data["content"] == "罚款人民币80000元"
    with pytest.raises(ValidationError) as exc:
        services.record_decision_change(actor=cw.pub_admin, decision=record, via="appeal", outcome="changed", reason="x")
    assert exc.value.error_dict["via"][0].code == "invalid_choice"


# --- one 文号 namespace ---------------------------------------------------------------


def test_the_platform_numbering_skips_a_number_already_pushed_for_another_party(cw, publicity_api_mounted):
    year = clock.today().year
    token = token_for(cw.amr_changan)
    taken = f"冀石长市监罚〔{year}〕1号"
    response = push(Client(), token, [penalty_record(1, doc_number=taken, decision_date=f"{year}-01-05")])
    assert response.json()["results"][0]["status"] == "created"
    case = decide(cw, open_case(cw))
    assert issued_number(case) == f"冀石长市监罚〔{year}〕2号"
    assert Decision.objects.filter(doc_number=taken).count() == 1


def test_intake_refuses_a_number_of_another_partys_decision_by_push_and_by_import(cw, publicity_api_mounted):
    case = decide(cw, open_case(cw))
    number = issued_number(case)
    # push: another party, another external id, the case's number
    body = push(Client(), token_for(cw.amr_changan), [penalty_record(5, doc_number=number)]).json()
    result = body["results"][0]
    assert result["status"] == "rejected" and result["errors"][0]["code"] == "number_taken"
    message = result["errors"][0]["message"]
    assert number in message and f"case-{case.pk}" in message and "CASE-2026-00005" in message
    # import: the same
    report = import_file(actor="test", agency=cw.amr_changan, filename="f.csv",
                         file=csv_bytes([penalty_row(9, CF_WSH=number)], chinese=False))
    assert report.rejected == 1 and report.errors[0][2] == "number_taken"
    assert Decision.objects.filter(doc_number=number).count() == 1
    # two pushed decisions cannot share a number either
    push(Client(), token_for(cw.amr_changan), [penalty_record(6, doc_number="冀石长市监罚〔2025〕6号")])
    again = push(Client(), token_for(cw.amr_changan), [penalty_record(7, doc_number="冀石长市监罚〔2025〕6号")]).json()
    assert again["results"][0]["errors"][0]["code"] == "number_taken"


def test_importing_the_cases_own_decision_by_its_number_is_a_correction_not_a_second_decision(cw):
    case = decide(cw, open_case(cw))
    number = issued_number(case)
    row = penalty_row(1, CF_WSH=number, CF_XDR_MC="石家庄康乐商贸有限公司", CF_XDR_SHXYM=company_code(77),
                      CF_JDRQ="2026/09/30", CF_CFLB="罚款", CF_NR_FK="5", CF_NR="罚款人民币50000元（更正）")
    report = import_file(actor="test", agency=cw.amr_changan, file=csv_bytes([row], chinese=False), filename="f.csv")
    assert report.rejected == 0 and report.corrected == 1 and report.created == 0
    record = Decision.objects.get(doc_number=number)
    assert record.case_id == case.pk and record.version == 2 and record.data["content"].endswith("（更正）")


# --- automatic publication: page and command -----------------------------------------


def test_automatic_publication_is_set_on_its_page_by_the_publicity_administrator_only(cw, settings):
    settings.REQUIRE_TOTP = False
    admin, officer = Client(), Client()
    admin.force_login(cw.pub_admin)
    officer.force_login(cw.u_changan)
    assert officer.get("/workbench/publicity/settings/").status_code == 403
    assert officer.post("/workbench/publicity/settings/", {"auto_publish": "1"}).status_code == 403
    assert 'href="/workbench/publicity/settings/"' in admin.get("/workbench/publicity/").content.decode()
    page = admin.get("/workbench/publicity/settings/")
    assert page.status_code == 200 and 'name="auto_publish"' in page.content.decode()
    admin.post("/workbench/publicity/settings/", {"auto_publish": "1"})
    assert services.auto_publish_enabled(cw.amr_changan)
    case = decide(cw, open_case(cw))
    assert Decision.objects.get(case=case).status == DecisionStatus.PUBLISHED
    admin.post("/workbench/publicity/settings/", {})
    assert not services.auto_publish_enabled(cw.amr_changan)


def test_the_command_shows_and_switches_automatic_publication(cw):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("publicity", "auto-publish", "--agency", cw.amr_changan.credit_code, stdout=out)
    assert "off" in out.getvalue()
    call_command("publicity", "auto-publish", "--agency", cw.amr_changan.credit_code, "on", stdout=out)
    assert services.auto_publish_enabled(cw.amr_changan) and out.getvalue().rstrip().endswith("on.")


def test_a_change_is_recorded_through_the_api_and_refusals_carry_their_code(cw, settings, publicity_api_mounted):
    import json

    case = decide(cw, open_case(cw))
    record = Decision.objects.get(case=case)
    services.publish_decision(actor=cw.pub_admin, decision=record, confirmed=True)
    client = Client()
    client.force_login(cw.pub_admin)
    url = "/api/v1/publicity/decision-changes"

    def post(body):
        return client.post(url, data=json.dumps(body, ensure_ascii=False), content_type="application/json")

    bad = post({"external_id": record.external_id, "via": "agency", "outcome": "revoked", "reason": " "})
    assert bad.status_code == 422 and bad.json()["code"] == "required" and bad.json()["field"] == "reason"
    assert post({"external_id": "nope", "via": "agency", "outcome": "revoked", "reason": "x"}).status_code == 404
    ok = post({"external_id": record.external_id, "via": "agency", "outcome": "revoked",
               "reason": "本机关发现原决定认定事实错误，依法撤销"})
    assert ok.status_code == 200 and ok.json()["status"] == "withdrawn" and ok.json()["withdrawal_due"]
    assert WithdrawalNotice.objects.get(decision=record).reason.startswith("本机关撤销或者纠正")


def test_what_stops_a_case_reaching_publicity_is_said_without_the_apis_field_codes(cw, settings):
    # A natural person's case opened without the ID number intake requires:
    # the case page names the field in Chinese, not as "（party_id_number）".
    settings.REQUIRE_TOTP = False
    case = decide(cw, open_case(cw, fine_fen=300_000, party_name="张建华", party_type="natural_person",
                                party_credit_code=""))
    assert not Decision.objects.filter(case=case).exists()
    client = Client()
    client.force_login(cw.u_changan)
    page = client.get(f"/workbench/cases/{case.pk}/").content.decode()
    assert 'id="case-publicity"' in page and "证件号码" in page
    assert "party_id_number" not in page
