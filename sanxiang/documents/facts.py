"""What the documents app tells other apps about a case's numbers and its
decision, through the registries below it (docs/architecture.md):

- ``number_holders`` (``core.doc_numbers``): the platform's own numbered
  documents holding some of an agency's numbers, so the publicity intake
  refuses a pushed or imported decision that reuses one for another party;
- ``decision_facts`` (``cases.registry``): the case's numbered decision
  document (行政处罚决定书) as issued — its 文号, the legal representative,
  facts, violated provision, basis, content and amounts — from which the
  publicity app derives the decision record (公示-14, issue 11).
"""

from __future__ import annotations

from decimal import Decimal

from sanxiang.core.doc_numbers import NumberHolder

from .kinds import KindNotFound, get_kind
from .models import Document

# The step whose numbered document is the case's decision.
DECISION_STEP = "decision"


def number_holders(*, agency, numbers):
    docs = (Document.objects.filter(agency=agency, number__in=list(numbers))
            .select_related("case").only("number", "title", "case_id", "case__title", "case__party_name",
                                         "case__party_credit_code", "case__party_id_number"))
    for doc in docs:
        yield NumberHolder(
            number=doc.number, source="document", case_id=doc.case_id,
            label=f"本平台案件“{doc.case.title}”（案件编号 {doc.case_id}）的{doc.title}",
            party_name=doc.case.party_name,
            party_codes=tuple(c for c in (doc.case.party_credit_code, doc.case.party_id_number) if c))


def _is_decision_kind(code: str) -> bool:
    try:
        spec = get_kind(code)
    except KindNotFound:
        return False
    return spec.numbered and spec.step == DECISION_STEP and bool(spec.review_gate)


def _fen(value) -> int | None:
    if value in (None, ""):
        return None
    return int(Decimal(str(value)) * 100)


def decision_facts(case) -> dict | None:
    """The case's latest numbered decision document as facts for the
    decision record, or None when none was issued."""
    docs = Document.objects.filter(case=case, number__isnull=False).order_by("-issued_at", "-id")
    doc = next((d for d in docs if _is_decision_kind(d.kind)), None)
    if doc is None:
        return None
    data = doc.data or {}
    violated = str(data.get("violated_provision") or "").strip()
    return {
        "doc_number": doc.number,
        "document_title": doc.title,
        "issued_at": doc.issued_at,
        "legal_representative": str(data.get("legal_representative") or "").strip(),
        "facts": str(data.get("facts") or "").strip(),
        "violation_type": f"违反{violated}" if violated and not violated.startswith("违反") else violated,
        "basis": str(data.get("basis") or "").strip(),
        "content": str(data.get("penalty") or "").strip(),
        "fine_fen": _fen(data.get("fine")),
        "confiscation_fen": _fen(data.get("confiscation")),
    }
