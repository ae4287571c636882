"""Evaluation schemes (评查标准) as versioned data: one YAML file per scheme
version in ``schemes/`` (docs/evaluation.md describes the format).

``parse_scheme`` validates a file (plain Python, no database): item codes
once, sections 形式/内容, deduction ranges within the points, automatic
checks known (``checks.CHECKS``), veto effects zero / cap (a grade of the
scheme) / fixed (points), grades best first, and the point totals of the
form and content sections equal to the dated rules
``supervision.case_file_form_points`` / ``case_file_content_points`` on the
scheme's ``valid_from``. ``services.load_schemes`` stores new versions; a
version once stored is immutable (a changed file is refused).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from sanxiang.rules import get_rule

from .checks import CHECKS

SCHEMES_DIR = Path(__file__).resolve().parent / "schemes"
FORM_RULE = "supervision.case_file_form_points"
CONTENT_RULE = "supervision.case_file_content_points"
SECTIONS = ("form", "content")
EFFECTS = ("zero", "cap", "fixed")
ACT_KINDS = ("license", "penalty", "coercion", "levy", "fee", "inspection", "confirmation", "payment", "adjudication", "other")


class SchemeError(ValueError):
    """A scheme file that cannot be loaded (the message names the file and field)."""


@dataclass(frozen=True)
class ParsedScheme:
    code: str
    version: int
    title: str
    year: int
    act_kinds: list
    valid_from: date
    source: str
    grades: list  # [{"code", "name", "min"}] best first
    items: list  # [{"code", "section", "title", "points", "deduct_min", "deduct_max", "auto_check"}]
    vetoes: list  # [{"code", "text", "effect", "cap_grade", "fixed_points", "auto_check"}]
    digest: str
    file_name: str


def _fail(path: Path, message: str) -> SchemeError:
    return SchemeError(f"{path.name}: {message}")


def _int(path, value, field, minimum=0) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise _fail(path, f"{field}: a whole number of at least {minimum} is needed, not {value!r}")
    return value


def _text(path, value, field) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, f"{field}: a non-empty text is needed")
    return value.strip()


def parse_scheme(path: Path) -> ParsedScheme:
    raw_bytes = path.read_bytes()
    try:
        data = yaml.safe_load(raw_bytes)
    except yaml.YAMLError as exc:
        raise _fail(path, f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise _fail(path, "the file must hold a mapping")
    code = _text(path, data.get("code"), "code")
    version = _int(path, data.get("version"), "version", 1)
    year = _int(path, data.get("year"), "year", 2000)
    valid_from = data.get("valid_from")
    if not isinstance(valid_from, date):
        raise _fail(path, "valid_from: a date (YYYY-MM-DD) is needed")
    kinds = data.get("act_kinds")
    if not isinstance(kinds, list) or not kinds or any(k not in ACT_KINDS for k in kinds):
        raise _fail(path, f"act_kinds: a list of act kinds ({', '.join(ACT_KINDS)}) is needed")

    grades = []
    for n, g in enumerate(data.get("grades") or []):
        try:
            minimum = Decimal(str(g.get("min")))
        except (InvalidOperation, AttributeError):
            raise _fail(path, f"grades[{n}].min: a number is needed") from None
        grades.append({"code": _text(path, g.get("code"), f"grades[{n}].code"),
                       "name": _text(path, g.get("name"), f"grades[{n}].name"), "min": minimum})
    if not grades or any(a["min"] <= b["min"] for a, b in zip(grades, grades[1:])) or grades[-1]["min"] != 0:
        raise _fail(path, "grades: best first, each lowest score below the one before, the last 0")
    grade_codes = {g["code"] for g in grades}

    items, seen, totals = [], set(), {"form": 0, "content": 0}
    for n, it in enumerate(data.get("items") or []):
        where = f"items[{n}]"
        item_code = _text(path, it.get("code"), f"{where}.code")
        if item_code in seen:
            raise _fail(path, f"{where}.code: {item_code} appears twice")
        seen.add(item_code)
        section = it.get("section")
        if section not in SECTIONS:
            raise _fail(path, f"{where}.section: form or content")
        points = _int(path, it.get("points"), f"{where}.points", 1)
        deduct = it.get("deduct")
        if not (isinstance(deduct, list) and len(deduct) == 2):
            raise _fail(path, f"{where}.deduct: [smallest, largest] deduction is needed")
        low, high = _int(path, deduct[0], f"{where}.deduct", 1), _int(path, deduct[1], f"{where}.deduct", 1)
        if not low <= high <= points:
            raise _fail(path, f"{where}.deduct: 1 <= smallest <= largest <= points ({points})")
        check = it.get("check") or ""
        if check and check not in CHECKS:
            raise _fail(path, f"{where}.check: unknown automatic check {check!r} (known: {', '.join(CHECKS)})")
        totals[section] += points
        items.append({"code": item_code, "section": section, "title": _text(path, it.get("title"), f"{where}.title"),
                      "points": points, "deduct_min": low, "deduct_max": high, "auto_check": check})
    for section, rule_name in (("form", FORM_RULE), ("content", CONTENT_RULE)):
        rule = get_rule(rule_name, on=valid_from)
        if totals[section] != int(rule.value):
            raise _fail(path, f"items: the {section} items total {totals[section]} points, the rule {rule_name} "
                              f"says {rule.value} ({rule.reference})")

    vetoes = []
    for n, v in enumerate(data.get("vetoes") or []):
        where = f"vetoes[{n}]"
        veto_code = _text(path, v.get("code"), f"{where}.code")
        if veto_code in seen:
            raise _fail(path, f"{where}.code: {veto_code} appears twice")
        seen.add(veto_code)
        effect = v.get("effect")
        if effect not in EFFECTS:
            raise _fail(path, f"{where}.effect: one of {', '.join(EFFECTS)}")
        cap = v.get("cap_grade") or ""
        if (effect == "cap") != bool(cap) or (cap and cap not in grade_codes):
            raise _fail(path, f"{where}.cap_grade: a grade of the scheme for effect cap, and only then")
        fixed = v.get("points")
        if effect == "fixed":
            fixed = _int(path, fixed, f"{where}.points", 1)
        elif fixed is not None:
            raise _fail(path, f"{where}.points: only for effect fixed")
        check = v.get("check") or ""
        if check and check not in CHECKS:
            raise _fail(path, f"{where}.check: unknown automatic check {check!r}")
        vetoes.append({"code": veto_code, "text": _text(path, v.get("text"), f"{where}.text"), "effect": effect,
                       "cap_grade": cap, "fixed_points": fixed, "auto_check": check})
    return ParsedScheme(code=code, version=version, title=_text(path, data.get("title"), "title"), year=year,
                        act_kinds=list(kinds), valid_from=valid_from, source=_text(path, data.get("source"), "source"),
                        grades=grades, items=items, vetoes=vetoes, digest=hashlib.sha256(raw_bytes).hexdigest(),
                        file_name=path.name)


def scheme_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or SCHEMES_DIR).glob("*.yaml"))
