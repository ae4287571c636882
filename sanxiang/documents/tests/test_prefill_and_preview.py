"""Documents officers do not retype (issue 11 item 6; 记录-2, 记录-3): the
forms start from the case, a draft (草稿, no number) comes before the
irreversible "生成文号并出具", and the issued text reads like an official
document (fonts of GB/T 9704, sentence ends, the 法制审核意见书's 承办机构 and
opinion, the 立案审批表's labels)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, datetime, time
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone

from sanxiang.cases import services as case_services
from sanxiang.catalog import services as catalog_services
from sanxiang.catalog.models import CatalogueKind
from sanxiang.catalog.tests.conftest import enforcement_row, headers, xlsx
from sanxiang.conftest import log_in, make_user, no_horizontal_scroll
from sanxiang.core import fonts
from sanxiang.core.models import AuditEntry, Role
from sanxiang.documents import selectors, services
from sanxiang.documents.kinds import get_kind
from sanxiang.documents.models import Document, DocumentCounter
from sanxiang.documents.render import DOCX_BODY_FONT, DOCX_TITLE_FONT, build_context, layout
from sanxiang.documents.values import normalize_sentence
from sanxiang.evidence.demo import scene_jpeg, upload_demo_file

OPENING = {"case_source": "投诉举报", "discovered_on": "2026-08-28", "party_address": "石家庄市长安区中山东路1号",
           "legal_representative": "张三", "summary": "当事人销售超过保质期的酸奶12盒",
           "suspected_provision": "《中华人民共和国食品安全法》第三十四条第（十）项",
           "officers": "王建国、李秀英", "undertaker_opinion": "建议立案调查"}


@pytest.fixture(autouse=True)
def _no_totp(settings):
    settings.REQUIRE_TOTP = False


def at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def file_enforcement_items(world, *rows):
    """The agency's enforcement-item list (公示-3), filed and accepted."""
    editor = make_user("pub_changan", Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    kind = CatalogueKind.ENFORCEMENT_ITEMS
    version = catalog_services.start_draft(actor=editor, agency=world.amr_changan, kind=kind)
    catalog_services.import_items(actor=editor, version=version, data=xlsx(headers(kind), list(rows)))
    catalog_services.submit_version(actor=editor, version=version, effective_date=date(2026, 1, 1))
    return catalog_services.accept_version(actor=world.u_legal_sjz, version=version)


@pytest.fixture
def worked(dw):
    """A penalty case opened with two officers, its 立案审批表 issued, a photo
    uploaded in the investigation and a fine of 50,000 yuan proposed."""
    dw.changan_officer.user = dw.u_changan  # the officer's login account (fixture data)
    dw.changan_officer.save(update_fields=["user"])
    case = case_services.open_case(
        actor=dw.u_changan, agency=dw.amr_changan, title="某超市销售过期食品案", act_kind="penalty", procedure="general",
        party_name="石家庄某某超市有限公司", party_type="legal_person", party_credit_code="91130102MA0A1B2C3D",
        opened_on=date(2026, 9, 1), officers=[dw.changan_officer, dw.changan_officer2])
    opening = case_services.start_step(actor=dw.u_changan, case=case, code="opening", at=at(date(2026, 9, 1), 9))
    services.issue_document(actor=dw.u_changan, case=case, kind="case_opening", data=OPENING)
    case_services.complete_step(actor=dw.u_changan, step=opening, at=at(date(2026, 9, 1), 10))
    investigation = case_services.start_step(actor=dw.u_changan, case=case, code="investigation",
                                             at=at(date(2026, 9, 2), 9))
    upload_demo_file(actor=dw.u_changan, case=case, step=investigation, data=scene_jpeg(), filename="货架.jpg",
                     captured_at=at(date(2026, 9, 2), 9), place="当事人经营场所")
    case_services.propose_decision(actor=dw.u_changan, case=case, categories=["罚款"], fine_fen=5_000_000)
    case.refresh_from_db()
    return case


def test_the_forms_start_from_the_case_its_documents_evidence_and_enforcement_item(dw, worked):
    case = worked
    file_enforcement_items(dw, enforcement_row(1, "对销售过期食品的行政处罚"), enforcement_row(2, "对销售不合格商品的行政处罚"))
    decision = get_kind("penalty_decision")
    values, items, chosen = selectors.prefill_for(user=dw.u_changan, case=case, kind=decision)
    # what the 立案审批表 said (the summary is the decision's facts), the party's address and representative
    assert values["party_address"] == "石家庄市长安区中山东路1号" and values["legal_representative"] == "张三"
    assert values["facts"] == "当事人销售超过保质期的酸奶12盒"
    assert values["violated_provision"] == "《中华人民共和国食品安全法》第三十四条第（十）项"
    # the evidence list from the evidence items, the proposed penalty and amounts
    assert values["evidence"] == ["现场照片（货架.jpg）：2026年9月2日9时00分，当事人经营场所"]
    assert values["penalty"] == "罚款人民币50,000元" and values["fine"] == "50000.00"
    # two enforcement items: none is guessed, the one picked fills the basis
    assert [i.name for i in items] == ["对销售过期食品的行政处罚", "对销售不合格商品的行政处罚"] and chosen is None
    assert "basis" not in values
    values, _, chosen = selectors.prefill_for(user=dw.u_changan, case=case, kind=decision, item_id=items[1].pk)
    assert chosen == items[1] and values["basis"] == "《中华人民共和国产品质量法》第2条"
    # the officers with their certificate numbers where a kind names them
    inspection, _, _ = selectors.prefill_for(user=dw.u_changan, case=case, kind=get_kind("inspection_record"))
    assert inspection["inspectors"] == (f"王建国（执法证号：{dw.changan_officer.certificate_number}）、"
                                        f"李秀英（执法证号：{dw.changan_officer2.certificate_number}）")
    assert "started_at" not in inspection  # an event's own time is never carried over
    # the page shows them in editable fields, dates and times as pickers, yes/no as switches
    c = Client()
    c.force_login(dw.u_changan)
    page = c.get(f"/documents/case/{case.pk}/issue/penalty_decision/?item={items[1].pk}").content.decode()
    assert ">当事人销售超过保质期的酸奶12盒</textarea>" in page and 'value="50000.00"' in page
    assert "《中华人民共和国产品质量法》第2条" in page and "现场照片（货架.jpg）" in page
    notice = c.get(f"/documents/case/{case.pk}/issue/penalty_notice/").content.decode()
    assert re.search(r'<input type="checkbox" role="switch" id="f-hearing_right"', notice)
    record = c.get(f"/documents/case/{case.pk}/issue/inspection_record/").content.decode()
    assert 'type="datetime-local" id="f-started_at"' in record
    assert c.get(f"/documents/case/{case.pk}/issue/penalty_decision/?item=abc").status_code == 200  # no 500


def test_a_single_enforcement_item_fills_the_basis_without_asking(dw, worked):
    file_enforcement_items(dw, enforcement_row(7, "对销售过期食品的行政处罚"))
    values, items, chosen = selectors.prefill_for(user=dw.u_changan, case=worked, kind=get_kind("penalty_notice"))
    assert len(items) == 1 and chosen == items[0] and values["basis"] == "《中华人民共和国产品质量法》第7条"


def test_a_draft_preview_takes_no_number_and_records_nothing(dw, worked):
    case = worked
    c = Client()
    c.force_login(dw.u_changan)
    url = f"/documents/case/{case.pk}/issue/penalty_notice/"
    data = {"facts": "当事人销售过期食品", "evidence": "现场照片\n询问笔录", "violated_provision": "《食品安全法》第三十四条",
            "basis": "《食品安全法》第一百二十四条", "proposed_penalty": "罚款人民币50,000元。", "hearing_right": "1",
            "contact": "王建国 0311-85000000"}
    before = (Document.objects.count(), DocumentCounter.objects.count(), AuditEntry.objects.count())
    confirm = c.post(url, {**data, "action": "preview"})
    text = confirm.content.decode()
    assert confirm.status_code == 200 and "草稿" in text and "生成文号并出具" in text and "不能撤销" in text
    pdf = c.post(f"{url}preview.pdf", data)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    import pypdfium2 as pdfium

    page_text = pdfium.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert "草稿" in page_text and "文号待生成" in page_text and "〔2026〕" not in page_text
    assert "陈述、申辩" in page_text and "要求听证的权利" in page_text  # the switch turned the hearing paragraph on
    # an issue without the confirmation only shows the confirmation again
    again = c.post(url, {**data, "action": "issue"})
    assert "生成文号并出具" in again.content.decode()
    assert (Document.objects.count(), DocumentCounter.objects.count(), AuditEntry.objects.count()) == before
    # the number sequence was not touched: the confirmed issue takes number 1
    done = c.post(url, {**data, "action": "issue", "confirm": "1"})
    assert done.status_code == 302
    notice = Document.objects.get(case=case, kind="penalty_notice")
    assert notice.number == "冀石长市监告〔2026〕1号" and notice.data["hearing_right"] is True


@pytest.mark.parametrize(("entered", "mended"), [
    ("拟作出如下决定：罚款五万元。。", "拟作出如下决定：罚款五万元。"),
    ("经查明：当事人销售过期食品", "经查明：当事人销售过期食品。"),
    ("当事人未提出陈述申辩，。", "当事人未提出陈述申辩。"),
    ("当事人未提出陈述申辩；。", "当事人未提出陈述申辩。"),
    ("事实一。，事实二", "事实一，事实二。"),
    ("第一行\n第二行。", "第一行。\n第二行。"),
    ("罚款：人民币伍万元整（¥50,000.00）。", "罚款：人民币伍万元整（¥50,000.00）。"),
    ("上述事实，有以下证据证明：", "上述事实，有以下证据证明："),
    ("（详见所附清单）", "（详见所附清单）"),
    ("当事人陈述：“我不知道已过期。”", "当事人陈述：“我不知道已过期。”"),
    ("金额为50,000.00", "金额为50,000.00。"),
    ("", ""),
])
def test_sentence_ends_of_entered_text_are_mended(entered, mended):
    assert normalize_sentence(entered) == mended


def test_an_entered_clause_meets_the_template_with_one_full_stop(dw, worked):
    kind = get_kind("penalty_notice")
    values = {"facts": "当事人销售过期食品", "evidence": ["现场照片"], "violated_provision": "《食品安全法》第三十四条",
              "basis": "《食品安全法》第一百二十四条", "proposed_penalty": "罚款人民币50,000元。", "contact": "王建国"}
    ctx = build_context(case=worked, kind=kind, values=values, number=None, issued_at=timezone.now())
    text = "\n".join(line.text for line in layout(kind, ctx))
    assert "经查，当事人销售过期食品。" in text  # the 。 the officer did not type
    assert "罚款人民币50,000元。" in text and "。。" not in text  # the one they did, not doubled


def _docx_part(data: bytes, name: str) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name).decode()


def test_the_docx_names_the_gbt9704_fonts_in_its_styles(dw):
    from sanxiang.documents.tests.conftest import DECISION_DATA

    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="penalty_decision", data=DECISION_DATA)
    data = doc.docx.read()
    styles = _docx_part(data, "word/styles.xml")
    assert DOCX_TITLE_FONT == "方正小标宋简体" and DOCX_BODY_FONT == "仿宋_GB2312"
    assert re.search(r'w:eastAsia="仿宋_GB2312"', styles), "the body font is not in the Normal style"
    assert re.search(r'w:styleId="[^"]*".{0,400}?w:eastAsia="方正小标宋简体"', styles, re.S), "no title style"
    body = _docx_part(data, "word/document.xml")
    assert 'w:eastAsia="方正小标宋简体"' in body and 'w:eastAsia="仿宋_GB2312"' in body


@pytest.fixture(scope="module")
def test_font(tmp_path_factory) -> Path:
    """A small CJK font of its own name (TestSerifCJK-Regular), cut from the
    packaged face, to configure as the server's font."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    source = fonts._packaged_face()
    font = TTFont(str(source.path), fontNumber=source.collection_index)
    options = subset.Options(notdef_outline=True, name_IDs=["*"])
    options.layout_features = []
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "VORG", "vhea", "vmtx"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(text="国行政处罚决定书石家庄市长安区市场监督管理局")
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 3, 4, 6, 16):
            record.string = "TestSerifCJK-Regular" if record.nameID in (3, 6) else "Test Serif CJK"
    font["CFF "].cff.fontNames = ["TestSerifCJK-Regular"]
    path = tmp_path_factory.mktemp("fonts") / "TestSerifCJK-Regular.otf"
    font.save(str(path))
    return path


def _base_font(pdf: bytes) -> str:
    match = re.search(rb"/BaseFont\s*/[A-Z]{6}\+([A-Za-z-]+)", pdf)
    return match.group(1).decode().lower() if match else ""


def test_the_pdf_uses_the_configured_font_and_falls_back_to_the_packaged_one(dw, settings, test_font, monkeypatch):
    from sanxiang.documents.tests.conftest import DECISION_DATA

    def preview() -> bytes:
        return services.render_preview(case=dw.case_changan, kind="penalty_decision", data=DECISION_DATA)

    settings.DOCUMENT_PDF_FONT = str(test_font)
    assert _base_font(preview()).startswith("testserifcjk")
    settings.DOCUMENT_PDF_FONT = str(test_font.parent / "missing.otc")  # configured but not installed
    assert _base_font(preview()).startswith("notosanscjksc")
    settings.DOCUMENT_PDF_FONT = "packaged"
    assert _base_font(preview()).startswith("notosanscjksc")
    # empty: detected among the distributions' usual places
    settings.DOCUMENT_PDF_FONT = ""
    monkeypatch.setattr(fonts, "SYSTEM_SERIF_CANDIDATES", (str(test_font.parent / "none.ttc"), str(test_font)))
    assert _base_font(preview()).startswith("testserifcjk")
    monkeypatch.setattr(fonts, "SYSTEM_SERIF_CANDIDATES", (str(test_font.parent / "none.ttc"),))
    assert _base_font(preview()).startswith("notosanscjksc")
    debian = Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")
    if debian.is_file():  # where fonts-noto-cjk is installed, its Simplified Chinese serif face is the one used
        monkeypatch.setattr(fonts, "SYSTEM_SERIF_CANDIDATES", (str(debian),))
        face = fonts.full_font()
        assert face.path == debian and face.postscript_name == "NotoSerifCJKsc-Regular"


def test_the_legal_review_opinion_carries_the_handling_unit_and_the_written_opinion(dw):
    import pypdfium2 as pdfium

    reviewer = make_user("reviewer_changan", Role.LEGAL_REVIEWER, agency=dw.amr_changan)
    doc = services.issue_document(actor=reviewer, case=dw.case_changan, kind="legal_review_opinion", through="review", data={
        "submitted_on": "2026-09-10", "submitting_unit": dw.amr_changan.name, "officers": "王建国、李秀英",
        "proposed_decision": "罚款人民币50,000元。", "conclusion": "同意",
        "opinion": "案件事实清楚，证据确实充分，适用依据正确，程序合法，裁量适当", "reviewers": "陈法制"})
    pdf = pdfium.PdfDocument(doc.pdf.read())
    text = "".join(page.get_textpage().get_text_range() for page in pdf)
    assert "承办机构" in text and "石家庄市长安区市场监督管理局" in text and "王建国、李秀英" in text
    assert "审核意见：案件事实清楚，证据确实充分，适用依据正确，程序合法，裁量适当。" in text.replace("\r\n", "").replace("\n", "")
    assert "罚款人民币50,000元。" in text and "。。" not in text


def test_the_case_opening_labels_break_only_where_the_template_says(dw):
    """立案审批表: the label column fits its longest label line, so no label
    is split inside a word or number (the PDF's text lines are the labels'
    own lines)."""
    import pypdfium2 as pdfium

    from sanxiang.documents.tests.test_step_documents import OPENING as OPENING_DATA

    doc = services.issue_document(actor=dw.u_changan, case=dw.case_changan, kind="case_opening", data=OPENING_DATA)
    text = pdfium.PdfDocument(doc.pdf.read())[0].get_textpage().get_text_range()
    lines = [line.strip() for line in text.splitlines()]
    for label in ("统一社会信用代码", "（身份证件号码）", "法定代表人", "（负责人）", "涉嫌违反的", "法律规定",
                  "承办机构", "负责人意见", "机关负责人", "审批意见"):
        assert any(line.startswith(label) for line in lines), (label, lines)
    assert "91130102MA0A1B2C3D" in text


def test_an_officer_fills_previews_and_issues_a_prefilled_document_on_a_phone(browser_page, dw, worked):
    case = worked
    pg = browser_page
    log_in(pg, "changan_officer", dw.password)
    pg.goto(pg.base + f"/documents/case/{case.pk}/")
    pg.click("text=行政处罚事先告知书")
    assert pg.input_value("#f-facts") == "当事人销售超过保质期的酸奶12盒"
    assert pg.input_value("#f-violated_provision") == "《中华人民共和国食品安全法》第三十四条第（十）项"
    assert "现场照片（货架.jpg）" in pg.input_value("#f-evidence")
    assert pg.input_value("#f-proposed_penalty") == "罚款人民币50,000元"
    assert pg.get_attribute("#f-hearing_right", "type") == "checkbox"
    assert no_horizontal_scroll(pg)
    pg.fill("#f-basis", "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项")
    pg.fill("#f-contact", "王建国 0311-85000000")
    pg.fill("#f-evidence", pg.input_value("#f-evidence") + "\n询问笔录")
    pg.check("#f-hearing_right")
    pg.click("button[value=preview]")
    assert "草稿" in pg.inner_text("h1") and Document.objects.filter(kind="penalty_notice").count() == 0
    assert no_horizontal_scroll(pg)
    with pg.expect_popup() as popup:  # the draft PDF opens beside the confirmation
        pg.click("text=查看草稿（PDF）")
    popup.value.wait_for_load_state()
    assert popup.value.url.endswith(f"/documents/case/{case.pk}/issue/penalty_notice/preview.pdf")
    popup.value.close()
    assert Document.objects.filter(kind="penalty_notice").count() == 0
    pg.click("text=生成文号并出具")
    pg.wait_for_url(re.compile(rf".*/documents/case/{case.pk}/$"))
    notice = Document.objects.get(case=case, kind="penalty_notice")
    assert notice.number in pg.content() and notice.data["hearing_right"] is True
    assert notice.data["facts"] == "当事人销售超过保质期的酸奶12盒"
    assert notice.data["evidence"] == ["现场照片（货架.jpg）：2026年9月2日9时00分，当事人经营场所", "询问笔录"]


def test_times_and_switches_are_stored_in_one_form_and_refused_with_their_codes():
    from django.core.exceptions import ValidationError

    from sanxiang.documents.values import clean_data, print_value

    notice = get_kind("hearing_notice")
    base = {"requested_on": "2026-09-02", "hearing_place": "本局听证室", "presiding_officer": "刘明", "clerk": "陈静",
            "contact": "王建国"}
    cleaned = clean_data(notice, {**base, "hearing_time": "2026-09-14 09:30", "public": "公开"})
    assert cleaned["hearing_time"] == "2026-09-14T09:30" and cleaned["public"] is True
    assert print_value(notice.field_spec("hearing_time"), cleaned["hearing_time"]) == "2026年9月14日9时30分"
    assert print_value(notice.field_spec("public"), False) == "不公开"
    assert clean_data(notice, {**base, "hearing_time": "9月14日上午9时30分许"})["hearing_time"] == "9月14日上午9时30分许"
    assert clean_data(notice, {**base, "hearing_time": "2026-09-14T09:30"})["public"] is False  # a switch left off
    with pytest.raises(ValidationError) as refused:
        clean_data(notice, {**base, "hearing_time": "2026-09-14T09:30", "public": "也许"})
    assert refused.value.error_dict["public"][0].code == "invalid_choice"
    with pytest.raises(ValidationError) as refused:
        clean_data(notice, {**base, "hearing_time": "时" * 65})
    assert refused.value.error_dict["hearing_time"][0].code == "invalid_datetime"
