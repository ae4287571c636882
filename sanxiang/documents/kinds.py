"""Document kinds (文书种类) as data: one YAML file per kind in ``kinds/``.

Seed 记录-2 asks for standard enforcement documents (统一执法文书) and 记录-3
for the text record of every step; the templates are data so that a
province can adjust the wording without a code change. See
docs/documents.md for the format. Everything is validated when loaded: a
template that names an unknown placeholder, a numbered kind without its
kind-character, or two numbered kinds sharing one kind-character (their
numbers would collide) fail loudly at start-up and in the tests, never in
front of an officer.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError

KINDS_DIR = Path(__file__).resolve().parent / "kinds"

FIELD_TYPES = ("text", "date", "datetime", "money", "list", "bool")
BLOCK_TYPES = ("paragraph", "line", "table", "list", "signature", "date", "seal", "note", "blank")

# Placeholders every template may use besides its own fields; filled from
# the case, its agency and the issuing act (see render.build_context).
CONTEXT_KEYS = frozenset({
    "agency_name", "agency_abbr", "agency_address", "agency_phone",
    "case_title", "party_name", "party_type", "party_credit_code", "opened_on",
    "number", "issued_date", "kind_title",
})


class KindNotFound(ValidationError):
    pass


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: str
    type: str = "text"
    required: bool = False
    help: str = ""
    yes: str = "是"  # how a bool prints when on / off (YAML true_text / false_text)
    no: str = "否"


@dataclass(frozen=True)
class Block:
    type: str
    text: str = ""
    field: str = ""
    rows: tuple[tuple[str, str], ...] = ()
    lines: tuple[str, ...] = ()
    when: str = ""  # render only when this field has a value


@dataclass(frozen=True)
class DocumentKind:
    code: str
    title: str
    numbered: bool
    kind_char: str
    fields: tuple[FieldSpec, ...]
    body: tuple[Block, ...]
    version: int = 1
    review_gate: bool = False  # a final decision: ask the legal-review hook first
    # Issued only through another app's workflow (e.g. "review": the opinion
    # and the discussion record carry what that workflow decided).
    issued_through: str = ""
    number_pattern: str = ""  # overrides the default pattern for this kind
    act_kinds: tuple[str, ...] = ()
    step: str = ""  # the process step this document records
    source: str = ""
    field_map: dict = field(default_factory=dict, compare=False, repr=False)

    def field_spec(self, name: str) -> FieldSpec:
        return self.field_map[name]


def _placeholders(text: str) -> set[str]:
    names = set()
    for _literal, name, _spec, _conv in string.Formatter().parse(text):
        if name is not None:
            names.add(name)
    return names


def _error(path: Path, message: str) -> ValueError:
    return ValueError(f"{path.name}: {message}")


def _parse(path: Path) -> DocumentKind:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise _error(path, "not a mapping")
    for key in ("code", "title", "fields", "body"):
        if key not in raw:
            raise _error(path, f"missing '{key}'")
    if raw["code"] != path.stem:
        raise _error(path, f"code {raw['code']!r} must equal the file name")
    fields = []
    for f in raw["fields"]:
        spec = FieldSpec(name=f["name"], label=f["label"], type=f.get("type", "text"),
                         required=bool(f.get("required", False)), help=f.get("help", ""),
                         yes=str(f.get("true_text", "是")), no=str(f.get("false_text", "否")))
        if spec.type not in FIELD_TYPES:
            raise _error(path, f"field {spec.name}: type {spec.type!r} not one of {FIELD_TYPES}")
        if not spec.name.isidentifier() or spec.name in CONTEXT_KEYS:
            raise _error(path, f"field name {spec.name!r} is not an identifier or shadows a context key")
        fields.append(spec)
    field_map = {f.name: f for f in fields}
    if len(field_map) != len(fields):
        raise _error(path, "duplicate field names")
    known = CONTEXT_KEYS | set(field_map)

    def check_text(text: str, where: str) -> str:
        unknown = _placeholders(text) - known
        if unknown:
            raise _error(path, f"{where}: unknown placeholder(s) {sorted(unknown)}")
        return text

    blocks = []
    for i, b in enumerate(raw["body"]):
        btype = b.get("type")
        if btype not in BLOCK_TYPES:
            raise _error(path, f"body[{i}]: type {btype!r} not one of {BLOCK_TYPES}")
        when = b.get("when", "")
        if when and when not in field_map:
            raise _error(path, f"body[{i}]: 'when' names unknown field {when!r}")
        text = check_text(str(b.get("text", "")), f"body[{i}]")
        rows = tuple((str(label), check_text(str(value), f"body[{i}] row {label}")) for label, value in b.get("rows", []))
        lines = tuple(check_text(str(line), f"body[{i}] line") for line in b.get("lines", []))
        list_field = b.get("field", "")
        if btype == "list" and (list_field not in field_map or field_map[list_field].type != "list"):
            raise _error(path, f"body[{i}]: a list block needs a list field, not {list_field!r}")
        blocks.append(Block(type=btype, text=text, field=list_field, rows=rows, lines=lines, when=when))
    numbered = bool(raw.get("numbered", False))
    kind_char = str(raw.get("kind_char", ""))
    if numbered and not kind_char:
        raise _error(path, "a numbered kind needs its kind_char")
    pattern = str(raw.get("number_pattern", ""))
    if pattern:
        from .numbering import validate_pattern

        try:
            validate_pattern(pattern)
        except ValidationError as exc:
            raise _error(path, " ".join(exc.messages)) from exc
    return DocumentKind(
        code=raw["code"], title=raw["title"], numbered=numbered, kind_char=kind_char,
        fields=tuple(fields), body=tuple(blocks), version=int(raw.get("version", 1)),
        review_gate=bool(raw.get("review_gate", False)), issued_through=str(raw.get("issued_through", "")),
        number_pattern=pattern,
        act_kinds=tuple(raw.get("act_kinds", [])), step=str(raw.get("step", "")),
        source=str(raw.get("source", "")), field_map=field_map,
    )


def direct_kinds() -> dict[str, DocumentKind]:
    """The kinds issued on the documents page and API (not those issued only
    through another workflow)."""
    return {code: k for code, k in all_kinds().items() if not k.issued_through}


@functools.cache
def all_kinds() -> dict[str, DocumentKind]:
    """Every kind, by code, in file-name order."""
    kinds = {}
    chars: dict[str, str] = {}
    for path in sorted(KINDS_DIR.glob("*.yaml")):
        kind = _parse(path)
        if kind.numbered:
            if kind.kind_char in chars:
                raise _error(path, f"kind_char {kind.kind_char!r} already used by {chars[kind.kind_char]}")
            chars[kind.kind_char] = kind.code
        kinds[kind.code] = kind
    return kinds


def get_kind(code: str) -> DocumentKind:
    try:
        return all_kinds()[code]
    except KeyError:
        raise KindNotFound({"kind": ValidationError(f"未知的文书种类：{code}。", code="unknown_kind")}) from None
