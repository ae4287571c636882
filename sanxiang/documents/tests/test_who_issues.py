"""Who issues documents (文书) in a case: the case's own agency acting in it
(its officers, its head, its API client), as for every write of the cases
app. The legal office supervising the agency and the system administrator
read the documents but never issue one, through the service, the page or
the API; a refusal takes no number."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.conftest import client_for, make_user
from sanxiang.core.models import Role
from sanxiang.documents import services
from sanxiang.documents.models import Document, DocumentCounter, NumberPattern

from .test_documents import HEARING_NOTICE


pytestmark = pytest.mark.usefixtures("no_totp")


def user(dw, username, role, agency):
    return make_user(username, role, agency=agency)


def test_a_legal_office_or_administrator_cannot_issue_a_numbered_document_in_an_agencys_case(dw):
    for outsider in (dw.u_legal_sjz, dw.u_legal_hebei, dw.u_admin, dw.u_zhengding,
                     user(dw, "changan_publicity", Role.PUBLICITY_ADMIN, dw.amr_changan)):
        with pytest.raises(PermissionDenied):
            services.issue_document(actor=outsider, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    assert not Document.objects.exists() and not DocumentCounter.objects.exists()  # no number taken

    head = user(dw, "changan_head", Role.AGENCY_HEAD, dw.amr_changan)
    system = create_token(actor="t", agency=dw.amr_changan, name="长安办案系统", scopes=["cases:write"])[0].user
    issued = [services.issue_document(actor=a, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
              for a in (dw.u_changan, head, system)]
    assert [d.seq for d in issued] == [1, 2, 3]


def test_the_agencys_legal_reviewer_issues_the_review_opinion_and_nothing_else(dw):
    reviewer = user(dw, "changan_reviewer", Role.LEGAL_REVIEWER, dw.amr_changan)
    with pytest.raises(PermissionDenied):
        services.issue_document(actor=reviewer, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    opinion = services.issue_document(actor=reviewer, case=dw.case_changan, kind="legal_review_opinion", data={
        "submitted_on": "2026-03-20", "submitting_unit": "执法稽查科", "proposed_decision": "罚款五万元",
        "conclusion": "同意", "reviewers": "刘法审"}, through="review")
    assert opinion.number.startswith("冀石长市监审")
    other = user(dw, "zhengding_reviewer", Role.LEGAL_REVIEWER, dw.amr_zhengding)
    with pytest.raises(PermissionDenied):
        services.issue_document(actor=other, case=dw.case_changan, kind="legal_review_opinion", data={
            "submitted_on": "2026-03-20", "submitting_unit": "执法稽查科", "proposed_decision": "罚款五万元",
            "conclusion": "同意", "reviewers": "郑审核"}, through="review")


def test_the_review_opinion_and_the_discussion_record_are_made_only_through_the_review_workflow(dw, settings):
    """They carry what the review decided (审核-8): an officer cannot number
    one of their own from the documents page, the API or the service."""
    opinion = {"submitted_on": "2026-03-20", "submitting_unit": "执法稽查科", "proposed_decision": "罚款五万元",
               "conclusion": "同意", "reviewers": "王建国"}
    with pytest.raises(ValidationError) as exc:
        services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="legal_review_opinion", data=opinion)
    assert exc.value.error_dict["kind"][0].code == "issued_through_workflow"
    settings.REQUIRE_TOTP = False
    c = Client()
    c.force_login(dw.u_changan)
    page = c.get(f"/documents/case/{dw.case_changan.pk}/").content.decode()
    assert "法制审核意见书" not in page.split("<ul class=\"chips\">", 1)[-1].split("</ul>", 1)[0]
    assert "询问笔录" in page
    r = c.get(f"/documents/case/{dw.case_changan.pk}/issue/collective_discussion/")
    assert r.status_code == 302 and r["Location"] == f"/review/case/{dw.case_changan.pk}/"
    _, token = create_token(actor="t", agency=dw.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    r = api.post(f"/api/v1/documents/cases/{dw.case_changan.pk}", {"kind": "legal_review_opinion", "data": opinion},
                 content_type="application/json")
    assert r.status_code == 422 and r.json()["code"] == "issued_through_workflow"
    kinds = {k["code"]: k["issued_through"] for k in api.get("/api/v1/documents/kinds").json()}
    assert kinds["legal_review_opinion"] == kinds["collective_discussion"] == "review" and kinds["hearing_notice"] == ""
    assert not Document.objects.exists() and not DocumentCounter.objects.exists()


def test_only_the_agency_head_or_an_administrator_sets_the_number_pattern(dw):
    pattern = "{abbr}{kind_char}字〔{year}〕第{seq:03d}号"
    for outsider in (dw.u_changan, dw.u_legal_sjz, user(dw, "zhengding_head", Role.AGENCY_HEAD, dw.amr_zhengding)):
        with pytest.raises(PermissionDenied):
            services.set_number_pattern(actor=outsider, agency=dw.amr_changan, pattern=pattern)
    assert not NumberPattern.objects.exists()
    head = user(dw, "changan_head", Role.AGENCY_HEAD, dw.amr_changan)
    assert services.set_number_pattern(actor=head, agency=dw.amr_changan, pattern=pattern).pattern == pattern


def test_the_city_legal_office_reads_the_documents_page_but_gets_no_issue_form(dw):
    url = f"/documents/case/{dw.case_changan.pk}/issue/hearing_notice/"
    officer_page = client_for(dw.u_changan).get(f"/documents/case/{dw.case_changan.pk}/").content.decode()
    assert url in officer_page

    supervisor = client_for(dw.u_legal_sjz)
    page = supervisor.get(f"/documents/case/{dw.case_changan.pk}/")
    assert page.status_code == 200 and url not in page.content.decode()
    assert supervisor.get(url).status_code == 403
    assert supervisor.post(url, HEARING_NOTICE).status_code == 403
    assert client_for(dw.u_admin).post(url, HEARING_NOTICE).status_code == 403
    assert not Document.objects.exists() and not DocumentCounter.objects.exists()


def test_issuing_through_the_api_is_for_the_cases_own_agency(dw):
    url = f"/api/v1/documents/cases/{dw.case_changan.pk}"
    body = {"kind": "hearing_notice", "data": HEARING_NOTICE}

    r = client_for(dw.u_legal_sjz).post(url, body, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    _, zhengding = create_token(actor="t", agency=dw.amr_zhengding, name="正定办案系统", scopes=["read", "cases:write"])
    r = Client(HTTP_AUTHORIZATION=f"Bearer {zhengding}").post(url, body, content_type="application/json")
    assert r.status_code == 404  # another county's case is not there for it
    _, read_only = create_token(actor="t", agency=dw.amr_changan, name="长安查询", scopes=["read"])
    r = Client(HTTP_AUTHORIZATION=f"Bearer {read_only}").post(url, body, content_type="application/json")
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"
    assert not Document.objects.exists() and not DocumentCounter.objects.exists()

    _, changan = create_token(actor="t", agency=dw.amr_changan, name="长安办案系统", scopes=["read", "cases:write"])
    r = Client(HTTP_AUTHORIZATION=f"Bearer {changan}").post(url, body, content_type="application/json")
    assert r.status_code == 201, r.content
    doc = Document.objects.get()
    assert r.json()["number"] == doc.number and doc.number.startswith("冀石长市监听")
