"""Document numbers (文号): per agency, kind and year, gapless.

Pattern: a format string with the placeholders {abbr} (the agency's
document abbreviation, Agency.short_name, e.g. 冀石市监), {kind_char} (e.g.
罚), {year} and {seq}; {seq} may carry a format spec such as {seq:03d}.
The default gives 冀石市监罚〔2026〕12号. The pattern must contain {year} and
{seq}: the sequence restarts every year, so a pattern without the year would
repeat numbers.

Gapless under concurrency (seed 记录-2: numbers are issued in order and none
is skipped): ``take_number`` runs inside the caller's transaction, the one
that also creates the Document row. It locks the (agency, kind, year)
counter row — SELECT ... FOR UPDATE on PostgreSQL; on SQLite every
transaction is BEGIN IMMEDIATE (settings), so writers already queue — and
increments it. If the issuing transaction rolls back, the increment rolls
back with it, so no number is lost; the UNIQUE constraints on the Document
(number; agency+kind+year+seq) are the last line of defence.

One namespace per agency (公示-14, 公示-19; issue 11): a number the agency
already used elsewhere — a decision pushed by a case system or imported
from a 双公示 file, known to the publicity app — is skipped, never issued a
second time. The holders are asked through ``core.doc_numbers`` (the
publicity app registers there; documents and publicity never import each
other). A skipped number is not a gap: it was issued, by another door.
"""

from __future__ import annotations

import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

from sanxiang.core import doc_numbers

from .models import DocumentCounter, NumberPattern

DEFAULT_PATTERN = "{abbr}{kind_char}〔{year}〕{seq}号"
PLACEHOLDERS = {"abbr", "kind_char", "year", "seq"}


def validate_pattern(pattern: str) -> str:
    pattern = (pattern or "").strip()
    try:
        names = [name for _lit, name, _spec, _conv in string.Formatter().parse(pattern) if name is not None]
    except ValueError as exc:
        raise ValidationError({"pattern": ValidationError(f"文号格式无效：{exc}。", code="invalid_pattern")}) from exc
    unknown = set(names) - PLACEHOLDERS
    if unknown:
        raise ValidationError({"pattern": ValidationError(
            f"文号格式含未知占位符：{'、'.join(sorted(unknown))}；可用 {{abbr}} {{kind_char}} {{year}} {{seq}}。",
            code="unknown_placeholder")})
    if "year" not in names or "seq" not in names:
        raise ValidationError({"pattern": ValidationError("文号格式必须包含 {year} 和 {seq}（序号按年重新起算）。",
                                                          code="pattern_incomplete")})
    try:
        format_number(pattern, abbr="冀石市监", kind_char="罚", year=2026, seq=12)
    except (ValueError, KeyError, IndexError) as exc:  # e.g. a format spec {seq:x.y} that does not apply
        raise ValidationError({"pattern": ValidationError(f"文号格式无效：{exc}。", code="invalid_pattern")}) from exc
    return pattern


def format_number(pattern: str, *, abbr: str, kind_char: str, year: int, seq: int) -> str:
    return pattern.format(abbr=abbr, kind_char=kind_char, year=year, seq=seq)


def default_pattern() -> str:
    return settings.DOCUMENT_NUMBER_PATTERN or DEFAULT_PATTERN


def pattern_for(*, agency, kind) -> str:
    """The pattern in force for an agency and a kind: the agency's setting for
    the kind, else the agency's setting for all kinds, else the kind's own,
    else the platform default."""
    rows = {p.kind: p.pattern for p in NumberPattern.objects.filter(agency=agency, kind__in=[kind.code, ""])}
    return rows.get(kind.code) or rows.get("") or kind.number_pattern or default_pattern()


# However many numbers were taken by other doors in a row, the sequence
# looks this far ahead before giving up (a namespace gone wrong, not a case).
MAX_SKIPPED = 10_000


def take_number(*, agency, kind_code: str, year: int, number_of=None) -> int:
    """The next sequence number for (agency, kind, year). Call inside the
    transaction that creates the numbered document. With ``number_of``
    (seq -> the formatted 文号), a sequence number whose 文号 someone in the
    agency's namespace already holds (``core.doc_numbers``: a pushed or
    imported decision) is skipped."""
    if not connection.in_atomic_block:
        raise RuntimeError("take_number must run inside the issuing transaction")
    counters = DocumentCounter.objects.select_for_update().filter(agency=agency, kind=kind_code, year=year)
    counter = counters.first()
    if counter is None:
        # The year's first number: create the row. A concurrent creator makes
        # this wait (PostgreSQL) and then do nothing; either way we lock it next.
        DocumentCounter.objects.bulk_create(
            [DocumentCounter(agency=agency, kind=kind_code, year=year, last_seq=0)], ignore_conflicts=True)
        counter = counters.get()
    counter.last_seq += 1
    if number_of is not None:
        for _ in range(MAX_SKIPPED):
            if not doc_numbers.is_held(agency=agency, number=number_of(counter.last_seq)):
                break
            counter.last_seq += 1
        else:  # pragma: no cover - ten thousand numbers in a row taken elsewhere
            raise ValidationError({"number": ValidationError(
                "本机关的文号已被其他来源大量占用，无法生成新文号，请检查文号格式。", code="number_space_exhausted")})
    counter.save(update_fields=["last_seq"])
    return counter.last_seq
