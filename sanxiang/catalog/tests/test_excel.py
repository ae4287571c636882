"""Excel import and export of the lists: Chinese headers, per-row error
reports, all or nothing."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from sanxiang.catalog import excel, services
from sanxiang.catalog.models import PUBLIC_KINDS, CatalogueKind, ImportAttempt

from .conftest import ROWS, draft_with, enforcement_row, guide_row, headers, inspection_row, xlsx

ITEMS = CatalogueKind.ENFORCEMENT_ITEMS


def _items(version):
    kind = version.kind
    return [tuple(excel.row_values(kind, item)) for item in version.items()]


def test_an_import_with_two_bad_rows_reports_both_by_row_and_column_and_writes_nothing(cw):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    before = _items(version)
    bad_kind = enforcement_row(5)
    bad_kind[2] = "罚没"  # not an act kind
    no_name = enforcement_row(6)
    no_name[1] = ""
    rows = [enforcement_row(4), bad_kind, enforcement_row(7), no_name]

    result = services.import_items(actor=cw.u_pub_changan, version=version, data=xlsx(headers(ITEMS), rows), filename="bad.xlsx")

    assert not result.ok
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "执法类别"), (5, "事项名称")]
    assert "罚没" in result.errors[0]["problem"] and "执法类别" in result.errors[0]["problem"]
    assert result.errors[1]["problem"]  # Django's own message, in Chinese
    assert any("\u4e00" <= ch <= "\u9fff" for ch in result.errors[1]["problem"])
    assert _items(version) == before  # nothing written
    attempt = ImportAttempt.objects.get(pk=result.attempt.pk)
    assert not attempt.ok and attempt.errors == result.errors and attempt.rows == 4


def test_the_error_report_downloads_as_xlsx_with_row_column_and_problem(cw):
    version = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    dup = enforcement_row(1)
    result = services.import_items(actor=cw.u_pub_changan, version=version,
                                   data=xlsx(headers(ITEMS), [enforcement_row(1), dup]))
    sheet = load_workbook(io.BytesIO(excel.error_report(result.errors))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "问题")
    assert rows[1][:2] == ("3", "事项编码") and "第 2 行重复" in rows[1][2]


def test_missing_headers_are_reported_by_name(cw):
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    hs = headers(ITEMS)
    hs.remove("职责")
    result = services.import_items(actor=cw.u_pub_changan, version=version, data=xlsx(hs, []))
    assert [(e["row"], e["column"]) for e in result.errors] == [(1, "职责")]


def test_a_file_that_is_not_excel_is_refused_cleanly(cw):
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    result = services.import_items(actor=cw.u_pub_changan, version=version, data=b"PK\x03\x04 not really")
    assert not result.ok and result.errors[0]["row"] is None and "Excel" in result.errors[0]["problem"]


@pytest.mark.parametrize("kind", list(PUBLIC_KINDS), ids=str)
def test_export_then_import_gives_the_same_items(cw, kind):
    original = draft_with(editor=cw.u_pub_changan, agency=cw.amr_changan, kind=kind)
    exported = excel.export_items(kind, original.items())
    services.submit_version(actor=cw.u_pub_changan, version=original, effective_date=date(2026, 1, 1))
    services.accept_version(actor=cw.u_legal_sjz, version=original)

    copy = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=kind)
    services.import_items(actor=cw.u_pub_changan, version=copy, data=xlsx(headers(kind), []))  # refused: empty
    result = services.import_items(actor=cw.u_pub_changan, version=copy, data=exported)
    assert result.ok, result.errors
    assert _items(copy) == _items(original)
    assert len(_items(copy)) == len(ROWS[kind]())


def test_the_ratio_accepts_percent_text_numbers_and_percent_formatted_cells(cw):
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=CatalogueKind.INSPECTION_ITEMS)
    book = Workbook()
    sheet = book.active
    sheet.append(headers(CatalogueKind.INSPECTION_ITEMS))
    for n, ratio in enumerate(["3%", 10, "2.5", 0.05], start=1):
        row = inspection_row(n)
        row[6] = ratio
        sheet.append(row)
    sheet.cell(row=5, column=7).number_format = "0%"
    buf = io.BytesIO()
    book.save(buf)
    result = services.import_items(actor=cw.u_pub_changan, version=version, data=buf.getvalue())
    assert result.ok, result.errors
    assert [i.ratio for i in version.items()] == [Decimal("3.00"), Decimal("10.00"), Decimal("2.50"), Decimal("5.00")]


def test_a_ratio_over_100_percent_is_a_row_error(cw):
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=CatalogueKind.INSPECTION_ITEMS)
    row = inspection_row(1)
    row[6] = "120%"
    result = services.import_items(actor=cw.u_pub_changan, version=version, data=xlsx(headers(CatalogueKind.INSPECTION_ITEMS), [row]))
    assert [(e["row"], e["column"]) for e in result.errors] == [(2, "抽查比例")]


def test_a_service_guide_needs_its_fifteen_fields_but_preferential_policies_may_be_blank(cw):
    kind = CatalogueKind.SERVICE_GUIDES
    assert len([h for h in headers(kind) if h != "事项编码"]) == 15
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=kind)
    no_phone = guide_row(1)
    no_phone[-1] = ""
    no_policy = guide_row(2)
    no_policy[6] = ""
    result = services.import_items(actor=cw.u_pub_changan, version=version, data=xlsx(headers(kind), [no_phone, no_policy]))
    assert [(e["row"], e["column"]) for e in result.errors] == [(2, "办公电话")]


def test_a_flowchart_row_must_name_a_defined_process(cw):
    kind = CatalogueKind.FLOWCHARTS
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=kind)
    result = services.import_items(actor=cw.u_pub_changan, version=version,
                                   data=xlsx(headers(kind), [["行政处罚", "一般程序", ""], ["行政收费", "简易程序", ""]]))
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "程序")]


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_sheet(cw):
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    bad = enforcement_row(3)
    bad[2] = "?"
    result = services.import_items(actor=cw.u_pub_changan, version=version,
                                   data=xlsx(headers(ITEMS), [enforcement_row(1), [None] * 7, bad]))
    assert [(e["row"], e["column"]) for e in result.errors] == [(4, "执法类别")]
