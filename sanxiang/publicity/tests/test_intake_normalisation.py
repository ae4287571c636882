"""Text normalisation at intake (issue 9, sections 1 and 2): every pushed or
imported record goes through ``sanxiang.core.text.normalise``; a bad record
fails alone with a per-field error, never its batch."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from sanxiang.core.models import AuditEntry
from sanxiang.core.validators import check_id_number
from sanxiang.publicity import services
from sanxiang.publicity.models import Decision

from .test_intake import company_code, id_number, licence_record, penalty_record, person_penalty
from .test_push_api import URL, publicity_api_mounted, token_for  # noqa: F401 (fixture)
from .test_shuanggongshi import csv_bytes, penalty_row, run_import

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@pytest.fixture
def token(world):
    return token_for(world.amr_changan, "publicity:push")


def push_raw(token, records):
    # ensure_ascii=True: a lone surrogate travels as the JSON escape \ud800,
    # exactly as a careless case system sends it.
    return Client().post(URL, data=json.dumps({"records": records}), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {token}")


def fields_of(result) -> set[str]:
    return {e["field"] for e in result["errors"]}


def test_a_lone_surrogate_fails_only_its_record_and_the_good_record_of_the_batch_is_stored(world, token):
    bad = penalty_record(2, facts="当事人\ud800经营超过保质期的食品。")
    bad_name = penalty_record(3, party_name="某某\udfff公司")
    response = push_raw(token, [penalty_record(1), bad, bad_name])
    assert response.status_code == 200
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["created", "rejected", "rejected"]
    assert fields_of(body["results"][1]) == {"facts"} and body["results"][1]["errors"][0]["code"] == "invalid_unicode"
    assert fields_of(body["results"][2]) == {"party_name"}
    assert list(Decision.objects.values_list("external_id", flat=True)) == ["CASE-2026-00001"]


def test_a_record_the_database_refuses_fails_alone_in_receive_records(world):
    # A caller that skipped intake (or a value intake did not foresee): the
    # storage layer isolates it instead of rolling back the whole batch.
    from sanxiang.publicity.intake import validate_record

    good = penalty_record(1)
    records = [validate_record(penalty_record(n), index=0)[0] for n in (1, 2, 3)]
    records[1]["party_name"] = "某某\ud800公司"
    results = services.receive_records(actor="t", agency=world.amr_changan, records=records, source="api")
    assert [r.outcome for r in results] == ["created", "rejected", "created"]
    assert results[1].errors and results[1].decision_id is None
    assert sorted(Decision.objects.values_list("external_id", flat=True)) == [good["external_id"], "CASE-2026-00003"]


@pytest.mark.parametrize("field", ["kind", "party_type", "external_id", "doc_number", "party_name", "party_credit_code",
                                   "party_id_number", "party_id_type", "decision_date", "facts", "content",
                                   "data_source_code", "fine_yuan", "penalty_categories", "other_person_names",
                                   "is_minor", "licence_status"])
@pytest.mark.parametrize("value", [["legal_person"], {"a": 1}], ids=["list", "object"])
def test_a_list_or_object_where_a_string_is_expected_is_a_per_field_error_not_a_500(world, token, field, value):
    record = licence_record(2) if field == "licence_status" else penalty_record(2)
    record[field] = value
    response = push_raw(token, [penalty_record(1), record])
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert results[0]["status"] == "created"
    if field in ("penalty_categories", "other_person_names") and isinstance(value, list):
        return  # a list of text is what these take
    assert results[1]["status"] == "rejected" and field in fields_of(results[1]), results[1]


def test_bidi_and_zero_width_characters_are_removed_from_names_and_numbers_and_it_is_recorded(world, token):
    code = company_code(1)
    record = penalty_record(1, party_name="石家庄\u202e某某\u200b食品\u2066有限公司\ufeff",
                            party_credit_code=code[:6] + "\u200b" + code[6:], doc_number="石长市监罚\u2060〔2026〕1号",
                            legal_representative="张\u200d三")
    body = push_raw(token, [record]).json()
    result = body["results"][0]
    assert result["status"] == "created"
    assert set(result["normalised"]) >= {"party_name", "party_credit_code", "doc_number", "legal_representative"}
    d = Decision.objects.get()
    assert d.party_name == "石家庄某某食品有限公司" and d.data["party_credit_code"] == code
    assert d.doc_number == "石长市监罚〔2026〕1号" and d.data["legal_representative"] == "张三"
    entry = AuditEntry.objects.filter(action="publicity.receive").latest("seq")
    assert "party_name" in json.loads(entry.payload)["normalised"]["CASE-2026-00001"]


def test_control_characters_other_than_newline_and_tab_are_refused_with_a_per_field_error(world, token):
    records = [penalty_record(1, facts="第一行\n\t第二行\r\n第三行"),
               penalty_record(2, facts="当事人\x00经营"), penalty_record(3, content="罚款\x1b[31m"),
               penalty_record(4, basis="依据\x85条款"), penalty_record(5, party_name="某某\x07公司")]
    results = push_raw(token, records).json()["results"]
    assert [r["status"] for r in results] == ["created", "rejected", "rejected", "rejected", "rejected"]
    assert [fields_of(r) for r in results[1:]] == [{"facts"}, {"content"}, {"basis"}, {"party_name"}]
    assert all(e["code"] == "control_character" and "控制字符" in e["message"] for r in results[1:] for e in r["errors"])
    assert Decision.objects.get().data["facts"] == "第一行\n\t第二行\n第三行"


def test_non_ascii_digits_in_id_numbers_and_credit_codes_become_ascii_before_the_checksum(world, token):
    person_id = id_number(serial="007")
    code = company_code(2)
    records = [person_penalty(1, party_id_number=person_id.translate(ARABIC_INDIC)),
               penalty_record(2, party_credit_code=code.translate(FULL_WIDTH)),
               person_penalty(3, party_id_number=("130102" + "١٩٨٥٠٣١٤" + "123") + "9")]  # wrong check digit
    results = push_raw(token, records).json()["results"]
    assert [r["status"] for r in results] == ["created", "created", "rejected"]
    assert results[2]["errors"][0]["code"] == "id_number_checksum"
    stored = {d.external_id: d.data for d in Decision.objects.all()}
    assert stored["CASE-2026-00001"]["party_id_number"] == person_id
    assert stored["CASE-2026-00002"]["party_credit_code"] == code
    assert all(v.isascii() for d in stored.values() for v in (d["party_id_number"], d["party_credit_code"]))


def test_the_id_number_check_refuses_non_ascii_digits_whoever_calls_it():
    assert check_id_number(id_number().translate(ARABIC_INDIC))[0] == "id_number_format"


@pytest.mark.parametrize("name", ["123456", "——", "（）", "\u200b"])
def test_a_party_name_without_a_letter_or_cjk_character_is_refused(world, token, name):
    result = push_raw(token, [penalty_record(1, party_name=name)]).json()["results"][0]
    assert result["status"] == "rejected" and "party_name" in fields_of(result)


def test_text_is_stored_in_nfc(world, token):
    push_raw(token, [penalty_record(1, party_name="Cafe\u0301 某某有限公司", facts="e\u0301 当事人经营。")])
    d = Decision.objects.get()
    assert d.party_name == "Café 某某有限公司" and d.data["facts"] == "é 当事人经营。"


def test_a_shuanggongshi_import_normalises_names_and_numbers_and_refuses_control_characters(world):
    code = company_code(1)
    data = csv_bytes([penalty_row(1, CF_XDR_MC="石家庄\u200b某某商贸有限公司", CF_XDR_SHXYM=code.translate(FULL_WIDTH)),
                      penalty_row(2, CF_SY="当事人\x0b销售")], chinese=True)
    report = run_import(world, data, "n.csv")
    assert (report.created, report.rejected) == (1, 1)
    assert report.errors[0][0] == 3 and report.errors[0][1] == "违法事实" and report.errors[0][2] == "control_character"
    d = Decision.objects.get()
    assert d.party_name == "石家庄某某商贸有限公司" and d.data["party_credit_code"] == code
    assert report.normalised == {2: ["party_credit_code", "party_name"]}
