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
"""

from __future__ import annotations

import string

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection

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


def take_number(*, agency, kind_code: str, year: int) -> int:
    """The next sequence number for (agency, kind, year). Call inside the
    transaction that creates the numbered document."""
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
    counter.save(update_fields=["last_seq"])
    return counter.last_seq
