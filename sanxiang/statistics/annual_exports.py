"""A published annual report as files: XLSX (core.exports' safe workbook),
CSV, JSON, DOCX (python-docx) and PDF (fpdf2 with the bundled CJK font,
core/fonts.py) — each holding the table (computed figures with their rule),
the figures entered by the agency with their notes, and the 情况说明. All
are made from the report's frozen snapshot, so every format holds the same
numbers as the public page."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass

from sanxiang.core import exports, fonts

from . import annual
from .models import AnnualReport

TITLE = "行政执法数据年度报告"
FORMATS = ("xlsx", "csv", "json", "docx", "pdf")
CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


@dataclass
class Layout:
    title: str
    table: list[tuple[str, str, str]]  # (item, value, counting rule)
    manual: list[tuple[str, str, str]]  # (item, value, note)
    explanation: str


def layout(report: AnnualReport) -> Layout:
    snap = report.snapshot
    table = []
    for meta in snap["rows"]:
        section, field = meta["key"].split(".", 1)
        value = snap["figures"].get(section, {}).get(field)
        if isinstance(value, dict):
            table += [(f"{annual.sub_row_prefix(meta['key'])}{c}", str(n), "") for c, n in value.items() if n]
            continue
        table.append((meta["label"], "—" if value is None else str(value), meta["rule"]))
    manual = [(m["label"], m.get("value") or "—", m.get("note") or "") for m in snap["manual"]]
    title = f"{report.agency.name}{report.year}年度{TITLE}"
    return Layout(title=title, table=table, manual=manual, explanation=snap["explanation"])


def as_json(report: AnnualReport) -> bytes:
    snap = report.snapshot
    out = {**snap["figures"], "manual": {m["key"]: {"value": m.get("value", ""), "note": m.get("note", "")} for m in snap["manual"]},
           "explanation": snap["explanation"], "published_at": report.published_at.isoformat()}
    return json.dumps(out, ensure_ascii=False, indent=1).encode("utf-8")


def as_csv(report: AnnualReport) -> bytes:
    lay = layout(report)
    rows = [("统计数据", *r) for r in lay.table] + [("机关填报数据", *r) for r in lay.manual]
    rows.append(("情况说明", "", "", lay.explanation))
    return exports.csv_bytes(("部分", "项目", "数值", "统计口径或说明"), rows)


def as_xlsx(report: AnnualReport) -> bytes:
    lay = layout(report)
    buffer = io.BytesIO()
    book = exports.workbook(buffer)
    bold = book.add_format({"bold": True})
    sheet = book.add_worksheet("数据")
    sheet.write(0, 0, lay.title, bold)
    sheet.write_row(2, 0, ("项目", "数值", "统计口径"), bold)
    r = 3
    for item in lay.table:
        sheet.write_row(r, 0, item)
        r += 1
    r += 1
    sheet.write_row(r, 0, ("机关填报数据", "数值", "说明"), bold)
    for item in lay.manual:
        r += 1
        sheet.write_row(r, 0, item)
    sheet.set_column(0, 0, 36)
    sheet.set_column(2, 2, 80)
    text = book.add_worksheet("情况说明")
    text.write(0, 0, lay.explanation)
    text.set_column(0, 0, 120)
    book.close()
    return buffer.getvalue()


def as_docx(report: AnnualReport) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn

    lay = layout(report)
    doc = Document()
    style = doc.styles["Normal"]
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "SimSun")
    doc.add_heading(lay.title, level=1)
    for heading, rows, head in (("统计数据", lay.table, ("项目", "数值", "统计口径")),
                                ("机关填报数据", lay.manual, ("项目", "数值", "说明"))):
        doc.add_heading(heading, level=2)
        table = doc.add_table(rows=1, cols=3)
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, head):
            cell.text = text
        for row in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, row):
                cell.text = text
    doc.add_heading("情况说明", level=2)
    for para in lay.explanation.splitlines() or [""]:
        doc.add_paragraph(para)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def as_pdf(report: AnnualReport) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    lay = layout(report)
    every = lay.title + "".join("".join(r) for r in lay.table + lay.manual) + lay.explanation + "项目数值统计口径说明机关填报数据情况说明第页共"
    font = fonts.font_for(every)
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.set_title(lay.title)
    pdf.set_lang("zh-CN")
    pdf.set_creator("三项制度平台")
    pdf.add_font(fonts.FAMILY, "", str(font.path), collection_font_number=font.collection_index)
    pdf.fonts[fonts.FAMILY.lower()].ttfont.recalcBBoxes = False
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
    pdf.set_font(fonts.FAMILY, size=15)
    pdf.multi_cell(0, 9, lay.title, align="C", **nl)
    for heading, rows, head, widths in (("统计数据", lay.table, ("项目", "数值", "统计口径"), (50, 25, 105)),
                                        ("机关填报数据", lay.manual, ("项目", "数值", "说明"), (70, 25, 85))):
        pdf.set_font(fonts.FAMILY, size=12)
        pdf.ln(3)
        pdf.cell(0, 8, heading, **nl)
        pdf.set_font(fonts.FAMILY, size=8.5)
        with pdf.table(col_widths=widths, text_align="LEFT", line_height=4.5,
                       headings_style=FontFace(emphasis="", fill_color=(235, 235, 235))) as table:
            table.row(head)
            for row in rows:
                table.row(row)
    pdf.set_font(fonts.FAMILY, size=12)
    pdf.ln(3)
    pdf.cell(0, 8, "情况说明", **nl)
    pdf.set_font(fonts.FAMILY, size=10)
    pdf.multi_cell(0, 6, lay.explanation, **nl)
    return bytes(pdf.output())


RENDERERS = {"xlsx": as_xlsx, "csv": as_csv, "json": as_json, "docx": as_docx, "pdf": as_pdf}


def render(report: AnnualReport, fmt: str) -> bytes:
    return RENDERERS[fmt](report)
