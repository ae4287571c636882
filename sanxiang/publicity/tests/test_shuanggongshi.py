"""The 双公示 exchange format (公示-19): CSV/XLSX import with Chinese headers
or CF_/XK_ codes, exact 万元, the per-row error report, export in the same
layout and the round trip; the command and the back-office page."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
import xlsxwriter
from django.core.management import call_command
from django.test import Client
from django.urls import NoReverseMatch, URLPattern, URLResolver, include, path, reverse

from sanxiang.core import services as core_services
from sanxiang.core.models import AuditEntry, Role
from sanxiang.publicity import imports, shuanggongshi
from sanxiang.publicity.models import Decision, DecisionVersion
from sanxiang.publicity.shuanggongshi import PENALTY_COLUMNS, LICENSE_COLUMNS, ImportFileError, import_file

from .test_intake import company_code, id_number

# --- files ------------------------------------------------------------------------------


def penalty_row(n: int, **overrides) -> dict:
    """One penalty row keyed by field code, as a credit-platform file holds it."""
    row = {
        "CF_XDR_MC": f"石家庄某某商贸有限公司{n}", "CF_XDR_LB": "法人及非法人组织", "CF_XDR_SHXYM": company_code(n),
        "CF_FRDB": "赵六", "CF_WSH": f"石长市监罚〔2026〕{100 + n}号", "CF_WFXW": "销售不合格产品",
        "CF_SY": "当事人销售的电热水壶经抽检不合格。", "CF_YJ": "《中华人民共和国产品质量法》第四十九条",
        "CF_CFLB": "警告;罚款", "CF_NR": "警告，罚款人民币1.2万元。", "CF_NR_FK": "1.2",
        "CF_JDRQ": "2026/11/02", "CF_YXQ": "2027/11/02", "CF_SJLY": "石家庄市长安区市场监督管理局", "BZ": "",
    }
    row.update(overrides)
    return row


def person_row(n: int, **overrides) -> dict:
    row = penalty_row(n, CF_XDR_MC="钱七", CF_XDR_LB="自然人", CF_XDR_SHXYM="", CF_FRDB="", CF_XDR_ZJLX="身份证",
                      CF_XDR_ZJHM=id_number(serial=f"{n:03d}"), CF_JDRQ="2026年11月3日", CF_CFLB="罚款",
                      CF_NR_FK="0.05", CF_NR="罚款人民币500元。")
    row.update(overrides)
    return row


def licence_row(n: int, **overrides) -> dict:
    row = {
        "XK_XDR_MC": f"长安区某某便利店{n}", "XK_XDR_LB": "个体工商户", "XK_XDR_SHXYM": company_code(300 + n),
        "XK_FRDB": "孙八", "XK_XKWS": "食品经营许可决定书", "XK_WSH": f"石长市监许〔2026〕{n}号", "XK_XKLB": "普通",
        "XK_XKZS": "食品经营许可证", "XK_XKBH": f"JY113010200{n:05d}", "XK_NR": "预包装食品销售。",
        "XK_JDRQ": "2026-10-08", "XK_YXQZ": "2026-10-08", "XK_YXQZI": "2031-10-07", "XK_ZT": "1",
    }
    row.update(overrides)
    return row


def header_for(code: str, columns) -> str:
    return next(c.header for c in columns if c.code == code)


def csv_bytes(rows: list[dict], *, chinese: bool, columns=PENALTY_COLUMNS, encoding="utf-8-sig") -> bytes:
    import csv

    codes = list(dict.fromkeys(k for row in rows for k in row))
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([header_for(c, columns) if chinese else c for c in codes])
    for row in rows:
        writer.writerow([row.get(c, "") for c in codes])
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], *, chinese: bool = False, columns=PENALTY_COLUMNS) -> bytes:
    codes = list(dict.fromkeys(k for row in rows for k in row))
    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet()
    for c, code in enumerate(codes):
        ws.write_string(0, c, header_for(code, columns) if chinese else code)
    for r, row in enumerate(rows, start=1):
        for c, code in enumerate(codes):
            value = row.get(code, "")
            if code == "CF_NR_FK" and value:
                ws.write_number(r, c, float(value))  # a real number cell, as Excel users type it
            else:
                ws.write_string(r, c, value)
    wb.close()
    return out.getvalue()


def run_import(world, data: bytes, filename: str, **kw):
    return import_file(actor="test", agency=world.amr_changan, file=data, filename=filename, **kw)


# --- import -------------------------------------------------------------------------------


def test_a_csv_with_chinese_headers_imports_penalties(world):
    report = run_import(world, csv_bytes([penalty_row(1), person_row(2)], chinese=True), "处罚.csv")
    assert (report.kind, report.header_style, report.created, report.rejected) == ("penalty", "chinese", 2, 0)
    company = Decision.objects.get(external_id="石长市监罚〔2026〕101号")
    assert company.data["fine_fen"] == 1_200_000  # 1.2 万元
    assert company.data["penalty_categories"] == ["警告", "罚款"]
    assert company.data["decision_date"] == "2026-11-02" and company.data["valid_until"] == "2027-11-02"
    person = Decision.objects.get(external_id="石长市监罚〔2026〕102号")
    assert person.party_type == "natural_person" and person.data["fine_fen"] == 50_000
    assert person.data["decision_date"] == "2026-11-03"
    assert DecisionVersion.objects.filter(source="import").count() == 2


def test_an_xlsx_with_cf_codes_imports_penalties(world):
    report = run_import(world, xlsx_bytes([penalty_row(n) for n in range(1, 4)]), "cf.xlsx")
    assert (report.header_style, report.created, report.rejected) == ("code", 3, 0)
    assert sorted(Decision.objects.values_list("data__fine_fen", flat=True)) == [1_200_000] * 3


def test_licences_import_from_an_xlsx_with_chinese_headers_and_the_kind_is_detected(world):
    report = run_import(world, xlsx_bytes([licence_row(1), licence_row(2, XK_ZT="无效")], chinese=True,
                                          columns=LICENSE_COLUMNS), "许可.xlsx")
    assert (report.kind, report.created, report.rejected) == ("license", 2, 0)
    d = Decision.objects.get(external_id="石长市监许〔2026〕2号")
    assert d.kind == "license" and d.data["licence_status"] == "无效" and d.data["valid_from"] == "2026-10-08"


def test_a_gb18030_csv_from_excel_on_chinese_windows_imports(world):
    report = run_import(world, csv_bytes([penalty_row(1)], chinese=True, encoding="gb18030"), "gbk.csv")
    assert report.created == 1 and Decision.objects.get().party_name == "石家庄某某商贸有限公司1"


def test_money_with_more_than_six_decimals_of_wanyuan_is_rejected_at_its_row_and_column(world):
    report = run_import(world, csv_bytes([penalty_row(1), penalty_row(2, CF_NR_FK="1.2345678")], chinese=True), "m.csv")
    assert (report.created, report.rejected) == (1, 1)
    assert [(r, col, code) for r, col, code, _ in report.errors] == [(3, "罚款金额(万元)", "money_precision")]


def test_the_error_report_lists_every_bad_row_by_row_number_and_column(world):
    bad_code = company_code(2)[:17] + ("0" if company_code(2)[17] != "0" else "1")
    rows = [penalty_row(1), penalty_row(2, CF_XDR_SHXYM=bad_code), penalty_row(3),
            person_row(4, CF_XDR_ZJHM="130102198503141230"), penalty_row(5, CF_CFLB="罚款;打板子", CF_JDRQ="2026/02/30"),
            penalty_row(6, CF_WSH="石长市监罚〔2026〕101号")]  # the same 文号 as row 2
    report = run_import(world, xlsx_bytes(rows), "errors.xlsx")
    assert (report.created, report.rejected) == (2, 4)
    found = {(r, col, code) for r, col, code, _ in report.errors}
    assert found == {
        (3, "CF_XDR_SHXYM", "credit_code_checksum"), (5, "CF_XDR_ZJHM", "id_number_checksum"),
        (6, "CF_CFLB", "unknown_category"), (6, "CF_JDRQ", "date_format"), (7, "CF_WSH", "duplicate_in_file"),
    }
    book = openpyxl.load_workbook(io.BytesIO(shuanggongshi.error_report_xlsx(report)), read_only=True)
    lines = list(book["错误明细"].iter_rows(values_only=True))
    assert lines[0] == ("行号", "列", "错误代码", "说明")
    assert {(r, col, code) for r, col, code, _ in lines[1:]} == found
    assert all(message for *_, message in lines[1:])
    summary = dict(book["汇总"].iter_rows(values_only=True))
    assert summary["未导入（有错误）"] == 4 and summary["新增"] == 2


def test_a_file_without_a_required_column_or_with_an_unknown_layout_is_refused_whole(world):
    row = penalty_row(1)
    del row["CF_WSH"]
    with pytest.raises(ImportFileError, match="行政处罚决定书文号"):
        run_import(world, csv_bytes([row], chinese=False), "x.csv")
    with pytest.raises(ImportFileError, match="无法识别表头"):
        run_import(world, b"a,b\n1,2\n", "x.csv")
    with pytest.raises(ImportFileError, match=".xls"):
        run_import(world, b"", "old.xls")
    assert not Decision.objects.exists()


def test_an_agency_code_that_is_not_the_importing_agency_is_rejected(world):
    report = run_import(world, csv_bytes([penalty_row(1, CF_CFJGDM=world.amr_zhengding.credit_code)], chinese=True), "a.csv")
    assert report.rejected == 1 and report.errors[0][1:3] == ("处罚机关统一社会信用代码", "agency_mismatch")


def test_importing_a_changed_file_again_corrects_instead_of_duplicating(world):
    run_import(world, csv_bytes([penalty_row(1)], chinese=True), "a.csv")
    changed = csv_bytes([penalty_row(1, CF_NR="警告，罚款人民币1.3万元。", CF_NR_FK="1.3")], chinese=True)
    report = run_import(world, changed, "a.csv", reason="重新报送")
    assert (report.created, report.corrected, report.unchanged) == (0, 1, 0)
    d = Decision.objects.get()
    assert d.version == 2 and d.versions.get(number=2).reason == "重新报送"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("headers", ["chinese", "codes"])
def test_import_export_and_reimport_give_the_same_records(world, fmt, headers):
    penalties = [penalty_row(1), person_row(2), penalty_row(3, CF_XDR_SHXYM="00000000000000000X", CF_XDR_GSZC="130102600012345",
                                                             CF_XDR_ZZJG="MA0ABCDE1", CF_CFLB="没收违法所得、没收非法财物;罚款",
                                                             CF_NR_WFFF="0.000001", CF_NR_FK="12", BZ="复核后")]
    run_import(world, xlsx_bytes(penalties), "in.xlsx")
    licences = [licence_row(1), licence_row(2, XK_YXQZI="")]
    run_import(world, csv_bytes(licences, chinese=True, columns=LICENSE_COLUMNS), "in.csv")
    first = {d.external_id: d.data for d in Decision.objects.all()}
    assert first["石长市监罚〔2026〕103号"]["confiscation_fen"] == 1
    assert first["石长市监罚〔2026〕103号"]["party_other_codes"] == "工商注册号：130102600012345；组织机构代码：MA0ABCDE1"
    for kind in ("penalty", "license"):
        exported = shuanggongshi.export_file(records=Decision.objects.filter(agency=world.amr_changan, kind=kind),
                                             fmt=fmt, headers=headers)
        report = run_import(world, exported, f"out.{fmt}")
        assert (report.kind, report.unchanged, report.corrected, report.rejected) == (
            kind, 3 if kind == "penalty" else 2, 0, 0), report.errors
    again = {d.external_id: d.data for d in Decision.objects.all()}
    assert again == first
    assert set(Decision.objects.values_list("version", flat=True)) == {1}  # the same records: no new version


def test_the_export_carries_the_layout_the_agency_and_the_id_number_for_the_credit_platform(world):
    run_import(world, csv_bytes([person_row(1)], chinese=True), "p.csv")
    content = shuanggongshi.export_file(records=Decision.objects.all(), fmt="csv", headers="codes").decode("utf-8-sig")
    header, line = content.splitlines()[:2]
    assert header.split(",") == [c.code for c in PENALTY_COLUMNS]
    cells = dict(zip(header.split(","), line.split(",")))
    assert cells["CF_XDR_ZJHM"] == id_number(serial="001") and cells["CF_XDR_LB"] == "自然人"
    assert cells["CF_CFJGDM"] == world.amr_changan.credit_code and cells["CF_NR_FK"] == "0.05"
    assert cells["CF_JDRQ"] == "2026/11/03"


# --- command ------------------------------------------------------------------------------


def test_the_command_imports_with_a_progress_bar_and_exports_by_extension(world, tmp_path):
    source = tmp_path / "cf.csv"
    source.write_bytes(csv_bytes([penalty_row(n) for n in range(1, 251)], chinese=True))
    out, err = io.StringIO(), io.StringIO()
    call_command("publicity", "import", str(source), "--agency", world.amr_changan.credit_code, stdout=out, stderr=err)
    assert "created 250" in out.getvalue()
    assert "250/250" in err.getvalue() and "rows/s" in err.getvalue() and "[####" in err.getvalue()
    target = tmp_path / "out.xlsx"
    call_command("publicity", "export", "--agency", world.amr_changan.credit_code, "--kind", "penalty", "-o", str(target),
                 stdout=io.StringIO())
    sheet = openpyxl.load_workbook(target, read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 251 and rows[0][0] == "行政相对人名称"
    assert AuditEntry.objects.filter(action="publicity.export").count() == 1


def test_the_command_exits_non_zero_and_lists_rejected_rows(world, tmp_path):
    source = tmp_path / "bad.csv"
    source.write_bytes(csv_bytes([penalty_row(1, CF_NR_FK="-1")], chinese=False))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("publicity", "import", str(source), "--agency", world.amr_changan.credit_code, "--kind", "penalty",
                     stdout=out, stderr=io.StringIO())
    assert exit_info.value.code == 1
    assert "第2行 [CF_NR_FK] money_negative" in out.getvalue()


# --- pages ------------------------------------------------------------------------------------


def _pages_urlconf_needed() -> bool:
    try:
        reverse("publicity:import")
        reverse("publicity:export")
        return False
    except NoReverseMatch:
        return True


def _test_urlpatterns():
    """Until the integrator wires the pages: the project's URLs with the two
    pages added to the publicity namespace (this test module only)."""
    import sanxiang.urls
    from sanxiang.publicity import urls as publicity_urls

    mine = [path("workbench/publicity/import/", imports.import_page, name="import"),
            path("workbench/publicity/export/", imports.export_download, name="export")]
    others = [p for p in sanxiang.urls.urlpatterns
              if not (isinstance(p, URLResolver) and p.namespace == "publicity")]
    return [path("", include((mine + publicity_urls.urlpatterns, "publicity"))), *others]


urlpatterns: list[URLPattern | URLResolver] = []


@pytest.fixture
def pages(settings):
    if _pages_urlconf_needed():
        urlpatterns[:] = _test_urlpatterns()
        settings.ROOT_URLCONF = __name__
    return {"import": reverse("publicity:import"), "export": reverse("publicity:export")}


@pytest.fixture
def publicity_admin(world):
    return core_services.create_user(actor="t", username="pub_changan", password=world.password,
                                     role=Role.PUBLICITY_ADMIN, agency=world.amr_changan)


def test_the_import_page_shows_counts_and_row_errors_and_serves_the_error_report(world, publicity_admin, pages):
    client = Client()
    client.force_login(publicity_admin)
    page = client.get(pages["import"])
    assert page.status_code == 200 and "双公示" in page.content.decode()
    upload = io.BytesIO(csv_bytes([penalty_row(1), penalty_row(2, CF_NR_FK="1.2345678"), penalty_row(3)], chinese=True))
    upload.name = "处罚.csv"
    response = client.post(pages["import"], {"file": upload, "kind": ""})
    html = response.content.decode()
    assert response.status_code == 200
    assert "罚款金额(万元)" in html and "?report=" in html
    # the page names the problem in Chinese; the code stays in the downloadable report (issue 11 item 8)
    assert "money_precision" not in html and "收到 1.2345678" in html
    assert Decision.objects.filter(agency=world.amr_changan).count() == 2
    report_link = html.split('href="?report=')[1].split('"')[0]
    download = client.get(f"{pages['import']}?report={report_link}")
    assert download.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)), read_only=True)["错误明细"].iter_rows(values_only=True))
    assert rows[1][:3] == (3, "罚款金额(万元)", "money_precision")
    # Another session cannot fetch that report.
    other = Client()
    other.force_login(publicity_admin)
    assert other.get(f"{pages['import']}?report={report_link}").status_code == 404


def test_the_export_download_is_the_agencys_own_data_and_needs_the_role(world, publicity_admin, pages):
    run_import(world, csv_bytes([penalty_row(1)], chinese=True), "a.csv")
    import_file(actor="test", agency=world.amr_zhengding,
                file=csv_bytes([penalty_row(2, CF_XDR_MC="正定县某公司")], chinese=True), filename="b.csv")
    client = Client()
    client.force_login(publicity_admin)
    response = client.get(pages["export"], {"kind": "penalty", "fmt": "csv"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store, private"
    text = response.content.decode("utf-8-sig")
    assert "石家庄某某商贸有限公司1" in text and "正定县某公司" not in text
    # Asking for another agency is "not found", not a leak.
    assert client.get(pages["export"], {"kind": "penalty", "agency": world.amr_zhengding.credit_code}).status_code == 404
    anonymous = Client().get(pages["export"], {"kind": "penalty"})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    officer = Client()
    officer.force_login(world.u_changan)
    assert officer.get(pages["export"], {"kind": "penalty"}).status_code == 403
    assert officer.get(pages["import"]).status_code == 403


def test_the_fine_in_wanyuan_survives_excel_number_cells_exactly(world):
    rows = [penalty_row(n, CF_NR_FK=v) for n, v in enumerate(["0.01", "3.3333", "123456.789012"], start=1)]
    run_import(world, xlsx_bytes(rows), "n.xlsx")
    fines = sorted(Decision.objects.values_list("data__fine_fen", flat=True))
    assert fines == sorted(int(Decimal(v) * 1_000_000) for v in ["0.01", "3.3333", "123456.789012"])
