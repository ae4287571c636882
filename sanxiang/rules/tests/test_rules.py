"""Tests of the legal parameters: data cases from cases.yaml, the loader's
strict validation, the scope order, and the `rules` management command."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from types import SimpleNamespace

import pytest

from sanxiang.rules import (
    UNITS,
    RuleError,
    RuleFileError,
    RuleNotFound,
    all_rules,
    get_rule,
    load_rules,
    reload_rules,
)
from sanxiang.rules.loader import DECIMAL_UNITS, DEFAULT_PARAMS_DIR, PERIOD_UNITS, read_yaml, region_ancestors

HERE = Path(__file__).resolve().parent
CASES = read_yaml(HERE / "cases.yaml")

AGENCY_CODE = "11130123MB0000001N"  # a valid GB 32100 code (check character computed)
OTHER_AGENCY_CODE = "11130000MB0000002A"


@pytest.fixture(autouse=True)
def _packaged_rules():
    """Every test starts and ends with the packaged parameters cached."""
    reload_rules()
    yield
    reload_rules()


def _case_id(case: dict) -> str:
    scope = "/".join(str(case[k]) for k in ("agency", "region") if k in case) or "national"
    return f"{case['name']}@{case['date']}[{scope}]"


def _lookup_kwargs(case: dict) -> dict:
    kwargs: dict = {"on": case["date"]}
    if "agency" in case and "region" in case:
        kwargs["agency"] = SimpleNamespace(credit_code=case["agency"], region=SimpleNamespace(code=str(case["region"])))
    elif "agency" in case:
        kwargs["agency"] = SimpleNamespace(credit_code=case["agency"], region=None)
    elif "region" in case:
        kwargs["region_code"] = str(case["region"])
    return kwargs


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_case(case):
    kwargs = _lookup_kwargs(case)
    if case["expected"] == "not_found":
        with pytest.raises(RuleNotFound):
            get_rule(case["name"], **kwargs)
        return
    result = get_rule(case["name"], **kwargs)
    expected = tuple(case["expected"]) if isinstance(case["expected"], list) else case["expected"]  # roles
    assert result.value == expected
    assert result.name == case["name"]
    if "unit" in case:
        assert result.unit == case["unit"]
    if "scope" in case:
        assert result.scope == case["scope"]
    assert result.reference and result.description


def test_cases_cover_every_parameter():
    covered = {c["name"] for c in CASES}
    missing = [r.name for r in all_rules() if r.name not in covered]
    assert not missing, f"parameters without a case in cases.yaml: {missing}"


def test_cases_cover_both_sides_of_every_change_date():
    """For every valid_from, a case on the day before and one on the day itself."""
    dates_by_name: dict[str, set[date]] = {}
    for c in CASES:
        dates_by_name.setdefault(c["name"], set()).add(c["date"])
    missing = []
    for rule in all_rules():
        for v in rule.values:
            asked = dates_by_name.get(rule.name, set())
            if v.valid_from not in asked and not any(d > v.valid_from for d in asked):
                missing.append(f"{rule.name} on/after {v.valid_from}")
    assert not missing, missing
    # The real dated changes are tested on both sides explicitly.
    for name, day in [
        ("penalty.summary_fine_limit_citizen", date(2021, 7, 15)),
        ("penalty.summary_fine_limit_organisation", date(2021, 7, 15)),
        ("penalty.hearing_request_limit", date(2021, 7, 15)),
        ("penalty.decision_limit", date(2021, 7, 15)),
        ("coercion.seizure_limit", date(2012, 1, 1)),
        ("licensing.decision_limit", date(2004, 7, 1)),
        ("publicity.penalty_publication_limit", date(2018, 12, 5)),
    ]:
        asked = dates_by_name[name]
        assert day in asked and day.fromordinal(day.toordinal() - 1) in asked, name


def test_every_unit_in_the_data_is_allowed():
    assert UNITS == {"working_days", "calendar_days", "months", "years", "hours", "yuan", "percent", "count", "roles"}
    for rule in all_rules():
        assert rule.unit in UNITS, rule.name
        for v in rule.values:
            assert v.unit in UNITS, rule.name


def test_money_and_percent_are_exact_decimals_and_others_integers():
    for rule in all_rules():
        for v in rule.values:
            if v.unit in DECIMAL_UNITS:
                assert type(v.value) is Decimal, rule.name
            elif v.unit == "roles":
                assert type(v.value) is tuple and all(type(r) is str for r in v.value), rule.name
            elif v.permanent:
                assert v.unit in PERIOD_UNITS, rule.name
            else:
                assert type(v.value) is int, rule.name


def test_every_value_has_a_reference_and_every_parameter_a_chinese_description():
    for rule in all_rules():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in rule.description), rule.name
        for v in rule.values:
            assert v.reference.strip(), rule.name


def test_parameter_names_follow_their_file():
    topics = {p.stem for p in DEFAULT_PARAMS_DIR.glob("*.yaml")}
    assert topics == {"evidence", "publicity", "penalty", "coercion", "licensing", "legal_review", "legal_review_staffing", "random_inspection",
                      "security", "supervision", "evaluation"}
    for rule in all_rules():
        assert rule.name.split(".")[0] == Path(rule.source).stem


def test_rule_value_is_frozen():
    value = get_rule("penalty.payment_limit", on=date(2025, 1, 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.value = 30  # type: ignore[misc]


def test_unknown_name_and_bad_arguments():
    with pytest.raises(RuleNotFound, match="未知的法定参数"):
        get_rule("publicity.nope", on=date(2025, 1, 1))
    with pytest.raises(RuleNotFound):  # RuleNotFound is also a LookupError
        get_rule("publicity.nope", on=date(2025, 1, 1))
    assert issubclass(RuleNotFound, LookupError)
    from datetime import datetime

    with pytest.raises(TypeError):
        get_rule("penalty.payment_limit", on=datetime(2025, 1, 1, 12, 0))
    with pytest.raises(RuleError, match="行政区划代码"):
        get_rule("penalty.payment_limit", on=date(2025, 1, 1), region_code="13")


def test_not_found_message_names_parameter_date_and_scopes():
    with pytest.raises(RuleNotFound) as info:
        get_rule("random_inspection.result_publication_limit", on=date(2025, 1, 1), region_code="110101")
    message = str(info.value)
    assert "random_inspection.result_publication_limit" in message
    assert "2025-01-01" in message and "区划 110101" in message and "全国" in message


def test_region_ancestors_follow_the_code_structure():
    assert region_ancestors("130123") == ["130123", "130100", "130000"]
    assert region_ancestors("130100") == ["130100", "130000"]
    assert region_ancestors("130000") == ["130000"]
    assert region_ancestors("130123100") == ["130123", "130100", "130000"]


# ---------------------------------------------------------------------------
# Scope order on a small directory of its own (agency > county > city >
# province > national; then the latest valid_from).

SCOPED = f"""
- name: demo.limit
  description: 测试用期限
  unit: working_days
  rolls_to_working_day: true
  rolls_reference: 测试依据第五条
  values:
    - {{value: 10, valid_from: 2020-01-01, scope: national, reference: 测试依据第一条}}
    - {{value: 11, valid_from: 2023-01-01, scope: national, reference: 测试依据第一条（修订）}}
    - {{value: 20, valid_from: 2020-01-01, scope: "region:130000", reference: 测试依据第二条}}
    - {{value: 30, valid_from: 2020-01-01, scope: "region:130100", reference: 测试依据第三条}}
    - {{value: 40, valid_from: 2022-01-01, scope: "region:130123", reference: 测试依据第四条}}
    - {{value: 50, valid_from: 2021-01-01, scope: "agency:{AGENCY_CODE}", reference: 测试依据第五条}}
    - {{value: 55, valid_from: 2024-01-01, scope: "agency:{AGENCY_CODE}", reference: 测试依据第五条（修订）}}
- name: demo.amount
  description: 测试用金额
  unit: yuan
  values:
    - {{value: 0.1, valid_from: 2020-01-01, scope: national, reference: 测试依据第六条}}
    - {{value: "1000.50", valid_from: 2021-01-01, scope: national, reference: 测试依据第七条}}
"""


@pytest.fixture
def scoped(tmp_path):
    (tmp_path / "demo.yaml").write_text(SCOPED, encoding="utf-8")
    return load_rules(tmp_path)


@pytest.mark.parametrize(
    "on, agency, region_code, expected, scope",
    [
        (date(2019, 12, 31), None, None, None, None),
        (date(2020, 1, 1), None, None, 10, "national"),
        (date(2022, 12, 31), None, None, 10, "national"),
        (date(2023, 1, 1), None, None, 11, "national"),
        (date(2022, 6, 1), None, "130000", 20, "region:130000"),
        (date(2022, 6, 1), None, "130100", 30, "region:130100"),
        (date(2022, 6, 1), None, "130102", 30, "region:130100"),
        (date(2022, 6, 1), None, "130123", 40, "region:130123"),
        # the county's own value is not yet in force: fall back to its city
        (date(2021, 12, 31), None, "130123", 30, "region:130100"),
        (date(2022, 6, 1), None, "140000", 10, "national"),
        (date(2022, 6, 1), "agency-with-region", None, 50, f"agency:{AGENCY_CODE}"),
        (date(2024, 6, 1), "agency-with-region", None, 55, f"agency:{AGENCY_CODE}"),
        # the agency's value is not yet in force: its county's is not either, so the city's
        (date(2020, 6, 1), "agency-with-region", None, 30, "region:130100"),
        (date(2022, 6, 1), "other-agency", None, 20, "region:130000"),
        (date(2022, 6, 1), AGENCY_CODE, None, 50, f"agency:{AGENCY_CODE}"),
        # an explicit region_code wins over the agency's own region
        (date(2022, 6, 1), "other-agency", "130123", 40, "region:130123"),
    ],
)
def test_scope_order(scoped, on, agency, region_code, expected, scope):
    agencies = {
        "agency-with-region": SimpleNamespace(credit_code=AGENCY_CODE, region=SimpleNamespace(code="130123")),
        "other-agency": SimpleNamespace(credit_code=OTHER_AGENCY_CODE, region=SimpleNamespace(code="130000")),
    }
    agency_obj = agencies.get(agency, agency)
    if expected is None:
        with pytest.raises(RuleNotFound):
            scoped.get("demo.limit", on=on, agency=agency_obj, region_code=region_code)
        return
    result = scoped.get("demo.limit", on=on, agency=agency_obj, region_code=region_code)
    assert (result.value, result.scope) == (expected, scope)


def test_decimal_values_are_exact(scoped):
    early = scoped.get("demo.amount", on=date(2020, 6, 1))
    late = scoped.get("demo.amount", on=date(2021, 6, 1))
    assert early.value == Decimal("0.1") and type(early.value) is Decimal
    assert late.value == Decimal("1000.50")


def test_reload_rules_switches_and_restores(tmp_path):
    (tmp_path / "demo.yaml").write_text(SCOPED, encoding="utf-8")
    reload_rules(tmp_path)
    assert get_rule("demo.limit", on=date(2023, 6, 1)).value == 11
    with pytest.raises(RuleNotFound):
        get_rule("penalty.payment_limit", on=date(2023, 6, 1))
    reload_rules()
    assert get_rule("penalty.payment_limit", on=date(2023, 6, 1)).value == 15


# ---------------------------------------------------------------------------
# Strict validation: a bad file fails with the file, parameter and entry named.

GOOD_ENTRY = "{value: 7, valid_from: 2021-07-15, scope: national, reference: 某法第一条}"


def _param(entries: str, *, name="bad.limit", unit="working_days", extra="", rolling=True) -> str:
    if rolling and unit in ("working_days", "calendar_days", "months", "years") and "rolls_" not in extra:
        extra += "  rolls_to_working_day: true\n  rolls_reference: 某诉讼法第八十五条\n"
    return (
        f"- name: {name}\n  description: 测试参数\n  unit: {unit}\n{extra}  values:\n"
        + "".join(f"    - {e}\n" for e in entries.split("\n") if e)
    )


def test_missing_reference_fails_naming_file_and_parameter(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        _param(GOOD_ENTRY + "\n{value: 5, valid_from: 2022-01-01, scope: national}"), encoding="utf-8"
    )
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path)
    message = str(info.value)
    assert "bad.yaml" in message
    assert "bad.limit" in message
    assert "第 2 个取值" in message
    assert "reference" in message


@pytest.mark.parametrize(
    "content, fragment",
    [
        (_param("{value: 7, valid_from: 2021-07-15, scope: national, reference: ''}"), "reference 不能为空"),
        (_param(GOOD_ENTRY, unit="weeks"), "单位 'weeks' 无效"),
        (_param("{value: 7, unit: fortnights, valid_from: 2021-07-15, scope: national, reference: 某法}"), "单位 'fortnights' 无效"),
        (_param("{value: 7, valid_from: 2021-13-45, scope: national, reference: 某法}"), "valid_from"),
        (_param("{value: 7, valid_from: '15/07/2021', scope: national, reference: 某法}"), "valid_from"),
        (_param("{value: 7, valid_from: 2021-07-15 10:00:00, scope: national, reference: 某法}"), "不能带时间"),
        (_param("{value: 7, valid_from: 2021-07-15, scope: province, reference: 某法}"), "scope 'province' 无效"),
        (_param("{value: 7, valid_from: 2021-07-15, scope: 'region:1300', reference: 某法}"), "scope 'region:1300' 无效"),
        (_param("{value: 7, valid_from: 2021-07-15, scope: 'agency:11130123MB0000001X', reference: 某法}"), "统一社会信用代码无效"),
        (_param(GOOD_ENTRY + "\n{value: 5, valid_from: 2021-07-15, scope: national, reference: 另一法}"), "重复"),
        (_param("{value: 7.5, valid_from: 2021-07-15, scope: national, reference: 某法}"), "必须是整数"),
        (_param("{value: -1, valid_from: 2021-07-15, scope: national, reference: 某法}"), "不得为负数"),
        (_param("{value: true, valid_from: 2021-07-15, scope: national, reference: 某法}"), "不是数值"),
        (_param("{value: permanent, valid_from: 2021-07-15, scope: national, reference: 某法}"), "单位 working_days 不可以"),
        (_param("{value: forever, valid_from: 2021-07-15, scope: national, reference: 某法}", unit="years"), "必须是整数"),
        (_param("{value: abc, valid_from: 2021-07-15, scope: national, reference: 某法}", unit="yuan"), "不是十进制数"),
        (_param("{value: 7, valid_from: 2021-07-15, scope: national, reference: 某法, note: x}"), "未知字段"),
        (_param(GOOD_ENTRY, name="other.limit"), "应以文件名 bad. 开头"),
        (_param(GOOD_ENTRY, name="Bad Name"), "参数名"),
        (_param(GOOD_ENTRY, extra="  source: x\n"), "未知字段"),
        (_param("") + "", "values 必须是非空列表"),
        (_param(GOOD_ENTRY) + _param(GOOD_ENTRY), "参数名重复"),
        ("- name: bad.limit\n  name: bad.other\n", "重复"),
        ("{}\n", "顶层应为参数定义的非空列表"),
        ("- [unclosed\n", "YAML 格式错误"),
    ],
)
def test_invalid_files_fail_with_a_clear_message(tmp_path, content, fragment):
    (tmp_path / "bad.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(RuleFileError) as info:
        load_rules(tmp_path)
    message = str(info.value)
    assert "bad.yaml" in message
    assert fragment in message


def test_a_period_may_be_permanent_and_says_so(tmp_path):
    (tmp_path / "keep.yaml").write_text(
        _param("{value: permanent, valid_from: 2006-12-18, scope: national, reference: 某规定第八条}",
               name="keep.period", unit="years"), encoding="utf-8")
    value = load_rules(tmp_path).get("keep.period", on=date(2026, 4, 1))
    assert value.permanent and value.value == "permanent" and value.unit == "years"
    assert not get_rule("evidence.retention_general", on=date(2026, 4, 1)).permanent
    assert get_rule("evidence.retention_major", on=date(2026, 4, 1)).permanent


def test_missing_description_names_parameter(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        "- name: bad.limit\n  unit: count\n  values:\n    - " + GOOD_ENTRY + "\n", encoding="utf-8"
    )
    with pytest.raises(RuleFileError, match=r"bad\.yaml.*bad\.limit.*description"):
        load_rules(tmp_path)


def test_empty_or_missing_directory_fails(tmp_path):
    with pytest.raises(RuleFileError, match="没有 .yaml 文件"):
        load_rules(tmp_path)
    with pytest.raises(RuleFileError, match="不存在"):
        load_rules(tmp_path / "absent")


def test_loader_works_without_django_settings_or_database():
    code = (
        "from datetime import date; from sanxiang.rules import get_rule; "
        "print(get_rule('penalty.summary_fine_limit_citizen', on=date(2021, 7, 15)).value)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DATABASE_URL"}}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parents[3],
    )
    assert out.stdout.strip() == "200"
    assert "django.conf" not in out.stderr


# ---------------------------------------------------------------------------
# The management command.


def _run(*args) -> str:
    from django.core.management import call_command

    out = StringIO()
    call_command("rules", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_command_check():
    assert "校验通过" in _run("check")


def test_command_check_fails_on_a_bad_directory(tmp_path):
    from django.core.management.base import CommandError

    (tmp_path / "bad.yaml").write_text(
        _param("{value: 7, valid_from: 2021-07-15, scope: national}"), encoding="utf-8"
    )
    with pytest.raises(CommandError, match="bad.yaml"):
        _run("check", "--dir", str(tmp_path))


def test_command_check_exits_non_zero_from_the_shell(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        _param("{value: 7, valid_from: 2021-07-15, scope: national}"), encoding="utf-8"
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="sanxiang.settings")
    root = Path(__file__).resolve().parents[3]
    bad = subprocess.run(
        [sys.executable, "-m", "sanxiang", "rules", "check", "--dir", str(tmp_path)],
        env=env, capture_output=True, text=True, cwd=root,
    )
    assert bad.returncode != 0
    assert "bad.yaml" in bad.stderr and "bad.limit" in bad.stderr
    good = subprocess.run(
        [sys.executable, "-m", "sanxiang", "rules", "check"], env=env, capture_output=True, text=True, cwd=root,
    )
    assert good.returncode == 0, good.stderr


def test_command_list():
    out = _run("list", "--date", "2021-07-15")
    for rule in all_rules():
        assert rule.name in out
    assert "200元" in out and "第五十一条" in out


def test_command_list_before_the_revision_and_for_a_region():
    out = _run("list", "--date", "2021-07-14", "--region", "640104")
    line = next(l for l in out.splitlines() if l.startswith("penalty.summary_fine_limit_citizen"))
    assert "50元" in line
    line = next(l for l in out.splitlines() if l.startswith("legal_review.review_extension "))
    assert "region:640000" in line


def test_command_show():
    out = _run("show", "penalty.hearing_request_limit", "--date", "2021-07-14")
    assert "2021-07-14 适用：3日（自然日）" in out
    assert "2021-07-15" in out and "第六十四条" in out
    out = _run("show", "legal_review.review_extension", "--region", "130123", "--date", "2025-01-01")
    assert "5个工作日" in out and "region:130123" in out


def test_command_show_unknown_and_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="未知的法定参数"):
        _run("show", "penalty.nope")
    with pytest.raises(CommandError, match="日期"):
        _run("show", "penalty.payment_limit", "--date", "2025-02-30")


@pytest.mark.django_db
def test_command_show_with_an_agency_from_the_database():
    from sanxiang.core.models import Agency, Region

    province = Region.objects.create(code="130000", name="河北省", level="province")
    city = Region.objects.create(code="130100", name="石家庄市", level="city", parent=province)
    county = Region.objects.create(code="130123", name="正定县", level="county", parent=city)
    Agency.objects.create(name="正定县市场监督管理局", credit_code=AGENCY_CODE, region=county, kind="market_regulation")
    out = _run("show", "legal_review.review_extension", "--agency", AGENCY_CODE, "--date", "2025-01-01")
    assert "适用：5个工作日" in out and "region:130123" in out
    # an agency not in the database: only its credit code and the national value
    out = _run("show", "legal_review.review_extension", "--agency", OTHER_AGENCY_CODE, "--date", "2025-01-01")
    assert "适用：0个工作日" in out


def test_docs_table_lists_every_parameter():
    docs = (Path(__file__).resolve().parents[3] / "docs" / "rules.md").read_text(encoding="utf-8")
    missing = [r.name for r in all_rules() if f"`{r.name}`" not in docs]
    assert not missing, f"docs/rules.md lacks: {missing}"
    # each row says whether a last day on a holiday rolls, as the data says
    shown = {"rolls": True, "no roll": False, "—": None}
    wrong = [r.name for r in all_rules()
             if not any(line.startswith(f"| `{r.name}` | ") and line.split(" | ")[2] in shown
                        and shown[line.split(" | ")[2]] is r.rolls_to_working_day for line in docs.splitlines())]
    assert not wrong, f"docs/rules.md shows the wrong holiday rule for: {wrong}"


def test_every_period_rule_says_whether_it_rolls_to_a_working_day_with_its_reference():
    from sanxiang.rules.loader import DAY_PERIOD_UNITS, rule_definition

    for rule in all_rules():
        units = {rule.unit} | {v.unit for v in rule.values}
        if units & DAY_PERIOD_UNITS:
            assert isinstance(rule.rolls_to_working_day, bool), rule.name
            assert rule.rolls_reference, rule.name
            assert all(v.rolls_to_working_day is rule.rolls_to_working_day for v in rule.values), rule.name
        else:
            assert rule.rolls_to_working_day is None, rule.name
    # a party's act rolls; maxima bounding the agency's own power do not
    assert rule_definition("penalty.payment_limit").rolls_to_working_day is True
    assert rule_definition("penalty.hearing_request_limit").rolls_to_working_day is True
    assert rule_definition("coercion.seizure_limit").rolls_to_working_day is False
    assert rule_definition("penalty.decision_limit").rolls_to_working_day is False


def test_a_period_rule_without_its_rolling_property_is_refused(tmp_path):
    (tmp_path / "bad.yaml").write_text(_param(GOOD_ENTRY, unit="calendar_days", rolling=False), encoding="utf-8")
    with pytest.raises(RuleFileError, match="rolls_to_working_day"):
        load_rules(tmp_path)


def test_a_rolling_property_on_a_threshold_is_refused(tmp_path):
    (tmp_path / "bad.yaml").write_text(
        _param(GOOD_ENTRY, unit="count", extra="  rolls_to_working_day: true\n  rolls_reference: 某法\n"), encoding="utf-8")
    with pytest.raises(RuleFileError, match="只适用于期间参数"):
        load_rules(tmp_path)
