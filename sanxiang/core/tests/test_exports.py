"""Exports are safe to open (issue 9, §5): every CSV and XLSX the platform
writes neutralises cells a spreadsheet would run as a formula (one writer,
sanxiang.core.exports), and the public CSV export returns every matching
row, streamed."""

from __future__ import annotations

import csv
import io
from datetime import date

import openpyxl
import pytest
from django.test import Client

from sanxiang.core.models import Agency

DANGEROUS = ["=HYPERLINK(\"http://example.invalid\",\"点击\")", "+86 311 1234", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


def xlsx_strings(data: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    return [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def string_cells_xlsx(headers: list[str], rows: list[list[str]]) -> bytes:
    """A workbook whose cells are text cells (as a person's file holds text
    beginning with "="), written without the platform's writer."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate([headers, *rows]):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    book.close()
    return out.getvalue()


def csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def runs_as_formula(value: str) -> bool:
    return value[:1] in ("=", "+", "-", "@", "\t", "\r")


def test_safe_cell_neutralises_formula_starts_and_restore_cell_inverts_it():
    from sanxiang.core.exports import restore_cell, safe_cell

    for text in DANGEROUS + ["'=already quoted", "''-two"]:
        assert safe_cell(text).startswith("'") and restore_cell(safe_cell(text)) == text
    for harmless in ["石家庄某某公司", "0311-1234", "a=b", "'plain", ""]:
        assert safe_cell(harmless) == harmless and restore_cell(harmless) == harmless
    assert safe_cell(-5) == -5 and safe_cell(None) == ""


@pytest.fixture
def published(world):
    from sanxiang.publicity import services
    from sanxiang.publicity.intake import validate_record
    from sanxiang.publicity.models import Decision
    from sanxiang.publicity.tests.test_intake import penalty_record

    records = [validate_record(penalty_record(n, decision_date="2026-11-02"), index=n, today=date(2026, 11, 20))[0]
               for n in range(1, 131)]
    records[0]["party_name"] = "=HYPERLINK(\"http://example.invalid\",\"点击\")某某有限公司"
    records[1]["party_name"] = "@SUM(A1)某某有限公司"
    services.receive_records(actor="t", agency=world.amr_changan, records=records, source="api")
    for d in Decision.objects.all():
        services.publish_decision(actor="system", decision=d)
    return records


def test_the_public_csv_export_streams_every_matching_row_with_formula_cells_neutralised(world, published):
    response = Client().get("/decisions/export.csv")
    assert response.status_code == 200 and response.streaming
    rows = csv_cells(b"".join(response.streaming_content))
    assert len(rows) == 1 + 130  # the header and every row, not the first 100
    names = {r[1] for r in rows[1:]}
    assert "'=HYPERLINK(\"http://example.invalid\",\"点击\")某某有限公司" in names and "'@SUM(A1)某某有限公司" in names
    assert not any(runs_as_formula(cell) for row in rows for cell in row)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_shuanggongshi_export_neutralises_formula_cells_and_reimports_the_original(world, fmt):
    from sanxiang.publicity import shuanggongshi
    from sanxiang.publicity.models import Decision
    from sanxiang.publicity.tests.test_shuanggongshi import csv_bytes, penalty_row, run_import

    run_import(world, csv_bytes([penalty_row(1, CF_XDR_MC="=HYPERLINK(\"http://x.invalid\")某某商贸有限公司",
                                             CF_SJLY="@石家庄市长安区市场监督管理局")], chinese=True), "in.csv")
    assert Decision.objects.get().party_name.startswith("=HYPERLINK")
    exported = shuanggongshi.export_file(records=Decision.objects.all(), fmt=fmt, kind="penalty")
    cells = [c for row in csv_cells(exported) for c in row] if fmt == "csv" else xlsx_strings(exported)
    assert "'=HYPERLINK(\"http://x.invalid\")某某商贸有限公司" in cells and "'@石家庄市长安区市场监督管理局" in cells
    assert not any(runs_as_formula(c) for c in cells)
    report = run_import(world, exported, f"out.{fmt}")
    assert report.unchanged == 1 and Decision.objects.get().party_name.startswith("=HYPERLINK")


def test_the_import_error_report_neutralises_formula_cells():
    from sanxiang.publicity.shuanggongshi import ImportReport, error_report_xlsx

    report = ImportReport(kind="penalty", filename="=HYPERLINK(\"http://x.invalid\").csv",
                          errors=[(2, "@列", "code", "-说明")], rows=1, rejected=1)
    cells = xlsx_strings(error_report_xlsx(report))
    assert "'=HYPERLINK(\"http://x.invalid\").csv" in cells and "'@列" in cells and "'-说明" in cells
    assert not any(runs_as_formula(c) for c in cells)


def test_the_catalogue_export_neutralises_formula_cells_and_reimports_the_original(world):
    from sanxiang.catalog import excel, services
    from sanxiang.catalog.models import CatalogueKind
    from sanxiang.catalog.tests.conftest import enforcement_row, headers
    from sanxiang.core import services as core_services
    from sanxiang.core.models import Role

    editor = core_services.create_user(actor="t", username="pub_changan", password=world.password,
                                       role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)
    kind = CatalogueKind.ENFORCEMENT_ITEMS
    version = services.start_draft(actor=editor, agency=world.amr_changan, kind=kind)
    rows = [enforcement_row(1, name="=HYPERLINK(\"http://x.invalid\")对销售不合格商品的行政处罚"), enforcement_row(2)]
    rows[1][3] = "-1+1 查处销售不合格商品的违法行为"
    assert services.import_items(actor=editor, version=version, data=string_cells_xlsx(headers(kind), rows)).ok
    exported = excel.export_items(kind, version.items())
    cells = xlsx_strings(exported)
    assert "'=HYPERLINK(\"http://x.invalid\")对销售不合格商品的行政处罚" in cells and not any(runs_as_formula(c) for c in cells)
    assert services.import_items(actor=editor, version=version, data=exported).ok  # the draft again, from our export
    assert sorted(i.name for i in version.items())[0].startswith("=HYPERLINK")
    assert any(i.duty.startswith("-1+1") for i in version.items())


def test_the_review_figures_workbook_neutralises_formula_cells(world):
    from sanxiang.review.selectors import figures_xlsx

    Agency.objects.filter(pk=world.amr_changan.pk).update(name="=HYPERLINK(\"http://x.invalid\")市场监督管理局")
    cells = xlsx_strings(figures_xlsx(user=world.u_admin))
    assert "'=HYPERLINK(\"http://x.invalid\")市场监督管理局" in cells
    assert not any(runs_as_formula(c) for c in cells)


def test_no_module_writes_a_spreadsheet_except_through_core_exports():
    """The class, not the examples: a new export that bypasses the safe
    writer fails here."""
    import re
    from pathlib import Path

    import sanxiang

    root = Path(sanxiang.__file__).parent
    writer = re.compile(r"xlsxwriter\.Workbook\(|csv\.writer\(|csv\.DictWriter\(|openpyxl\.Workbook\(|\bWorkbook\(\)")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "tests" not in p.parts and p.name != "exports.py" and writer.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
