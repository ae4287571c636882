"""A published annual report downloads as XLSX, CSV, JSON, DOCX and PDF
(no login), each opening and holding the same numbers as the snapshot: the
decisions, the fine, a category, a manual figure with its note and the
情况说明; a draft has no files."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pytest
from django.test import Client

from sanxiang.core import services as core_services
from sanxiang.core.models import Role
from sanxiang.statistics import annual_services

from .conftest import Builder

pytestmark = pytest.mark.django_db
EXPLANATION = "本年度执法总体平稳，罚款以食品安全领域为主。"


@pytest.fixture
def published(world):
    head = core_services.create_user(actor="t", username="head_a", password=world.password, role=Role.AGENCY_HEAD,
                                     agency=world.amr_changan)
    b = Builder(world)
    b.decision(world.amr_changan, day=date(2026, 4, 4), categories=["警告", "罚款"], fine=88800)
    b.decision(world.amr_changan, day=date(2026, 5, 5), categories=["吊销许可证件"], fine=None)
    report = annual_services.save_draft(actor=head, agency=world.amr_changan, year=2026, explanation=EXPLANATION,
                                        manual={"litigation.count": {"value": "7", "note": "据应诉台账"}})
    return annual_services.publish(actor=head, report=report)


def _get(report, fmt) -> bytes:
    response = Client().get(f"/statistics/annual/public/agencies/{report.agency_id}/2026/report.{fmt}")
    assert response.status_code == 200, fmt
    return response.content


def _holds_the_numbers(text: str) -> None:
    for expected in ("行政处罚决定（件）", "888.00", "吊销许可证件", "行政应诉（件）", "7", "据应诉台账", "本年度执法总体平稳"):
        assert expected in text, expected


def test_json_and_csv_hold_the_snapshot_numbers(published):
    data = json.loads(_get(published, "json"))
    assert data["penalty"]["cases"] == published.snapshot["figures"]["penalty"]["cases"] == 2
    assert data["penalty"]["fine_yuan"] == "888.00" and data["penalty"]["by_category"]["吊销许可证件"] == 1
    assert data["manual"]["litigation.count"] == {"value": "7", "note": "据应诉台账"}
    rows = list(csv.reader(io.StringIO(_get(published, "csv").decode("utf-8-sig"))))
    assert ["统计数据", "行政处罚决定（件）", "2"] == rows[1][:3]
    _holds_the_numbers(json.dumps(rows, ensure_ascii=False))


def test_xlsx_and_docx_open_and_hold_the_numbers(published):
    import openpyxl
    from docx import Document

    book = openpyxl.load_workbook(io.BytesIO(_get(published, "xlsx")))
    cells = [str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "2" in cells and "888.00" in cells
    _holds_the_numbers("\n".join(cells))
    doc = Document(io.BytesIO(_get(published, "docx")))
    text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    _holds_the_numbers(text)


def test_pdf_opens_and_holds_the_numbers(published):
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(_get(published, "pdf"))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    _holds_the_numbers(text.replace("\r", "").replace("\n", ""))


def test_a_draft_has_no_files_and_an_unknown_format_is_not_found(published):
    published.status = "drafted"
    published.save(update_fields=["status"])
    assert Client().get(f"/statistics/annual/public/agencies/{published.agency_id}/2026/report.json").status_code == 404
    published.status = "published"
    published.save(update_fields=["status"])
    assert Client().get(f"/statistics/annual/public/agencies/{published.agency_id}/2026/report.exe").status_code == 404
