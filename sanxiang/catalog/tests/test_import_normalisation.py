"""Catalogue imports go through the intake normalisation (issue 9, §2):
codes and names lose invisible characters, codes and phones get ASCII
digits, control characters are refused at their row and column, and the
import's audit entry records what was changed."""

from __future__ import annotations

import json

from sanxiang.catalog import services
from sanxiang.catalog.models import CatalogueKind
from sanxiang.core.models import AuditEntry

from .conftest import enforcement_row, guide_row, headers, xlsx

ITEMS = CatalogueKind.ENFORCEMENT_ITEMS


def test_codes_and_names_lose_invisible_characters_and_get_ascii_digits_and_it_is_audited(cw):
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=ITEMS)
    first = enforcement_row(1, name="对销售\u200b不合格商品的\u202e行政处罚")
    first[0] = "ＳＪ-ＣＦ-００１"
    second = enforcement_row(2)
    second[0] = "SJ-CF-\u0660\u0660\u0662"  # Arabic-Indic digits
    result = services.import_items(actor=cw.u_pub_changan, version=version, data=xlsx(headers(ITEMS), [first, second]))
    assert result.ok, result.errors
    items = {i.code: i for i in version.items()}
    assert set(items) == {"SJ-CF-001", "SJ-CF-002"}
    assert items["SJ-CF-001"].name == "对销售不合格商品的行政处罚"
    entry = AuditEntry.objects.filter(action="catalog.import").latest("seq")
    assert json.loads(entry.payload)["normalised"] == {"2": ["code", "name"], "3": ["code"]}


def test_control_characters_in_a_catalogue_cell_are_refused_at_their_row_and_column(cw):
    kind = CatalogueKind.SERVICE_GUIDES
    version = services.start_draft(actor=cw.u_pub_changan, agency=cw.amr_changan, kind=kind)
    bad = guide_row(2)
    bad[7] = "申请书\x9b；营业执照复印件"  # a C1 control (CSI): XML holds it, openpyxl writes it
    result = services.import_items(actor=cw.u_pub_changan, version=version, data=xlsx(headers(kind), [guide_row(1), bad]))
    assert not result.ok
    assert [(e["row"], e["column"]) for e in result.errors] == [(3, "申请材料")]
    assert "控制字符" in result.errors[0]["problem"]
