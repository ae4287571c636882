"""The older 双公示 layout (the 2016 national template, issue 13 item 6):
files with CF_CFLB1 / CF_JG / CF_XDR_ZDM (XK_XMMC / XK_SPLB ...) and no
行政相对人类别 are recognised from the header and imported through the same
validation and the same service as the current layout, through the
service, the page and the command; the report says per row what was
inferred and what was not imported, and a row that cannot be mapped is
rejected with the column named. The current layout reads as before."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import xlsxwriter
from django.core.management import call_command
from django.test import Client

from sanxiang.core.validators import make_credit_code
from sanxiang.publicity import shuanggongshi
from sanxiang.publicity.models import Decision, DecisionVersion
from sanxiang.publicity.shuanggongshi import ImportFileError, import_file
from sanxiang.publicity.shuanggongshi_legacy import LEGACY_LICENSE_COLUMNS, LEGACY_PENALTY_COLUMNS

from .test_intake import company_code, id_number
from .test_shuanggongshi import pages, penalty_row, publicity_admin  # noqa: F401 (fixtures)
from .test_shuanggongshi import csv_bytes as current_csv_bytes

# --- older-layout files, as departmental systems still export them ---------------------------

AGENCY_NAME = "石家庄市长安区市场监督管理局"


def legacy_penalty(n: int, **overrides) -> dict:
    """A company's penalty in the 2016 layout, keyed by column code."""
    row = {
        "CF_WSH": f"石长市监罚〔2026〕{500 + n}号", "CF_CFMC": "销售不合格产品", "CF_CFLB1": "警告", "CF_CFLB2": "罚款",
        "CF_SY": "当事人销售的电热水壶经抽检不合格。", "CF_YJ": "《中华人民共和国产品质量法》第四十九条",
        "CF_XDR_MC": f"石家庄某某商贸有限公司{n}", "CF_XDR_SHXYM": company_code(n), "CF_XDR_ZDM": "", "CF_XDR_GSDJ": "",
        "CF_XDR_SWDJ": "", "CF_XDR_SFZ": "", "CF_FR": "赵六", "CF_JG": "警告，并处罚款人民币1.2万元。",
        "CF_JDRQ": "2026/11/20", "CF_XZJG": AGENCY_NAME, "CF_ZT": "0", "DFBM": "130102",
        "SJC": "2026/11/21 09:30:00", "BZ": "",
    }
    row.update(overrides)
    return row


def legacy_licence(n: int, **overrides) -> dict:
    row = {
        "XK_WSH": f"石长市监许〔2026〕{700 + n}号", "XK_XMMC": "食品经营许可", "XK_SPLB": "普通",
        "XK_NR": "预包装食品（含冷藏冷冻食品）销售。", "XK_XDR": f"长安区某某超市有限公司{n}",
        "XK_XDR_SHXYM": company_code(400 + n), "XK_XDR_ZDM": "", "XK_XDR_GSDJ": "", "XK_XDR_SWDJ": "", "XK_XDR_SFZ": "",
        "XK_FR": "孙八", "XK_JDRQ": "2026/10/08", "XK_JZQ": "2031/10/07", "XK_XZJG": AGENCY_NAME, "XK_ZT": "0",
        "DFBM": "130102", "SJC": "20261009", "BZ": "",
    }
    row.update(overrides)
    return row


# The Chinese headers as the 2016 template's Excel sheets spell them.
TEMPLATE_HEADERS = {
    "CF_XDR_SHXYM": "行政相对人代码_1(统一社会信用代码)", "CF_XDR_ZDM": "行政相对人代码_2(组织机构代码)",
    "CF_XDR_GSDJ": "行政相对人代码_3(工商登记码)", "CF_XDR_SWDJ": "行政相对人代码_4(税务登记号)",
    "CF_XDR_SFZ": "行政相对人代码_5(居民身份证号)",
}


def _header(code: str, columns) -> str:
    return TEMPLATE_HEADERS.get(code) or next(c.header for c in columns if c.code == code)


def legacy_csv(rows: list[dict], *, chinese: bool = True, columns=LEGACY_PENALTY_COLUMNS, encoding="utf-8-sig") -> bytes:
    codes = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([_header(c, columns) if chinese else c for c in codes])
    for row in rows:
        writer.writerow([row.get(c, "") for c in codes])
    return buf.getvalue().encode(encoding)


def legacy_xlsx(rows: list[dict], *, chinese: bool = False, columns=LEGACY_PENALTY_COLUMNS) -> bytes:
    codes = list(dict.fromkeys(k for row in rows for k in row))
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("行政处罚" if columns is LEGACY_PENALTY_COLUMNS else "行政许可")
    for c, code in enumerate(codes):
        ws.write_string(0, c, _header(code, columns) if chinese else code)
    for r, row in enumerate(rows, start=1):
        for c, code in enumerate(codes):
            value = row.get(code, "")
            if code in ("DFBM", "CF_ZT", "XK_ZT") and value.isdigit():
                ws.write_number(r, c, int(value))  # typed as numbers in the old sheets
            else:
                ws.write_string(r, c, value)
    wb.close()
    return out.getvalue()


def mixed_penalties() -> list[dict]:
    """A realistic older-layout penalty file: companies with and without a
    credit code, an individual business, a natural person, a revoked
    licence."""
    return [
        legacy_penalty(1),
        legacy_penalty(2, CF_XDR_SHXYM="", CF_XDR_ZDM="MA0ABCDE1", CF_XDR_GSDJ="130102600012345", CF_CFLB1="罚款",
                       CF_CFLB2="没收违法所得", CF_JG="没收违法所得2000元，并处以5000元罚款。", CF_JDRQ="20261118"),
        legacy_penalty(3, CF_XDR_MC="长安区某某便利店", CF_XDR_SHXYM=make_credit_code(region_code="130102", serial=33,
                                                                                    authority="9", kind="2"),
                       CF_XDR_SFZ=id_number(serial="033"), CF_FR="", CF_CFLB1="警告", CF_CFLB2="",
                       CF_JG="警告。", CF_CFMC="", CF_SY="当事人未按规定公示食品经营许可证。"),
        legacy_penalty(4, CF_XDR_MC="钱七", CF_XDR_SHXYM="", CF_XDR_SFZ=id_number(serial="044"), CF_FR="",
                       CF_CFLB1="罚款", CF_CFLB2="", CF_JG="罚款人民币500元。", CF_JDRQ="2026-11-19", DFBM=""),
        legacy_penalty(5, CF_CFLB1="暂扣或者吊销许可证、暂扣或者吊销执照", CF_CFLB2="",
                       CF_JG="吊销《食品经营许可证》（编号JY11301020012345）。", CF_XZJG="长安区市场监管局"),
    ]


def run_import(world, data: bytes, filename: str, **kw):
    return import_file(actor="test", agency=world.amr_changan, file=data, filename=filename, **kw)


def notes_of(report, row: int) -> list[tuple[str, str, str]]:
    return [(column, kind, message) for r, column, kind, message in report.notes if r == row]


# --- through the service -----------------------------------------------------------------------


def test_an_older_layout_penalty_csv_is_recognised_mapped_and_reported_per_row(world):
    report = run_import(world, legacy_csv(mixed_penalties()), "旧版处罚.csv")
    assert (report.layout, report.kind, report.header_style) == ("2016", "penalty", "chinese")
    assert (report.created, report.rejected) == (5, 0), report.errors
    by_number = {d.doc_number: d for d in Decision.objects.all()}

    company = by_number["石长市监罚〔2026〕501号"]
    assert company.party_type == "legal_person" and company.data["party_credit_code"] == company_code(1)
    assert company.data["penalty_categories"] == ["警告", "罚款"] and company.data["fine_fen"] == 1_200_000
    assert company.data["violation_type"] == "销售不合格产品"
    assert company.data["facts"] == "当事人销售的电热水壶经抽检不合格。"
    assert company.data["content"] == "警告，并处罚款人民币1.2万元。"
    assert company.data["legal_representative"] == "赵六" and company.data["decision_date"] == "2026-11-20"
    assert company.data["remark"] == ""  # DFBM and SJC are not kept anywhere
    assert notes_of(report, 2) == [
        ("行政相对人代码_1(统一社会信用代码)", "inferred", "行政相对人类别：依据统一社会信用代码推定为法人及非法人组织"),
        ("地方编码", "not_mapped", "地方编码“130102”未导入：现行格式无此项，地区以导入部门为准"),
        ("数据更新时间戳", "not_mapped", "数据更新时间戳“2026/11/21 09:30:00”未导入：平台按导入时间记录版本"),
        ("处罚名称", "inferred", "违法行为类型：取自处罚名称（旧格式无违法行为类型）"),
        ("处罚结果", "inferred", "罚款金额：依据处罚结果推定为1.2万元（12000元）"),
    ]

    old_codes = by_number["石长市监罚〔2026〕502号"]
    assert old_codes.party_type == "legal_person" and old_codes.data["party_credit_code"] == ""
    assert old_codes.data["party_other_codes"] == "工商注册号：130102600012345；组织机构代码：MA0ABCDE1"
    assert old_codes.data["penalty_categories"] == ["罚款", "没收违法所得、没收非法财物"]
    assert (old_codes.data["fine_fen"], old_codes.data["confiscation_fen"]) == (500_000, 200_000)
    assert old_codes.data["decision_date"] == "2026-11-18"  # 20261118
    row3 = notes_of(report, 3)
    assert ("行政相对人代码_2(组织机构代码)", "inferred",
            "行政相对人类别：依据组织机构代码、工商登记码推定为法人及非法人组织") in row3
    assert ("处罚类别2", "inferred", "处罚类别：“没收违法所得”读作“没收违法所得、没收非法财物”") in row3
    assert ("处罚结果", "inferred", "没收违法所得、没收非法财物的金额：依据处罚结果推定为0.2万元（2000元）") in row3

    shop = by_number["石长市监罚〔2026〕503号"]
    assert shop.party_type == "individual_business" and shop.data["party_id_number"] == id_number(serial="033")
    assert shop.data["violation_type"] == "当事人未按规定公示食品经营许可证。"  # 处罚名称 empty: from 处罚事由
    assert ("行政相对人代码_1(统一社会信用代码)", "inferred",
            "行政相对人类别：依据统一社会信用代码（前两位92：个体工商户）推定为个体工商户") in notes_of(report, 4)
    assert ("处罚事由", "inferred", "违法行为类型：处罚名称为空，取自处罚事由（旧格式无违法行为类型）") in notes_of(report, 4)

    person = by_number["石长市监罚〔2026〕504号"]
    assert person.party_type == "natural_person" and person.data["party_id_type"] == "身份证"
    assert person.data["party_id_number"] == id_number(serial="044") and person.data["fine_fen"] == 50_000
    assert ("行政相对人代码_5(居民身份证号)", "inferred", "行政相对人类别：依据居民身份证号推定为自然人") in notes_of(report, 5)

    revoked = by_number["石长市监罚〔2026〕505号"]
    assert revoked.data["penalty_categories"] == ["吊销许可证件"]
    assert revoked.data["licence_affected"] == "吊销《食品经营许可证》（编号JY11301020012345）"
    row6 = notes_of(report, 6)
    assert ("处罚类别1", "inferred",
            "处罚类别：“暂扣或者吊销许可证、暂扣或者吊销执照”依据处罚结果中的“吊销”推定为“吊销许可证件”") in row6
    assert ("处罚机关", "not_mapped",
            f"处罚机关“长安区市场监管局”未导入：与导入部门名称不同，决定按导入部门（{AGENCY_NAME}）保存") in row6
    assert set(DecisionVersion.objects.values_list("source", flat=True)) == {"import"}


def test_an_older_layout_xlsx_with_codes_rejects_the_rows_it_cannot_map_naming_the_column(world):
    rows = [
        legacy_penalty(1),
        legacy_penalty(2, CF_CFLB2="打板子"),
        legacy_penalty(3, CF_JG="警告，罚款人民币伍仟元。"),
        legacy_penalty(4, CF_XDR_SHXYM="", CF_XDR_MC="某某"),
        legacy_penalty(5, CF_ZT="1"),
        legacy_penalty(6, CF_XDR_SHXYM="", CF_XDR_SFZ="130102198503141230", CF_XDR_MC="孙九", CF_FR=""),
        legacy_penalty(7, CF_SY="", CF_CFMC=""),
        legacy_penalty(8, CF_CFLB1="暂扣或者吊销许可证、暂扣或者吊销执照", CF_CFLB2="", CF_JG="责令改正。"),
        legacy_penalty(9, CF_JG="对甲罚款5000元、对乙罚款3000元。"),
        legacy_penalty(10, CF_JDRQ="2026/13/01"),
    ]
    report = run_import(world, legacy_xlsx(rows), "旧版.xlsx")
    assert (report.layout, report.header_style, report.created, report.rejected) == ("2016", "code", 1, 9)
    found = {(r, col, code) for r, col, code, _ in report.errors}
    assert found == {
        (3, "CF_CFLB2", "legacy_category_unknown"),
        (4, "CF_JG", "legacy_amount_unreadable"),
        (5, "CF_XDR_SHXYM、CF_XDR_ZDM、CF_XDR_GSDJ、CF_XDR_SWDJ、CF_XDR_SFZ", "legacy_party_type_unknown"),
        (6, "CF_ZT", "legacy_revoked"),
        (7, "CF_XDR_SFZ", "id_number_checksum"),  # the validator's finding, at the old column
        (8, "CF_SY", "required"), (8, "CF_CFMC", "required"),  # 违法事实 and 违法行为类型 both come from there
        (9, "CF_CFLB1", "legacy_category_ambiguous"),
        (10, "CF_JG", "legacy_amount_ambiguous"),
        (11, "CF_JDRQ", "date_format"),
    }
    messages = {(r, col): m for r, col, _, m in report.errors}
    assert "打板子" in messages[(3, "CF_CFLB2")] and "旧格式没有单独的金额列" in messages[(4, "CF_JG")]
    assert Decision.objects.get().doc_number == "石长市监罚〔2026〕501号"
    book = openpyxl.load_workbook(io.BytesIO(shuanggongshi.error_report_xlsx(report)), read_only=True)
    assert {(r, col, code) for r, col, code, _ in list(book["错误明细"].iter_rows(values_only=True))[1:]} == found
    notes = list(book["推定与未导入"].iter_rows(values_only=True))
    assert notes[0] == ("行号", "列", "类别", "说明")
    assert (2, "CF_XDR_SHXYM", "推定", "行政相对人类别：依据统一社会信用代码推定为法人及非法人组织") in notes
    assert (2, "DFBM", "未导入", "地方编码“130102”未导入：现行格式无此项，地区以导入部门为准") in notes
    assert dict(book["汇总"].iter_rows(values_only=True))["文件格式"] == "2016年版双公示格式（旧版）"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_older_layout_licences_import_with_validity_and_status_inferred(world, fmt):
    rows = [legacy_licence(1), legacy_licence(2, XK_ZT="1", XK_SPLB="其它", XK_JZQ=""),
            legacy_licence(3, XK_XDR_SHXYM="", XK_XDR_GSDJ="130102600077777", XK_XDR_SFZ=id_number(serial="055"),
                           XK_XDR="长安区某某小吃店", XK_FR=""),
            legacy_licence(4, XK_SPLB="承诺件")]
    data = legacy_csv(rows, columns=LEGACY_LICENSE_COLUMNS, chinese=True) if fmt == "csv" else \
        legacy_xlsx(rows, columns=LEGACY_LICENSE_COLUMNS)
    report = run_import(world, data, f"许可.{fmt}")
    assert (report.layout, report.kind, report.created, report.rejected) == ("2016", "license", 3, 1)
    header = "审批类别" if fmt == "csv" else "XK_SPLB"
    assert [(r, col, code) for r, col, code, _ in report.errors] == [(5, header, "invalid_choice")]
    first = Decision.objects.get(doc_number="石长市监许〔2026〕701号")
    assert first.kind == "license" and first.data["licence_doc_name"] == "食品经营许可"
    assert (first.data["valid_from"], first.data["valid_until"]) == ("2026-10-08", "2031-10-07")
    assert first.data["licence_category"] == "普通" and first.data["licence_status"] == "有效"
    second = Decision.objects.get(doc_number="石长市监许〔2026〕702号")
    assert (second.data["licence_status"], second.data["licence_category"], second.data["valid_until"]) == ("无效", "其他", None)
    third = Decision.objects.get(doc_number="石长市监许〔2026〕703号")
    assert third.party_type == "individual_business" and third.data["party_other_codes"] == "工商注册号：130102600077777"
    jdrq = "许可决定日期" if fmt == "csv" else "XK_JDRQ"
    zt = "当前状态" if fmt == "csv" else "XK_ZT"
    assert (jdrq, "inferred", "有效期自：依据许可决定日期推定为2026-10-08（旧格式无有效期自）") in notes_of(report, 2)
    assert (zt, "inferred", "当前状态：“1”（撤销）读作“无效”") in notes_of(report, 3)
    gsdj = "工商登记码" if fmt == "csv" else "XK_XDR_GSDJ"
    assert (gsdj, "inferred", "行政相对人类别：依据工商登记码和居民身份证号（无统一社会信用代码）推定为个体工商户") in notes_of(report, 4)


def test_a_gb18030_older_file_with_slash_cells_and_a_disputed_status_imports_with_notes(world):
    rows = [legacy_penalty(1, CF_ZT="异议", CF_XDR_ZDM="/", CF_XDR_GSDJ="无", BZ="/", DFBM="/", SJC="null"),
            legacy_penalty(2, CF_XDR_SFZ=id_number(serial="066"), CF_ZT="正常")]
    report = run_import(world, legacy_csv(rows, encoding="gb18030"), "旧版gbk.csv")
    assert (report.layout, report.created, report.rejected) == ("2016", 2, 0), report.errors
    first = Decision.objects.get(doc_number="石长市监罚〔2026〕501号")
    assert first.data["party_other_codes"] == "" and first.data["remark"] == ""  # "/" and "无" are empty cells
    assert notes_of(report, 2) == [
        ("行政相对人代码_1(统一社会信用代码)", "inferred", "行政相对人类别：依据统一社会信用代码推定为法人及非法人组织"),
        ("处罚名称", "inferred", "违法行为类型：取自处罚名称（旧格式无违法行为类型）"),
        ("处罚结果", "inferred", "罚款金额：依据处罚结果推定为1.2万元（12000元）"),
        ("当前状态", "not_mapped", "当前状态“异议”未导入：现行格式无此状态，决定按正常状态导入"),
    ]
    second = Decision.objects.get(doc_number="石长市监罚〔2026〕502号")
    assert second.party_type == "legal_person" and second.data["party_id_number"] == id_number(serial="066")
    assert ("行政相对人代码_5(居民身份证号)", "inferred",
            "居民身份证号：行政相对人有统一社会信用代码，身份证号作为证件号码保存（不公开）") in notes_of(report, 3)


def test_importing_the_same_older_layout_file_again_changes_nothing(world):
    data = legacy_csv(mixed_penalties())
    run_import(world, data, "a.csv")
    first = {d.doc_number: d.data for d in Decision.objects.all()}
    report = run_import(world, data, "a.csv")
    assert (report.created, report.corrected, report.unchanged, report.rejected) == (0, 0, 5, 0)
    assert {d.doc_number: d.data for d in Decision.objects.all()} == first
    assert set(Decision.objects.values_list("version", flat=True)) == {1}
    changed = legacy_csv([legacy_penalty(1, CF_JG="警告，并处罚款人民币1.5万元。")])
    report = run_import(world, changed, "b.csv")
    assert report.corrected == 1
    assert Decision.objects.get(doc_number="石长市监罚〔2026〕501号").data["fine_fen"] == 1_500_000


def test_the_current_layout_is_still_read_as_the_current_one(world):
    report = run_import(world, current_csv_bytes([penalty_row(1)], chinese=True), "现行.csv")
    assert (report.layout, report.created, report.notes) == ("current", 1, [])
    # 处罚类别1 and 处罚结果 with the current 行政相对人类别: the current layout, refused for its missing columns.
    row = legacy_penalty(1, CF_XDR_LB="法人及非法人组织")
    with pytest.raises(ImportFileError, match="违法行为类型"):
        run_import(world, legacy_csv([row], chinese=False), "x.csv")
    # An older-layout file without a required column is refused whole, naming it.
    row = legacy_penalty(1)
    del row["CF_JG"]
    with pytest.raises(ImportFileError, match=r"2016年版双公示格式.*处罚结果（CF_JG）"):
        run_import(world, legacy_csv([row], chinese=False), "y.csv")
    assert Decision.objects.count() == 1


# --- through the page and the command ----------------------------------------------------------


def test_the_import_page_says_the_older_layout_was_read_and_lists_the_inferences(world, publicity_admin, pages):
    client = Client()
    client.force_login(publicity_admin)
    upload = io.BytesIO(legacy_csv(mixed_penalties() + [legacy_penalty(6, CF_CFLB1="打板子", CF_CFLB2="")]))
    upload.name = "旧版处罚.csv"
    response = client.post(pages["import"], {"file": upload, "kind": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "2016年版双公示格式" in html
    assert "行政相对人类别：依据组织机构代码、工商登记码推定为法人及非法人组织" in html
    assert "地方编码“130102”未导入" in html and "推定" in html
    assert "处罚类别“打板子”无法对应到现行处罚类别" in html
    assert Decision.objects.filter(agency=world.amr_changan).count() == 5
    report_id = html.split('href="?report=')[1].split('"')[0]
    download = client.get(f"{pages['import']}?report={report_id}")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)
    assert any(line[3] == "行政相对人类别：依据居民身份证号推定为自然人" for line in book["推定与未导入"].iter_rows(values_only=True))
    # The current layout: the page names it, and lists no inferences.
    upload = io.BytesIO(current_csv_bytes([penalty_row(9)], chinese=True))
    upload.name = "现行.csv"
    html = client.post(pages["import"], {"file": upload, "kind": ""}).content.decode()
    layout_line = html.split('id="layout-read">')[1].split("</p>")[0]
    assert "现行双公示格式" in layout_line and "2016" not in layout_line


def test_the_command_names_the_older_layout_and_prints_each_rows_inferences(world, tmp_path):
    source = tmp_path / "旧版许可.xlsx"
    source.write_bytes(legacy_xlsx([legacy_licence(1), legacy_licence(2, XK_XMMC="")], columns=LEGACY_LICENSE_COLUMNS))
    out = io.StringIO()
    report_path = tmp_path / "report.xlsx"
    with pytest.raises(SystemExit) as exit_info:
        call_command("publicity", "import", str(source), "--agency", world.amr_changan.credit_code,
                     "--report", str(report_path), stdout=out, stderr=io.StringIO())
    assert exit_info.value.code == 1  # row 3 has no 项目名称 (行政许可决定文书名称)
    text = out.getvalue()
    assert "文件格式：2016年版双公示格式（旧版）" in text
    assert "第2行 [XK_XDR_SHXYM] 推定：行政相对人类别：依据统一社会信用代码推定为法人及非法人组织" in text
    assert "第2行 [SJC] 未导入：数据更新时间戳“20261009”未导入：平台按导入时间记录版本" in text
    assert "第3行 [XK_XMMC] required" in text
    assert "license, 2016 layout" in text and "created 1" in text
    book = openpyxl.load_workbook(report_path, read_only=True)
    assert dict(book["汇总"].iter_rows(values_only=True))["文件格式"] == "2016年版双公示格式（旧版）"
    assert Decision.objects.get().data["licence_doc_name"] == "食品经营许可"
