"""Credit codes (GB 32100), certificate numbers and ID numbers (GB 11643):
good and bad inputs, and errors that name the field and the rule in Chinese."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from sanxiang.core import services
from sanxiang.core.validators import (
    check_certificate_number, check_credit_code, check_id_number, make_certificate_number, make_credit_code,
)


@pytest.mark.parametrize("code", [
    "91350100M000100Y43",  # the code used as the worked example of GB 32100
    make_credit_code(region_code="130100", serial=1),
    make_credit_code(region_code="131100", serial=99999999),
])
def test_valid_credit_codes_pass(code):
    assert check_credit_code(code) is None


@pytest.mark.parametrize("code, problem", [
    ("91350100M000100Y4", "credit_code_length"),
    ("91350100M000100Y433", "credit_code_length"),
    ("91350100M000100Y4I", "credit_code_charset"),  # I is not in the charset
    ("91350100m000100Y43", "credit_code_charset"),
    ("Z1350100M000100Y43", "credit_code_charset"),
    ("81350100M000100Y43", "credit_code_authority"),
    ("9135A100M000100Y43", "credit_code_region"),
    ("91350100M000100Y44", "credit_code_checksum"),
    ("91350100M000101Y43", "credit_code_checksum"),
])
def test_bad_credit_codes_name_the_rule(code, problem):
    assert check_credit_code(code)[0] == problem


def test_certificate_numbers_carry_a_check_character():
    good = make_certificate_number("130102", 1)
    assert check_certificate_number(good) is None
    assert check_certificate_number(good[:-1] + ("0" if good[-1] != "0" else "1"))[0] == "certificate_checksum"
    assert check_certificate_number("1301020000001")[0] == "certificate_format"
    assert check_certificate_number("冀1301020000001")[0] == "certificate_format"


@pytest.mark.parametrize("value, problem", [
    ("11010519491231002X", None),
    ("110105194912310021", "id_number_checksum"),
    ("110105194902300027", "id_number_birthdate"),
    ("11010519491231002", "id_number_format"),
])
def test_id_numbers(value, problem):
    result = check_id_number(value)
    assert (result[0] if result else None) == problem


def test_creating_an_agency_with_a_bad_credit_code_names_the_field_in_chinese(world):
    with pytest.raises(ValidationError) as exc:
        services.create_agency(actor="t", name="测试局", credit_code="91350100M000100Y44", region=world.sjz, kind="transport")
    assert "credit_code" in exc.value.message_dict
    assert "校验码" in exc.value.message_dict["credit_code"][0]


def test_creating_an_officer_with_bad_data_names_every_field_and_writes_nothing(world):
    from sanxiang.core.models import AuditEntry, Officer

    before = (Officer.objects.count(), AuditEntry.objects.count())
    with pytest.raises(ValidationError) as exc:
        services.create_officer(actor="t", name="张三", agency=world.amr_changan, certificate_number="1301020000001",
                                categories=["fishing"], enforcement_region=world.changan,
                                valid_from=date(2026, 1, 1), valid_to=date(2025, 1, 1))
    errors = exc.value.message_dict
    assert {"certificate_number", "categories", "valid_to"} <= set(errors)
    assert "执法证号" in errors["certificate_number"][0] and "执法类别" in errors["categories"][0]
    assert (Officer.objects.count(), AuditEntry.objects.count()) == before


def test_duplicate_certificate_number_is_refused(world):
    with pytest.raises(ValidationError) as exc:
        services.create_officer(actor="t", name="张三", agency=world.amr_changan,
                                certificate_number=world.changan_officer.certificate_number, categories=["penalty"],
                                enforcement_region=world.changan, valid_from=date(2026, 1, 1), valid_to=date(2027, 1, 1))
    assert "certificate_number" in exc.value.message_dict
