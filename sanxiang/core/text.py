"""Text normalisation at intake: the one place every text that enters the
platform goes through (the push API and the 双公示 files via
``publicity.intake``, catalogue imports via ``catalog.excel``, the forms via
``core.forms.NormalisedTextMixin``).

``normalise(value, kind=...)`` returns a :class:`Normalised` (the text and
what was changed) or raises :class:`TextError` (a stable code and a Chinese
message without the field's name; the caller adds it):

- lone surrogates (``"\\ud800"``: not Unicode text, no database can store
  them) are refused (``invalid_unicode``);
- line endings become ``\\n`` (browsers send CRLF from a textarea);
- C0 controls other than tab and newline, DEL and C1 controls are refused
  (``control_character``): XML 1.0 (the feeds), spreadsheets and printers
  cannot hold them and nobody types them;
- the text is put in Unicode NFC (the same word always has the same code
  points, so search, comparison and redaction see one form);
- bidirectional controls (U+202A–202E, U+2066–2069, and the marks U+200E,
  U+200F, U+061C) are removed from every text: they only serve to make a
  text display differently from what it says;
- in names and numbers (``kind="name"`` / ``"number"``) zero-width
  characters (U+200B–200D, U+2060, U+FEFF, and the invisible operators
  U+2061–2064) are removed too: inside a name or an ID number they defeat
  matching and redaction. Free text keeps them (U+200D joins emoji);
- in numbers (ID numbers, credit codes, phones, codes), compatibility forms
  are folded (NFKC: full-width ``１２Ｘ`` → ``12X``) and every other decimal
  digit (Arabic-Indic ``٣``, Devanagari ``३`` …) becomes its ASCII digit, so
  checksums see ASCII and nothing non-ASCII is stored.

``changes`` lists what was done (``"line_endings"``, ``"nfc"``,
``"invisible_removed"``, ``"digits_ascii"``, ``"compatibility"``), so
callers record it (audit entry, per-record result). Stripping of
surrounding white space is not a change worth recording.

``has_letter(text)``: a party's name must contain at least one letter or
CJK character (a name of digits and punctuation only is a mistake).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

TEXT, NAME, NUMBER = "text", "name", "number"
KINDS = (TEXT, NAME, NUMBER)

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u2061\u2062\u2063\u2064")
_BIDI_RE = re.compile("[" + "".join(sorted(BIDI_CONTROLS)) + "]")
_INVISIBLE_RE = re.compile("[" + "".join(sorted(BIDI_CONTROLS | ZERO_WIDTH)) + "]")
# C0 except tab and newline, DEL, C1.
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_NON_ASCII_DIGIT_RE = re.compile(r"[^\x00-\x7f]")


@dataclass(frozen=True, slots=True)
class Normalised:
    text: str
    changes: tuple[str, ...] = ()


class TextError(ValueError):
    """A text that cannot be accepted: ``code`` is stable, ``message`` is
    Chinese and does not name the field (the caller prefixes it)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _describe(ch: str) -> str:
    return f"U+{ord(ch):04X}"


def normalise(value: str, *, kind: str = TEXT, strip: bool = True) -> Normalised:
    """Normalise one text; raises TextError. See the module docstring."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    if not isinstance(value, str):
        raise TextError("not_text", "应为文本。")
    changes: list[str] = []
    m = _SURROGATE_RE.search(value)
    if m:
        raise TextError("invalid_unicode", f"含有无效的 Unicode 字符（孤立代理项 {_describe(m[0])}，第{m.start() + 1}个字符）。")
    text = value
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        changes.append("line_endings")
    m = _CONTROL_RE.search(text)
    if m:
        raise TextError("control_character",
                        f"含有不允许的控制字符 {_describe(m[0])}（第{m.start() + 1}个字符）；除换行和制表符外不能含控制字符。")
    nfc = unicodedata.normalize("NFC", text)
    if nfc != text:
        changes.append("nfc")
        text = nfc
    pattern = _BIDI_RE if kind == TEXT else _INVISIBLE_RE
    cleaned = pattern.sub("", text)
    if cleaned != text:
        changes.append("invisible_removed")
        text = cleaned
    if kind == NUMBER and _NON_ASCII_DIGIT_RE.search(text):
        folded = unicodedata.normalize("NFKC", text)
        if folded != text:
            changes.append("compatibility")
            text = folded
        digits = "".join(str(unicodedata.decimal(ch)) if not ch.isascii() and unicodedata.decimal(ch, None) is not None
                         else ch for ch in text)
        if digits != text:
            changes.append("digits_ascii")
            text = digits
    if strip:
        text = text.strip()
    return Normalised(text, tuple(changes))


def has_letter(text: str) -> bool:
    """True when the text has at least one letter (any script, CJK included)."""
    return any(ch.isalpha() for ch in text)


NAME_WITHOUT_LETTER = ("name_without_letter", "应至少含有一个汉字或字母。")
