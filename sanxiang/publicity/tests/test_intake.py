"""Validation and normalisation of pushed or imported decisions (公示-14)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from sanxiang.core.validators import id_number_check_char, make_credit_code
from sanxiang.publicity.intake import validate_record, wan_to_fen, yuan_to_fen

TODAY = date(2026, 11, 20)


def company_code(serial: int = 1) -> str:
    return make_credit_code(region_code="130102", serial=serial, authority="9", kind="1")


def id_number(birth: str = "19850314", serial: str = "123") -> str:
    first17 = f"130102{birth}{serial}"
    return first17 + id_number_check_char(first17)


def penalty_record(n: int = 1, **overrides) -> dict:
    """A valid penalty as a case system pushes it (money in yuan)."""
    rec = {
        "external_id": f"CASE-2026-{n:05d}",
        "kind": "penalty",
        "doc_number": f"石长市监罚〔2026〕{n}号",
        "party_name": "石家庄市长安区某某食品有限公司",
        "party_type": "legal_person",
        "party_credit_code": company_code(n),
        "legal_representative": "张三",
        "decision_date": "2026-11-02",
        "violation_type": "经营超过保质期的食品",
        "facts": "当事人经营超过保质期的食品，货值金额1200元。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
        "penalty_categories": ["罚款", "没收违法所得、没收非法财物"],
        "content": "没收违法所得1200元，罚款50000元。",
        "fine_yuan": "50000",
        "confiscation_yuan": "1200.00",
    }
    rec.update(overrides)
    return rec


def person_penalty(n: int = 1, **overrides) -> dict:
    rec = penalty_record(n, party_type="natural_person", party_name="李四", party_credit_code="",
                         legal_representative="", party_id_type="身份证", party_id_number=id_number(serial=f"{n % 1000:03d}"))
    rec.update(overrides)
    return rec


def licence_record(n: int = 1, **overrides) -> dict:
    rec = {
        "external_id": f"XK-2026-{n:05d}",
        "kind": "license",
        "doc_number": f"石长市监许〔2026〕{n}号",
        "party_name": "石家庄市长安区某某餐饮店",
        "party_type": "individual_business",
        "party_credit_code": company_code(500 + n),
        "legal_representative": "王五",
        "decision_date": "2026-10-15",
        "content": "准予食品经营许可，经营项目：热食类食品制售。",
        "licence_doc_name": "食品经营许可决定书",
        "licence_category": "普通",
        "licence_cert_name": "食品经营许可证",
        "licence_number": f"JY1130102{n:07d}",
        "valid_from": "2026-10-15",
        "valid_until": "2031-10-14",
        "licence_status": "有效",
    }
    rec.update(overrides)
    return rec


def codes(errors) -> set[str]:
    return {e.code for e in errors}


def test_a_valid_penalty_is_normalised_with_money_in_fen():
    record, errors = validate_record(penalty_record(), index=0, today=TODAY)
    assert errors == []
    assert record["fine_fen"] == 5_000_000
    assert record["confiscation_fen"] == 120_000
    assert record["decision_date"] == "2026-11-02"
    assert record["penalty_categories"] == ["罚款", "没收违法所得、没收非法财物"]
    assert record["is_minor"] is False and record["other_person_names"] == []
    assert "fine_yuan" not in record


def test_yuan_string_12000_50_is_exactly_1200050_fen():
    record, errors = validate_record(penalty_record(fine_yuan="12000.50"), index=0, today=TODAY)
    assert errors == [] and record["fine_fen"] == 1_200_050
    assert yuan_to_fen(Decimal("12000.50"), field="fine_yuan") == (1_200_050, None)
    assert yuan_to_fen(12000.5, field="fine_yuan") == (1_200_050, None)
    assert yuan_to_fen(0.1, field="fine_yuan") == (10, None)  # its shortest decimal form is exact


@pytest.mark.parametrize("value, code", [
    ("12000.505", "money_precision"), (1.005, "money_precision"), ("-3", "money_negative"),
    ("12,000", "money_format"), ("abc", "money_format"), (True, "money_format"), (float("nan"), "money_format"),
    (1e17, "money_inexact"), ("100000000000000", "money_too_large"),
])
def test_money_that_is_not_exact_yuan_is_rejected_with_its_code(value, code):
    record, errors = validate_record(penalty_record(fine_yuan=value), index=3, today=TODAY)
    assert record is None
    assert [(e.index, e.field, e.code) for e in errors] == [(3, "fine_yuan", code)]
    assert "罚款金额" in errors[0].message


def test_wan_yuan_converts_exactly_and_rejects_more_than_six_decimals():
    assert wan_to_fen("1.2", field="罚款金额(万元)") == (1_200_000, None)
    assert wan_to_fen("0.000001", field="罚款金额(万元)") == (1, None)
    assert wan_to_fen("5", field="罚款金额(万元)") == (5_000_000, None)
    fen, problem = wan_to_fen("1.2345678", field="罚款金额(万元)")
    assert fen is None and problem[0] == "money_precision" and "罚款金额(万元)" in problem[1]


def test_bad_credit_code_is_reported_with_the_gb32100_code():
    good = company_code(7)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    record, errors = validate_record(penalty_record(party_credit_code=bad), index=0, today=TODAY)
    assert record is None
    assert [(e.field, e.code) for e in errors] == [("party_credit_code", "credit_code_checksum")]
    assert "统一社会信用代码" in errors[0].message and "GB 32100" in errors[0].message


def test_bad_id_check_digit_is_reported_with_the_gb11643_code():
    good = id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    record, errors = validate_record(person_penalty(party_id_number=bad), index=0, today=TODAY)
    assert record is None
    assert [(e.field, e.code) for e in errors] == [("party_id_number", "id_number_checksum")]


def test_a_natural_person_needs_an_id_number_and_gets_the_default_id_type():
    record, errors = validate_record(person_penalty(party_id_type=""), index=0, today=TODAY)
    assert errors == [] and record["party_id_type"] == "身份证"
    _, errors = validate_record(person_penalty(party_id_number=""), index=0, today=TODAY)
    assert codes(errors) == {"required"} and errors[0].field == "party_id_number"


def test_a_future_decision_date_is_rejected():
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    _, errors = validate_record(penalty_record(decision_date=tomorrow), index=0, today=TODAY)
    assert [(e.field, e.code) for e in errors] == [("decision_date", "date_in_future")]


def test_dates_in_the_three_accepted_forms_normalise_to_iso():
    for text in ("2026-11-02", "2026/11/02", "2026年11月2日"):
        record, errors = validate_record(penalty_record(decision_date=text), index=0, today=TODAY)
        assert errors == [] and record["decision_date"] == "2026-11-02"
    _, errors = validate_record(penalty_record(decision_date="2026-02-30"), index=0, today=TODAY)
    assert codes(errors) == {"date_format"}


def test_an_unknown_penalty_category_is_rejected():
    _, errors = validate_record(penalty_record(penalty_categories=["罚款", "拘役"], confiscation_yuan=None), index=0, today=TODAY)
    assert [(e.field, e.code) for e in errors] == [("penalty_categories", "unknown_category")]
    assert "拘役" in errors[0].message


def test_penalty_fields_required_by_the_shuanggongshi_standard():
    raw = penalty_record(violation_type="", facts=" ", penalty_categories=[], fine_yuan=None)
    _, errors = validate_record(raw, index=0, today=TODAY)
    assert {(e.field, e.code) for e in errors} == {
        ("violation_type", "required"), ("facts", "required"), ("penalty_categories", "required"),
    }
    _, errors = validate_record(penalty_record(fine_yuan=None), index=0, today=TODAY)
    assert {(e.field, e.code) for e in errors} == {("fine_yuan", "required")}
    _, errors = validate_record(penalty_record(penalty_categories=["吊销许可证件"], fine_yuan=None,
                                               confiscation_yuan=None), index=0, today=TODAY)
    assert {(e.field, e.code) for e in errors} == {("licence_affected", "required")}


def test_licence_rules_category_and_validity_order():
    record, errors = validate_record(licence_record(), index=0, today=TODAY)
    assert errors == [] and record["licence_status"] == "有效" and record["valid_until"] == "2031-10-14"
    _, errors = validate_record(licence_record(licence_category="随便", valid_until="2020-01-01"), index=0, today=TODAY)
    assert {(e.field, e.code) for e in errors} == {("licence_category", "invalid_choice"), ("valid_until", "date_order")}
    _, errors = validate_record(licence_record(licence_doc_name="", valid_from=""), index=0, today=TODAY)
    assert {(e.field, e.code) for e in errors} == {("licence_doc_name", "required"), ("valid_from", "required")}


def test_an_organisation_without_credit_code_needs_another_registration_number():
    _, errors = validate_record(penalty_record(party_credit_code="00000000000000000X"), index=0, today=TODAY)
    assert [(e.field, e.code) for e in errors] == [("party_credit_code", "required")]
    record, errors = validate_record(penalty_record(party_credit_code="", party_other_codes="工商注册号：130102600012345"),
                                     index=0, today=TODAY)
    assert errors == [] and record["party_credit_code"] == ""


def test_unknown_fields_and_wrong_types_are_reported_not_raised():
    for raw in (None, [], "text", 5):
        record, errors = validate_record(raw, index=9, today=TODAY)
        assert record is None and errors[0].code == "not_an_object" and errors[0].index == 9
    _, errors = validate_record(penalty_record(fine="5", is_minor="maybe", party_name=["x"]), index=0, today=TODAY)
    assert {(e.field, e.code) for e in errors} == {("fine", "unknown_field"), ("is_minor", "not_boolean"),
                                                   ("party_name", "not_text")}
    _, errors = validate_record({"kind": "arrest"}, index=0, today=TODAY)
    assert ("kind", "invalid_choice") in {(e.field, e.code) for e in errors}


def test_every_problem_of_a_record_is_listed_with_a_chinese_message():
    _, errors = validate_record(penalty_record(external_id="", doc_number="", decision_date="tomorrow"), index=4, today=TODAY)
    assert {(e.field, e.code) for e in errors} == {("external_id", "required"), ("doc_number", "required"),
                                                   ("decision_date", "date_format")}
    assert all(e.index == 4 and e.message.endswith("。") for e in errors)
