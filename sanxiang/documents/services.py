"""Writes for documents (文书), seed 记录-2/3 and 公示-10/11.

``issue_document`` is the one way a document comes into being: it checks the
case and the data (errors name the field, in Chinese), asks the legal-review
hook for final decisions, and then, in ONE transaction, takes the next
number, renders DOCX and PDF, stores both with their SHA-256 and appends the
audit entry. Anything failing rolls the whole issue back, the number
included, so numbers stay gapless; files written before the failure are
removed again.

Who issues: the case's own agency acting in it, as for every write of the
cases app (``core.vocabulary.CASE_HANDLERS``: its officers, its head, its
API client); the agency's legal reviewers also issue their 法制审核意见书
(``predicates.can_issue``).
Legal offices and system administrators read only.
"""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from sanxiang.cases.predicates import step_in_progress
from sanxiang.cases.registry import refuse_blocked_decision
from sanxiang.core import fonts
from sanxiang.core.audit import append_audit

from . import numbering
from .predicates import can_issue, can_set_number_pattern
from .kinds import DocumentKind, get_kind
from .models import Document, NumberPattern
from .render import Rendered, build_context, layout, render, render_docx, render_pdf
from .values import clean_data
from sanxiang.core import clock

logger = logging.getLogger(__name__)

OPEN_STATUS = "open"

def _check_issuer(actor, case, kind: str) -> None:
    verdict = can_issue(actor, case, kind)
    if not verdict:
        raise PermissionDenied(verdict.reason)


def before_issue(case, kind: DocumentKind) -> None:
    """The hook point every issue passes before a number is taken.

    For a final decision (a kind with ``review_gate``), a case that still
    needs a passing legal review must not get its decision number (penalty
    law art. 58; the review issue): the decision guards registered with the
    cases app (``sanxiang.cases.registry``) answer; ``Document.save`` asks
    them again for any other door.
    """
    if kind.review_gate:
        refuse_blocked_decision(case, field="kind")


def _check_case(case) -> None:
    if getattr(case, "status", OPEN_STATUS) != OPEN_STATUS:
        raise ValidationError({"case": ValidationError("案件已结案或终止，不能再制作文书。", code="case_closed")})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _step_for(case, step):
    """The step the document belongs to (记录-2/记录-3): the one given, which
    must be a step of the same case, else the case's step in progress (none
    when no step is under way)."""
    if step is None:
        return step_in_progress(case)
    if step.case_id != case.pk:
        raise ValidationError({"step": ValidationError("该环节不属于本案，文书只能归入本案的环节。", code="step_other_case")})
    return step


def issue_document(*, actor, case, kind: str, data: dict, step=None, through: str = "") -> Document:
    """Issue one document of ``kind`` in ``case`` with the field values
    ``data``; returns the stored Document with its number and files. It is
    recorded under ``step`` (a step of the same case), by default the case's
    step in progress. A kind issued only through another workflow
    (``issued_through`` in its YAML, e.g. the legal-review opinion) needs
    that workflow to say so with ``through``."""
    spec = get_kind(kind)
    _check_issuer(actor, case, spec.code)
    if spec.issued_through and through != spec.issued_through:
        raise ValidationError({"kind": ValidationError(
            f"{spec.title}由法制审核流程制作（本案的法制审核页面），不能在文书页面直接制作。", code="issued_through_workflow")})
    _check_case(case)
    step = _step_for(case, step)
    before_issue(case, spec)
    values = clean_data(spec, data)
    agency = case.agency
    if spec.numbered and not agency.short_name.strip():
        raise ValidationError({"short_name": ValidationError(
            f"{agency.name}尚未设置文书简称（如“冀石市监”），不能生成文号。", code="no_abbreviation")})
    fonts.ensure_ready()  # a one-time font build never runs under the number lock

    stored: list = []
    try:
        with transaction.atomic():
            issued_at = timezone.now()
            year = clock.local_date(issued_at).year
            seq = number = None
            if spec.numbered:
                pattern = numbering.pattern_for(agency=agency, kind=spec)

                def number_of(n: int) -> str:
                    return numbering.format_number(pattern, abbr=agency.short_name.strip(), kind_char=spec.kind_char,
                                                   year=year, seq=n)

                # Numbers the agency already used by another door (a pushed
                # or imported decision, core.doc_numbers) are skipped.
                seq = numbering.take_number(agency=agency, kind_code=spec.code, year=year, number_of=number_of)
                number = number_of(seq)
                if Document.objects.filter(number=number).exclude(agency=agency).exists():
                    raise ValidationError({"short_name": ValidationError(
                        f"文号“{number}”已被其他机关使用，请检查本机关的文书简称。", code="number_taken")})
            ctx = build_context(case=case, kind=spec, values=values, number=number, issued_at=issued_at)
            files: Rendered = render(spec, ctx, issued_at=issued_at)
            doc = Document(case=case, step=step, agency=agency, kind=spec.code, kind_version=spec.version, title=spec.title,
                           number=number, year=year, seq=seq, data=values, issued_at=issued_at,
                           issued_by=actor, docx_sha256=_sha256(files.docx), pdf_sha256=_sha256(files.pdf))
            stem = f"{spec.code}-{seq or 'x'}-{doc.pdf_sha256[:16]}"
            doc.docx.save(f"{stem}.docx", ContentFile(files.docx), save=False)
            stored.append(doc.docx.name)
            doc.pdf.save(f"{stem}.pdf", ContentFile(files.pdf), save=False)
            stored.append(doc.pdf.name)
            doc.save(force_insert=True)
            append_audit(actor=actor, action="document.issue", obj=doc, payload={
                "case": case.pk, "step": step.pk if step else None, "agency": agency.credit_code, "kind": spec.code,
                "kind_version": spec.version, "number": number, "docx_sha256": doc.docx_sha256, "pdf_sha256": doc.pdf_sha256,
            })
    except BaseException:
        from django.core.files.storage import default_storage

        for name in stored:
            try:
                default_storage.delete(name)
            except OSError:  # pragma: no cover - best effort
                logger.warning("could not remove %s after a failed issue", name)
        raise
    return doc


def render_preview(*, case, kind: str, data: dict, fmt: str = "pdf") -> bytes:
    """A draft rendering without a number (nothing stored, nothing
    consumed, no audit entry, the number sequence untouched): marked 草稿
    (heading, and a watermark in the PDF), with （文号待生成） in place of
    the number; required fields may still be empty, types are checked. The
    issue page shows it before the irreversible "生成文号并出具" (issue 11
    item 6)."""
    spec = get_kind(kind)
    values = clean_data(spec, data, partial=True)
    issued_at = timezone.now()
    ctx = build_context(case=case, kind=spec, values=values, number=None, issued_at=issued_at)
    lines = layout(spec, ctx, draft=True)
    if fmt == "docx":
        return render_docx(lines, title=spec.title, issued_at=issued_at)
    if fmt == "pdf":
        return render_pdf(lines, title=spec.title, issued_at=issued_at)
    raise ValidationError({"fmt": ValidationError("格式只能是 pdf 或 docx。", code="invalid_format")})


def record_download(*, actor, document: Document, fmt: str) -> None:
    """Every download of an issued document is audited (记录-3: who took
    which file when)."""
    sha = document.pdf_sha256 if fmt == "pdf" else document.docx_sha256
    append_audit(actor=actor, action="document.download", obj=document,
                 payload={"format": fmt, "number": document.number, "sha256": sha, "case": document.case_id})


@transaction.atomic
def set_number_pattern(*, actor, agency, pattern: str, kind: str = "") -> NumberPattern:
    """Set an agency's 文号 pattern for one kind, or for all (kind ""): the
    agency's head, or a system administrator (who also sets the agency's
    document abbreviation, ``Agency.short_name``)."""
    verdict = can_set_number_pattern(actor, agency)
    if not verdict:
        raise PermissionDenied(verdict.reason)
    if kind:
        get_kind(kind)
    pattern = numbering.validate_pattern(pattern)
    row, _created = NumberPattern.objects.update_or_create(agency=agency, kind=kind, defaults={"pattern": pattern})
    append_audit(actor=actor, action="document.number_pattern", obj=row,
                 payload={"agency": agency.credit_code, "kind": kind, "pattern": pattern})
    return row
