"""The task table as data: the real file holds every measure of the three
systems with its code and parsed fields; a bad file is refused naming the
file, the entry and the field."""

from __future__ import annotations

from datetime import date

import pytest

from sanxiang.measures.table import DEFAULT_TABLE, ONGOING, TableError, load_table, move_to_year

GOOD_ENTRY = """  - code: 公示-1
    system: publicity
    group: 统一建章立制
    measure: 出台省行政执法公示实施办法。
    requirement: 提出全省行政执法公示工作的指导意见。
    responsible: [province_legal_office]
    responsible_text: 省法制办
    deadline: 2017-04-30
    deadline_text: 2017年4月底前
"""
HEAD = "table: t\ntitle: 表\nyear: 2017\nmeasures:\n"


def test_the_real_table_holds_every_measure_of_the_three_systems_with_its_code():
    table = load_table(DEFAULT_TABLE)
    codes = [m.code for m in table.measures]
    expected = ([f"公示-{n}" for n in range(1, 20)] + [f"记录-{n}" for n in range(1, 14)]
                + [f"审核-{n}" for n in range(1, 9)])
    assert codes == expected
    assert {m.system for m in table.by_system("publicity")} == {"publicity"} and len(table.by_system("review")) == 8
    for m in table.measures:
        assert m.measure and m.requirement and m.group and m.responsible and m.deadline_text


def test_the_real_table_parses_units_deadlines_and_filings():
    table = load_table(DEFAULT_TABLE)
    m3 = table.measure("公示-3")
    assert m3.responsible == ("departments_all",)
    assert m3.deadline_for("province") == date(2017, 5, 31) and m3.deadline_for("county") == date(2017, 6, 30)
    assert (m3.filing.kind, m3.filing.to, m3.filing.catalogue) == ("review_and_filing", "own_legal_office", "enforcement_items")
    assert table.measure("公示-17").responsible == ("province_general_office", "province_legal_office")
    assert table.measure("公示-9").responsible == ("legal_offices_city_county", "departments_province")
    assert table.measure("公示-10").filing.to == "province_legal_office"
    assert table.measure("公示-5").filing.to == "own_market_regulation"
    assert table.measure("审核-6").filing.catalogue == "review_catalogue"
    assert table.measure("记录-4").filing.kind == "filing"
    assert table.measure("公示-4").deadline is None and table.measure("公示-4").deadline_text == ONGOING
    assert table.measure("记录-13").deadline == date(2017, 9, 30) and table.measure("记录-13").ongoing
    assert table.measure("审核-2").responsible == ("province_staffing", "province_legal_office")
    assert table.measure("审核-3").responsible == ("governments_all", "departments_all")


def test_deadlines_move_to_the_roll_out_year_keeping_month_ends():
    assert move_to_year(date(2017, 4, 30), 2026) == date(2026, 4, 30)
    assert move_to_year(date(2017, 2, 28), 2028) == date(2028, 2, 29)  # a month's last day stays its last day
    assert move_to_year(date(2017, 3, 15), 2026) == date(2026, 3, 15)
    assert load_table(DEFAULT_TABLE).measure("公示-2").deadline_for("city", year=2026) == date(2026, 6, 30)


@pytest.mark.parametrize("change, entry, field", [
    (("deadline: 2017-04-30", "deadline: 四月底"), "第 2 条（公示-2）", "deadline"),
    (("responsible: [province_legal_office]", "responsible: [province_mayor]"), "第 2 条（公示-2）", "responsible"),
    (("system: publicity", "system: review"), "第 2 条（公示-2）", "system"),
    (("    responsible_text: 省法制办\n", ""), "第 2 条（公示-2）", "responsible_text"),
    (("deadline_text: 2017年4月底前", "deadline_text: 2017年4月底前\n    colour: red"), "第 2 条（公示-2）", "colour"),
])
def test_a_bad_file_is_refused_naming_file_entry_and_field(tmp_path, change, entry, field):
    second = GOOD_ENTRY.replace("公示-1", "公示-2").replace(*change)
    path = tmp_path / "bad.yaml"
    path.write_text(HEAD + GOOD_ENTRY + second, encoding="utf-8")
    with pytest.raises(TableError) as caught:
        load_table(path)
    assert caught.value.entry == entry and caught.value.field == field
    assert str(caught.value).startswith(f"bad.yaml: {entry}: 字段 {field}")


def test_a_duplicate_code_and_a_broken_yaml_are_refused_with_their_place(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text(HEAD + GOOD_ENTRY + GOOD_ENTRY, encoding="utf-8")
    with pytest.raises(TableError, match="第 2 条（公示-1）: 字段 code：编号重复"):
        load_table(path)
    path.write_text(HEAD + GOOD_ENTRY + "  - code: [unclosed\n", encoding="utf-8")
    with pytest.raises(TableError, match=r"dup.yaml: 第 \d+ 行"):
        load_table(path)
    path.write_text(HEAD + GOOD_ENTRY.replace("code: 公示-1", "code: 公示-A"), encoding="utf-8")
    with pytest.raises(TableError) as caught:
        load_table(path)
    assert caught.value.field == "code"
