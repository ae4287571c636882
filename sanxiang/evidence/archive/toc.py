"""The table of contents (卷内目录) of an e-case file package, as a PDF.

One row per manifest item in 卷内序号 order (step by step): 序号, 文件名称
(the document's title or the evidence item's description), 文号/编号, 日期
(China date), 页数/大小, 备注 (the step it belongs to and its file in the
package). Rendered with fpdf2 and the documents' packaged CJK font
(``documents.fonts``), so it prints the same anywhere.
"""

from __future__ import annotations

from datetime import datetime

from sanxiang.core import fonts

HEADERS = ("序号", "文件名称", "文号/编号", "日期", "页数/大小", "备注")
WIDTHS = (14, 78, 58, 26, 26, 65)  # mm, landscape A4 less 15 mm margins


def render_toc(*, heading: list[str], rows: list[tuple[str, ...]], built_at: datetime) -> bytes:
    """``heading``: lines under the title (case, agency, dates); ``rows``:
    the six columns of each item, as text."""
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    text = "卷内目录第页共" + "".join(heading) + "".join("".join(r) for r in rows) + "".join(HEADERS)
    font = fonts.font_for(text)

    class Pdf(FPDF):
        def footer(self):
            self.set_y(-12)
            self.set_font(fonts.FAMILY, size=9)
            self.cell(0, 6, f"第 {self.page_no()} 页 共 {{nb}} 页", align="C")

    pdf = Pdf(orientation="L", unit="mm", format="A4")
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=16)
    pdf.set_creation_date(built_at)
    pdf.set_title("卷内目录")
    pdf.set_lang("zh-CN")
    pdf.set_creator("三项制度平台")
    pdf.add_font(fonts.FAMILY, "", str(font.path), collection_font_number=font.collection_index)
    pdf.fonts[fonts.FAMILY.lower()].ttfont.recalcBBoxes = False
    pdf.add_page()
    pdf.set_font(fonts.FAMILY, size=18)
    pdf.cell(0, 12, "卷内目录", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(fonts.FAMILY, size=10)
    for line in heading:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font(fonts.FAMILY, size=9)
    with pdf.table(col_widths=WIDTHS, text_align=("CENTER", "LEFT", "LEFT", "CENTER", "CENTER", "LEFT"),
                   headings_style=FontFace(emphasis=None, fill_color=(235, 235, 235)), line_height=5,
                   repeat_headings=1) as table:
        table.row(HEADERS)
        for r in rows:
            table.row(r)
    return bytes(pdf.output())
