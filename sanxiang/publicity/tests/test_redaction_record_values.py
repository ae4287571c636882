"""A record's own personal values are looked for in every one of its texts
(redaction.redact_record prepares them once per record, then reads each
field): however a field writes them, and only where they are."""

from __future__ import annotations

from sanxiang.publicity.redaction import MARKERS, redact_record, redact_text

AGENCY = "石家庄市长安区市场监督管理局"


def person_record(**overrides) -> dict:
    record = {
        "external_id": "RV-1",
        "kind": "penalty",
        "doc_number": "石长市监罚〔2026〕7号",
        "decision_date": "2026-03-02",
        "party_type": "natural_person",
        "party_name": "欧阳娜娜",
        "party_id_type": "身份证",
        "party_id_number": "11010519491231002X",
        "party_phone": "13812345678",
        "witnesses": ["钱七"],
        "facts": "当事人于2026年2月销售过期食品。",
        "content": "警告。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条",
        "data_source": AGENCY,
    }
    record.update(overrides)
    return record


def test_the_party_id_number_is_hidden_in_every_field_that_writes_it_with_separators_or_a_small_x():
    record = person_record(facts="当事人（身份号 110105 1949-1231 002x）销售过期食品。",
                           content="对当事人110105.19491231.002X处以警告。",
                           remark="核对证件：110105194912310 02X")
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    for key in ("facts", "content", "remark"):
        assert "1949" not in public[key] and MARKERS["id_number"] in public[key], public[key]


def test_the_party_phone_is_hidden_in_a_field_even_when_its_digits_are_grouped():
    record = person_record(remark="联系 138-1234-5678，已送达。")
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    assert public["remark"] == f"联系 {MARKERS['phone']}，已送达。"


def test_a_known_name_written_with_spaces_between_its_characters_is_masked_in_each_field():
    record = person_record(facts="经查，欧 阳 娜 娜销售过期食品，钱 七在场。",
                           content="对欧阳娜娜处以警告。", extra_notes=["钱七签字确认", "欧阳 娜娜拒绝签字"])
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    assert public["facts"] == "经查，欧阳某某销售过期食品，钱某在场。"
    assert public["content"] == "对欧阳某某处以警告。"
    assert public["extra_notes"] == ["钱某签字确认", "欧阳某某拒绝签字"]


def test_a_latin_name_is_masked_only_as_a_whole_word():
    record = person_record(party_name="Anna Li", facts="Anna Li sold expired food; Annals of Li were read.")
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    assert public["facts"] == "A*** sold expired food; Annals of Li were read."


def test_texts_that_hold_none_of_the_records_values_are_published_unchanged():
    record = person_record(facts="当事人于2026年2月在其经营场所销售过期食品，违法所得300元。",
                           remark="编号 2026.0930.1234 的检验报告见附件。")
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    for key in ("facts", "remark", "content", "basis"):
        assert public[key] == record[key]


def test_kept_values_stay_in_every_field_next_to_masked_ones():
    record = person_record(facts=f"{AGENCY}于2026年3月2日对欧阳娜娜作出石长市监罚〔2026〕7号决定。",
                           remark=f"石长市监罚〔2026〕7号由{AGENCY}送达欧阳娜娜。")
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    assert public["facts"] == f"{AGENCY}于2026年3月2日对欧阳某某作出石长市监罚〔2026〕7号决定。"
    assert public["remark"] == f"石长市监罚〔2026〕7号由{AGENCY}送达欧阳某某。"


def test_a_record_field_reads_as_redact_text_reads_it_with_the_records_values():
    record = person_record(facts="欧阳娜娜（电话13812345678，身份证号11010519491231002X）与钱七于住址石家庄市长安区建设北大街5号交易。")
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    alone = redact_text(record["facts"], known_names=["欧阳娜娜", "钱七"], keep=[record["doc_number"], AGENCY],
                        name_rule="surname_mouxx",
                        known_secrets={"id_number": [record["party_id_number"]], "phone": [record["party_phone"]]})
    assert public["facts"] == alone.text
    assert "欧阳娜娜" not in alone.text and "13812345678" not in alone.text and "建设北大街" not in alone.text


def test_a_companys_credit_code_that_also_reads_as_an_id_number_stays_public_and_a_persons_does_not():
    """911301020806178278 is a valid 统一社会信用代码 and passes the ID-number
    check too: a company's code field is its public code (it was removed,
    and the docking bench's platforms refused the record as invalid); in a
    natural person's record the same characters are hidden as the ID number
    they may be."""
    code = "911301020806178278"
    company = person_record(party_type="legal_person", party_name="石家庄某商贸有限公司", party_credit_code=code,
                            party_id_number="", facts=f"当事人（统一社会信用代码{code}）销售过期食品。")
    public = redact_record(company, party_is_natural_person=False, name_rule="surname_mouxx")
    assert public["party_credit_code"] == code and code in public["facts"]
    person = person_record(party_credit_code=code)
    hidden = redact_record(person, party_is_natural_person=True, name_rule="surname_mouxx")
    assert "party_credit_code" not in hidden
