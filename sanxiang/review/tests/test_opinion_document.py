"""The 法制审核意见书 the review app issues names the 承办机构 and its officers
and carries the reviewer's written opinion (issue 11 item 6: both were
missing — the unit was the words "案件承办机构" and the opinion text never
reached the document)."""

from __future__ import annotations

import pypdfium2 as pdfium

from sanxiang.core import services as core_services
from sanxiang.review import services

from .conftest import ALL_PASS, PARTS


def test_the_opinion_document_names_the_handling_unit_and_carries_the_written_opinion(rw, make_case, file_catalogue):
    core_services.update_agency(actor="t", agency=rw.amr_changan, short_name="冀石长市监")
    file_catalogue()
    case = make_case(fine_yuan=120000)
    submission = services.submit_for_review(actor=rw.u_changan, case=case, parts=PARTS)
    services.assign_reviewer(actor=rw.head, submission=submission, reviewer=rw.reviewer)
    opinion = "案件事实清楚，证据确实充分，适用依据正确，程序合法，裁量适当，同意作出处罚决定"
    submission = services.record_opinion(actor=rw.u_reviewer, submission=submission, checklist=ALL_PASS,
                                         opinion_text=opinion)
    doc = services.issue_opinion_document(actor=rw.u_reviewer, submission=submission)
    assert doc.data["submitting_unit"] == rw.amr_changan.name and doc.data["opinion"] == opinion
    assert doc.data["officers"].startswith(f"{rw.changan_officer.name}（执法证号：") or \
        doc.data["officers"].startswith(f"{rw.changan_officer2.name}（执法证号：")
    text = "".join(page.get_textpage().get_text_range() for page in pdfium.PdfDocument(doc.pdf.read()))
    flat = text.replace("\r", "").replace("\n", "")
    assert "承办机构" in flat and rw.amr_changan.name in flat and rw.changan_officer.certificate_number in flat
    assert f"审核意见：{opinion}。" in flat
