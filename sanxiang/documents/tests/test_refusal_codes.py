"""Every refusal of the documents app keeps its stable code (and names its
field), so the API answers 422 {code, field, message} with the code a client
can act on, not a generic "invalid"."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from sanxiang.api.services import create_token
from sanxiang.core import services as core_services
from sanxiang.documents import numbering, services
from sanxiang.documents.kinds import get_kind
from sanxiang.documents.models import Document, DocumentCounter
from sanxiang.documents.values import clean_data

from .conftest import DECISION_DATA
from .test_documents import HEARING_NOTICE


def _code(exc: ValidationError) -> tuple[str, str | None]:
    field, errors = next(iter(exc.error_dict.items()))
    return field, errors[0].code


def refusal(fn, *args, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(ValidationError) as exc:
        fn(*args, **kwargs)
    return _code(exc.value)


def api_for(agency) -> Client:
    _, clear = create_token(actor="t", agency=agency, name="办案系统", scopes=["read", "cases:write"])
    return Client(HTTP_AUTHORIZATION=f"Bearer {clear}")


def issue(client: Client, case, kind: str, data: dict):
    return client.post(f"/api/v1/documents/cases/{case.pk}", {"kind": kind, "data": data}, content_type="application/json")


def test_the_api_answers_a_closed_case_missing_abbreviation_and_taken_number_with_their_codes(dw):
    changan = api_for(dw.amr_changan)
    r = issue(changan, dw.case_changan, "hearing_notice", {k: v for k, v in HEARING_NOTICE.items() if k != "hearing_place"})
    assert r.status_code == 422 and r.json()["code"] == "required" and r.json()["field"] == "hearing_place"
    assert "听证地点" in r.json()["message"]
    r = issue(changan, dw.case_changan, "hearing_notice", {**HEARING_NOTICE, "requested_on": "2026-02-30"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_date" and r.json()["field"] == "requested_on"
    r = issue(changan, dw.case_changan, "no_such_kind", {})
    assert r.status_code == 422 and r.json()["code"] == "unknown_kind" and r.json()["field"] == "kind"

    # two agencies with one abbreviation: the second number is refused, not reused
    core_services.update_agency(actor="t", agency=dw.amr_zhengding, short_name="冀石长市监")
    assert issue(changan, dw.case_changan, "hearing_notice", HEARING_NOTICE).status_code == 201
    r = issue(api_for(dw.amr_zhengding), dw.case_zhengding, "hearing_notice", HEARING_NOTICE)
    assert r.status_code == 422 and r.json()["code"] == "number_taken" and r.json()["field"] == "short_name"

    core_services.update_agency(actor="t", agency=dw.amr_zhengding, short_name="")
    r = issue(api_for(dw.amr_zhengding), dw.case_zhengding, "hearing_notice", HEARING_NOTICE)
    assert r.status_code == 422 and r.json()["code"] == "no_abbreviation" and r.json()["field"] == "short_name"

    dw.case_changan.status = "terminated"
    dw.case_changan.save(update_fields=["status"])
    r = issue(changan, dw.case_changan, "hearing_notice", HEARING_NOTICE)
    assert r.status_code == 422 and r.json()["code"] == "case_closed" and r.json()["field"] == "case"
    assert Document.objects.count() == 1 and DocumentCounter.objects.get(agency=dw.amr_changan).last_seq == 1


def test_the_api_answers_a_decision_awaiting_legal_review_with_review_required(dw):
    # a fine at the organisations' default threshold needs legal review (art. 58): no decision number yet
    dw.case_changan.proposed_penalty_categories, dw.case_changan.proposed_fine_fen = ["罚款"], 100_000_00
    dw.case_changan.save(update_fields=["proposed_penalty_categories", "proposed_fine_fen"])
    r = issue(api_for(dw.amr_changan), dw.case_changan, "penalty_decision", DECISION_DATA)
    assert r.status_code == 422 and r.json()["code"] == "review_required" and r.json()["field"] == "kind"
    assert "第五十八条" in r.json()["message"]
    assert not Document.objects.exists() and not DocumentCounter.objects.exists()


def test_every_data_and_pattern_refusal_carries_a_code():
    notice, decision = get_kind("hearing_notice"), get_kind("penalty_decision")
    assert refusal(clean_data, notice, {**HEARING_NOTICE, "hearing_room": "1"}) == ("hearing_room", "unknown_field")
    assert refusal(clean_data, notice, {**HEARING_NOTICE, "clerk": "陈" * 20_001}) == ("clerk", "too_long")
    assert refusal(clean_data, decision, {**DECISION_DATA, "fine": "五万"}) == ("fine", "invalid_amount")
    assert refusal(clean_data, decision, {**DECISION_DATA, "fine": "-1"}) == ("fine", "invalid_amount")
    assert refusal(numbering.validate_pattern, "{abbr〔{year}〕{seq}号") == ("pattern", "invalid_pattern")
    assert refusal(numbering.validate_pattern, "{abbr}{kind}〔{year}〕{seq}号") == ("pattern", "unknown_placeholder")
    assert refusal(numbering.validate_pattern, "{abbr}{kind_char}{seq}号") == ("pattern", "pattern_incomplete")


def test_a_preview_in_an_unknown_format_is_refused_with_a_code(dw):
    assert refusal(services.render_preview, case=dw.case_changan, kind="hearing_notice", data={}, fmt="odt") \
        == ("fmt", "invalid_format")
