"""Redaction of published decisions (公示-14; penalty law arts. 48, 50).

Realistic facts are generated with Faker zh_CN (seeded): its ssn() gives
valid GB 11643 numbers, credit_card_number() Luhn-valid cards, and we build
UnionPay-like 16/19-digit numbers starting 62 ourselves. Every personal value,
in every written form, must be gone; every public value must be unchanged.
"""

from __future__ import annotations

import random
import re
from datetime import date

import pytest
from faker import Faker

from sanxiang.core.validators import id_number_check_char, make_credit_code
from sanxiang.publicity.redaction import (
    COMPOUND_SURNAMES,
    MARKERS,
    RULES,
    Finding,
    mask_name,
    redact_record,
    redact_text,
    should_never_publish,
)

from .redaction_corpus import luhn_complete

try:  # optional: the property test runs only where hypothesis is installed
    import hypothesis
    from hypothesis import given, settings
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover
    hypothesis = None

FULLWIDTH = str.maketrans("0123456789X-", "０１２３４５６７８９Ｘ－")
LAWS = (
    "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
    "《中华人民共和国行政处罚法》第三十二条",
    "《河北省食品小作坊小餐饮小摊点管理条例》第四十二条",
    "《市场监督管理行政处罚信息公示规定》（国家市场监督管理总局令第45号）第十四条",
)
AGENCY = "石家庄市长安区市场监督管理局"
AGENCY_ADDRESS = "石家庄市长安区中山东路1号"


# --------------------------------------------------------------------------
# helpers


def luhn_ok(number: str) -> bool:
    return luhn_complete(number[:-1]) == number


def unionpay(rng: random.Random, length: int) -> str:
    return luhn_complete("62" + "".join(rng.choice("0123456789") for _ in range(length - 3)))


def grouped(number: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(number[i:i + size] for i in range(0, len(number), size))


def id_forms(number: str) -> list[str]:
    return [number, f"{number[:6]} {number[6:14]} {number[14:]}", number.translate(FULLWIDTH), number.lower()]


def phone_forms(number: str) -> list[str]:
    return [number, f"{number[:3]}-{number[3:7]}-{number[7:]}", f"{number[:3]} {number[3:7]} {number[7:]}",
            f"+86 {number}", f"86-{number}", number.translate(FULLWIDTH)]


def card_forms(number: str) -> list[str]:
    return [number, grouped(number), grouped(number, sep="-"), number.translate(FULLWIDTH)]


def squeeze(text: str) -> str:
    """The text with full-width forms made ASCII and separators removed, so a
    number that survived in any written form is found as a plain substring."""
    text = text.translate({cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)})
    return re.sub(r"[ \-]", "", text).upper()


def make_id(rng: random.Random, born: date, region: str = "130102") -> str:
    first17 = f"{region}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + id_number_check_char(first17)


@pytest.fixture
def fake():
    f = Faker("zh_CN")
    f.seed_instance(20260930)
    return f


# --------------------------------------------------------------------------
# generated facts: nothing personal survives, nothing public is touched

TEMPLATES = (
    "经查，当事人{name}（公民身份号码：{ssn}，住{address}，联系电话{phone}）于2026年8月在其经营场所销售超过保质期的食品，"
    "货值金额{amount}元。以上事实有证人{witness}的证言为证。",
    "当事人{name}，身份证号{ssn}，电话{phone}，电子邮箱{email}，通过银行卡{card}收取货款。依据{law}，"
    "本机关作出{doc}行政处罚决定，罚款人民币{amount}元。",
    "{date}，执法人员在{agency_address}对当事人进行询问，当事人称其家住{address}，手机号码为{phone}，"
    "货款转入其账户{card}。证人{witness}（身份证号{ssn2}）在场。统一社会信用代码为{credit}的供货单位提供了票据。",
    "{witness}向本局举报，称{name}在{address}从事无照经营，举报人联系方式{phone}，邮箱{email}。"
    "{date}，{agency}依据{law}立案，文号{doc}，罚款人民币{amount}元。",
    "当事人{name}通过微信收款，后转入{card}。其身份证号码为{ssn}，户籍地{address}。依据{law}，于{date}作出{doc}决定。"
    "供货商统一社会信用代码{credit}，罚款人民币{amount}元。",
)


def generated_cases(fake, count=300):
    rng = random.Random(4711)
    for i in range(count):
        template = TEMPLATES[i % len(TEMPLATES)]
        card = fake.credit_card_number() if i % 2 else unionpay(rng, rng.choice((16, 19)))
        values = dict(
            name=fake.name(), witness=fake.name(), ssn=fake.ssn(), ssn2=fake.ssn(), phone=fake.phone_number(),
            card=card, email=fake.email(), address=fake.address(),
            amount=str(rng.choice((1200, 5000, 12000, 50000, 200000))), date=f"2026年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
            law=rng.choice(LAWS), doc=f"冀石市监罚〔2026〕{rng.randint(1, 999)}号",
            credit=make_credit_code(region_code="130102", serial=rng.randint(1, 99_999_999), authority="9", kind="1"),
            agency=AGENCY, agency_address=AGENCY_ADDRESS,
        )
        # the same value in another written form, chosen per case
        values["ssn"] = id_forms(values["ssn"])[i % 4]
        values["phone"] = phone_forms(values["phone"])[i % 6]
        values["card"] = card_forms(values["card"])[i % 4]
        yield template.format(**values), values, template


def test_no_personal_value_from_300_generated_facts_survives_in_any_written_form(fake):
    failures = []
    for text, v, _ in generated_cases(fake):
        out = redact_text(text, known_names=[v["name"], v["witness"]],
                          keep=[v["doc"], v["credit"], AGENCY, AGENCY_ADDRESS]).text
        plain = squeeze(out)
        for kind in ("ssn", "ssn2", "phone", "card"):
            if squeeze(v[kind]) in plain:
                failures.append((kind, v[kind], out))
        street = v["address"].split()[0]
        for secret in (v["email"], v["name"], v["witness"], v["address"], street[-6:], v["address"].split()[1]):
            if secret in out:
                failures.append(("text", secret, out))
    assert failures == []


def test_legal_texts_document_numbers_credit_codes_amounts_and_dates_survive_unchanged(fake):
    for text, v, template in generated_cases(fake):
        out = redact_text(text, known_names=[v["name"], v["witness"]], keep=[AGENCY, AGENCY_ADDRESS]).text
        for public in ("doc", "credit", "date", "law", "agency", "agency_address", "amount"):
            if "{" + public + "}" in template:
                assert v[public] in out, (public, out)
        if "{amount}" in template:
            assert f"罚款人民币{v['amount']}元" in out or f"货值金额{v['amount']}元" in out


def test_faker_cards_pass_luhn_and_are_hidden_everywhere(fake):
    rng = random.Random(1)
    cards = [fake.credit_card_number() for _ in range(100)] + [unionpay(rng, n) for n in (16, 19) * 50]
    assert all(luhn_ok(c) for c in cards)
    for card in cards:
        for form in card_forms(card):
            out = redact_text(f"货款汇入{form}，").text
            assert out == f"货款汇入{MARKERS['bank_card']}，", form


# --------------------------------------------------------------------------
# ID numbers


def test_a_valid_id_number_is_hidden_in_every_written_form(fake):
    for _ in range(50):
        number = fake.ssn()
        for form in id_forms(number):
            out = redact_text(f"当事人身份证{form}，").text
            assert out == f"当事人身份证{MARKERS['id_number']}，"


def test_an_id_number_with_check_character_x_is_hidden():
    rng = random.Random(3)
    numbers = [n for n in (make_id(rng, date(1980, 1, d)) for d in range(1, 29)) if n.endswith("X")]
    assert numbers
    for n in numbers:
        assert redact_text(f"其号码{n}。").text == f"其号码{MARKERS['id_number']}。"


def test_an_old_15_digit_id_number_with_a_valid_date_is_hidden():
    assert redact_text("原身份证130102850317123登记").text == f"原身份证{MARKERS['id_number']}登记"


def test_a_mistyped_id_number_is_hidden_after_an_id_keyword_only():
    bad = "130102199001011230"  # wrong check digit
    assert redact_text(f"身份证号码：{bad}").text == f"身份证号码：{MARKERS['id_number']}"
    assert redact_text(f"样品编号{bad}").text == f"样品编号{bad}"


# --------------------------------------------------------------------------
# phones, e-mail, other contacts


@pytest.mark.parametrize("written", [
    "13812345678", "138-1234-5678", "138 1234 5678", "+86 138 1234 5678", "+8613812345678", "0086 13812345678",
    "１３８１２３４５６７８", "0311-87654321", "0311 8765 4321", "031187654321", "010-12345678", "(0311)87654321",
    "（0311）8765-4321", "0311-87654321-8001", "0311-87654321转8001",
])
def test_mobile_and_landline_numbers_are_hidden_in_their_usual_forms(written):
    assert redact_text(f"联系方式{written}。").text == f"联系方式{MARKERS['phone']}。"
    assert redact_text(f"他说{written}。").text == f"他说{MARKERS['phone']}。"


def test_a_short_local_number_is_hidden_only_after_a_phone_keyword():
    assert redact_text("电话：87654321").text == f"电话：{MARKERS['phone']}"
    assert redact_text("批次87654321").text == "批次87654321"


def test_e_mail_addresses_and_im_accounts_are_hidden(fake):
    for _ in range(30):
        email = fake.email()
        assert redact_text(f"邮箱{email}，").text == f"邮箱{MARKERS['email']}，"
    assert redact_text("邮箱１３８１２３４５６７８＠ｑｑ．ｃｏｍ。").text == f"邮箱{MARKERS['email']}。"
    assert redact_text("QQ号：123456789，微信号：zhang_san88。").text == (
        f"QQ号：{MARKERS['contact']}，微信号：{MARKERS['contact']}。")


# --------------------------------------------------------------------------
# bank accounts and what must not be taken for one


def test_a_corporate_account_without_a_luhn_digit_is_hidden_after_an_account_keyword():
    assert redact_text("开户银行：中国工商银行石家庄分行，账号：0402 0234 0920 0123 456").text == (
        f"开户银行：中国工商银行石家庄分行，账号：{MARKERS['bank_card']}")


def test_credit_codes_document_numbers_barcodes_and_licences_are_never_taken_for_cards():
    rng = random.Random(9)
    luhn_codes = []
    while len(luhn_codes) < 20:  # all-digit credit codes that also pass Luhn
        code = make_credit_code(region_code="130102", serial=rng.randint(1, 99_999_999), authority="9", kind="1")
        if code.isdigit() and luhn_ok(code):
            luhn_codes.append(code)
    for code in luhn_codes:
        assert redact_text(f"统一社会信用代码{code}，").text == f"统一社会信用代码{code}，"
        assert redact_text(f"供货单位{code}。").text == f"供货单位{code}。"
    card = unionpay(rng, 16)
    for text in (f"冀石市监罚〔2026〕{card}号", f"条形码{card}", f"食品经营许可证JY{card[:14]}",
                 "产品执行标准GB 2760-2014", "批号20260301-01", "2026-09-30 14:30"):
        assert redact_text(text).text == text


def test_a_legal_person_keeps_its_credit_code_but_not_its_bank_account():
    code = make_credit_code(region_code="130102", serial=12345678, authority="9", kind="1")
    record = {"party_name": "石家庄某某商贸有限公司", "party_type": "legal_person", "party_credit_code": code,
              "facts": f"当事人（统一社会信用代码{code}）通过其对公账户1304 0100 0400 1234 5将货款转出。"}
    public = redact_record(record, party_is_natural_person=False, name_rule="surname_mouxx")
    assert public["party_credit_code"] == code and public["party_name"] == record["party_name"]
    assert code in public["facts"] and "13040100" not in squeeze(public["facts"])
    assert MARKERS["bank_card"] in public["facts"]


@pytest.mark.parametrize("text", [
    "依据《中华人民共和国食品安全法》第一百二十四条第一款第（五）项的规定，责令当事人改正上述违法行为，并处罚款人民币12000元。",
    "当事人应当自收到本决定书之日起十五日内缴纳罚款，逾期不缴纳的，每日按罚款数额的3%加处罚款。",
    "如不服本处罚决定，可在收到本决定书之日起六十日内向石家庄市人民政府申请行政复议，或者六个月内向石家庄市长安区人民法院提起行政诉讼。",
    "本局于2026年9月1日立案，2026年9月30日作出冀长市监罚〔2026〕12号行政处罚决定书，没收违法所得1200.50元。",
    "涉案产品生产日期2026-05-01，保质期180天，批号20260501，条码6901234567892，共计36箱。",
    "执法人员（执法证号13010200001237、13010200001245）出示了证件。",
    "食品经营许可证编号JY11301020012345，有效期至2030年12月31日。",
    "依照国办发〔2018〕118号和《市场监督管理行政处罚程序规定》（国家市场监督管理总局令第2号）第五十六条办理。",
])
def test_texts_without_personal_data_come_back_unchanged(text):
    assert redact_text(text).text == text


# --------------------------------------------------------------------------
# addresses


def test_an_address_keeps_its_part_down_to_the_county_and_hides_the_rest():
    cases = {
        "住河北省石家庄市长安区建设北大街123号3单元201室，": "住河北省石家庄市长安区***，",
        "家住石家庄市长安区育才街道建华小区5号楼2单元101室。": "家住石家庄市长安区***。",
        "住址：正定县正定镇燕赵南大街18号": "住址：正定县***",
        "现住北京市朝阳区建国路88号院": "现住北京市朝阳区***",
        "住正定县南牛乡东村，": "住正定县***，",
        "户籍地新疆维吾尔自治区乌鲁木齐市天山区解放北路5号。": "户籍地新疆维吾尔自治区乌鲁木齐市天山区***。",
        "其居住在建设北大街12号。": "其居住在***。",
        "住石家庄市市府路5号，": "住石家庄市***，",
    }
    for text, expected in cases.items():
        assert redact_text(text).text == expected


def test_faker_addresses_lose_everything_below_the_county(fake):
    for _ in range(200):
        address = fake.address()
        out = redact_text(f"当事人住{address}。").text
        assert out.endswith("***。") and address.split()[0][-4:] not in out and address.split()[1] not in out


def test_the_agency_address_and_legal_citations_are_not_taken_for_a_home_address():
    text = (f"{AGENCY}（地址：{AGENCY_ADDRESS}）依据《中华人民共和国食品安全法》第一百二十四条、"
            "国家市场监督管理总局令第45号、冀长市监罚〔2026〕12号，对编号为3号的样品复检。")
    assert redact_text(text, keep=[AGENCY, AGENCY_ADDRESS]).text == text


def test_a_legal_persons_premises_stay_public_but_an_employees_home_does_not():
    record = {"party_name": "石家庄某某餐饮有限公司", "party_type": "legal_person", "party_address": "石家庄市长安区胜利北街66号",
              "facts": "当事人在其位于石家庄市长安区胜利北街66号的经营场所内，安排员工（住长安区谈固东街9号3单元2室）从事加工。",
              "witnesses": ["赵六"]}
    facts = redact_record(record, party_is_natural_person=False, name_rule="surname_mouxx")["facts"]
    assert "石家庄市长安区胜利北街66号" in facts and "谈固东街" not in facts and "住长安区***" in facts


# --------------------------------------------------------------------------
# names


@pytest.mark.parametrize("name, rule, expected", [
    ("张三", "surname_mouxx", "张某"),
    ("张三丰", "surname_mouxx", "张某某"),
    ("张三丰", "surname_mou", "张某"),
    ("张三丰", "surname_x", "张**"),
    ("张三丰", "surname_cross", "张××"),
    ("张三丰", "initial", "Z某"),
    ("张三丰", "hidden", "某某"),
    ("欧阳娜娜", "surname_mouxx", "欧阳某某"),
    ("欧阳娜", "surname_x", "欧阳*"),
    ("诸葛亮", "initial", "ZG某"),
    ("尉迟恭", "initial", "YC某"),
    ("欧阳", "surname_mouxx", "欧某"),  # a two-character name is surname plus given name
    ("张", "surname_mouxx", "张某"),
    ("乜小明", "initial", "某某"),  # surname without a known initial
])
def test_name_rules(name, rule, expected):
    assert mask_name(name, rule=rule) == expected


@pytest.mark.parametrize("surname", ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙",
                                     "宇文", "司徒", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延"])
def test_compound_surnames_are_kept_whole(surname):
    assert surname in COMPOUND_SURNAMES
    assert mask_name(surname + "明", rule="surname_mouxx") == surname + "某"
    assert mask_name(surname + "明亮", rule="surname_x") == surname + "**"


def test_an_unknown_name_rule_is_refused():
    with pytest.raises(ValueError):
        mask_name("张三", rule="nope")
    with pytest.raises(ValueError):
        redact_text("当事人张三", name_rule="nope")
    assert set(RULES) >= {"surname_mouxx", "surname_x", "initial"}


def test_known_names_are_masked_wherever_they_appear(fake):
    for _ in range(50):
        party, other = fake.name(), fake.name()
        text = f"经查，{party}雇佣{other}销售假冒商品，{other}对此知情，{party}承认。"
        out = redact_text(text, known_names=[party, other]).text
        assert party not in out and other not in out
        assert mask_name(party) in out and mask_name(other) in out


@pytest.mark.parametrize("text, expected", [
    ("当事人张三于2026年3月5日", "当事人张某于2026年3月5日"),
    ("法定代表人：李四。", "法定代表人：李某。"),
    ("法定代表人为李四平，", "法定代表人为李某某，"),
    ("证人王五证实", "证人王某证实"),
    ("经营者赵六在店内", "经营者赵某在店内"),
    ("委托代理人欧阳明辉称", "委托代理人欧阳某某称"),
])
def test_names_after_role_words_are_masked_without_being_given(text, expected):
    assert redact_text(text).text == expected


@pytest.mark.parametrize("text", [
    "当事人于当日在店内", "当事人明知是过期食品", "经营者应当建立进货查验记录制度", "当事人未按规定", "当事人张某某称",
    "当事人石家庄某某商贸有限公司", "当事人向消费者销售", "当事人公司名称",
])
def test_role_words_followed_by_ordinary_words_are_left_alone(text):
    assert redact_text(text).text == text


def test_names_after_role_words_are_masked_for_400_faker_names(fake):
    for _ in range(400):
        name = fake.name()
        for text in (f"当事人{name}，男，", f"证人{name}证实", f"法定代表人：{name}。", f"经营者{name}在店内",
                     f"当事人{name}于2026年"):
            out = redact_text(text).text
            assert name not in out and mask_name(name) in out, out


def test_a_third_persons_name_given_neither_as_data_nor_after_a_role_word_is_not_detected():
    # A documented limit: there is no general Chinese name recogniser.
    assert redact_text("刘强把货交给陈明。").text == "刘强把货交给陈明。"


# --------------------------------------------------------------------------
# findings


def test_findings_point_into_the_original_text_and_carry_no_value():
    text = "当事人张三（身份证１３０１０２１９９００３０７１２３４），电话13812345678。"
    result = redact_text(text, known_names=["张三"])
    assert [f.kind for f in result.findings] == ["name", "id_number", "phone"]
    assert text[result.findings[2].start:result.findings[2].end] == "13812345678"
    assert all(isinstance(f, Finding) and not hasattr(f, "value") for f in result.findings)


def test_the_keep_list_wins_over_every_detector():
    text = "联系人张三，电话13812345678"
    assert redact_text(text, keep=["13812345678", "张三"]).text == text


def test_redaction_is_idempotent_on_generated_facts(fake):
    for text, v, _ in generated_cases(fake, 60):
        once = redact_text(text, known_names=[v["name"], v["witness"]]).text
        assert redact_text(once, known_names=[v["name"], v["witness"]]).text == once


# --------------------------------------------------------------------------
# records


def natural_person_record(**overrides) -> dict:
    record = {
        "external_id": "CF-7", "kind": "penalty", "doc_number": "冀长市监罚〔2026〕7号", "decision_date": "2026-09-30",
        "party_name": "欧阳娜娜", "party_type": "natural_person", "party_credit_code": "", "party_id_type": "身份证",
        "party_id_number": "11010519491231002X", "legal_representative": "",
        "violation_type": "销售过期食品",
        "facts": "当事人欧阳娜娜（身份证号11010519491231002X，住河北省石家庄市长安区建设北大街123号，电话13812345678）"
                 "于2026年8月销售过期食品，证人钱七在场，店员孙八证实。欧阳娜娜的银行卡6222 0212 3456 7890 128收款。",
        "basis": "《中华人民共和国食品安全法》第一百二十四条第一款第（五）项",
        "content": "罚款人民币12000元。", "remark": "当事人已于2026年10月8日缴纳罚款。",
        "penalty_categories": ["罚款"], "fine_fen": 1200000, "witnesses": ["钱七"], "other_person_names": ["孙八"],
    }
    record.update(overrides)
    return record


def test_a_natural_persons_record_loses_id_fields_and_every_personal_value():
    record = natural_person_record()
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    assert "party_id_number" not in public and "party_id_type" not in public
    assert public["party_name"] == "欧阳某某"
    everything = repr(public)
    for secret in ("欧阳娜娜", "11010519491231002X", "13812345678", "建设北大街", "钱七", "孙八", "6222"):
        assert secret not in everything
    assert public["witnesses"] == ["钱某"] and public["other_person_names"] == ["孙某"]
    assert "石家庄市长安区***" in public["facts"]
    for key in ("doc_number", "decision_date", "basis", "content", "remark", "penalty_categories", "fine_fen", "kind"):
        assert public[key] == record[key]
    assert record["party_id_number"] == "11010519491231002X"  # the original is untouched


def test_the_party_id_number_is_hidden_even_when_written_oddly_in_the_facts():
    record = natural_person_record(party_id_number="130102199001011230",  # fails its check digit
                                   facts="当事人欧阳娜娜，号码130102 19900101 1230，销售过期食品。")
    facts = redact_record(record, party_is_natural_person=True, name_rule="surname_x")["facts"]
    assert facts == f"当事人欧阳**，号码{MARKERS['id_number']}，销售过期食品。"


def test_an_id_number_sent_in_the_credit_code_field_is_removed():
    record = natural_person_record(party_credit_code="11010519491231002X")
    public = redact_record(record, party_is_natural_person=True, name_rule="surname_mouxx")
    assert "party_credit_code" not in public


def test_a_legal_person_keeps_name_credit_code_and_legal_representative_but_hides_others():
    code = make_credit_code(region_code="130102", serial=7654321, authority="9", kind="1")
    record = {"party_name": "石家庄市长安区某某食品有限公司", "party_type": "legal_person", "party_credit_code": code,
              "legal_representative": "王大明", "doc_number": "冀长市监罚〔2026〕1号",
              "facts": "当事人法定代表人王大明称，货物由司机刘小军（电话13912345678）运送。", "other_person_names": "刘小军"}
    public = redact_record(record, party_is_natural_person=False, name_rule="surname_mouxx")
    assert public["party_name"] == record["party_name"] and public["party_credit_code"] == code
    assert public["legal_representative"] == "王大明"
    assert public["facts"] == f"当事人法定代表人王大明称，货物由司机刘某某（电话{MARKERS['phone']}）运送。"
    hidden = redact_record(record, party_is_natural_person=False, name_rule="surname_mouxx",
                           publish_legal_representative=False)
    assert hidden["legal_representative"] == "王某某" and "王大明" not in hidden["facts"]


def test_the_name_rule_chosen_applies_to_party_and_text():
    public = redact_record(natural_person_record(), party_is_natural_person=True, name_rule="initial")
    assert public["party_name"] == "OY某" and "OY某" in public["facts"]


# --------------------------------------------------------------------------
# never published online


def test_a_record_flagged_as_a_minor_is_never_published():
    reason = should_never_publish(natural_person_record(is_minor=True))
    assert reason and "未成年人" in reason and "第五十条" in reason


def test_a_party_under_18_on_the_decision_date_by_id_number_is_never_published():
    rng = random.Random(5)
    minor = make_id(rng, date(2008, 10, 1))  # 17 on 2026-09-30
    adult = make_id(rng, date(2008, 9, 30))  # 18 that very day
    assert "不满18周岁" in should_never_publish(natural_person_record(party_id_number=minor))
    assert should_never_publish(natural_person_record(party_id_number=adult)) is None
    assert should_never_publish(natural_person_record(party_id_number=minor, decision_date="2026-10-01")) is None


def test_the_minor_age_comes_from_the_dated_rules(monkeypatch):
    from sanxiang.rules import loader

    real = loader.get_rule
    seen = []

    def spy(name, *, on, **kw):
        seen.append((name, on))
        value = real(name, on=on, **kw)
        return type(value)(**{**value.__dict__, "value": 16})

    monkeypatch.setattr(loader, "get_rule", spy)
    record = natural_person_record(party_id_number=make_id(random.Random(2), date(2009, 1, 1)))
    assert should_never_publish(record) is None  # 17 ≥ 16
    assert seen == [("publicity.minor_party_age", date(2026, 9, 30))]


def test_the_id_of_a_legal_persons_representative_does_not_make_the_party_a_minor():
    record = {"party_type": "legal_person", "party_id_number": make_id(random.Random(3), date(2015, 1, 1)),
              "decision_date": "2026-09-30"}
    assert should_never_publish(record) is None


@pytest.mark.parametrize("flags, word", [
    ({"confidential": True}, "国家秘密、商业秘密或者个人隐私"),
    ({"confidential": "trade_secret"}, "商业秘密"),
    ({"confidential": ["state_secret", "personal_privacy"]}, "国家秘密、个人隐私"),
    ({"personal_privacy": True}, "个人隐私"),
])
def test_a_confidential_record_is_never_published(flags, word):
    reason = should_never_publish(natural_person_record(**flags))
    assert reason and word in reason and "《中华人民共和国行政处罚法》第五十条" in reason


def test_an_ordinary_adult_record_may_be_published():
    assert should_never_publish(natural_person_record()) is None
    assert should_never_publish(natural_person_record(confidential=False, is_minor=False)) is None


# --------------------------------------------------------------------------
# property test (only where hypothesis happens to be installed)

if hypothesis is not None:
    cjk = st.text(alphabet="的一是在不了有和人这中大为上个我以要他时来用们到作地出就分对成会可主发年动同工也能下过子说产种面而方后多定行法所民得经三之进着等部度家电力里如水化高自理起小物现实加量都两体制机当使点从业本去把性好应开它合还因", max_size=12)

    @settings(max_examples=200, deadline=None)
    @given(before=cjk, after=cjk, year=st.integers(1930, 2007), day=st.integers(1, 365), serial=st.integers(0, 999))
    def test_property_any_valid_id_between_any_words_is_hidden(before, after, year, day, serial):
        from datetime import timedelta

        born = date(year, 1, 1) + timedelta(days=day - 1)
        first17 = f"130102{born:%Y%m%d}{serial:03d}"
        number = first17 + id_number_check_char(first17)
        out = redact_text(before + number + after).text
        assert number not in out and MARKERS["id_number"] in out
        assert redact_text(out).text == out
