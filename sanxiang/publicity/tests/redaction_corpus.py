"""A seeded corpus of decision records with planted secrets in every known
bypass format (issue 9, section 3), shared by the corpus test and the
public-channel test. Plain Python: no database.

Each record says which secrets it holds (kind, format, the value to look
for) and which ordinary strings (dates, amounts, 文号, article numbers,
credit codes of companies) must survive unchanged. ``leaks(text, secret)``
reads a public text the way a person (or a scraper) would: separators,
zero-width characters and every digit script ignored.
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

from sanxiang.core.validators import id_number_check_char, make_credit_code

SEED = 20261201
ZW = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
NBSP = ("\u00a0", "\u202f", "\u2007", "\u3000")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789Xx@-", "０１２３４５６７８９Ｘｘ＠－")

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "司徒", "夏侯",
            "轩辕", "端木", "独孤", "南宫", "西门", "百里", "呼延", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔",
            "申屠", "公羊", "赫连", "钟离", "闻人", "万俟", "拓跋", "完颜", "纳兰", "耶律", "贺兰", "司空", "左丘", "东郭")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉建国志宏海波斌宇浩凯俊帅旭晨雪梅琳婷颖欣怡佳"
# Traditional forms of the role words and of a few surnames.
TRADITIONAL_ROLES = {"证人": "證人", "在场人": "在場人", "见证人": "見證人", "知情人": "知情人"}
TRADITIONAL_SURNAMES = {"陈": "陳", "张": "張", "刘": "劉", "杨": "楊", "黄": "黃", "赵": "趙", "钱": "錢", "孙": "孫",
                        "欧阳": "歐陽", "司马": "司馬", "诸葛": "諸葛", "东方": "東方", "长孙": "長孫"}
ROLE_WORDS = ("证人", "在场人", "见证人", "知情人")
# What follows the name (none of them is punctuation).
WITNESS_TAILS = ("证实", "電話另告，其证实", "的证言证明", "在场目睹", "，证实", "出具书面证言证实", "现年四十岁，证实")
ROADS = ("建设北大街", "中山东路", "胜利南街", "裕华西路", "和平路", "槐安东路", "友谊北大街", "体育南大街")
COUNTIES = ("河北省石家庄市长安区", "石家庄市桥西区", "河北省保定市竞秀区", "唐山市路南区", "正定县")
LAWS = ("《中华人民共和国食品安全法》第一百二十四条第一款第（五）项", "《中华人民共和国行政处罚法》第三十二条",
        "《中华人民共和国产品质量法》第四十九条")


def make_id(rng: random.Random) -> str:
    born = date(rng.randint(1950, 2000), rng.randint(1, 12), rng.randint(1, 28))
    first17 = f"{rng.choice(('130102', '130104', '110101', '440305'))}{born:%Y%m%d}{rng.randint(0, 999):03d}"
    return first17 + id_number_check_char(first17)


def luhn_complete(body: str) -> str:
    """body + the Luhn check digit."""
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def luhn_card(rng: random.Random, length: int = 16) -> str:
    """A UnionPay-like card number (starts 62) of `length` digits."""
    return luhn_complete("62" + "".join(str(rng.randrange(10)) for _ in range(length - 3)))


def make_mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "150", "186", "177", "199", "135")) + "".join(str(rng.randrange(10)) for _ in range(8))


def make_landline(rng: random.Random) -> tuple[str, str]:
    """(area code without the 0, subscriber number)."""
    area = rng.choice(("311", "312", "315", "10", "21", "755"))
    return area, str(rng.randint(2, 8)) + "".join(str(rng.randrange(10)) for _ in range(7))


def make_name(rng: random.Random, *, compound: bool = False) -> str:
    surname = rng.choice(COMPOUND) if compound else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def zw_inside(value: str, rng: random.Random) -> str:
    """The value with a zero-width character after a random inner position."""
    i = rng.randint(1, len(value) - 1)
    return value[:i] + rng.choice(ZW) + value[i:]


# --------------------------------------------------------------------------
# Formats: name -> function(rng) -> (written form, value to look for)


def _mobile(fmt):
    def make(rng):
        m = make_mobile(rng)
        written = {
            "plain": m, "dashes": f"{m[:3]}-{m[3:7]}-{m[7:]}", "spaces": f"{m[:3]} {m[3:7]} {m[7:]}",
            "dots": f"{m[:3]}.{m[3:7]}.{m[7:]}", "nbsp": f"{m[:3]}{rng.choice(NBSP)}{m[3:7]}{rng.choice(NBSP)}{m[7:]}",
            "zero_width": zw_inside(zw_inside(m, rng), rng), "plus86": f"+86 {m}", "plus86_dots": f"+86.{m[:3]}.{m[3:7]}.{m[7:]}",
            "fullwidth": m.translate(FULLWIDTH), "arabic_indic": m.translate(ARABIC_INDIC),
            "spaced_dashes": f"{m[:3]} - {m[3:7]} - {m[7:]}", "middle_dots": f"{m[:3]}·{m[3:7]}·{m[7:]}",
        }[fmt]
        return written, m[3:]  # the last 8 digits identify the line
    return make


def _landline(fmt):
    def make(rng):
        area, number = make_landline(rng)
        written = {
            "plain": f"0{area}-{number}", "parens": f"(0{area}){number}", "dots": f"0{area}.{number[:4]}.{number[4:]}",
            "cc_spaces": f"+86 {area} {number[:4]} {number[4:]}", "cc_dashes": f"+86-{area}-{number}",
            "cc_0086": f"0086 {area} {number}", "cc_parens": f"+86 ({area}) {number[:4]}-{number[4:]}",
            "cc_zero": f"+86 0{area} {number}", "nbsp": f"0{area}{rng.choice(NBSP)}{number}",
            "zero_width": zw_inside(f"0{area}{number}", rng), "cc_nbsp": f"+86{NBSP[0]}{area}{NBSP[0]}{number}",
        }[fmt]
        return written, number
    return make


def _id(fmt):
    def make(rng):
        n = make_id(rng)
        written = {
            "plain": n, "groups": f"{n[:6]} {n[6:14]} {n[14:]}", "zero_width": zw_inside(n, rng),
            "two_zero_width": zw_inside(zw_inside(n, rng), rng), "nbsp_groups": f"{n[:6]}{NBSP[0]}{n[6:14]}{NBSP[0]}{n[14:]}",
            "fullwidth": n.translate(FULLWIDTH), "arabic_indic": n.translate(ARABIC_INDIC), "lower_x": n.lower(),
            "bidi": "\u202d" + n + "\u202c",
        }[fmt]
        return written, n[6:17]  # birth date and serial: the region code is public in every credit code
    return make


def _card(fmt):
    def make(rng):
        n = luhn_card(rng, rng.choice((16, 19)))
        written = {
            "plain": n, "groups": " ".join(n[i:i + 4] for i in range(0, len(n), 4)), "zero_width": zw_inside(n, rng),
            "nbsp_groups": NBSP[0].join(n[i:i + 4] for i in range(0, len(n), 4)), "fullwidth": n.translate(FULLWIDTH),
        }[fmt]
        return written, n
    return make


def _email(fmt):
    def make(rng):
        user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(6)) + str(rng.randint(10, 99))
        cjk_user = make_name(rng)
        written = {
            "ascii": f"{user}@example.com", "cjk_local": f"{cjk_user}@163.com", "cjk_domain": f"{user}@例子.中国",
            "cjk_both": f"{cjk_user}@例子.中国", "punycode": f"{user}@xn--fsqu00a.xn--fiqs8s",
            "punycode_tld": f"{user}@mail.xn--fiqs8s", "fullwidth_at": f"{user}＠example.com",
            "zero_width": zw_inside(f"{user}@example.com", rng), "small_at": f"{user}﹫example.com",
        }[fmt]
        value = cjk_user if fmt in ("cjk_local", "cjk_both") else user
        return written, value
    return make


def _address(fmt):
    def make(rng):
        road = rng.choice(ROADS)
        no = rng.randint(101, 989)
        unit = f"{rng.randint(1, 9)}单元{rng.randint(101, 2903)}室"
        county = rng.choice(COUNTIES)
        near = rng.choice(ROADS)
        written = {
            "plain": f"{county}{road}{no}号{unit}",
            "parenthesis": f"{county}{road}（近{near}）{no}号{unit}",
            "ascii_parenthesis": f"{county}{road}(近{near}){no}号{unit}",
            "nbsp": f"{county}{road}{NBSP[0]}{no}号{unit}",
            "zero_width": f"{county}{road}{no}\u200b号{unit}",
        }[fmt]
        return written, f"{no}号"
    return make


FORMATS = {
    "mobile": {f: _mobile(f) for f in ("plain", "dashes", "spaces", "dots", "nbsp", "zero_width", "plus86", "plus86_dots",
                                       "fullwidth", "arabic_indic", "spaced_dashes", "middle_dots")},
    "landline": {f: _landline(f) for f in ("plain", "parens", "dots", "cc_spaces", "cc_dashes", "cc_0086", "cc_parens",
                                           "cc_zero", "nbsp", "zero_width", "cc_nbsp")},
    "id_number": {f: _id(f) for f in ("plain", "groups", "zero_width", "two_zero_width", "nbsp_groups", "fullwidth",
                                      "arabic_indic", "lower_x", "bidi")},
    "bank_card": {f: _card(f) for f in ("plain", "groups", "zero_width", "nbsp_groups", "fullwidth")},
    "email": {f: _email(f) for f in ("ascii", "cjk_local", "cjk_domain", "cjk_both", "punycode", "punycode_tld",
                                     "fullwidth_at", "zero_width", "small_at")},
    "address": {f: _address(f) for f in ("plain", "parenthesis", "ascii_parenthesis", "nbsp", "zero_width")},
}
# Names: (role word written simplified/traditional) x (single/compound surname, traditional surname).
NAME_FORMATS = ("simplified", "traditional_role", "compound", "traditional_compound", "traditional_surname")
PARTY_FORMATS = ("plain", "zero_width_in_field", "nul_in_field", "repeated", "spaced_in_text")

LABELS = {
    "mobile": ("联系电话", "手机", "电话", "手机号码为", "联系方式："),
    "landline": ("联系电话", "座机", "电话", "传真"),
    "id_number": ("身份证号", "公民身份号码", "身份证号码：", "证件号码"),
    "bank_card": ("银行卡", "账号", "银行账户", "卡号"),
    "email": ("电子邮箱", "邮箱：", "Email:", "邮箱为"),
    "address": ("住", "家住", "住址：", "现住"),
}


@dataclass
class Planted:
    kind: str
    fmt: str
    value: str  # what must not be readable in any public text


@dataclass
class CorpusRecord:
    record: dict
    secrets: list[Planted] = field(default_factory=list)
    ordinary: list[str] = field(default_factory=list)


def ordinary_strings(rng: random.Random, n: int) -> dict[str, str]:
    """Public strings that must survive exactly."""
    return {
        "date": f"2026年{rng.randint(1, 12)}月{rng.randint(1, 28)}日",
        "iso_date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        "amount": f"罚款人民币{rng.choice((1200, 5000, 12000, 50000))}.{rng.randint(10, 99)}元",
        "wan": f"{rng.randint(1, 9)}.{rng.randint(1, 9)}万元",
        "doc": f"冀石市监罚〔2026〕{100 + n}号",
        "article": rng.choice(("第二十三条", "第三十二条第二款", "第一百二十四条第一款第（五）项", "第3条第2款")),
        "law": rng.choice(LAWS),
        "credit": make_credit_code(region_code="130102", serial=rng.randint(1, 99_999_999), authority="9", kind="1"),
        "permit": f"JY1130102{rng.randint(10000000, 99999999)}",
    }


def generate(count: int = 400, seed: int = SEED) -> list[CorpusRecord]:
    """``count`` natural-person records; every format of every kind is used
    in turn, so each appears count / len(formats) times."""
    rng = random.Random(seed)
    cycles = {kind: list(formats) for kind, formats in FORMATS.items()}
    out = []
    for n in range(count):
        planted: list[Planted] = []
        parts: list[str] = []
        for kind, names in cycles.items():
            fmt = names[n % len(names)]
            written, value = FORMATS[kind][fmt](rng)
            planted.append(Planted(kind, fmt, value))
            # every fourth record names no label: the rules must find the value by its shape
            label = LABELS[kind][n % len(LABELS[kind])] if n % 4 or kind == "address" else "另有"

            closing = "）" if kind == "address" and n % 2 else ""
            parts.append(f"{'（' if closing else ''}{label}{written}{closing}")
        # a third person after a role word, not given as data
        name_fmt = NAME_FORMATS[n % len(NAME_FORMATS)]
        role = ROLE_WORDS[n % len(ROLE_WORDS)]
        compound = name_fmt in ("compound", "traditional_compound")
        witness = make_name(rng, compound=compound)
        written_witness = witness
        if name_fmt in ("traditional_compound", "traditional_surname"):
            for simp, trad in TRADITIONAL_SURNAMES.items():
                if witness.startswith(simp):
                    written_witness = trad + witness[len(simp):]
                    break
        written_role = TRADITIONAL_ROLES[role] if name_fmt != "simplified" else role
        planted.append(Planted("witness", f"{name_fmt}/{role}", written_witness))
        # the party (natural person), its field form and repetitions
        party_fmt = PARTY_FORMATS[n % len(PARTY_FORMATS)]
        party = make_name(rng, compound=n % 7 == 0)
        field_party = party
        if party_fmt == "zero_width_in_field":
            field_party = party[:1] + rng.choice(ZW) + party[1:]
        elif party_fmt == "nul_in_field":
            field_party = party[:1] + "\x00" + party[1:]
        in_text = party[:1] + " " + party[1:] if party_fmt == "spaced_in_text" else party
        planted.append(Planted("party", party_fmt, party))
        keep = ordinary_strings(rng, n)
        rng.shuffle(parts)
        facts = (f"经查，当事人{in_text}{'，'.join(parts)}，于{keep['date']}销售超过保质期的食品。"
                 f"{written_role}{written_witness}{WITNESS_TAILS[n % len(WITNESS_TAILS)]}上述事实。{in_text}对违法事实无异议"
                 + ("，" + "，".join(f"{in_text}签字确认" for _ in range(3)) if party_fmt == "repeated" else "")
                 + f"。供货单位统一社会信用代码{keep['credit']}，许可证号{keep['permit']}。")
        content = (f"依据{keep['law']}{keep['article']}，{keep['amount']}（{keep['wan']}以下），"
                   f"决定书文号{keep['doc']}，于{keep['iso_date']}送达{in_text}。")
        record = {
            "external_id": f"CORPUS-{n:05d}", "kind": "penalty", "doc_number": keep["doc"], "party_name": field_party,
            "party_type": "natural_person", "party_id_type": "身份证", "party_id_number": make_id(rng),
            "decision_date": "2026-10-20", "violation_type": "销售超过保质期的食品", "facts": facts,
            "basis": keep["law"] + keep["article"], "content": content, "penalty_categories": ["罚款"],
            "fine_fen": 1200000, "remark": f"{written_role}{written_witness}在场",
        }
        ordinary = [keep[k] for k in ("date", "iso_date", "amount", "wan", "doc", "article", "law", "credit", "permit")]
        out.append(CorpusRecord(record, planted, ordinary + [record["decision_date"], record["external_id"]]))
    return out


# --------------------------------------------------------------------------
# Reading public text


def _reader_view(text: str) -> str:
    """What a reader sees: NFKC, digits of any script as ASCII, every
    separator, zero-width and format character gone, traditional surnames
    read as simplified."""
    out = []
    for c in unicodedata.normalize("NFKC", text):
        cat = unicodedata.category(c)
        if cat == "Nd":
            out.append(str(unicodedata.decimal(c)))
        elif cat.startswith(("Z", "C")) or c in "-.·•・()（）":
            continue
        else:
            out.append(c)
    view = "".join(out)
    for simp, trad in sorted(TRADITIONAL_SURNAMES.items(), key=lambda p: -len(p[1])):
        view = view.replace(trad, simp)
    return view


NUMBER_KINDS = ("mobile", "landline", "id_number", "bank_card")
# This many consecutive digits of a number, readable anywhere, are a leak
# (an ID number's birth date and serial: 8, to tell them from dates).
WINDOW = {"mobile": 5, "landline": 5, "bank_card": 6, "id_number": 8}


def leaks(text: str, secret: Planted, *, ordinary: tuple[str, ...] = ()) -> bool:
    """Whether ``secret`` is readable in ``text``: a name, e-mail or address
    part as a whole; a number as any WINDOW consecutive digits of it (the
    tail of a half-masked phone is a leak), with the record's ordinary
    strings (dates, amounts, codes) taken out first."""
    for keep in ordinary:
        text = text.replace(keep, " ")
    view = _reader_view(text)
    value = _reader_view(secret.value)
    if secret.kind in NUMBER_KINDS:
        digits = re.sub(r"\D", "", value)
        runs = re.findall(r"\d+", view)  # separators are already gone from the view
        size = WINDOW[secret.kind]
        return any(digits[i:i + size] in run for run in runs for i in range(len(digits) - size + 1))
    if secret.kind in ("witness", "party"):
        # the surname with the first character of the given name is already a leak (孔萍 of 孔萍秀)
        surname = next((c for c in COMPOUND if value.startswith(c)), value[:1])
        return value[:len(surname) + 1] in view
    return value in view
