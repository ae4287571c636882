"""The directory of inspection objects imported from XLSX and CSV
(services.import_objects): good rows written, bad rows reported by row,
field and Chinese message and never half-written, a re-import updates the
objects it names, duplicates within a file refused naming the other rows,
a natural person's full ID number never stored nor echoed, and a few
thousand rows in one query per chunk."""

from __future__ import annotations

import io
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from sanxiang.core.audit import AuditEntry
from sanxiang.core.refusals import Refused
from sanxiang.core.validators import id_number_check_char, make_credit_code
from sanxiang.inspections import imports, services
from sanxiang.inspections.models import InspectionObject

HEADERS = [h for h, _, _ in imports.COLUMNS]


def credit(n: int) -> str:
    return make_credit_code(region_code="130102", serial=10_000 + n)


def person(n: int) -> str:
    first = f"130102{1980 + n % 30}0101{n % 1000:03d}"
    return first + id_number_check_char(first)


def xlsx(rows, headers=HEADERS) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def csv_bytes(rows, headers=HEADERS, encoding="utf-8-sig") -> bytes:
    lines = [",".join(headers)] + [",".join(str(c) for c in row) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def row(name, code="", number="", tier="B", labels="", region="130102", rep="张三", address="中山东路1号",
        industry="食品销售"):
    return [name, code, number, rep, address, industry, region, tier, labels]


def test_good_rows_are_written_and_bad_rows_reported_by_row_field_and_message(cw):
    data = xlsx([
        row("长安区第一食品店", code=credit(1), tier="A", labels="投诉举报；经营异常名录"),
        row("", code=credit(2)),                                  # row 3: no name
        row("长安区第三食品店", code=credit(3), region="999999"),  # row 4: unknown region
        row("王小明", number=person(4), tier="d"),
        row("长安区第五食品店", code=credit(5), tier="E"),          # row 6: bad tier
        row("李大明", number=person(6)[:17] + "0" if person(6)[-1] != "0" else person(6)[:17] + "1"),  # row 7: checksum
    ])
    result = services.import_objects(actor=cw.u_pub_changan, data=data, filename="名录.xlsx")
    assert (result.rows, result.created, result.updated, result.refused_rows) == (6, 2, 0, 4)
    refused = {(r.row, r.field, r.column) for r in result.refused}
    assert refused == {(3, "name", "名称"), (4, "region", "行政区划代码"), (6, "risk_tier", "信用风险分类"),
                       (7, "id_number", "身份证号")}
    assert all(r.message and not r.message.isascii() for r in result.refused)
    assert set(InspectionObject.objects.values_list("name", flat=True)) == {"长安区第一食品店", "王小明"}
    first = InspectionObject.objects.get(name="长安区第一食品店")
    assert first.risk_tier == "A" and first.labels == ["投诉举报", "经营异常名录"]
    person_row = InspectionObject.objects.get(name="王小明")
    assert person_row.natural_person and person_row.risk_tier == "D" and person_row.id_masked.count("*") == 8
    assert AuditEntry.objects.filter(action="inspections.objects_imported").count() == 1


def test_a_full_id_number_is_never_stored_nor_echoed_in_the_error_report(cw):
    good, bad = person(7), person(8)[:17] + ("0" if person(8)[-1] != "0" else "1")
    data = csv_bytes([row("王小明", number=good), row("李大明", number=bad, region="000000")])
    result = services.import_objects(actor=cw.u_pub_changan, data=data, filename="名录.csv")
    assert result.created == 1 and result.refused_rows == 1
    report = imports.error_report_xlsx(result)
    cells = " ".join(str(c) for r in load_workbook(io.BytesIO(report)).active.iter_rows(values_only=True) for c in r)
    assert bad not in cells and bad[:6] + "********" + bad[-4:] in cells and "李大明" in cells
    assert str(result.as_dict()).find(bad) == -1
    stored = InspectionObject.objects.values_list("name", "credit_code", "id_masked", "id_hash", "address")
    assert good not in str(list(stored))
    assert good not in str(list(AuditEntry.objects.values_list("payload", flat=True)))


def test_re_importing_updates_the_objects_it_names_and_keeps_an_empty_tier(cw):
    services.import_objects(actor=cw.u_pub_changan, filename="a.xlsx", data=xlsx([
        row("长安区第一食品店", code=credit(1), tier="C", labels="投诉举报"),
        row("王小明", number=person(4), tier="B")]))
    result = services.import_objects(actor=cw.u_pub_changan, filename="b.xlsx", data=xlsx([
        row("长安区第一食品店", code=credit(1), tier="", labels="经营异常名录", address="建设北大街9号", rep="赵四"),
        row("王小明", number=person(4), tier="A"),
        row("长安区第二食品店", code=credit(2))]))
    assert (result.created, result.updated, result.unchanged, result.refused_rows) == (1, 2, 0, 0)
    first = InspectionObject.objects.get(credit_code=credit(1))
    assert (first.risk_tier, first.labels, first.address, first.legal_representative) == (
        "C", ["经营异常名录"], "建设北大街9号", "赵四")
    assert InspectionObject.objects.get(natural_person=True).risk_tier == "A"
    assert InspectionObject.objects.count() == 3
    again = services.import_objects(actor=cw.u_pub_changan, filename="b.xlsx", data=xlsx([
        row("长安区第二食品店", code=credit(2))]))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)


def test_duplicates_within_a_file_are_all_refused_naming_the_other_rows(cw):
    result = services.import_objects(actor=cw.u_pub_changan, filename="dup.csv", data=csv_bytes([
        row("甲店", code=credit(1)), row("乙店", code=credit(2)), row("甲店（重复）", code=credit(1)),
        row("王小明", number=person(4)), row("王小明", number=person(4))]))
    assert result.created == 1 and result.refused_rows == 4
    by_row = {r.row: r.message for r in result.refused}
    assert "第 4 行" in by_row[2] and "第 2 行" in by_row[4]
    assert "第 6 行" in by_row[5] and "第 5 行" in by_row[6] and "身份证号" in by_row[5]
    assert list(InspectionObject.objects.values_list("name", flat=True)) == ["乙店"]


def test_an_unreadable_file_or_a_missing_header_is_refused_naming_the_file(cw):
    for data, filename, code in ((b"not a workbook", "x.xlsx", "bad_xlsx"), (b"a,b\r\n1,2\r\n", "x.csv", "missing_header"),
                                 (b"", "x.csv", "empty"), (b"x", "x.xls", "unsupported_format"),
                                 (b"\xff\xfe\xfa\xfb\xfc", "x.csv", "bad_encoding")):
        with pytest.raises(ValidationError) as exc:
            services.import_objects(actor=cw.u_pub_changan, data=data, filename=filename)
        [error] = exc.value.error_dict["file"]
        assert error.code == code, (filename, error.code)
    with pytest.raises(Refused):
        services.import_objects(actor=cw.u_changan, data=csv_bytes([row("甲店", code=credit(1))]), filename="x.csv")
    assert not InspectionObject.objects.exists()


def test_a_gb18030_csv_from_excel_and_the_template_read_back(cw):
    data = csv_bytes([row("长安区第一食品店", code=credit(1))], encoding="gb18030")
    assert services.import_objects(actor=cw.u_pub_changan, data=data, filename="名录.csv").created == 1
    template = load_workbook(io.BytesIO(imports.template_xlsx()))
    assert [c.value for c in next(template.worksheets[0].iter_rows())] == HEADERS
    assert services.import_objects(actor=cw.u_pub_changan, data=imports.template_xlsx(), filename="模板.xlsx").rows == 0
    assert services.import_objects(actor=cw.u_pub_changan, data=imports.template_csv(), filename="模板.csv").rows == 0


def test_three_thousand_rows_import_with_a_few_queries_per_chunk(cw, capsys):
    n = 3000
    rows = [row(f"长安区第{i}号商户", code=credit(i), tier="ABCD"[i % 4], labels="投诉举报" if i % 7 == 0 else "")
            for i in range(n)]
    data = csv_bytes(rows)
    with CaptureQueriesContext(connection) as queries:
        t = time.perf_counter()
        calls = []
        result = services.import_objects(actor=cw.u_pub_changan, data=data, filename="big.csv",
                                         progress=lambda done, total: calls.append((done, total)))
        seconds = time.perf_counter() - t
    assert calls == [(1000, n), (2000, n), (3000, n)]  # progress after each chunk
    assert result.created == n and not result.refused
    chunks = -(-n // services.IMPORT_CHUNK)
    sql = [q["sql"] for q in queries.captured_queries]
    lookups = [q for q in sql if q.startswith("SELECT") and "inspections_inspectionobject" in q]
    assert len(lookups) == chunks  # one look-up per chunk, never per row
    assert len(sql) < n / 20, len(sql)  # SQLite splits an insert by its variable limit; PostgreSQL does not
    rows[0][7] = "D"
    t = time.perf_counter()
    again = services.import_objects(actor=cw.u_pub_changan, data=csv_bytes(rows), filename="big.csv")
    assert (again.updated, again.unchanged) == (1, n - 1)
    with capsys.disabled():
        print(f"\n[directory import] {n} rows created in {seconds:.2f} s, re-imported in {time.perf_counter() - t:.2f} s,"
              f" {len(queries)} queries")


def test_a_concurrent_insert_of_the_same_code_writes_nothing_and_is_refused_naming_the_file(cw, monkeypatch):
    from django.db import IntegrityError

    def clash(*args, **kwargs):
        raise IntegrityError("UNIQUE constraint failed: inspections_object_credit_code_once")

    monkeypatch.setattr(InspectionObject.objects, "bulk_create", clash)
    with pytest.raises(ValidationError) as exc:
        services.import_objects(actor=cw.u_pub_changan, filename="a.csv", data=csv_bytes([row("甲店", code=credit(1))]))
    assert exc.value.error_dict["file"][0].code == "concurrent_change"
    assert not InspectionObject.objects.exists() and not AuditEntry.objects.filter(action="inspections.objects_imported").exists()
