"""The 双公示 export (issue 9, section 4): the credit platform republishes
CF_SY, CF_NR and the other free-text columns, so they carry the portal's
redacted text; the party's own ID number is only in CF_XDR_ZJHM."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from sanxiang.publicity import shuanggongshi
from sanxiang.publicity.models import Decision
from sanxiang.publicity.shuanggongshi import LICENSE_COLUMNS, PENALTY_COLUMNS

from .test_intake import company_code, id_number
from .test_shuanggongshi import csv_bytes, licence_row, penalty_row, person_row, run_import

PARTY_ID = id_number(birth="19800101", serial="321")
WITNESS_ID = id_number(birth="19750505", serial="654")
SECRETS = {
    "witness": "趙子龍", "witness_id": WITNESS_ID, "phone": "13811112206", "card": "6222020200112233445",
    "email": "qianqi", "idn_email": "钱七@例子.中国", "house": "123号3单元201室", "party": "钱七",
}
FACTS = (f"当事人钱七（身份证号{PARTY_ID}，住石家庄市长安区建设北大街（近中山路）123号3单元201室，"
         f"联系电话138.1111.2206，电子邮箱钱七@例子.中国）通过银行卡6222 0202 0011 2233 445收取货款。"
         f"證人趙子龍（身份证号{WITNESS_ID[:6]}\u200b{WITNESS_ID[6:]}）证实上述事实，钱七签字确认。")
CONTENT = "罚款人民币500元，于2026年11月20日前缴纳；钱七已于2026年11月3日签收，联系电话+86 138 1111 2206。"


def _rows(content: bytes, fmt: str) -> list[dict[str, str]]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))
    ws = openpyxl.load_workbook(io.BytesIO(content), read_only=True).worksheets[0]
    values = [[c if c is not None else "" for c in row] for row in ws.iter_rows(values_only=True)]
    return [dict(zip(values[0], row)) for row in values[1:]]


def _squeezed(text: str) -> str:
    return "".join(c for c in text if c not in " -.\u200b\u00a0·")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_free_text_columns_of_the_export_are_redacted_like_the_portal(world, fmt):
    report = run_import(world, csv_bytes([person_row(1, CF_XDR_ZJHM=PARTY_ID, CF_SY=FACTS, CF_NR=CONTENT,
                                                     CF_WFXW="销售钱七自制的不合格食品", BZ="钱七邮箱qianqi@example.com",
                                                     CF_NR_ZKDX="钱七的健康证，电话13811112206")],
                                         chinese=False), "p.csv")
    assert report.accepted == 1, report.errors
    content = shuanggongshi.export_file(records=Decision.objects.all(), fmt=fmt, headers="codes")
    [row] = _rows(content, fmt)
    free_text = [c.code for c in PENALTY_COLUMNS if c.free_text]
    assert free_text == ["CF_WFXW", "CF_SY", "CF_YJ", "CF_NR", "CF_NR_ZKDX", "BZ"]
    for code in free_text:
        leaked = [name for name, secret in SECRETS.items() if secret in _squeezed(row[code])]
        assert leaked == [], f"{code} leaks {leaked}: {row[code]}"
    # the party's own ID number: only in its dedicated column
    assert row["CF_XDR_ZJHM"] == PARTY_ID
    assert [code for code, value in row.items() if PARTY_ID in _squeezed(value or "")] == ["CF_XDR_ZJHM"]
    # the identification columns are the exchange standard's, as sent
    assert row["CF_XDR_MC"] == "钱七" and row["CF_XDR_LB"] == "自然人"
    # the redacted text is the portal's: masked names, markers, the county kept, ordinary text unchanged
    assert row["CF_SY"].startswith("当事人钱某（身份证号[身份证号已隐去]，住石家庄市长安区***，联系电话[电话已隐去]")
    assert "證人趙某某" in row["CF_SY"] and "钱某签字确认" in row["CF_SY"]
    assert row["CF_NR"] == "罚款人民币500元，于2026年11月20日前缴纳；钱某已于2026年11月3日签收，联系电话[电话已隐去]。"
    assert row["CF_YJ"] == "《中华人民共和国产品质量法》第四十九条"


def test_a_legal_persons_export_keeps_its_public_identity_and_hides_accounts_and_residences(world):
    facts = ("当事人销售不合格电热水壶，货款转入其账户6222020200112233445；法定代表人赵六（家住正定县和平路620号4单元1858室）"
             "称不知情。经营场所位于石家庄市长安区中山东路18号。")
    run_import(world, csv_bytes([penalty_row(1, CF_SY=facts)], chinese=False), "c.csv")
    [row] = _rows(shuanggongshi.export_file(records=Decision.objects.all(), fmt="csv", headers="codes"), "csv")
    assert row["CF_XDR_MC"] == "石家庄某某商贸有限公司1" and row["CF_XDR_SHXYM"] == company_code(1)
    assert row["CF_FRDB"] == "赵六"
    assert "6222020200112233445" not in row["CF_SY"] and "和平路620号" not in row["CF_SY"]
    assert "赵六" in row["CF_SY"]  # a legal representative is public in the 双公示 format
    assert "石家庄市长安区中山东路18号" in row["CF_SY"]  # business premises are public


def test_the_licence_exports_free_text_columns_are_redacted_too(world):
    run_import(world, csv_bytes([licence_row(1, XK_NR="预包装食品销售。联系人孙八，电话138.1111.2206，邮箱sunba@例子.中国。")],
                                chinese=False, columns=LICENSE_COLUMNS), "l.csv")
    [row] = _rows(shuanggongshi.export_file(records=Decision.objects.all(), fmt="csv", headers="codes"), "csv")
    assert [c.code for c in LICENSE_COLUMNS if c.free_text] == ["XK_XKWS", "XK_XKZS", "XK_NR", "BZ"]
    assert row["XK_NR"] == "预包装食品销售。联系人孙八，电话[电话已隐去]，邮箱[电子邮箱已隐去]。"
    assert row["XK_XKBH"] == "JY11301020000001"
