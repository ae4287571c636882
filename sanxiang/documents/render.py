"""Rendering a document kind's layout to DOCX (python-docx) and PDF (fpdf2).

Page and type follow the 公文 conventions of GB/T 9704-2012 as far as the
tools allow: A4, margins top 37 mm, bottom 35 mm, left 28 mm, right 26 mm;
the title at 2号 (22 pt), the body at 3号 (16 pt) with 2-character first-line
indents, about 22 lines a page.

DOCX names the conventional 公文 fonts of GB/T 9704 (title 方正小标宋简体, body
仿宋_GB2312, as w:eastAsia in the document's styles and runs) and embeds none:
Word renders them where they are installed, as on most office desks. PDF
embeds its font (core/fonts.py: a serif CJK face installed on the server,
else the packaged one), so what was issued prints the same anywhere.

A draft (``draft=True``: the preview before "生成文号并出具") carries the
heading 草稿 and, in the PDF, a 草稿 watermark on every page, and no number.

Entered text meets the template's punctuation through
``values.normalize_sentence`` (issue 11 item 6): no doubled 。, and a 。 after
an entered clause that ends a paragraph.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime


from sanxiang.core import fonts
from .kinds import Block, DocumentKind
from .values import chinese_date, normalize_sentence, print_value
from sanxiang.core import clock

TITLE_PT = 22  # 2号
BODY_PT = 16  # 3号
NOTE_PT = 12  # 小四
MARGINS_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
DOCX_TITLE_FONT = "方正小标宋简体"  # GB/T 9704-2012 7.3.1: 小标宋体 for the title
DOCX_BODY_FONT = "仿宋_GB2312"  # GB/T 9704-2012 7.3.3 and 5.2.2: 仿宋 for the body
DOCX_TITLE_STYLE = "公文标题"
DRAFT_MARK = "草稿"
DRAFT_HEADING = "草稿（未生成文号，不作为正式文书使用）"
DOCX_LATIN_FONT = "Times New Roman"
INDENT = "\u3000\u3000"
PREVIEW_NUMBER = "（文号待生成）"


@dataclass(frozen=True)
class Rendered:
    docx: bytes
    pdf: bytes


class _Blank(dict):
    def __missing__(self, key):
        return ""


def build_context(*, case, kind: DocumentKind, values: dict, number: str | None, issued_at: datetime) -> dict:
    agency = case.agency
    ctx = _Blank(
        agency_name=agency.name, agency_abbr=agency.short_name, agency_address=agency.address,
        agency_phone=agency.phone, case_title=case.title, party_name=case.party_name,
        party_type=case.party_type, party_credit_code=case.party_credit_code,
        opened_on=chinese_date(case.opened_on) if case.opened_on else "",
        number=number or "", issued_date=chinese_date(clock.local_date(issued_at)), kind_title=kind.title,
    )
    for spec in kind.fields:
        ctx[spec.name] = print_value(spec, values.get(spec.name))
    ctx["_values"] = values
    return ctx


@dataclass(frozen=True)
class Line:
    """One laid-out element, independent of the output format."""

    style: str  # draft, title, number, para, line, table, sign, date, seal, note, blank
    text: str = ""
    rows: tuple[tuple[str, str], ...] = ()


def layout(kind: DocumentKind, ctx: dict, *, draft: bool = False) -> list[Line]:
    values = ctx.get("_values", {})
    out = [Line("draft", DRAFT_HEADING)] if draft else []
    out += [Line("title", ctx["agency_name"]), Line("title", kind.title)]
    if kind.numbered:
        out.append(Line("number", ctx["number"] or PREVIEW_NUMBER))
    for block in kind.body:
        if block.when and not values.get(block.when):
            continue
        out.extend(_block_lines(block, ctx, values))
    return out


def _fill(text: str, ctx: dict, *, end: bool = False) -> str:
    return normalize_sentence(text.format_map(ctx), end=end)


def _block_lines(block: Block, ctx: dict, values: dict) -> list[Line]:
    t = block.type
    if t == "paragraph":  # a sentence: it ends with its 。
        return [Line("para", _fill(block.text, ctx, end=True))]
    if t == "line":
        return [Line("line", _fill(block.text, ctx))]
    if t == "note":
        return [Line("note", _fill(block.text, ctx))]
    if t == "list":
        lines = [Line("para", _fill(block.text, ctx))] if block.text else []
        return lines + [Line("para", normalize_sentence(f"{i}. {item}", end=False))
                        for i, item in enumerate(values.get(block.field, []), 1)]
    if t == "table":
        return [Line("table", rows=tuple((label, _fill(value, ctx)) for label, value in block.rows))]
    if t == "signature":
        return [Line("sign", _fill(line, ctx)) for line in block.lines]
    if t == "date":
        return [Line("date", _fill(block.text or "{issued_date}", ctx))]
    if t == "seal":
        return [Line("seal", _fill(block.text or "（印章）", ctx))]
    if t == "blank":
        return [Line("blank")]
    raise ValueError(f"unknown block type {t}")  # pragma: no cover - the loader refuses it


def render(kind: DocumentKind, ctx: dict, *, issued_at: datetime) -> Rendered:
    lines = layout(kind, ctx)  # an issued document is never a draft
    return Rendered(docx=render_docx(lines, title=kind.title, issued_at=issued_at),
                    pdf=render_pdf(lines, title=kind.title, issued_at=issued_at))


# --- DOCX --------------------------------------------------------------------------


def _set_fonts(run_or_style, *, east_asia: str, size_pt: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    font = run_or_style.font
    font.name = DOCX_LATIN_FONT
    font.size = Pt(size_pt)
    font.bold = bold
    rpr = run_or_style.element.get_or_add_rPr()
    rfonts = rpr.get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), east_asia)
    rfonts.set(qn("w:ascii"), DOCX_LATIN_FONT)
    rfonts.set(qn("w:hAnsi"), DOCX_LATIN_FONT)


def render_docx(lines: list[Line], *, title: str, issued_at: datetime) -> bytes:
    from docx import Document as Docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
    from docx.shared import Mm, Pt, RGBColor

    doc = Docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(MARGINS_MM["top"]), Mm(MARGINS_MM["bottom"])
    section.left_margin, section.right_margin = Mm(MARGINS_MM["left"]), Mm(MARGINS_MM["right"])
    normal = doc.styles["Normal"]
    _set_fonts(normal, east_asia=DOCX_BODY_FONT, size_pt=BODY_PT)
    normal.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    normal.paragraph_format.line_spacing = Pt(28.95)  # 22 lines on the type area
    normal.paragraph_format.space_after = Pt(0)
    # The title's own style, so the fonts are named in styles.xml (where Word
    # looks first) as well as on each run.
    title_style = doc.styles.add_style(DOCX_TITLE_STYLE, WD_STYLE_TYPE.PARAGRAPH)
    title_style.base_style = normal
    _set_fonts(title_style, east_asia=DOCX_TITLE_FONT, size_pt=TITLE_PT)
    title_style.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title_style.paragraph_format.line_spacing = Pt(35)
    props = doc.core_properties
    props.title, props.language = title, "zh-CN"
    props.created = props.modified = issued_at
    props.author = props.last_modified_by = "三项制度平台"

    def paragraph(text: str, *, align=None, east_asia=DOCX_BODY_FONT, size=BODY_PT, bold=False, indent=False,
                  style=None):
        p = doc.add_paragraph(style=style)
        if align is not None:
            p.alignment = align
        if indent:
            p.paragraph_format.first_line_indent = Pt(size * 2)
        run = p.add_run(text)
        _set_fonts(run, east_asia=east_asia, size_pt=size, bold=bold)
        return p

    for line in lines:
        if line.style == "draft":
            p = paragraph(line.text, align=WD_ALIGN_PARAGRAPH.CENTER, bold=True)
            p.runs[0].font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
        elif line.style == "title":
            paragraph(line.text, align=WD_ALIGN_PARAGRAPH.CENTER, east_asia=DOCX_TITLE_FONT, size=TITLE_PT,
                      style=DOCX_TITLE_STYLE)
        elif line.style == "number":
            paragraph(line.text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        elif line.style == "para":
            for part in line.text.split("\n"):
                paragraph(part, indent=True)
        elif line.style == "line":
            for part in line.text.split("\n"):
                paragraph(part)
        elif line.style == "note":
            paragraph(line.text, size=NOTE_PT)
        elif line.style in ("sign", "date", "seal"):
            paragraph(line.text, align=WD_ALIGN_PARAGRAPH.RIGHT)
        elif line.style == "blank":
            paragraph("")
        elif line.style == "table":
            table = doc.add_table(rows=0, cols=2)
            table.style = "Table Grid"
            table.alignment = WD_TABLE_ALIGNMENT.CENTER
            type_w = 210 - MARGINS_MM["left"] - MARGINS_MM["right"]
            label_w = _label_width(line.rows, lambda text: len(text) * 14 * 0.3528, type_w)  # 14 pt a character
            for label, value in line.rows:
                cells = table.add_row().cells
                cells[0].width, cells[1].width = Mm(label_w), Mm(type_w - label_w)
                for cell, text, bold in ((cells[0], label, True), (cells[1], value, False)):
                    cell.paragraphs[0].paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE
                    parts = text.split("\n") or [""]
                    run = cell.paragraphs[0].add_run(parts[0])
                    _set_fonts(run, east_asia=DOCX_BODY_FONT, size_pt=14, bold=bold)
                    for extra in parts[1:]:
                        p = cell.add_paragraph()
                        _set_fonts(p.add_run(extra), east_asia=DOCX_BODY_FONT, size_pt=14)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --- PDF ---------------------------------------------------------------------------


def _all_text(lines: list[Line]) -> str:
    parts = []
    for line in lines:
        parts.append(line.text)
        for label, value in line.rows:
            parts.append(label)
            parts.append(value)
    return "".join(parts) + "第页共0123456789/ "


# Chinese line breaking (禁则): a closing mark never starts a line (it hangs
# in the right margin instead), an opening mark never ends one, and a run of
# Latin letters and digits (a credit code, an amount) is not split.
NO_LINE_START = set("，。、；：？！）》」』】〕〉”’％…—·,.;:?!)%")
NO_LINE_END = set("（《「『【〔〈“‘¥(")
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.,:/%_@\-]*|.", re.S)


def wrap_text(text: str, width: float, measure, *, first_indent: float = 0.0) -> list[str]:
    """Lines of ``text`` that fit ``width`` (mm), measured by ``measure``."""
    lines: list[str] = []
    current, used, limit = "", 0.0, width - first_indent
    for token in _TOKEN.findall(text):
        w = measure(token)
        if used + w <= limit + 0.01 or not current:
            current, used = current + token, used + w
            continue
        if token[0] in NO_LINE_START:
            current, used = current + token, used + w  # hang it
            continue
        carry = ""
        while current and current[-1] in NO_LINE_END:
            carry, current = current[-1] + carry, current[:-1]
        if not current:  # nothing but opening marks: keep them here
            current, carry = carry, ""
        lines.append(current)
        current = carry + token
        used = measure(current)
        limit = width
        if used > limit and len(token) > 1:  # an over-long Latin run: split it by characters
            pieces = wrap_text(current, width, measure)
            lines.extend(pieces[:-1])
            current = pieces[-1]
            used = measure(current)
    if current or not lines:
        lines.append(current)
    return lines


def _label_width(rows, measure, width: float) -> float:
    """The label column of a two-column form, wide enough for its longest
    label line (a label breaks only where the template put a line break, so
    a word or number is never split: issue 11 item 6, the 立案审批表), within
    a quarter to two fifths of the type area."""
    longest = max((measure(part) for label, _value in rows for part in label.split("\n")), default=0.0)
    return min(max(longest + 4.5, width / 4), width * 0.4)


def render_pdf(lines: list[Line], *, title: str, issued_at: datetime) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    font = fonts.font_for(_all_text(lines))

    draft = any(line.style == "draft" for line in lines)

    class Pdf(FPDF):
        def header(self):
            if not draft:
                return
            # A draft: 草稿 across every page, in light grey behind the text.
            self.set_font(fonts.FAMILY, size=96)
            self.set_text_color(225, 225, 225)
            with self.rotation(35, x=self.w / 2, y=self.h / 2):
                self.text(self.w / 2 - self.get_string_width(DRAFT_MARK) / 2, self.h / 2 + 12, DRAFT_MARK)
            self.set_text_color(0, 0, 0)
            self.set_xy(self.l_margin, self.t_margin)

        def footer(self):
            self.set_y(-20)
            self.set_font(fonts.FAMILY, size=NOTE_PT)
            self.cell(0, 8, f"第 {self.page_no()} 页 共 {{nb}} 页", align="C")

    pdf = Pdf(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGINS_MM["left"], MARGINS_MM["top"], MARGINS_MM["right"])
    pdf.set_auto_page_break(True, margin=MARGINS_MM["bottom"])
    pdf.set_creation_date(issued_at)
    pdf.set_title(title)
    pdf.set_lang("zh-CN")
    pdf.set_creator("三项制度平台")
    pdf.add_font(fonts.FAMILY, "", str(font.path), collection_font_number=font.collection_index)
    # The subset keeps the source's font bounding box (already in the font
    # descriptor); recomputing it from every glyph outline costs a third of
    # the rendering time and changes nothing that prints.
    pdf.fonts[fonts.FAMILY.lower()].ttfont.recalcBBoxes = False
    pdf.add_page()
    body_h = 10.2  # 28.95 pt
    width = pdf.w - pdf.l_margin - pdf.r_margin
    nl = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}

    seal_bottom = 0.0
    for index, line in enumerate(lines):
        style = line.style
        if style in ("sign", "seal", "date") and (index == 0 or lines[index - 1].style not in ("sign", "seal", "date")):
            # Keep the signature, seal and date together on one page.
            group = 0.0
            for following in lines[index:]:
                if following.style not in ("sign", "seal", "date"):
                    break
                group += 42 if following.style == "seal" else body_h
            if pdf.get_y() + group > pdf.page_break_trigger and group < pdf.page_break_trigger - pdf.t_margin:
                pdf.add_page()
        if style == "draft":
            pdf.set_font(fonts.FAMILY, size=BODY_PT)
            pdf.set_text_color(192, 0, 0)
            pdf.multi_cell(0, body_h, line.text, align="C", **nl)
            pdf.set_text_color(0, 0, 0)
        elif style == "title":
            pdf.set_font(fonts.FAMILY, size=TITLE_PT)
            pdf.multi_cell(0, 12, line.text, align="C", **nl)
        elif style == "number":
            pdf.set_font(fonts.FAMILY, size=BODY_PT)
            pdf.multi_cell(0, body_h, line.text, align="R", **nl)
        elif style in ("para", "line"):
            pdf.set_font(fonts.FAMILY, size=BODY_PT)
            indent = pdf.get_string_width("\u3000") * 2 if style == "para" else 0
            for part in line.text.split("\n"):
                for i, text in enumerate(wrap_text(part, width, pdf.get_string_width, first_indent=indent)):
                    pdf.set_x(pdf.l_margin + (indent if i == 0 else 0))
                    pdf.cell(0, body_h, text, **nl)
        elif style == "note":
            pdf.set_font(fonts.FAMILY, size=NOTE_PT)
            for text in wrap_text(line.text, width, pdf.get_string_width):
                pdf.cell(0, 7, text, **nl)
        elif style in ("sign", "date"):
            pdf.set_font(fonts.FAMILY, size=BODY_PT)
            pdf.multi_cell(0, body_h, line.text, align="R", **nl)
            if style == "date" and seal_bottom > pdf.get_y():
                pdf.set_y(seal_bottom + 2)
                seal_bottom = 0.0
        elif style == "seal":
            # The seal area: a dashed circle where the agency's seal goes,
            # its lower half over the date line that follows (骑年盖月).
            if pdf.get_y() + 42 > pdf.page_break_trigger:
                pdf.add_page()
            pdf.set_font(fonts.FAMILY, size=NOTE_PT)
            pdf.set_draw_color(170, 170, 170)
            x, y = pdf.w - pdf.r_margin - 44, pdf.get_y()
            pdf.set_dash_pattern(dash=1, gap=1)
            pdf.ellipse(x, y, 40, 40)
            pdf.set_dash_pattern()
            pdf.set_draw_color(0, 0, 0)
            pdf.set_xy(x, y + 6)
            pdf.cell(40, 7, line.text, align="C")
            pdf.set_xy(pdf.l_margin, y + 18)
            seal_bottom = y + 40
        elif style == "blank":
            pdf.ln(body_h)
        elif style == "table":
            pdf.set_font(fonts.FAMILY, size=14)
            label_w = _label_width(line.rows, pdf.get_string_width, width)
            with pdf.table(col_widths=(label_w, width - label_w), text_align=("CENTER", "LEFT"), line_height=8,
                           first_row_as_headings=False) as table:
                for label, value in line.rows:
                    row = table.row()
                    row.cell(label)
                    row.cell(value or " ")
            pdf.ln(2)
    return bytes(pdf.output())
