"""Figures of 双随机 (issue 14 item 6): per agency, item and tier, planned
against drawn against inspected, problems, cases, results on time — on
the page and in the Excel export, for the organiser and the legal office,
nobody else."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from sanxiang.conftest import client_for
from sanxiang.core import clock
from sanxiang.inspections import selectors, services
from sanxiang.inspections.models import Inspection, InspectionResult


def test_figures_count_drawn_inspected_problems_cases_and_results_on_time(drawn, settings):
    settings.REQUIRE_TOTP = False
    inspections = list(Inspection.objects.filter(draw=drawn.draw).select_related("object").order_by("pk"))
    today = clock.today()
    services.record_result(actor=drawn.u_changan, inspection=inspections[0], result=InspectionResult.REFERRED,
                           inspected_on=today, note="发现过期食品，移交立案。")
    services.record_result(actor=drawn.u_changan, inspection=inspections[1], result=InspectionResult.NO_PROBLEM,
                           inspected_on=today)
    rows = selectors.figures_for(user=drawn.u_pub_changan, year=2026)
    total = next(r for r in rows if not r["tier"])
    assert total["population"] == 12 and total["drawn"] == len(drawn.draw.result) == 9
    assert (total["inspected"], total["problems"], total["cases"], total["published"], total["on_time"]) == (2, 1, 1, 2, 2)
    tier_d = next(r for r in rows if r["tier"] == "D")
    assert (tier_d["population"], tier_d["drawn"], tier_d["planned"], tier_d["drawn_ratio"]) == (4, 4, "1", "100.0%")
    assert sum(r["inspected"] for r in rows if r["tier"]) == 2
    assert selectors.figures_for(user=drawn.u_legal_sjz, year=2026) == rows  # the legal office sees its region's
    assert selectors.figures_for(user=drawn.u_pub_lunan, year=2026) == []  # another city's agency: nothing
    assert selectors.figures_for(user=drawn.u_changan, year=2026) == []  # an officer: not the figures
    page = client_for(drawn.u_pub_changan).get("/inspections/office/figures/?year=2026").content.decode()
    assert "双随机抽查统计" in page and "合计" in page and "100.0%" in page
    export = client_for(drawn.u_legal_sjz).get("/inspections/office/figures.xlsx?year=2026")
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["执法部门", "抽查批次", "抽查事项", "风险分类"]
    assert sheet.max_row == len(rows) + 1
    assert client_for(drawn.u_pub_changan).get("/inspections/office/figures/?year=abc").status_code == 400
