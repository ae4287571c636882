"""Documents (文书, seeds 记录-2/3, 公示-10/11): kinds as data, gapless numbers
per agency, kind and year, DOCX and PDF with the Chinese font embedded, and
scoped, audited downloads by page and API."""

from __future__ import annotations

import io
import re
import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.core.models import AuditEntry
from sanxiang.documents import numbering, services
from sanxiang.documents.kinds import all_kinds, get_kind
from sanxiang.documents.models import Document, DocumentCounter
from sanxiang.documents.render import wrap_text
from sanxiang.documents.values import money_upper

from .conftest import DECISION_DATA

HEARING_NOTICE = {
    "requested_on": "2026-03-20", "hearing_time": "2026年4月10日9时00分", "hearing_place": "本局第一听证室",
    "presiding_officer": "刘明（法规科）", "clerk": "陈静", "public": "公开", "contact": "王建国 0311-85000000",
}


def login(user, settings) -> Client:
    settings.REQUIRE_TOTP = False
    c = Client()
    c.force_login(user)
    return c


# --- kinds as data -------------------------------------------------------------------

def test_every_kind_a_general_penalty_case_needs_is_defined_and_valid():
    titles = {k.title for k in all_kinds().values()}
    assert {"立案审批表", "现场检查笔录", "询问笔录", "证据先行登记保存通知书", "行政处罚事先告知书", "陈述申辩笔录",
            "听证通知书", "听证笔录", "法制审核意见书", "集体讨论记录", "行政处罚决定书", "送达回证",
            "查封扣押决定书", "结案报告"} <= titles
    chars = {k.code: k.kind_char for k in all_kinds().values() if k.numbered}
    assert chars["penalty_decision"] == "罚" and chars["case_opening"] == "立" and chars["penalty_notice"] == "告"
    assert chars["hearing_notice"] == "听" and chars["legal_review_opinion"] == "审" and chars["seizure_decision"] == "强"
    assert len(set(chars.values())) == len(chars)  # numbers of two kinds never collide


def test_the_notice_states_the_rights_of_articles_44_63_and_64():
    text = " ".join(b.text for b in get_kind("penalty_notice").body)
    for phrase in ("陈述、申辩", "第四十四条", "第六十三条", "第六十四条", "五个工作日", "听证"):
        assert phrase in text


# --- numbering -----------------------------------------------------------------------

def test_number_pattern_default_and_validation():
    assert numbering.format_number(numbering.DEFAULT_PATTERN, abbr="冀石市监", kind_char="罚", year=2026, seq=12) \
        == "冀石市监罚〔2026〕12号"
    assert numbering.validate_pattern("{abbr}{kind_char}字〔{year}〕第{seq:03d}号") == "{abbr}{kind_char}字〔{year}〕第{seq:03d}号"
    for bad in ("{abbr}{kind_char}〔{year}〕号", "{abbr}{kind_char}{seq}号", "{abbr}{kind}〔{year}〕{seq}号", "{abbr〔{year}〕{seq}号"):
        with pytest.raises(ValidationError) as exc:
            numbering.validate_pattern(bad)
        assert "pattern" in exc.value.message_dict


def test_sequence_is_per_agency_kind_and_year_and_restarts_each_year(dw):
    take = numbering.take_number
    with transaction.atomic():
        assert [take(agency=dw.amr_changan, kind_code="penalty_decision", year=2026) for _ in range(3)] == [1, 2, 3]
        assert take(agency=dw.amr_changan, kind_code="penalty_notice", year=2026) == 1
        assert take(agency=dw.amr_zhengding, kind_code="penalty_decision", year=2026) == 1
        assert take(agency=dw.amr_changan, kind_code="penalty_decision", year=2027) == 1
        assert take(agency=dw.amr_changan, kind_code="penalty_decision", year=2026) == 4


def test_issued_numbers_follow_the_agency_pattern(dw):
    first = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    year = first.year
    assert first.number == f"冀石长市监听〔{year}〕1号" and first.seq == 1
    services.set_number_pattern(actor=dw.u_admin, agency=dw.amr_changan, kind="hearing_notice",
                                pattern="{abbr}{kind_char}字〔{year}〕第{seq:03d}号")
    second = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    assert second.number == f"冀石长市监听字〔{year}〕第002号"
    other = services.issue_document(actor=dw.u_zhengding, case=dw.case_zhengding, kind="hearing_notice", data=HEARING_NOTICE)
    assert other.number == f"冀石正市监听〔{year}〕1号"
    record = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="statement_record", data={
        "held_at": "2026年3月25日", "place": "本局询问室", "speaker": "张三", "officers": "王建国、李秀英",
        "recorder": "李秀英", "statement": "对违法事实无异议，请求从轻处罚。"})
    assert record.number is None and record.seq is None  # 笔录 are not numbered


def test_a_rolled_back_issue_leaves_no_gap(dw):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
            raise RuntimeError("the caller's transaction fails after the issue")
    assert not Document.objects.exists()
    assert not DocumentCounter.objects.filter(last_seq__gt=0).exists()
    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    assert doc.seq == 1


def test_a_failed_render_consumes_no_number_and_leaves_no_file(dw, monkeypatch):
    from django.core.files.storage import default_storage

    from sanxiang.documents import render

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(render, "render_pdf", broken)
    with pytest.raises(OSError):
        services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    monkeypatch.undo()
    assert not Document.objects.exists() and not AuditEntry.objects.filter(action="document.issue").exists()
    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    assert doc.seq == 1
    assert default_storage.exists(doc.pdf.name) and default_storage.exists(doc.docx.name)


@pytest.mark.django_db(transaction=True)
def test_concurrent_issuing_on_postgresql_is_unique_and_gapless(request):
    """8 threads × 25 issues of one kind in one agency: numbers 1..200, each
    once, every one belonging to a stored document."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://...")
    dw = request.getfixturevalue("dw")
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker():
        try:
            start.wait()
            for _ in range(25):
                services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    seqs = sorted(Document.objects.filter(kind="hearing_notice").values_list("seq", flat=True))
    assert seqs == list(range(1, 201))
    numbers = list(Document.objects.values_list("number", flat=True))
    assert len(set(numbers)) == 200
    assert DocumentCounter.objects.get(agency=dw.amr_changan, kind="hearing_notice").last_seq == 200


# --- validation and the review hook ----------------------------------------------------

def test_a_missing_required_field_is_named_and_nothing_is_issued(dw):
    data = dict(DECISION_DATA)
    del data["basis"]
    with pytest.raises(ValidationError) as exc:
        services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision", data=data)
    assert "basis" in exc.value.message_dict and "处罚依据" in exc.value.message_dict["basis"][0]
    with pytest.raises(ValidationError) as exc:
        services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision",
                                data={**DECISION_DATA, "fine": "五万"})
    assert "fine" in exc.value.message_dict and "罚款金额" in exc.value.message_dict["fine"][0]
    with pytest.raises(ValidationError) as exc:
        services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision",
                                data={**DECISION_DATA, "fines": "1"})
    assert "fines" in exc.value.message_dict
    assert not Document.objects.exists() and not DocumentCounter.objects.exists()


def test_an_agency_without_abbreviation_cannot_number(dw):
    from sanxiang.cases.models import Case

    from sanxiang.core import services as core_services
    from sanxiang.core.models import Role

    lunan = core_services.create_user(actor="t", username="lunan_officer", password=dw.password, role=Role.OFFICER,
                                      agency=dw.amr_lunan)
    case = Case.objects.create(agency=dw.amr_lunan, title="路南案", act_kind="penalty", opened_on=date(2026, 3, 1),
                               party_name="某公司", party_type="legal_person", created_by=lunan)
    with pytest.raises(ValidationError) as exc:
        services.issue_document(actor=lunan, case=case, kind="hearing_notice", data=HEARING_NOTICE)
    assert "short_name" in exc.value.message_dict


def _review_hook(monkeypatch, fn) -> None:
    """Make ``fn`` the one decision guard registered with the cases app
    (``sanxiang.cases.registry``) for one test, in place of the review app's."""
    from sanxiang.cases import registry

    monkeypatch.setattr(registry, "DECISION_GUARDS", [fn])


def test_the_review_hook_blocks_a_decision_number(dw, monkeypatch):
    _review_hook(monkeypatch, lambda case: "本案属于重大执法决定，法制审核未通过前不得作出决定。")
    with pytest.raises(ValidationError) as exc:
        services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision", data=DECISION_DATA)
    assert "法制审核" in str(exc.value)
    # Other kinds are not gated; and with no block the decision is issued.
    services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    _review_hook(monkeypatch, lambda case: None)
    assert services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision",
                                   data=DECISION_DATA).seq == 1


def test_money_in_capitals():
    assert money_upper(Decimal("50000")) == "伍万元整"
    assert money_upper(Decimal("10020.5")) == "壹万零贰拾元伍角"
    assert money_upper(Decimal("5000.05")) == "伍仟元零伍分"
    assert money_upper(Decimal("100010000")) == "壹亿零壹万元整"
    assert money_upper(Decimal("1005")) == "壹仟零伍元整"
    assert money_upper(Decimal("0")) == "零元整"


def test_line_breaking_keeps_closing_marks_off_the_line_start():
    lines = wrap_text("一二三四。五六七八（九）", 4, lambda s: float(len(s)))
    assert lines[0] == "一二三四。"  # the full stop hangs rather than start a line
    assert not any(line[:1] in "。，）" for line in lines)
    assert all(not line.endswith("（") for line in lines)
    assert wrap_text("代码9113ABCD", 8, lambda s: float(len(s))) == ["代码", "9113ABCD"]  # a code is not split


# --- rendering -------------------------------------------------------------------------

def _pdf_fonts(pdf: bytes) -> list[bytes]:
    return re.findall(rb"/FontFile[23]?\b", pdf)


def test_pdf_embeds_its_font_and_renders_chinese_text(dw, tmp_path):
    import pypdfium2 as pdfium

    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision", data=DECISION_DATA)
    data = doc.pdf.read()
    assert hashlib_sha256(data) == doc.pdf_sha256
    assert _pdf_fonts(data), "no embedded font program (FontFile2/FontFile3)"
    assert re.search(rb"/BaseFont\s*/[A-Z]{6}\+Noto(Sans|Serif)CJK", data), "the font is not subset-embedded"
    pdf = pdfium.PdfDocument(data)
    page = pdf[0]
    text = page.get_textpage().get_text_range()
    assert "行政处罚决定书" in text and doc.number in text and "石家庄康乐商贸有限公司" in text
    image = page.render(scale=1).to_pil().convert("L")
    width, height = image.size
    dark = sum(image.histogram()[:128])
    assert dark > 2000, "page 1 is blank"
    title_band = image.crop((0, int(height * 0.10), width, int(height * 0.22)))
    assert sum(title_band.histogram()[:128]) > 500, "no text in the title region"
    image.save(tmp_path / "page1.png")


def test_docx_has_the_number_the_chinese_text_and_east_asian_fonts(dw):
    from docx import Document as Docx
    from docx.oxml.ns import qn

    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision", data=DECISION_DATA)
    word = Docx(io.BytesIO(doc.docx.read()))
    text = "\n".join(p.text for p in word.paragraphs)
    assert doc.number in text and "行政处罚决定书" in text and "人民币伍万元整（¥50,000.00）" in text
    assert "《中华人民共和国行政处罚法》第七十二条" in text
    title_run = word.paragraphs[1].runs[0]
    assert title_run.font.size.pt == 22 and title_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    body_run = next(p for p in word.paragraphs if p.text.startswith("经查明")).runs[0]
    assert body_run.font.size.pt == 16 and body_run._element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_a_table_form_and_a_rare_character_render(dw):
    import pypdfium2 as pdfium

    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="case_opening", data={
        "case_source": "投诉举报", "discovered_on": "2026-03-01", "party_address": "石家庄市长安区中山东路100号",
        "summary": "接消费者投诉，当事人涉嫌销售过期食品。", "suspected_provision": "《中华人民共和国食品安全法》第三十四条",
        "officers": "王建国、李秀英", "undertaker_opinion": "建议立案调查。", "legal_representative": "王喆堃"})
    text = pdfium.PdfDocument(doc.pdf.read())[0].get_textpage().get_text_range()
    assert "立案审批表" in text and "王喆堃" in text  # 喆 and 堃 are outside GB 2312: the full face is used


def test_preview_has_no_number_and_consumes_none(dw):
    import pypdfium2 as pdfium

    pdf = services.render_preview(case=dw.case_changan, kind="penalty_decision", data={"facts": "草稿"})
    text = pdfium.PdfDocument(pdf)[0].get_textpage().get_text_range()
    assert "文号待生成" in text
    assert not DocumentCounter.objects.exists() and not Document.objects.exists()


# --- pages and API ---------------------------------------------------------------------

def test_downloads_are_scoped_and_audited(dw, settings):
    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision", data=DECISION_DATA)
    own = login(dw.u_changan, settings)
    r = own.get(f"/documents/{doc.pk}/download.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert hashlib_sha256(b"".join(r.streaming_content)) == doc.pdf_sha256
    assert own.get(f"/documents/{doc.pk}/download.docx").status_code == 200
    page = own.get(f"/documents/case/{dw.case_changan.pk}/")
    assert page.status_code == 200 and doc.number in page.content.decode()
    downloads = AuditEntry.objects.filter(action="document.download", object_id=str(doc.pk))
    assert sorted(e.payload and __import__("json").loads(e.payload)["format"] for e in downloads) == ["docx", "pdf"]

    other = login(dw.u_zhengding, settings)  # another county's officer
    assert other.get(f"/documents/{doc.pk}/download.pdf").status_code == 404
    assert other.get(f"/documents/case/{dw.case_changan.pk}/").status_code == 404
    assert Client().get(f"/documents/{doc.pk}/download.pdf").status_code == 302
    supervisor = login(dw.u_legal_sjz, settings)  # the city's legal office supervises 长安区
    assert supervisor.get(f"/documents/{doc.pk}/download.pdf").status_code == 200
    assert login(dw.u_legal_ts, settings).get(f"/documents/{doc.pk}/download.pdf").status_code == 404
    assert AuditEntry.objects.filter(action="document.download", object_id=str(doc.pk)).count() == 3


def test_api_lists_and_serves_documents_within_scope(dw):
    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision", data=DECISION_DATA)
    _, clear = create_token(actor="t", agency=dw.amr_changan, name="办案系统", scopes=["read"])
    api = Client(HTTP_AUTHORIZATION=f"Bearer {clear}")
    listed = api.get(f"/api/v1/documents/cases/{dw.case_changan.pk}")
    assert listed.status_code == 200 and listed.json()[0]["number"] == doc.number
    assert api.get(f"/api/v1/documents/{doc.pk}").json()["pdf_sha256"] == doc.pdf_sha256
    r = api.get(f"/api/v1/documents/{doc.pk}/pdf")
    assert r.status_code == 200 and hashlib_sha256(b"".join(r.streaming_content)) == doc.pdf_sha256
    assert AuditEntry.objects.filter(action="document.download", object_id=str(doc.pk)).count() == 1
    kinds = api.get("/api/v1/documents/kinds").json()
    assert any(k["code"] == "penalty_decision" and k["kind_char"] == "罚" for k in kinds)

    _, other = create_token(actor="t", agency=dw.amr_zhengding, name="办案系统", scopes=["read"])
    other_api = Client(HTTP_AUTHORIZATION=f"Bearer {other}")
    assert other_api.get(f"/api/v1/documents/{doc.pk}/pdf").status_code == 404
    assert other_api.get(f"/api/v1/documents/cases/{dw.case_changan.pk}").status_code == 404
    _, no_read = create_token(actor="t", agency=dw.amr_changan, name="上传终端", scopes=["evidence:upload"])
    r = Client(HTTP_AUTHORIZATION=f"Bearer {no_read}").get(f"/api/v1/documents/{doc.pk}")
    assert r.status_code == 403 and r.json()["code"] == "scope_missing"


def test_issue_is_audited_with_the_file_hashes(dw):
    import json

    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="hearing_notice", data=HEARING_NOTICE)
    entry = AuditEntry.objects.get(action="document.issue", object_id=str(doc.pk))
    payload = json.loads(entry.payload)
    assert payload["number"] == doc.number and payload["pdf_sha256"] == doc.pdf_sha256
    assert entry.actor == dw.u_changan.username


def hashlib_sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def test_an_officer_issues_a_document_from_the_case_page_and_errors_name_the_field(world, settings):
    """The issue form is generated from the kind's fields; a missing required
    field is named and nothing is issued; a complete form issues a number."""
    from django.test import Client

    from sanxiang.cases.models import Case
    from sanxiang.documents.models import Document

    settings.REQUIRE_TOTP = False
    case = Case.objects.create(agency=world.amr_changan, title="某超市销售过期食品案", act_kind="penalty",
                               opened_on=date(2026, 9, 1), party_name="某超市", party_type="legal_person",
                               created_by=world.u_changan)
    world.amr_changan.short_name = "长市监"
    world.amr_changan.save(update_fields=["short_name"])
    client = Client()
    client.force_login(world.u_changan)
    url = f"/documents/case/{case.pk}/issue/case_opening/"
    page = client.get(url)
    assert page.status_code == 200
    r = client.post(url, {})
    assert r.status_code == 400 and Document.objects.count() == 0
    assert "notice error" in r.content.decode()
    complete = {"case_source": "投诉举报", "discovered_on": "2026-08-28", "party_address": "石家庄市长安区中山东路1号",
                "summary": "当事人涉嫌销售超过保质期的食品。", "suspected_provision": "《中华人民共和国食品安全法》第三十四条第（十）项",
                "officers": "王建国、李秀英", "undertaker_opinion": "建议立案调查。"}
    r = client.post(url, complete)  # first the draft to check: nothing issued yet
    assert r.status_code == 200 and "生成文号并出具" in r.content.decode() and Document.objects.count() == 0
    r = client.post(url, {**complete, "action": "issue", "confirm": "1"})
    assert r.status_code == 302
    document = Document.objects.get(case=case)
    assert document.number.startswith("长市监") and document.number.endswith("〔2026〕1号")
    assert document.number in client.get(f"/documents/case/{case.pk}/").content.decode()
    other = Client()
    other.force_login(world.u_zhengding)
    assert other.get(url).status_code == 404
