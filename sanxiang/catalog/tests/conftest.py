"""Fixtures for the catalogue tests: the core `world` plus the people who
compile catalogues, and helpers that build real .xlsx files."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import Workbook

from sanxiang.catalog import services
from sanxiang.catalog.excel import COLUMNS
from sanxiang.catalog.models import CatalogueKind
from sanxiang.core import services as core_services
from sanxiang.core.models import Role


@pytest.fixture
def cw(world):
    """world + a publicity admin for 长安区 and 路南区 and a head for 正定县."""
    def user(username, role, agency):
        return core_services.create_user(actor="test-fixture", username=username, password=world.password, role=role, agency=agency)

    world.u_pub_changan = user("pub_changan", Role.PUBLICITY_ADMIN, world.amr_changan)
    world.u_head_zhengding = user("head_zhengding", Role.AGENCY_HEAD, world.amr_zhengding)
    world.u_pub_lunan = user("pub_lunan", Role.PUBLICITY_ADMIN, world.amr_lunan)
    return world


def xlsx(headers: list[str], rows: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def headers(kind: str) -> list[str]:
    return [c.header for c in COLUMNS[kind]]


def enforcement_row(n: int, name: str | None = None) -> list:
    return [f"SJ-CF-{n:03d}", name or f"对销售不合格商品的行政处罚{n}", "行政处罚", "查处销售不合格商品的违法行为",
            "警告、罚款、没收违法所得", "《中华人民共和国产品质量法》", f"第{n}条"]


def inspection_row(n: int) -> list:
    return [f"SJ-CC-{n:03d}", f"食品经营抽查{n}", "石家庄市长安区市场监督管理局", "《中华人民共和国食品安全法》第一百一十条",
            "辖区内食品经营者", "经营条件、进货查验、贮存", "5%", "双随机抽查", "每年一次"]


def guide_row(n: int) -> list:
    return [f"SJ-XK-{n:03d}", f"食品经营许可{n}", "《中华人民共和国食品安全法》第三十五条", "政务服务中心市场监管窗口",
            "石家庄市长安区市场监督管理局", "有与经营的食品品种相适应的场所", "无", "申请书；营业执照复印件",
            "申请—受理—审查—决定—送达", "20个工作日", "12315投诉举报", "依照《行政许可法》追究", "行政复议或者行政诉讼",
            "工作日 9:00-17:00", "长安区建设北大街1号", "0311-12345678"]


def flowchart_rows() -> list[list]:
    return [["行政处罚", "一般程序", "适用于一般违法行为"], ["行政处罚", "简易程序", ""], ["行政检查", "一般程序", ""]]


ROWS = {
    CatalogueKind.ENFORCEMENT_ITEMS: lambda: [enforcement_row(n) for n in range(1, 4)],
    CatalogueKind.INSPECTION_ITEMS: lambda: [inspection_row(n) for n in range(1, 3)],
    CatalogueKind.SERVICE_GUIDES: lambda: [guide_row(n) for n in range(1, 3)],
    CatalogueKind.FLOWCHARTS: flowchart_rows,
}


def draft_with(*, editor, agency, kind, rows=None):
    version = services.start_draft(actor=editor, agency=agency, kind=kind)
    result = services.import_items(actor=editor, version=version, data=xlsx(headers(kind), rows if rows is not None else ROWS[kind]()),
                                   filename="list.xlsx")
    assert result.ok, result.errors
    return version


def filed(*, editor, decider, agency, kind, effective=date(2026, 1, 1), rows=None):
    """A version drafted, imported, submitted and accepted."""
    version = draft_with(editor=editor, agency=agency, kind=kind, rows=rows)
    services.submit_version(actor=editor, version=version, effective_date=effective)
    return services.accept_version(actor=decider, version=version)
