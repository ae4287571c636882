"""Documents are filed under the case step they were issued in (记录-2:
numbered documents; 记录-3: each step's text record and documents kept
together): the step in progress by default, or a step of the same case."""

from __future__ import annotations

import json
from datetime import date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from sanxiang.api.services import create_token
from sanxiang.cases import services as case_services
from sanxiang.conftest import log_in, no_horizontal_scroll
from sanxiang.core.models import AuditEntry
from sanxiang.documents import services
from sanxiang.documents.models import Document

from .test_documents import HEARING_NOTICE

OPENING = {"case_source": "投诉举报", "discovered_on": "2026-08-28", "party_address": "石家庄市长安区中山东路1号",
           "summary": "当事人涉嫌销售超过保质期的食品。", "suspected_provision": "《中华人民共和国食品安全法》第三十四条第（十）项",
           "officers": "王建国、李秀英", "undertaker_opinion": "建议立案调查。"}
STATEMENT = {"held_at": "2026年9月1日", "place": "本局询问室", "speaker": "张三", "officers": "王建国、李秀英",
             "recorder": "李秀英", "statement": "对违法事实无异议。"}


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False  # TOTP is proven in core's tests


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


@pytest.fixture
def opened(dw):
    """A penalty case of 长安区 opened through the cases services, its opening step under way."""
    case = case_services.open_case(
        actor=dw.u_changan, agency=dw.amr_changan, title="某超市销售过期食品案", act_kind="penalty", procedure="general",
        party_name="石家庄某某超市有限公司", party_type="legal_person", opened_on=date(2026, 9, 1),
        officers=[dw.changan_officer, dw.changan_officer2])
    step = case_services.start_step(actor=dw.u_changan, case=case, code="opening", at=at(date(2026, 9, 1), 9))
    return case, step


def test_a_document_is_filed_under_the_step_in_progress_or_the_step_named(dw, opened):
    case, opening = opened
    approval = services.issue_document(actor=dw.u_changan, case=case, kind="case_opening", data=OPENING)
    assert approval.step == opening
    entry = AuditEntry.objects.get(action="document.issue", object_id=str(approval.pk))
    assert json.loads(entry.payload)["step"] == opening.pk
    case_services.complete_step(actor=dw.u_changan, step=opening, at=at(date(2026, 9, 1), 10))
    # no step under way: the document belongs to the case only, unless a step is named
    loose = services.issue_document(actor=dw.u_changan, case=case, kind="statement_record", data=STATEMENT)
    assert loose.step is None
    named = services.issue_document(actor=dw.u_changan, case=case, kind="statement_record", data=STATEMENT, step=opening)
    assert named.step == opening
    assert list(opening.issued_documents.order_by("id")) == [approval, named]


def test_a_step_of_another_case_is_refused_and_nothing_is_issued(dw, opened):
    case, _ = opened
    other = case_services.open_case(
        actor=dw.u_changan, agency=dw.amr_changan, title="另一案", act_kind="penalty", party_name="某公司",
        party_type="legal_person", opened_on=date(2026, 9, 1), officers=[dw.changan_officer, dw.changan_officer2])
    foreign = case_services.start_step(actor=dw.u_changan, case=other, code="opening", at=at(date(2026, 9, 1), 9))
    with pytest.raises(ValidationError) as exc:
        services.issue_document(actor=dw.u_changan, case=case, kind="hearing_notice", data=HEARING_NOTICE, step=foreign)
    assert exc.value.message_dict["step"] == ["该环节不属于本案，文书只能归入本案的环节。"]
    assert exc.value.error_dict["step"][0].code == "step_other_case"
    assert not Document.objects.exists()
    first = services.issue_document(actor=dw.u_changan, case=case, kind="hearing_notice", data=HEARING_NOTICE)
    assert first.seq == 1  # the refused issue took no number


def test_the_step_page_lists_its_documents_with_their_downloads(dw, opened):
    case, opening = opened
    approval = services.issue_document(actor=dw.u_changan, case=case, kind="case_opening", data=OPENING)
    case_services.complete_step(actor=dw.u_changan, step=opening, at=at(date(2026, 9, 1), 10))
    loose = services.issue_document(actor=dw.u_changan, case=case, kind="hearing_notice", data=HEARING_NOTICE)
    c = Client()
    c.force_login(dw.u_changan)
    page = c.get(f"/workbench/cases/{case.pk}/steps/{opening.pk}/").content.decode()
    assert "本环节制发的文书" in page and approval.number in page and "立案审批表" in page
    assert f"/documents/{approval.pk}/download.pdf" in page and f"/documents/{approval.pk}/download.docx" in page
    assert loose.number not in page
    r = c.get(f"/documents/{approval.pk}/download.pdf")
    assert r.status_code == 200 and r["X-Content-SHA256"] == approval.pdf_sha256
    # the case's documents page names the step each document belongs to
    listing = c.get(f"/documents/case/{case.pk}/").content.decode()
    assert f"/workbench/cases/{case.pk}/steps/{opening.pk}/" in listing
    # a step without documents says so
    investigation = case_services.start_step(actor=dw.u_changan, case=case, code="investigation", at=at(date(2026, 9, 2), 9))
    assert "本环节尚未制发文书" in c.get(f"/workbench/cases/{case.pk}/steps/{investigation.pk}/").content.decode()


def test_the_api_step_carries_its_issued_documents_next_to_the_listed_ones(dw, opened):
    case, opening = opened
    approval = services.issue_document(actor=dw.u_changan, case=case, kind="case_opening", data=OPENING)
    case_services.complete_step(actor=dw.u_changan, step=opening, documents=[{"kind": "案件来源登记表"}],
                                at=at(date(2026, 9, 1), 10))
    _, token = create_token(actor="t", agency=dw.amr_changan, name="长安办案系统", scopes=["read"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    step = api.get(f"/api/v1/cases/{case.pk}").json()["steps"][0]
    assert step["documents"] == [{"kind": "案件来源登记表", "number": ""}]
    assert [(d["id"], d["kind"], d["title"], d["number"]) for d in step["issued_documents"]] == \
        [(approval.pk, "case_opening", "立案审批表", approval.number)]
    assert api.get(f"/api/v1/documents/{approval.pk}").json()["step_id"] == opening.pk


def test_the_step_page_with_its_documents_fits_a_phone(browser_page, dw, opened):
    case, opening = opened
    services.issue_document(actor=dw.u_changan, case=case, kind="case_opening", data=OPENING)
    pg = browser_page
    log_in(pg, "changan_officer", dw.password)
    pg.goto(pg.base + f"/workbench/cases/{case.pk}/steps/{opening.pk}/")
    assert "立案审批表" in pg.content()
    assert no_horizontal_scroll(pg)
