"""Redaction of decisions before publication (seed measure 公示-14).

Penalty law art. 48 makes decisions public; art. 50 and the publicity rules
say what must never be: a natural person's ID number, home address, phone
and other contact, bank account, and the names of natural persons other than
the party; a legal person's bank accounts (domain.md section 3).

There is no Chinese named-entity model here (Presidio has no Chinese
recognisers), so the engine combines:

* checksum rules: GB 11643 citizen ID numbers (check digit and birth date),
  Luhn for bank cards, the numbering plan for mobile and fixed phones;
* context rules: a number right after 身份证号 / 账号 / 电话 is hidden even
  when it fails its checksum (a typo must not publish an ID number, and
  corporate bank accounts carry no Luhn digit);
* structure rules for addresses: everything below the county level up to
  the house number is replaced by ``***``;
* the record's own personal values (party, witnesses, other persons) masked
  wherever they occur, plus names after role words such as 当事人, 证人.

Protected, never touched: the ``keep`` strings, valid GB 32100 credit
codes, the bracketed part of document numbers (〔2026〕12号) and 《titles》.

Plain Python: no models, no database. See docs/redaction.md.
"""

from __future__ import annotations

import copy
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Callable, Iterable, Mapping

from sanxiang.core.validators import check_credit_code, check_id_number
from sanxiang.core.vocabulary import is_natural_person
from sanxiang.core import clock

__all__ = [
    "COMPOUND_SURNAMES",
    "DEFAULT_NAME_RULE",
    "MARKERS",
    "RULES",
    "Finding",
    "RedactionResult",
    "configured_name_rule",
    "detect",
    "mask_name",
    "redact_record",
    "redact_text",
    "public_copy",
    "PublicCopy",
    "field_text",
    "marked_segments",
    "PublicText",
    "PublicData",
    "PUBLIC_TEXT_FIELDS",
    "check_public_row",
    "should_never_publish",
]

# --------------------------------------------------------------------------
# Markers

MARKERS: dict[str, str] = {
    "id_number": "[身份证号已隐去]",
    "phone": "[电话已隐去]",
    "bank_card": "[银行账号已隐去]",
    "email": "[电子邮箱已隐去]",
    "contact": "[联系方式已隐去]",
    "address": "***",
}

# When two findings overlap, the kind listed first wins (then the longer one).
PRIORITY = ("email", "id_number", "phone", "bank_card", "contact", "address", "name")

# --------------------------------------------------------------------------
# Names

COMPOUND_SURNAMES: dict[str, str] = {
    # compound surname -> initials used by the "initial" rule
    "欧阳": "OY", "司马": "SM", "诸葛": "ZG", "上官": "SG", "东方": "DF", "皇甫": "HF",
    "尉迟": "YC", "公孙": "GS", "慕容": "MR", "令狐": "LH", "长孙": "ZS", "宇文": "YW",
    "司徒": "ST", "夏侯": "XH", "轩辕": "XY", "端木": "DM", "独孤": "DG", "南宫": "NG",
    "西门": "XM", "百里": "BL", "呼延": "HY", "澹台": "TT", "公冶": "GY", "宗政": "ZZ",
    "濮阳": "PY", "淳于": "CY", "单于": "CY", "太叔": "TS", "申屠": "ST", "公羊": "GY",
    "赫连": "HL", "钟离": "ZL", "闻人": "WR", "万俟": "MQ", "拓跋": "TB", "仲孙": "ZS",
    "东郭": "DG", "左丘": "ZQ", "司空": "SK", "梁丘": "LQ", "羊舌": "YS", "巫马": "WM",
    "漆雕": "QD", "乐正": "YZ", "鲜于": "XY", "闾丘": "LQ", "第五": "DW", "谷梁": "GL",
    "司寇": "SK", "段干": "DG", "东门": "DM", "公良": "GL", "微生": "WS", "亓官": "QG",
    # the rest of the compound surnames of the 百家姓, and those of non-Han origin in common use
    "子车": "ZJ", "颛孙": "ZS", "公西": "GX", "壤驷": "RS", "夹谷": "JG", "宰父": "ZF", "汝鄢": "RY", "涂钦": "TQ",
    "南门": "NM", "归海": "GH", "商牟": "SM", "伯赏": "BS", "阳佟": "YT", "公户": "GH", "公玉": "GY", "公仪": "GY",
    "公乘": "GC", "公伯": "GB", "公祖": "GZ", "公山": "GS", "公门": "GM", "完颜": "WY", "纳兰": "NL", "耶律": "YL",
    "贺兰": "HL", "达奚": "DX", "斛律": "HL", "叱干": "CG", "乞伏": "QF", "秃发": "TF", "尉缭": "YL", "呼衍": "HY",
    "爱新觉罗": "AXJL", "叶赫那拉": "YHNL", "钮祜禄": "NHL", "乌拉那拉": "WLNL",
}

# Pinyin initial of common single-character surnames (for the "initial"
# rule and for recognising a name after a role word such as 当事人).
_SURNAME_INITIALS = {
    "A": "安艾敖阿",
    "B": "白包毕鲍卜柏边卞班巴薄宾闭",
    "C": "陈曹蔡程崔常成柴车褚岑丛储楚晁初池迟谌",
    "D": "邓丁杜董戴段窦党刁狄邸豆都但",
    "F": "冯范方付傅费封房符樊丰伏奉富",
    "G": "郭高顾龚关葛耿甘谷管宫桂巩官古郜盖戈辜干勾苟国公",
    "H": "黄胡何韩侯贺郝洪霍华惠花海扈赫杭哈衡和呼",
    "J": "蒋金姜贾江焦纪季靳吉简景姬鞠荆冀晋敬井嵇居揭计",
    "K": "孔康柯寇匡邝况阚亢",
    "L": "李刘林罗梁吕卢陆廖雷黎龙赖路蓝凌柳兰骆连芦娄冷栾郎厉蔺楼练廉逯隆利劳栗鹿乐鲁来",
    "M": "马孟毛莫梅苗麦米闵穆蒙牟满门茅缪麻慕母明",
    "N": "牛倪聂宁农南那",
    "O": "欧区",
    "P": "潘彭庞裴蒲皮盘朴平浦普",
    "Q": "钱秦邱齐乔覃曲屈祁戚瞿全权强卿漆阙裘亓仇",
    "R": "任阮冉饶荣容芮茹戎",
    "S": "孙宋苏沈石史邵施舒盛司沙桑尚时申宿索粟隋商帅斯束单师佘",
    "T": "唐田陶汤谭涂童滕谈佟屠仝檀邰",
    "W": "王吴魏汪万武韦温文翁卫巫伍邬闻位危乌尉",
    "X": "徐许谢夏萧肖熊薛邢辛席项冼奚宣胥相修鲜信幸向解",
    "Y": "杨叶于余袁姚严尹殷易颜俞岳应游阳尤喻虞郁燕鄢雍羊印伊禹原苑衣阴银玉尧由晏阎闫云元冶",
    "Z": "张赵周朱郑曾钟邹庄詹章左祝翟卓宗臧甄仲湛展昝智植祖支诸战查",
}
SURNAME_INITIAL: dict[str, str] = {c: k for k, chars in _SURNAME_INITIALS.items() for c in chars}
COMMON_SURNAMES = frozenset(SURNAME_INITIAL)

DEFAULT_NAME_RULE = "surname_mouxx"
_NAME_SEPARATORS = "·•・. "


def _split_name(name: str) -> tuple[str, str]:
    """(surname, rest): a known compound surname counts as the surname when
    the name is longer than it (欧阳娜 → 欧阳 + 娜; 欧阳 alone → 欧 + 阳)."""
    for size in (4, 3, 2):
        if len(name) > size and name[:size] in COMPOUND_SURNAMES:
            return name[:size], name[size:]
    return name[:1], name[1:]


def _hidden_count(rest: str) -> int:
    return max(1, sum(1 for c in rest if c not in _NAME_SEPARATORS))


def _rule_surname_mouxx(surname: str, rest: str) -> str:
    return surname + "某" * _hidden_count(rest)


def _rule_surname_mou(surname: str, rest: str) -> str:
    return surname + "某"


def _rule_surname_x(surname: str, rest: str) -> str:
    return surname + "*" * _hidden_count(rest)


def _rule_surname_cross(surname: str, rest: str) -> str:
    return surname + "×" * _hidden_count(rest)


def _rule_initial(surname: str, rest: str) -> str:
    initial = COMPOUND_SURNAMES.get(surname) or SURNAME_INITIAL.get(surname)
    return f"{initial}某" if initial else "某某"


def _rule_hidden(surname: str, rest: str) -> str:
    return "某某"


# Rule name -> function(surname, rest of the name) -> masked name. The agency
# setting (PublicitySettings.name_rule) or settings.SANXIANG_REDACTION_NAME_RULE
# picks one by name.
RULES: dict[str, Callable[[str, str], str]] = {
    "surname_mouxx": _rule_surname_mouxx,  # 张某某, 欧阳某某
    "surname_mou": _rule_surname_mou,  # 张某 (hides the length of the name)
    "surname_x": _rule_surname_x,  # 张**
    "surname_cross": _rule_surname_cross,  # 张××
    "initial": _rule_initial,  # Z某, OY某 (unknown surname: 某某)
    "hidden": _rule_hidden,  # 某某
}


def configured_name_rule() -> str:
    """The rule named by settings.SANXIANG_REDACTION_NAME_RULE when Django
    settings are configured and name a known rule, else DEFAULT_NAME_RULE."""
    try:
        from django.conf import settings

        if settings.configured:
            rule = settings.SANXIANG_REDACTION_NAME_RULE
            if rule in RULES:
                return rule
    except Exception:  # noqa: BLE001 - no Django or broken settings: use the default
        pass
    return DEFAULT_NAME_RULE


def mask_name(name: str, *, rule: str = DEFAULT_NAME_RULE) -> str:
    """A natural person's name masked by ``rule`` (a key of RULES).

    >>> mask_name("张三丰"), mask_name("欧阳娜娜"), mask_name("王五", rule="surname_x")
    ('张某某', '欧阳某某', '王*')
    """
    if rule not in RULES:
        raise ValueError(f"未知的姓名隐去规则：{rule}（可选：{'、'.join(RULES)}）。")
    name = _clean_name(name)
    if not name:
        return ""
    view = _normalise(name)
    if not _is_cjk(view[0]):
        # Latin-script names: keep the first letter only.
        return name[0] + "***"
    if len(view) != len(name):
        name = view  # a compatibility form that expands: mask the normalised name
    surname, rest = _split_name(view)
    initial = name[:len(surname)]
    masked = RULES[rule](surname, rest)
    return initial + masked[len(surname):] if masked.startswith(surname) else masked


def _clean_name(name: str) -> str:
    """A name as published: characters that read as nothing (zero-width,
    bidi, NUL ...) and spaces inside a CJK name removed."""
    kept = "".join(c for c in (name or "") if _fold_char(c) != "" or c in "\t\n").strip()
    if kept and _is_cjk(_normalise(kept[0])[:1] or " "):
        kept = re.sub(r"\s+", "", kept)
    return kept


# --------------------------------------------------------------------------
# Results

@dataclass(frozen=True)
class Finding:
    """What was hidden: kind and [start, end) in the text given to
    redact_text. The original value is deliberately not kept, so findings
    can be logged."""

    kind: str
    start: int
    end: int
    replacement: str = field(default="", compare=False)


@dataclass(frozen=True)
class RedactionResult:
    text: str
    findings: list[Finding]


# --------------------------------------------------------------------------
# Normalisation with a character map.
#
# Every rule runs on a normalised VIEW of the text, never on the text itself:
# format characters (zero-width spaces and joiners, bidi controls, BOM, soft
# hyphen), control characters other than tab and newline, NUL, combining
# marks and variation selectors are dropped; every kind of space (no-break,
# thin, ideographic ...) becomes " ", every dash "-", every middle dot "·";
# decimal digits of any script (full-width, Arabic-Indic, Devanagari ...)
# become ASCII digits; full-width ASCII becomes ASCII; other compatibility
# characters are read as their NFKC form (⼈ → 人, ① → 1, ﹫ → @); and the
# traditional forms of the words and surnames the rules look for are read
# as simplified (證人 → 证人, 歐陽 → 欧阳). ``_fold`` returns the view and,
# for each of its characters, the index of the original character it came
# from, so findings are mapped back and a masked span covers the original
# characters (dropped ones inside it included) while the public text keeps
# every other character of the original exactly.

# Traditional -> simplified, character for character, for what the rules
# read: role and cue words, contact and address words, common surnames.
_TRADITIONAL = (
    "證证場场見见舉举報报訴诉駕驾駛驶員员職职負负責责當当業业經经營营東东實实際际權权護护監监聯联繫系係系"
    "電电話话號号碼码帳账賬账戶户銀银傳传機机郵邮現现暫暂縣县區区鄉乡鎮镇莊庄組组棟栋單单樓楼層层門门廣广"
    "園园廈厦灣湾營营裡里衚胡衕同處处與与於于為为稱称認认簽签對对將将託托擊击檢检詢询問问費费購购買买說说"
    "確确並并開开館馆號号郵邮箱箱絡络擔担陳陈張张劉刘楊杨黃黄趙赵錢钱孫孙鄭郑馮冯許许謝谢蕭萧葉叶羅罗吳吴"
    "馬马盧卢蔣蒋韓韩鄧邓蘇苏賈贾譚谭鄒邹陸陆龍龙萬万閻阎賀贺龔龚湯汤鍾钟鐘钟範范顧顾歐欧陽阳諸诸長长聞闻"
    "軒轩轅辕獨独遲迟離离連连閭闾鮮鲜樂乐穀谷衛卫賴赖鄺邝嚴严溫温闕阙鄔邬龐庞駱骆婁娄欒栾藺蔺嶽岳雲云閆闫"
    "紀纪鳳凤齊齐喬乔聶聂寧宁農农項项談谈塗涂顏颜應应遊游蘭兰練练盤盘麥麦繆缪甯宁竇窦黨党關关鞏巩華华還还"
    "簡简荊荆闞阚況况勞劳厲厉淩凌魯鲁呂吕滿满閔闵饒饶榮荣師师時时帥帅韋韦烏乌惲恽隨随貝贝畢毕邊边鮑鲍賁贲"
    "倉仓車车儲储叢丛達达豐丰緱缑歸归國国過过懷怀計计薑姜晉晋禮礼酈郦祿禄藍蓝壽寿後后餘余蔔卜鄴邺"
    "貨货紹绍鄰邻親亲屬属齡龄銷销從从會会產产務务進进賣卖違违規规據据罰罚決决書书記记錄录執执備备註注鋪铺"
    "歲岁來来們们這这個个別别摺折統统條条編编冊册訂订運运發发區区頭头網网無无證证辦办應应該该義义術术"
)
_TRAD = {ord(a): ord(b) for a, b in zip(_TRADITIONAL[0::2], _TRADITIONAL[1::2])}
_ONE_TO_ONE: dict[int, int] = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_ONE_TO_ONE.update({0x3000: 0x20, 0x00A0: 0x20, 0x202F: 0x20, 0x2007: 0x20})
_ONE_TO_ONE.update({ord(c): ord("·") for c in "•・‧∙⋅･"})
_ONE_TO_ONE.update({ord(c): ord("-") for c in "‐‑‒–—―−﹣"})
_ONE_TO_ONE.update(_TRAD)
# Text made only of these characters needs no character-by-character pass.
_PLAIN_RE = re.compile(r"[\t\n\r\x20-\x7e\u3000-\u303f\u4e00-\u9fff\uff01-\uff5e\u00b7\u2014\u2018\u2019\u201c\u201d\u2026]*")


def _fold_char(c: str) -> str:
    """What one character reads as in the normalised view ("" = dropped)."""
    cp = ord(c)
    if cp in _ONE_TO_ONE:
        return chr(_ONE_TO_ONE[cp])
    if c in "\t\n":
        return c
    if c == "\r":
        return "\n"
    category = unicodedata.category(c)
    if category in ("Cc", "Cf", "Mn", "Me", "Cs"):
        return ""  # NUL, controls, zero-width and bidi characters, combining marks, lone surrogates
    if category == "Zs":
        return " "
    if category in ("Zl", "Zp"):
        return "\n"
    if category == "Nd":
        return str(unicodedata.decimal(c))
    if category == "Pd":
        return "-"
    compat = unicodedata.normalize("NFKC", c)
    if compat != c:
        return "".join(_fold_char(x) if x != c else x for x in compat)
    return c


def _fold(text: str) -> tuple[str, list[int] | None]:
    """(normalised view, index map): map[i] is the index in ``text`` of the
    character the view's i-th character came from; None when the view is
    the text translated character for character (map[i] == i)."""
    if _PLAIN_RE.fullmatch(text):
        return text.translate(_ONE_TO_ONE), None
    chars: list[str] = []
    index: list[int] = []
    for i, c in enumerate(text):
        folded = _fold_char(c)
        chars.append(folded)
        index.extend([i] * len(folded))
    return "".join(chars), index


def _normalise(text: str) -> str:
    """The normalised view alone (for names, kept values and secrets)."""
    return _fold(text)[0]


def _to_original(index: list[int] | None, start: int, end: int) -> tuple[int, int]:
    """[start, end) in the view -> the span of original characters it covers."""
    if index is None or end <= start:
        return start, end
    return index[start], index[end - 1] + 1


def _is_cjk(c: str) -> bool:
    return "\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf"


# --------------------------------------------------------------------------
# Numbers: ID numbers, phones, bank cards

# A run of digit groups joined by up to three spaces, hyphens, dots or middle
# dots (138.1111.2206, 138 - 1111 - 2206, 138·1111·2206); an X may end it.
_JOINERS = " -.·"
_RUN_RE = re.compile(r"(?<![0-9])[0-9]+(?:[ \-.·]{1,3}[0-9]+)*[Xx]?(?![0-9])")
_JOINER_RE = re.compile(r"[ \-.·]")
# A country code written before a run: +86, 0086, (+86), +86-.
_CC_BEFORE_RE = re.compile(r"(?:\+ ?|00|\(\+?)86\)?[ \-.·]{0,3}\(?$")
_GROUP_RE = re.compile(r"[0-9]+[Xx]?")
# Letters right before a number make it part of a code (JY1130..., GB 2760)
# unless they are a contact label.
_CONTACT_LABELS = {"tel", "phone", "mobile", "mob", "fax", "cell", "tel.", "no"}

# Keywords that say what the following number is (nearest keyword wins).
_CONTEXT_RE = re.compile(
    r"(?P<id>公民身份号码|身份证件号码|身份证号码?|身份证|身份号码|证件号码?)"
    r"|(?P<account>银行账号|银行帐号|银行卡号?|账号|帐号|账户|帐户|卡号|存折|开户行|开户银行)"
    r"|(?P<phone>联系电话|电话号码|电话|手机号码?|手机|座机|传真|联系方式|tel|Tel|TEL)"
    r"|(?P<credit>统一社会信用代码|信用代码|社会信用)"
    r"|(?P<other>条形码|条码|批号|批次|编号|单号|许可证号?|证书号|注册号|订单号?|运单|发票|合同号|序列号|型号|货号|执法证号?|文号|登记号)"
)
_CONTEXT_CUT_RE = re.compile(r"[。;！!？?\n]")
_CONTEXT_WINDOW = 24

_MOBILE_RE = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")
_LANDLINE_RE = re.compile(r"0(?:10|2[0-9]|[3-9][0-9]{2})[0-9]{7,8}")
_PAREN_LANDLINE_RE = re.compile(
    r"(?:(?:\+ ?|00|\(\+?)86\)?[ \-.·]{0,3})?\((?:0[0-9]{2,3}|(?<=86\()[1-9][0-9]{1,2}|(?<=86 \()[1-9][0-9]{1,2}|(?<=86-\()[1-9][0-9]{1,2})\)"
    r"[ \-.·]{0,3}[0-9]{3,4}[ \-.·]{0,3}[0-9]{4}(?![0-9])"
)
_EXTENSION_RE = re.compile(r"(?:-|转|分机|ext\.? ?)[0-9]{1,6}(?![0-9])")
# E-mail: ASCII or internationalised (张三@例子.中国, …@xn--fiqs8s, a
# punycode TLD), "@" also written (at) / [at]. The local part may hold any
# letters; a run of CJK before it is cut at the last cue word and to at most
# _EMAIL_CJK_LOCAL characters (Chinese text has no space before an address).
_CJK_TLDS = ("中国", "中國", "公司", "网络", "網絡", "在线", "集团", "政务", "公益", "网址", "网店", "商城", "商标",
             "企业", "信息", "手机", "香港", "台湾", "台灣", "澳门", "新加坡", "游戏", "购物", "我爱你", "广东", "佛山")
_EMAIL_RE = re.compile(
    r"(?P<local>[\w.%+\-!#$&'*/=?^`{|}~]+)(?:@|\s?[\[(](?:at|AT)[\])]\s?)"
    r"(?P<domain>(?:[\w\-]+[.。])+(?:xn--[A-Za-z0-9\-]+|[A-Za-z]{2,}|" + "|".join(_CJK_TLDS) + r"))"
)
_EMAIL_LOCAL_CUE_RE = re.compile(r"(?:邮箱|信箱|邮件|电邮|邮址|mail|Mail|MAIL|地址|账号|为|是|:)")
_EMAIL_CJK_LOCAL = 6
_IM_RE = re.compile(
    r"(?:QQ|qq|微信|WeChat|wechat|微博)(?:号码|号)?[ :]?(?:为|是)?[ :]?"
    r"(?P<v>[A-Za-z][A-Za-z0-9_\-]{5,19}|[1-9][0-9]{4,11})(?![A-Za-z0-9_\-])"
)


def _context_kind(norm: str, start: int) -> str | None:
    window = norm[max(0, start - _CONTEXT_WINDOW):start]
    cut = None
    for cut in _CONTEXT_CUT_RE.finditer(window):
        pass
    if cut is not None:
        window = window[cut.end():]
    last = None
    for last in _CONTEXT_RE.finditer(window):
        pass
    return last.lastgroup if last is not None else None


def _id_birth_date(value: str) -> date | None:
    """Birth date of a valid 18-digit (GB 11643 check digit) or 15-digit
    (pre-1999, no check digit) ID number, else None."""
    value = value.upper()
    try:
        if len(value) == 18:
            if check_id_number(value) is not None:
                return None
            born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
        elif len(value) == 15 and value.isascii() and value.isdigit():
            born = date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
        else:
            return None
    except ValueError:
        return None
    if value[0] == "0" or born.year < 1900 or born > clock.today():
        return None
    return born


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _classify(digits: str, context: str | None) -> str | None:
    has_x = digits[-1] in "Xx"
    if has_x and len(digits) != 18:
        return None
    if len(digits) in (15, 18) and _id_birth_date(digits) and context != "credit":
        return "id_number"
    if context == "id" and (len(digits) == 18 or (len(digits) == 15 and not has_x)):
        return "id_number"
    if has_x:
        return None
    if _MOBILE_RE.fullmatch(digits) or _LANDLINE_RE.fullmatch(digits):
        return "phone"
    if context == "phone" and 7 <= len(digits) <= 12:
        return "phone"
    if (12 <= len(digits) <= 19 and context not in ("other", "credit") and digits[0] != "0"
            and len(set(digits)) > 2 and _luhn_ok(digits)):
        return "bank_card"
    if context == "account" and 8 <= len(digits) <= 30:
        return "bank_card"
    return None


def _detect_numbers(norm: str) -> list[Finding]:
    found: list[Finding] = []
    for m in _PAREN_LANDLINE_RE.finditer(norm):
        found.append(Finding("phone", m.start(), _extend_extension(norm, m.end())))
    for run in _RUN_RE.finditer(norm):
        s, e = run.span()
        letters = re.search(r"[A-Za-z.]+$", norm[max(0, s - 8):s])
        if letters and letters.group().lower() not in _CONTACT_LABELS:
            continue
        if e < len(norm) and norm[e].isascii() and norm[e].isalpha():
            continue
        groups = [(s + g.start(), s + g.end()) for g in _GROUP_RE.finditer(run.group())]
        i = 0
        while i < len(groups):
            context = _context_kind(norm, groups[i][0])
            if i > 0 and context in ("other", "credit"):
                break  # the tail of a labelled code (编号 2026.0930.1234.5678) is not a number of its own
            hit = None
            for j in range(len(groups) - 1, i - 1, -1):
                gs, ge = groups[i][0], groups[j][1]
                digits = _JOINER_RE.sub("", norm[gs:ge])
                kind = _classify(digits, context)
                if kind is None and _country_code_phone(digits, norm, gs, groups[i]):
                    kind = "phone"
                if kind:
                    hit = (kind, gs, ge, j)
                    break
            if hit is None:
                i += 1
                continue
            kind, gs, ge, j = hit
            if kind == "phone":
                cc = _CC_BEFORE_RE.search(norm, max(0, gs - 9), gs)
                if cc is not None:
                    gs = cc.start()  # the country code goes with the number
            if gs > 0 and norm[gs - 1] == "+":
                gs -= 1
            if kind == "phone" and not _MOBILE_RE.fullmatch(_JOINER_RE.sub("", norm[gs:ge]).lstrip("+()")):
                ge = _extend_extension(norm, ge)
            found.append(Finding(kind, gs, ge))
            i = j + 1
    return found


def _country_code_phone(digits: str, norm: str, start: int, first_group: tuple[int, int]) -> bool:
    """A landline or mobile written with the country code (+86 311 8666 1234,
    0086-311-86661234, (+86) 311 …): the code as the run's own first group,
    or written before the run."""
    rest = None
    head = norm[first_group[0]:first_group[1]]
    if head in ("86", "0086") and len(digits) > len(head) + 6:
        rest = digits[len(head):]
    elif _CC_BEFORE_RE.search(norm, max(0, start - 9), start):
        rest = digits
    if rest is None:
        return False
    return bool(_MOBILE_RE.fullmatch(rest) or _LANDLINE_RE.fullmatch(rest if rest[:1] == "0" else "0" + rest))


def _extend_extension(norm: str, end: int) -> int:
    m = _EXTENSION_RE.match(norm, end)
    return m.end() if m else end


def _detect_contacts(norm: str) -> list[Finding]:
    found = []
    for m in _EMAIL_RE.finditer(norm):
        start, local = m.start("local"), m.group("local")
        if not local.isascii():
            cue = None
            for cue in _EMAIL_LOCAL_CUE_RE.finditer(local):
                pass
            if cue is not None and cue.end() < len(local):
                start += cue.end()
            tail = re.search(r"[A-Za-z0-9._%+\-]+$", norm[start:m.end("local")])
            if tail and tail.start() > 0 and not norm[start + tail.start() - 1].isascii():
                start += tail.start()  # CJK text glued before an ASCII address
            start = max(start, m.end("local") - _EMAIL_CJK_LOCAL) if not norm[start:m.end("local")].isascii() else start
        found.append(Finding("email", start, m.end()))
    found += [Finding("contact", m.start("v"), m.end("v")) for m in _IM_RE.finditer(norm)]
    return found


# --------------------------------------------------------------------------
# Addresses

# House-number part: 100号, 3号楼2单元501室, O座, 5组, 12-3号 ...
_NUM = r"(?:[0-9]+[A-Za-z]?|[A-Za-z]|[一二三四五六七八九十百千零〇两]+)"
_HOUSE_UNIT = r"(?:号院|号楼|号|座|栋|幢|单元|室|户|组|排)"
_HOUSE_RE = re.compile(
    rf"(?<![第0-9A-Za-z]){_NUM}(?:[\-之]{_NUM})?{_HOUSE_UNIT}"
    rf"(?:[\-之附]?{_NUM}(?:[\-之]{_NUM})?(?:{_HOUSE_UNIT}|层|楼|房|铺|商铺|门市|底商))*"
    r"(?:(?:[ \t]+|[ \t]*(?P<paren>\()?(?:邮编|邮政编码)[: ]?)[0-9]{6}(?![0-9])(?(paren)\)))?"
)
# A village or estate ending a residence without a house number.
_VILLAGE_RE = re.compile(r"(?:村|组|屯|小区|社区|家属院|家属楼)(?=[,.;、。 \t)\n]|$)")
# What a street or place name ends with, right before the house number.
_ROAD_END_RE = re.compile(
    r"(?:路|街|道|巷|胡同|弄|里|村|组|屯|庄|小区|社区|大厦|广场|花园|公寓|家园|苑|园|城|中心|院|楼|宅|湾|居|坊|段|府|厦|寨|堡|营)$"
)
# Characters that end an address when walking left from its house number.
_ADDRESS_STOP = set(",.;:、。!?()[]{}<>《》“”‘’\"'【】〔〕「」|\n\r\t ")
_ADDRESS_WINDOW = 60
# Administrative levels down to the county; what follows is masked.
_ADMIN_NOT_AFTER = r"(?![路街道巷弄场府前后民政监委级属容里口])"
_PROVINCE = r"[\u4e00-\u9fff]{1,7}?(?:省|自治区|特别行政区)"
_CITY = r"[\u4e00-\u9fff]{1,7}?(?:自治州|地区|盟|(?<![超门城])市)" + _ADMIN_NOT_AFTER
_COUNTY = r"[\u4e00-\u9fff]{1,7}?(?:自治县|(?<![小社校厂景营矿园片街商宅])区|县|旗|(?<![超门城])市)" + _ADMIN_NOT_AFTER
_ADMIN_RE = re.compile(rf"(?:{_PROVINCE}(?:{_CITY})?(?:{_COUNTY})?|{_CITY}(?:{_COUNTY})?|{_COUNTY})")
# Words after which an address begins.
_RESIDENCE_CUE_RE = re.compile(
    r"家庭住址|家庭地址|家住|住址|现住|暂住|居住(?:地|在|于)?|户籍(?:所在)?地?|(?<![居])住(?![所宿院房])"
)
_ADDRESS_CUE_RE = re.compile(
    _RESIDENCE_CUE_RE.pattern + r"|住所地?|地址|位于|坐落于|在|于|至|到|为|是"
)


def _detect_addresses(norm: str, *, mode: str) -> list[Finding]:
    found: list[Finding] = []
    anchors = [(m.start(), m.end(), False) for m in _HOUSE_RE.finditer(norm)]
    anchors += [(m.end(), m.end(), True) for m in _VILLAGE_RE.finditer(norm)]
    for hs, he, village in anchors:
        ss = _address_start(norm, hs)
        segment = norm[ss:hs]
        if not _ROAD_END_RE.search(_without_asides(segment)):
            continue
        residence = _RESIDENCE_CUE_RE.search(norm[max(0, ss - 6):hs]) is not None
        if (village or mode == "residence") and not residence:
            continue
        admin = None
        for admin in _ADMIN_RE.finditer(segment):
            pass
        if admin is not None and admin.end() < len(segment):
            mask_from = ss + admin.end()
        else:
            cue = None
            for cue in _ADDRESS_CUE_RE.finditer(segment):
                pass
            mask_from = ss + cue.end() if cue is not None else ss
            mask_from = max(mask_from, hs - 12)
        if mask_from >= he or not _ROAD_END_RE.search(_without_asides(norm[mask_from:hs]) or "-"):
            continue
        found.append(Finding("address", mask_from, he))
    return found


_ASIDE_RE = re.compile(r"\([^()\n。;]{1,20}\)")


def _without_asides(segment: str) -> str:
    """The segment without short parenthesised asides (…大街（近…路）)."""
    return _ASIDE_RE.sub("", segment).rstrip()


def _address_start(norm: str, hs: int) -> int:
    """Where the address ending at house number ``hs`` begins: walk left
    until a stop character, stepping over a short aside in parentheses
    (建设北大街（近中山路）123号) and a single space between two parts of
    the address (建设北大街 123号)."""
    ss = hs
    while ss > 0 and hs - ss < _ADDRESS_WINDOW:
        c = norm[ss - 1]
        if c == ")":
            opening = norm.rfind("(", max(0, ss - 22), ss - 1)
            if (opening > 0 and _ASIDE_RE.fullmatch(norm, opening, ss) and norm[opening - 1] not in _ADDRESS_STOP
                    and _ROAD_END_RE.search(norm[max(0, opening - 6):opening])):  # the aside interrupts a street name
                ss = opening
                continue
            break
        if c == " " and ss > 1 and _is_cjk(norm[ss - 2]) and ss < len(norm) and norm[ss] != " ":
            ss -= 1
            continue
        if c in _ADDRESS_STOP:
            break
        ss -= 1
    return ss


# --------------------------------------------------------------------------
# Names after role words

_ROLES = (
    "法定代表人|法人代表|负责人|实际经营人|实际控制人|经营者|业主|店主|户主|当事人|"
    "委托代理人|代理人|见证人|证人|被检查人|被询问人|投诉人|举报人|监护人|联系人|"
    "驾驶员|驾驶人|员工|职工|消费者|购买人|受害人|股东|"
    "在场人员|在场人|知情人|目击者|目击人|报案人|被害人|陪同人员|陪同人|同行人|收货人|送货人|介绍人|担保人|"
    "出租人|承租人|房东|租户|邻居|亲属|家属|配偶|之妻|之夫|之子|之女"
)
# Surnames that are also everyday words right after a role word (当事人公司…,
# 当事人来…) are left out of the role pattern; known names still cover them.
_ROLE_SURNAMES = COMMON_SURNAMES - set("公来国计普")
_SURNAME_ALT = "|".join(sorted(COMPOUND_SURNAMES, key=len, reverse=True)) + "|[" + "".join(sorted(_ROLE_SURNAMES)) + "]"
_NAME_END = (
    r"(?=[,.;:、。!?()\[\] \t\n“”‘’\"'《》「」]|$|证实|证明|陈述|说|称|表示|承认|确认|签字|签名|作证|提供|到场|在场|"
    r"系|是|于|在|因|对|向|将|与|和|及|等|均|已|曾|也|并|现|住|男|女|的|经|未|出生|家住|身份|先生|女士|"
    r"电话|手机|联系|邮箱|微信|证言|出具|供述|现年|年龄|今年)"
)
_ROLE_NAME_RE = re.compile(
    rf"(?:{_ROLES})(?:\([^()]{{0,12}}\))?[: ]?(?:为|是)?(?P<name>(?:{_SURNAME_ALT})[\u4e00-\u9fff]{{1,2}}?){_NAME_END}"
)
# Characters that do not occur in the given name after a role word in these
# texts (function words, verbs of the facts): avoids 当事人于当日 → 于某某.
_NOT_GIVEN = set("某等其该此本当于在的了是未已对将被因向与和及从以为系即又仍均也并应会要需知称经营销售购进使存放无不没拒逃擅违涉嫌所各每均")


def _detect_role_names(norm: str, rule: str) -> list[Finding]:
    found = []
    for m in _ROLE_NAME_RE.finditer(norm):
        name = m.group("name")
        surname, rest = _split_name(name)
        if any(c in _NOT_GIVEN for c in rest):
            continue
        found.append(Finding("name", m.start("name"), m.end("name"), mask_name(name, rule=rule)))
    return found


class _Known:
    """A record's own values (known names, secrets, kept strings) prepared
    once for every text of the record: normalised, masked, their patterns
    compiled only when a text holds them. redact_record runs detect on
    every field of a record; building these per field compiled a regular
    expression per value per field (Python's pattern cache holds 512, a
    batch of 500 records has more), the push API's main redaction cost."""

    __slots__ = ("names", "secrets", "keep", "_patterns")

    def __init__(self, *, known_names: Iterable[str] = (), keep: Iterable[str] = (), name_rule: str = DEFAULT_NAME_RULE,
                 known_secrets: Mapping[str, Iterable[str]] | None = None):
        # (normalised name, masked, ASCII?, the name without spaces, pattern), longest first
        self.names: list[tuple[str, str, bool, str, str]] = []
        seen: set[str] = set()
        for name in sorted({_normalise(_clean_name(n)) for n in known_names if n and n.strip()}, key=len, reverse=True):
            if len(name) < 2 or name in seen:
                continue
            seen.add(name)
            ascii_name = name.isascii()
            compact = name if ascii_name else "".join(c for c in name if c != " ")
            # a CJK name is found with spaces between its characters too (张 三)
            pattern = re.escape(name) if ascii_name else " ?".join(re.escape(c) for c in compact)
            self.names.append((name, mask_name(name, rule=name_rule), ascii_name, compact, pattern))
        # (kind, what to look for, pattern or None for a plain string)
        self.secrets: list[tuple[str, str, str | None]] = []
        for kind, values in (known_secrets or {}).items():
            for value in values:
                value = _normalise(str(value or "")).strip()
                if len(value) < 5:
                    continue
                if re.fullmatch(r"[0-9Xx \-]+", value):
                    compact = re.sub(r"[ \-]", "", value)
                    pattern = r"[ \-.·]{0,3}".join(re.escape(c) for c in compact)
                    self.secrets.append((kind, compact.lower(), rf"(?<![0-9]){pattern}(?![0-9])"))
                else:
                    self.secrets.append((kind, value, None))
        self.keep: list[str] = []
        for value in keep:
            value = _normalise(str(value or "")).strip()
            if len(value) >= 2:
                self.keep.append(value)
        self._patterns: dict[str, re.Pattern] = {}

    def pattern(self, source: str, flags: int = 0) -> re.Pattern:
        compiled = self._patterns.get(source)
        if compiled is None:
            compiled = self._patterns[source] = re.compile(source, flags)
        return compiled


def _find_all(text: str, value: str):
    """Start of each occurrence of ``value`` in ``text``, left to right,
    not overlapping (what re.finditer(re.escape(value)) finds)."""
    i = text.find(value)
    while i >= 0:
        yield i
        i = text.find(value, i + len(value))


# Separators a number may be written with (_detect_known_secrets' pattern).
_NUMBER_SEPARATORS = {ord(c): None for c in " -.·"}


def _detect_known_names(norm: str, names, rule: str = DEFAULT_NAME_RULE) -> list[Finding]:
    """Occurrences of the record's known names (a _Known, or names to
    prepare with ``rule``)."""
    known = names if isinstance(names, _Known) else _Known(known_names=names, name_rule=rule)
    found = []
    no_spaces = None
    for name, masked, ascii_name, compact, pattern in known.names:
        if ascii_name:
            if name not in norm:
                continue
        else:
            if no_spaces is None:
                no_spaces = norm.replace(" ", "")
            if compact not in no_spaces:
                continue  # a match, its spaces taken out, is the name: none here
        for m in known.pattern(pattern).finditer(norm):
            if ascii_name and (
                (m.start() > 0 and norm[m.start() - 1].isalnum()) or (m.end() < len(norm) and norm[m.end()].isalnum())
            ):
                continue
            found.append(Finding("name", m.start(), m.end(), masked))
    return found


def _detect_known_secrets(norm: str, secrets) -> list[Finding]:
    """Exact occurrences (separators ignored for numbers) of values the record
    itself holds as personal fields, e.g. its ID number (a _Known, or a
    mapping kind -> values)."""
    known = secrets if isinstance(secrets, _Known) else _Known(known_secrets=secrets)
    found = []
    plain_digits = None
    for kind, value, pattern in known.secrets:
        if pattern is None:
            found += [Finding(kind, i, i + len(value)) for i in _find_all(norm, value)]
            continue
        if plain_digits is None:
            plain_digits = norm.translate(_NUMBER_SEPARATORS).lower()
        if value not in plain_digits:
            continue  # a match, its separators taken out, is the number: none here
        found += [Finding(kind, m.start(), m.end()) for m in known.pattern(pattern, re.IGNORECASE).finditer(norm)]
    return found


# --------------------------------------------------------------------------
# Protected spans

_CREDIT_RE = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
_DOC_NUMBER_RE = re.compile(
    r"[\[〔【(]\s*(?:19|20)[0-9]{2}\s*[\]〕】)]\s*(?:第\s*)?[0-9A-Za-z\-]+\s*号"
)
_TITLE_RE = re.compile(r"《[^《》\n]{1,80}》")


def _protected_spans(norm: str, keep) -> list[tuple[int, int]]:
    """Spans never touched: the kept strings (a _Known, or strings), valid
    credit codes, the bracketed year of document numbers, 《titles》."""
    known = keep if isinstance(keep, _Known) else _Known(keep=keep)
    spans = []
    for value in known.keep:
        spans += [(i, i + len(value)) for i in _find_all(norm, value)]
    for m in _CREDIT_RE.finditer(norm):
        code = m.group().upper()
        if check_credit_code(code) is None:
            if _id_birth_date(code) and _context_kind(norm, m.start()) != "credit":
                continue  # an all-digit value valid as both: an ID number unless labelled
            spans.append(m.span())
    spans += [m.span() for m in _DOC_NUMBER_RE.finditer(norm)]
    spans += [m.span() for m in _TITLE_RE.finditer(norm)]
    return spans


# --------------------------------------------------------------------------
# The engine

def detect(
    text: str,
    *,
    known_names: Iterable[str] = (),
    keep: Iterable[str] = (),
    name_rule: str = DEFAULT_NAME_RULE,
    address_mode: str = "all",
    known_secrets: Mapping[str, Iterable[str]] | None = None,
) -> list[Finding]:
    """The findings redact_text would replace, in text order, overlaps resolved."""
    _check_options(name_rule, address_mode)
    known = _Known(known_names=known_names, keep=keep, name_rule=name_rule, known_secrets=known_secrets)
    return _detect(text, known=known, name_rule=name_rule, address_mode=address_mode)


def _check_options(name_rule: str, address_mode: str) -> None:
    if name_rule not in RULES:
        raise ValueError(f"未知的姓名隐去规则：{name_rule}（可选：{'、'.join(RULES)}）。")
    if address_mode not in ("all", "residence"):
        raise ValueError("address_mode 只能是 all 或 residence。")


def _detect(text: str, *, known: _Known, name_rule: str, address_mode: str) -> list[Finding]:
    """detect with the record's own values prepared (redact_record prepares
    them once for all its fields)."""
    norm, index = _fold(text)
    candidates = (
        _detect_contacts(norm)
        + _detect_numbers(norm)
        + _detect_known_secrets(norm, known)
        + _detect_addresses(norm, mode=address_mode)
        + _detect_known_names(norm, known)
        + _detect_role_names(norm, name_rule)
    )
    protected = _protected_spans(norm, known)
    candidates = [
        f for f in candidates
        if f.end > f.start and not any(f.start < pe and ps < f.end for ps, pe in protected)
    ]
    candidates.sort(key=lambda f: (PRIORITY.index(f.kind), -(f.end - f.start), f.start))
    accepted: list[Finding] = []
    for f in candidates:
        overlapping = [a for a in accepted if f.start < a.end and a.start < f.end]
        if not overlapping:
            accepted.append(f)
        elif f.start < min(a.start for a in overlapping) or f.end > max(a.end for a in overlapping):
            # A partial overlap (a name running into an e-mail address): the
            # stronger finding grows to cover both, never leaving a part visible.
            keep = overlapping[0]
            merged = Finding(keep.kind, min(f.start, *(a.start for a in overlapping)),
                             max(f.end, *(a.end for a in overlapping)), keep.replacement)
            accepted = [a for a in accepted if a not in overlapping] + [merged]
    findings = []
    for f in sorted(accepted, key=lambda f: f.start):
        start, end = _to_original(index, f.start, f.end)
        if f.kind == "name":
            # masked from the original characters (a traditional surname stays traditional)
            replacement = mask_name(text[start:end], rule=name_rule)
        else:
            replacement = f.replacement or MARKERS[f.kind]
        findings.append(Finding(f.kind, start, end, replacement))
    return findings


def redact_text(text: str, **options) -> RedactionResult:
    """Hide personal data in ``text``; ``options`` are detect's keywords.

    ID numbers, phones, bank accounts, e-mail and other contacts become a
    fixed marker (MARKERS); an address keeps its part down to the county and
    the rest becomes ``***``; names in ``known_names`` (anywhere) and after
    role words (当事人张三) are masked by ``name_rule``. Occurrences of the
    ``keep`` strings are never touched. ``address_mode="residence"`` hides
    only addresses introduced as a residence (住, 住址, 家住, 户籍地 ...), for
    texts about a legal person whose premises are public. ``known_secrets``
    maps a kind to values the record holds (its ID number ...), hidden
    wherever they occur even if no rule recognises them.
    """
    if not text:
        return RedactionResult(text or "", [])
    return _redacted(text, detect(text, **options))


def _redacted(text: str, findings: list[Finding]) -> RedactionResult:
    out = text
    for f in reversed(findings):
        out = out[:f.start] + f.replacement + out[f.end:]
    return RedactionResult(out, findings)


# --------------------------------------------------------------------------
# Records

# Which party types are natural persons: core.vocabulary.is_natural_person
# (the code natural_person, or the 双公示 name 自然人).

# Never published: removed from the public copy (their values are still
# hidden wherever they appear in free text).
REMOVED_FIELDS = {
    "party_id_type": None, "party_id_number": "id_number",
    "id_type": None, "id_number": "id_number",
    "legal_representative_id_type": None, "legal_representative_id_number": "id_number",
    "party_phone": "phone", "phone": "phone", "mobile": "phone", "contact_phone": "phone",
    "party_email": "email", "email": "email",
    "party_bank_account": "bank_card", "bank_account": "bank_card",
    "home_address": "address", "party_home_address": "address",
    "health": None, "health_information": None,
}
# Structured fields published as they are (codes, dates, amounts, categories).
STRUCTURAL_FIELDS = {
    "external_id", "kind", "doc_number", "document_number", "party_type", "party_credit_code",
    "decision_date", "valid_until", "publicity_end", "penalty_categories", "fine_fen", "confiscation_fen",
    "fine_wan", "confiscation_wan", "agency_name", "agency_credit_code", "data_source", "data_source_credit_code",
    "license_number", "licence_number", "status", "is_minor", "confidential",
}
# Values that are public by nature and must survive in free text.
KEEP_FIELDS = ("doc_number", "document_number", "agency_name", "agency_address", "agency_credit_code",
               "data_source", "data_source_credit_code")
PERSON_LIST_FIELDS = ("witnesses", "other_person_names", "other_persons")


_IMMUTABLE = (str, int, float, bool, type(None))


def _as_list(value) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [v for v in re.split(r"[,，、;；\s]+", value) if v]
    return [str(v) for v in value if v]


def redact_record(
    record: Mapping,
    *,
    party_is_natural_person: bool,
    name_rule: str | None = None,
    mask_party_name: bool = True,
    publish_legal_representative: bool = True,
    findings_out: dict | None = None,
) -> dict:
    """The public copy of a decision record.

    ``findings_out``, when given, receives for each top-level field of the
    record what was hidden in it: a list of Findings with spans in the
    field's private text (``field_text``), so the pre-publication check can
    mark exactly what the public copy leaves out.

    ID type and number (and other contact fields) are removed; a natural
    person's name is masked by ``name_rule`` (default: configured_name_rule());
    every other string field goes through redact_text with the record's
    personal values as known names. A legal person keeps its name, credit
    code, registered address and (unless ``publish_legal_representative`` is
    False) its legal representative: those are public in the 双公示 format;
    only residences are hidden in its texts, and its bank accounts.
    """
    rule = name_rule or configured_name_rule()
    if rule not in RULES:
        raise ValueError(f"未知的姓名隐去规则：{rule}（可选：{'、'.join(RULES)}）。")
    # a copy the record shares nothing mutable with (strings and numbers are
    # immutable: deep-copying them one by one was a tenth of the cost)
    public = {k: v if isinstance(v, _IMMUTABLE) else copy.deepcopy(v) for k, v in record.items()}

    secrets: dict[str, list[str]] = {}
    found: dict = findings_out if findings_out is not None else {}

    def whole(key: str, kind: str) -> None:
        text = field_text(record.get(key))
        if text:
            found[key] = [Finding(kind, 0, len(text))]

    for key, kind in REMOVED_FIELDS.items():
        if key in public:
            whole(key, kind or "removed")
            value = public.pop(key)
            if kind and value:
                secrets.setdefault(kind, []).append(str(value))

    party = str(record.get("party_name") or "")
    legal_rep = str(record.get("legal_representative") or "")
    others = [n for key in PERSON_LIST_FIELDS for n in _as_list(record.get(key))]
    keep = [str(record[k]) for k in KEEP_FIELDS if record.get(k)]
    known = list(others)

    code = str(record.get("party_credit_code") or "")
    # An ID number in the code field is hidden. Eighteen characters can be
    # both a valid ID number and a valid credit code (911301020806178278):
    # for an organisation or business that is its public credit code; only
    # a natural person's is taken for the ID number it may be.
    looks_like_id = bool(code) and check_id_number(code.upper()) is None
    if looks_like_id and (party_is_natural_person or check_credit_code(code.upper()) is not None):
        public.pop("party_credit_code", None)  # an ID number in the code field
        whole("party_credit_code", "id_number")
        secrets.setdefault("id_number", []).append(code)
    elif code:
        keep.append(code)

    if party_is_natural_person:
        if mask_party_name:
            known.append(party)
            if party:
                public["party_name"] = mask_name(party, rule=rule)
                whole("party_name", "name")
        else:
            keep.append(party)
        if legal_rep:
            known.append(legal_rep)
            public["legal_representative"] = mask_name(legal_rep, rule=rule)
            whole("legal_representative", "name")
        for key in ("party_address", "address"):
            if public.get(key):
                whole(key, "address")
                secrets.setdefault("address", []).append(str(public.pop(key)))
        address_mode = "all"
    else:
        keep += [party, str(record.get("party_address") or "")]
        if legal_rep and publish_legal_representative:
            keep.append(legal_rep)
        elif legal_rep:
            known.append(legal_rep)
            public["legal_representative"] = mask_name(legal_rep, rule=rule)
            whole("legal_representative", "name")
        address_mode = "residence"

    # the record's own values prepared once for all its texts
    prepared = _Known(known_names=known, keep=keep, name_rule=rule, known_secrets=secrets)

    def redacted(value: str) -> RedactionResult:
        if not value:
            return RedactionResult(value, [])
        return _redacted(value, _detect(value, known=prepared, name_rule=rule, address_mode=address_mode))

    def clean(value):
        if isinstance(value, str):
            return redacted(value).text
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    for key in PERSON_LIST_FIELDS:
        if key in public:
            names = _as_list(public[key])
            public[key] = [mask_name(n, rule=rule) for n in names]
            if names:
                whole(key, "name")
    for key, value in list(public.items()):
        if key in STRUCTURAL_FIELDS or key in PERSON_LIST_FIELDS or key in ("party_name", "legal_representative"):
            continue
        if isinstance(value, str):
            result = redacted(value)
            public[key] = result.text
            if result.findings:
                found[key] = result.findings
            continue
        public[key] = clean(value)
        if public[key] != value and field_text(value):
            whole(key, "nested")  # a list or mapping with something hidden inside
    return public


def field_text(value) -> str:
    """A record field as one line of text (lists joined by 、), the text
    the spans of ``redact_record(findings_out=...)`` refer to."""
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "、".join(field_text(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{field_text(v)}" for k, v in value.items())
    return str(value)


def marked_segments(text: str, findings: Iterable[Finding]) -> list[tuple[str, str | None]]:
    """``text`` cut into (segment, kind) pairs: kind is the Finding's kind
    for a hidden span, None for text that stays. Plain strings, never
    markup: the page escapes each segment and wraps the hidden ones."""
    out: list[tuple[str, str | None]] = []
    pos = 0
    for f in sorted(findings, key=lambda f: f.start):
        start, end = max(f.start, pos), min(f.end, len(text))
        if start >= end:
            continue
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], f.kind))
        pos = end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


# --------------------------------------------------------------------------
# The public copy: the ONE way text reaches the public side
#
# Every text the portal, search, feeds, the public API and the public CSV
# read is a field of a public model (PublicDecision, PublicVersion,
# WithdrawalNotice). Their text fields (PUBLIC_TEXT_FIELDS) can be saved
# only with values made here: public_copy returns PublicText / PublicData
# values, and the models' save() refuses any other value that was not read
# unchanged from the database (check_public_row, called by
# publicity.models.PublicTextGuard). A correction reason, a withdrawal
# reason or any future public note goes through public_copy(notes=...) with
# the record it belongs to, so it is redacted with the record's own
# personal values known, exactly like the facts.


class PublicText(str):
    """Text made by public_copy (redacted, or structural and public)."""

    __slots__ = ()


class PublicData(dict):
    """A redacted record made by public_copy."""


class UnredactedPublicText(ValueError):
    """A public model was about to be saved with text that did not come
    from public_copy."""


# Free-text fields of the public models: only public_copy fills them.
PUBLIC_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "publicity.PublicDecision": ("doc_number", "party_name", "title", "data"),
    "publicity.PublicVersion": ("data", "reason"),
    "publicity.WithdrawalNotice": ("doc_number", "reason"),
}
# Text fields of the public models that hold no free text: codes, paths and
# choices set by the services from validated values.
PUBLIC_STRUCTURAL_FIELDS: dict[str, tuple[str, ...]] = {
    "publicity.PublicDecision": ("region_path", "kind", "main_category", "received_from"),
    "publicity.PublicVersion": (),
    "publicity.WithdrawalNotice": ("ground",),
}

TITLE_LABELS = {"license": "行政许可决定", "penalty": "行政处罚决定", "coercion": "行政强制决定", "levy": "行政征收决定",
                "fee": "行政收费决定", "inspection": "行政检查结果", "other": "行政执法决定"}


@dataclass(frozen=True)
class PublicCopy:
    data: PublicData  # every public field of the record, redacted
    doc_number: PublicText
    party_name: PublicText  # masked for natural persons
    title: PublicText
    notes: dict[str, PublicText]  # the notes given to public_copy, redacted


def public_copy(
    record: Mapping,
    *,
    party_is_natural_person: bool,
    kind: str = "",
    name_rule: str | None = None,
    notes: Mapping[str, str] | None = None,
    title: str | None = None,
    mask_party_name: bool = True,
    publish_legal_representative: bool = True,
    findings_out: dict | None = None,
) -> PublicCopy:
    """The public copy of a decision record and of the notes published with
    it (correction reason, withdrawal reason ...): redact_record on the
    record and on each note, with the record's personal values known. The
    title is the masked party name and the kind's label unless ``title`` is
    given (it is redacted too)."""
    extra = {f"\x00note:{k}": v or "" for k, v in (notes or {}).items()}
    if title is not None:
        extra["\x00title"] = title
    data = redact_record({**record, **extra}, party_is_natural_person=party_is_natural_person, name_rule=name_rule,
                         mask_party_name=mask_party_name, publish_legal_representative=publish_legal_representative,
                         findings_out=findings_out)
    if findings_out is not None:
        for key in extra:
            findings_out.pop(key, None)
    redacted_notes = {k: PublicText(data.pop(f"\x00note:{k}")) for k in (notes or {})}
    given_title = data.pop("\x00title", None)
    party_name = str(data.get("party_name") or "")
    if given_title is None:
        given_title = f"{party_name}{TITLE_LABELS.get(kind, '行政执法决定')}"
    return PublicCopy(
        data=PublicData(data), doc_number=PublicText(str(data.get("doc_number") or "")),
        party_name=PublicText(party_name), title=PublicText(given_title[:255]), notes=redacted_notes,
    )


# One encoder for every fingerprint: the same text as json.dumps(value,
# ensure_ascii=False, sort_keys=True, default=str) without building an encoder
# per call (every public row read computes four fingerprints; the portal's
# relevance ranking reads 500 rows a search, docs/performance.md).
_FINGERPRINT_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def _fingerprint(value) -> str:
    return _FINGERPRINT_ENCODER.encode(value)


def loaded_fingerprints(instance, label: str) -> dict[str, str]:
    """The public text fields of a row as read from the database (deferred
    fields are left out, never loaded)."""
    loaded = vars(instance)
    return {name: _fingerprint(loaded[name]) for name in PUBLIC_TEXT_FIELDS.get(label, ()) if name in loaded}


def check_public_row(instance, label: str, loaded: Mapping[str, str] | None = None) -> None:
    """Refuse to save a public row whose text fields hold anything that did
    not come from public_copy (or was read unchanged from the database)."""
    if label not in PUBLIC_TEXT_FIELDS:
        raise UnredactedPublicText(f"{label} is not declared in redaction.PUBLIC_TEXT_FIELDS")
    for name in PUBLIC_TEXT_FIELDS[label]:
        if name not in vars(instance):
            continue  # deferred, not loaded: the save does not write it
        value = vars(instance)[name]
        if value in (None, "", {}) or isinstance(value, (PublicText, PublicData)):
            continue
        if loaded and loaded.get(name) == _fingerprint(value):
            continue
        raise UnredactedPublicText(f"{label}.{name}: public text must be made by redaction.public_copy()")


# --------------------------------------------------------------------------
# Never publish online

_CONFIDENTIAL_LABELS = {
    "state_secret": "国家秘密",
    "trade_secret": "商业秘密",
    "personal_privacy": "个人隐私",
    "security": "公开后可能危及国家安全、公共安全、经济安全和社会稳定的内容",
}
_LEGAL_GROUND = "《中华人民共和国行政处罚法》第五十条及地方行政执法公示规定"


def _decision_date(record: Mapping) -> date:
    value = record.get("decision_date")
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        text = value.strip()
        m = re.match(r"(\d{4})年(\d{1,2})月(\d{1,2})日", text)
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        return date.fromisoformat(text[:10])
    return clock.today()


def _age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


MINOR_AGE_RULE = "publicity.minor_party_age"


def _minor_age(on: date) -> int:
    """The age under which a party is a minor on ``on`` (dated rule
    publicity.minor_party_age). Before its first dated value the earliest
    value applies: a decision that old is judged by the oldest rule we hold,
    never by a number written here."""
    from sanxiang.rules.loader import RuleNotFound, get_rule, rule_definition

    try:
        return int(get_rule(MINOR_AGE_RULE, on=on).value)
    except RuleNotFound:
        earliest = min(rule_definition(MINOR_AGE_RULE).values, key=lambda v: v.valid_from)
        return int(earliest.value)


def should_never_publish(record: Mapping) -> str | None:
    """Why the decision must not be published online, or None.

    A minor party (flag ``is_minor``, or a natural person whose valid ID
    number shows an age under publicity.minor_party_age on the decision
    date), or a decision flagged ``confidential`` (True, or one of
    state_secret / trade_secret / personal_privacy / security), or any of
    those codes set as its own flag.
    """
    on = _decision_date(record)
    if record.get("is_minor"):
        return f"当事人为未成年人，依{_LEGAL_GROUND}，不在互联网公开。"
    party_type = str(record.get("party_type") or "")
    if is_natural_person(party_type) or not party_type:
        number = str(record.get("party_id_number") or "").strip().upper()
        born = _id_birth_date(number) if number else None
        if born is not None:
            limit = _minor_age(on)
            if _age_on(born, on) < limit:
                return (f"当事人在决定作出之日（{on.isoformat()}）不满{limit}周岁，为未成年人，"
                        f"依{_LEGAL_GROUND}，不在互联网公开。")
    flag = record.get("confidential")
    codes = [k for k in _CONFIDENTIAL_LABELS if record.get(k)]
    if isinstance(flag, str) and flag in _CONFIDENTIAL_LABELS:
        codes.insert(0, flag)
    elif isinstance(flag, (list, tuple, set)):
        codes = [c for c in flag if c in _CONFIDENTIAL_LABELS] + codes
    if codes:
        what = "、".join(dict.fromkeys(_CONFIDENTIAL_LABELS[c] for c in codes))
        return f"决定的主要内容涉及{what}，依{_LEGAL_GROUND}，不在互联网公开。"
    if flag:
        return f"决定的主要内容涉及国家秘密、商业秘密或者个人隐私，依{_LEGAL_GROUND}，不在互联网公开。"
    return None
