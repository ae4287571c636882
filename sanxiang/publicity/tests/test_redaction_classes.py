"""The bypass classes of issue 9 (section 3), one test each, on the
redactor alone: it runs on a normalised view of the text with a character
map back to the original."""

from __future__ import annotations

import pytest

from sanxiang.publicity.redaction import (
    COMPOUND_SURNAMES,
    MARKERS,
    detect,
    mask_name,
    public_copy,
    redact_record,
    redact_text,
)

from .redaction_corpus import make_id

PHONE = MARKERS["phone"]
ID = MARKERS["id_number"]
EMAIL = MARKERS["email"]


@pytest.mark.parametrize("written", [
    "138.1111.2206", "138·1111·2206", "138 - 1111 - 2206", "+86.138.1111.2206",
    "138\u00a01111\u00a02206", "138\u202f1111 2206", "138\u200b1111\u200d2206", "1\ufeff3811112206",
    "١٣٨١١١١٢٢٠٦", "१३८११११२२०६",
])
def test_a_mobile_with_dots_no_break_or_zero_width_spaces_or_other_digits_is_hidden(written):
    out = redact_text(f"当事人联系方式{written}，于当日到场。").text
    assert out == f"当事人联系方式{PHONE}，于当日到场。"


@pytest.mark.parametrize("written", [
    "+86 311 8666 1234", "+86-311-86661234", "0086 311 86661234", "+86 (311) 8666-1234", "(+86) 311 8666 1234",
    "+86 0311 86661234", "+86\u00a0311\u00a086661234", "0311.8666.1234", "(0311)8666.1234",
])
def test_a_landline_with_a_country_code_is_hidden_to_its_last_digit(written):
    out = redact_text(f"另有{written}，由其使用").text
    assert out == f"另有{PHONE}，由其使用"


def test_an_id_number_with_zero_width_or_bidi_characters_inside_is_hidden():
    number = make_id(__import__("random").Random(1))
    for written in (number[:6] + "\u200b" + number[6:], number[:3] + "\u2060" + number[3:9] + "\u200c" + number[9:],
                    "\u202d" + number + "\u202c", number[:6] + "\u00a0" + number[6:14] + "\u00a0" + number[14:]):
        out = redact_text(f"另有{written}一人").text
        # characters outside the masked span are kept as they were (here the bidi pair around the number)
        assert out.replace("\u202d", "").replace("\u202c", "") == f"另有{ID}一人", written


@pytest.mark.parametrize("written", [
    "张三@例子.中国", "zhangsan@例子.中国", "张三丰@163.com", "li@xn--fsqu00a.xn--fiqs8s", "li@mail.xn--fiqs8s",
    "li＠example.com", "li﹫example.com", "li(at)example.com", "li\u200b@example.com",
])
def test_an_internationalised_e_mail_is_hidden(written):
    out = redact_text(f"电子邮箱为{written}，电话另告。").text
    assert out == f"电子邮箱为{EMAIL}，电话另告。", out


def test_an_address_split_by_an_aside_in_parentheses_is_hidden_whole():
    for written in ("石家庄市长安区建设北大街（近中山东路大街）123号3单元201室",
                    "石家庄市长安区建设北大街(近中山东路)123号", "石家庄市长安区建设北大街\u00a0123号3单元201室"):
        out = redact_text(f"当事人住{written}，于当日到场。").text
        assert out == "当事人住石家庄市长安区***，于当日到场。", out


@pytest.mark.parametrize("written", [
    "（住石家庄市长安区建设北大街123号）", "（住石家庄市长安区建设北大街123号 050000）",
    "（住石家庄市长安区建设北大街（近中山路）123号3单元201室）",
])
def test_the_closing_bracket_after_an_address_stays(written):
    out = redact_text(f"当事人张三{written}于当日到场。", known_names=["张三"]).text
    assert out == "当事人张某（住石家庄市长安区***）于当日到场。", out


@pytest.mark.parametrize("role", ["证人", "證人", "在场人", "在場人", "见证人", "見證人", "知情人", "在场人员", "目击者"])
def test_a_person_named_after_a_role_word_in_simplified_or_traditional_characters_is_masked(role):
    out = redact_text(f"{role}王建国证实上述事实。").text
    assert out == f"{role}王某某证实上述事实。"


@pytest.mark.parametrize("name,masked", [
    ("欧阳娜娜", "欧阳某某"), ("上官婉儿", "上官某某"), ("诸葛亮", "诸葛某"), ("完颜静", "完颜某"), ("纳兰容若", "纳兰某某"),
    ("歐陽娜娜", "歐陽某某"), ("司馬光", "司馬某"), ("爱新觉罗玄烨", "爱新觉罗某某"),
])
def test_a_compound_surname_is_kept_whole_and_the_given_name_masked(name, masked):
    assert mask_name(name) == masked
    assert redact_text(f"证人{name}证实上述事实。").text == f"证人{masked}证实上述事实。"


def test_the_compound_surname_list_holds_the_common_ones():
    for surname in ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒",
                    "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台", "公冶", "宗政", "濮阳", "淳于",
                    "单于", "太叔", "申屠", "公羊", "赫连", "钟离", "闻人", "万俟", "拓跋", "完颜", "纳兰", "颛孙", "公西",
                    "子车", "壤驷", "夹谷", "宰父", "梁丘", "左丘", "东郭", "南门", "第五", "谷梁", "亓官"):
        assert surname in COMPOUND_SURNAMES


def test_every_occurrence_of_the_partys_name_is_masked_also_written_with_spaces():
    record = {"party_name": "王建国", "party_type": "natural_person", "doc_number": "冀石市监罚〔2026〕1号",
              "facts": "当事人王建国销售过期食品。王建国称不知情；王 建国签字确认，王\u00a0建国未申辩。经查王建国系店主。"}
    facts = redact_record(record, party_is_natural_person=True)["facts"]
    assert "建国" not in facts and facts.count("王某某") == 5


@pytest.mark.parametrize("stored", ["王\u200b建国", "王建\x00国", "\u202d王建国\u202c", "王建国\ufeff"])
def test_a_party_name_holding_a_zero_width_character_or_nul_is_still_masked(stored):
    record = {"party_name": stored, "party_type": "natural_person", "facts": "当事人王建国销售过期食品，王建国签字确认。"}
    public = redact_record(record, party_is_natural_person=True)
    assert public["party_name"] == "王某某"
    assert public["facts"] == "当事人王某某销售过期食品，王某某签字确认。"


def test_masked_spans_cover_the_original_characters_and_everything_else_is_kept_exactly():
    text = "经查\u200b，当事人联系电话138\u200b1111\u00a02206；證人王建国在場。备注：\u00a0无\u200d。"
    result = redact_text(text)
    assert result.text == "经查\u200b，当事人联系电话[电话已隐去]；證人王某某在場。备注：\u00a0无\u200d。"
    phone = next(f for f in result.findings if f.kind == "phone")
    assert text[phone.start:phone.end] == "138\u200b1111\u00a02206"  # offsets are in the original text
    for f in detect(text):
        assert 0 <= f.start < f.end <= len(text)


def test_a_traditional_surname_stays_traditional_in_the_masked_name():
    assert redact_text("證人陳大文證實上述事實。").text == "證人陳某某證實上述事實。"


def test_ordinary_text_with_dots_dates_amounts_and_codes_is_untouched():
    text = ("依据第3.2条及第二十三条，罚款1.2万元（12000.50元），于2026.09.30作出冀石市监罚〔2026〕123号决定；"
            "执行GB 2760-2014，含量12.5%，版本1.2.3.4；检测报告编号2026.0930.1234.5678，许可证号JY11301020012345。")
    assert redact_text(text).text == text


def test_withdrawal_and_correction_notes_go_through_the_same_redactor_as_the_facts():
    record = {"party_name": "王建国", "party_type": "natural_person", "doc_number": "冀石市监罚〔2026〕1号",
              "facts": "当事人王建国销售过期食品。", "other_person_names": ["李四"]}
    copy = public_copy(record, party_is_natural_person=True, kind="penalty",
                       notes={"withdrawal": "經複查，證人趙子龍（电话138.1111.2206）的证言不实，王建国、李四另行处理。"})
    assert copy.notes["withdrawal"] == "經複查，證人趙某某（电话[电话已隐去]）的证言不实，王某某、李某另行处理。"
    assert copy.party_name == "王某某" and copy.title == "王某某行政处罚决定"


MINOR_AGE_YAML = """
- name: publicity.minor_party_age
  description: 测试用：未成年人年龄标准
  unit: years
  rolls_to_working_day: false
  rolls_reference: 年龄按周岁计算，不顺延
  values:
    - value: 16
      valid_from: 1990-01-01
      scope: national
      reference: 测试规则第一条
"""


def test_before_the_first_dated_minor_age_the_earliest_value_of_the_rule_applies(tmp_path):
    """No bare age in the code: a decision older than every dated value is
    judged by the rule's earliest value (here 16, so a 17-year-old is no
    minor; the civil-law 18 would have said otherwise)."""
    from datetime import date

    from sanxiang.core.validators import id_number_check_char
    from sanxiang.publicity.redaction import should_never_publish
    from sanxiang.rules.loader import reload_rules

    def person(born: str) -> dict:
        first17 = f"130102{born}123"
        return {"party_type": "natural_person", "party_id_number": first17 + id_number_check_char(first17),
                "decision_date": date(1985, 6, 1)}

    (tmp_path / "publicity.yaml").write_text(MINOR_AGE_YAML, encoding="utf-8")
    reload_rules(tmp_path)
    try:
        assert should_never_publish(person("19680101")) is None  # 17 on the decision date
        assert "不满16周岁" in should_never_publish(person("19700101"))  # 15
    finally:
        reload_rules()


def test_a_name_running_into_an_e_mail_address_is_not_left_half_visible():
    """The e-mail finding (stronger) took 秀… of 孔萍秀: it grows to cover the
    whole name instead of leaving 孔萍 visible."""
    record = {"party_name": "孔萍秀", "party_type": "natural_person",
              "facts": "经查，当事人孔萍秀另有莫国婷@例子.中国，孔萍秀签字确认。"}
    facts = redact_record(record, party_is_natural_person=True)["facts"]
    assert facts == "经查，当事人[电子邮箱已隐去]，孔某某签字确认。"


def test_an_aside_that_does_not_interrupt_a_street_name_is_not_swallowed():
    assert redact_text("当事人（住长安区）于中山路5号经营").text == "当事人（住长安区）于***经营"
