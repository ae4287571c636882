"""What a 文书 form starts with, so that officers do not retype the case
(issue 11 item 6; seeds 记录-2 standard documents, 记录-3 the text record of
every step). A read: nothing here writes.

Sources, for each field of the kind, first that answers:

1. the enforcement item the officer picked on the form (catalog: the
   agency's enforcement-item list in force, items of the case's act kind) for
   ``basis`` — 《law》article — and, when the case has exactly one such item,
   that one without asking;
2. what the agency already wrote in this case: the latest issued document
   holding a field of the same name (or an alias: the 立案审批表's 案情摘要 is
   the later documents' 违法事实, its 涉嫌违反的法律规定 their 违反的法律规定,
   the 告知书's 拟作出的行政处罚 the 决定书's 处罚内容) — party address,
   legal representative, facts, basis, payment channel, review body, court;
3. the case itself: the officers assigned to it with their enforcement
   certificate numbers, the party (as recipient), the proposed penalty
   (categories and amounts, 拟作出的处理决定), the hearing request date,
   the latest numbered document (for the 送达回证) and the decision (for the
   结案报告);
4. the evidence items of the case (``cases.registry.case_evidence``, which
   the evidence app fills: documents may not import their peer), added to
   an evidence list already written.

Everything prefilled is only a starting value: the form shows it editable,
and ``services.issue_document`` checks what is finally sent like any input.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sanxiang.cases.registry import case_evidence
from sanxiang.catalog.models import CatalogueKind
from sanxiang.catalog.selectors import public_items, version_in_force
from sanxiang.core.vocabulary import PenaltyCategory

from .kinds import DocumentKind

# Fields that name the officers acting in the case (with their certificates).
OFFICER_FIELDS = frozenset({"officers", "inspectors", "inquirers", "investigators", "servers"})
# What stays true of the case from one document to the next, and so is
# carried over; event fields (times, places, who spoke) are not.
CARRIED = frozenset({
    "party_address", "legal_representative", "facts", "summary", "evidence", "violated_provision",
    "suspected_provision", "basis", "discretion", "penalty", "proposed_penalty", "decision_content", "fine",
    "confiscation", "payment_channel", "review_body", "court", "contact", "statement_review",
})
# The same content under another name in another kind.
ALIASES = {
    "facts": ("summary",),
    "summary": ("facts",),
    "violated_provision": ("suspected_provision",),
    "suspected_provision": ("violated_provision",),
    "penalty": ("proposed_penalty",),
    "proposed_penalty": ("penalty",),
    "decision_content": ("penalty",),
    "service_place": ("party_address",),
}


@dataclass(frozen=True)
class ItemChoice:
    """An enforcement item the form offers for the 处罚依据."""

    pk: int
    name: str
    basis: str


def _basis_text(item) -> str:
    law = (item.basis_law or "").strip()
    if law and not law.startswith("《"):
        law = f"《{law}》"
    return f"{law}{(item.basis_article or '').strip()}"


def enforcement_items(case) -> list[ItemChoice]:
    """Items of the agency's enforcement-item list in force (公示-3) of the
    case's act kind, with the basis each would fill in."""
    version = version_in_force(agency=case.agency, kind=CatalogueKind.ENFORCEMENT_ITEMS)
    items = public_items(version=version).filter(act_kind=case.act_kind).order_by("code", "pk")
    return [ItemChoice(pk=item.pk, name=item.name, basis=_basis_text(item)) for item in items]


def _yuan(fen: int | None) -> str:
    return "" if fen is None else str((Decimal(fen) / 100).quantize(Decimal("0.01")))


def _yuan_words(fen: int) -> str:
    amount = (Decimal(fen) / 100).quantize(Decimal("0.01"))
    text = f"{amount:,.2f}".removesuffix(".00")
    return f"人民币{text}元"


def proposed_penalty_text(case) -> str:
    """The proposed decision in words: 警告；罚款人民币50,000元；没收违法所得人民币48元."""
    parts = []
    for category in case.proposed_penalty_categories or []:
        if category == PenaltyCategory.FINE and case.proposed_fine_fen:
            parts.append(f"罚款{_yuan_words(case.proposed_fine_fen)}")
        elif category == PenaltyCategory.CONFISCATION and case.proposed_confiscation_fen:
            parts.append(f"没收违法所得、非法财物{_yuan_words(case.proposed_confiscation_fen)}")
        else:
            parts.append(str(category))
    return "；".join(parts)


def officers_text(case) -> str:
    """The case's officers, lead first: 张三（执法证号：13010001）、李四（…）."""
    assignments = case.assignments.select_related("officer").order_by("-role", "assigned_at", "pk")
    # "lead" sorts after "assist": descending puts the lead first.
    return "、".join(f"{a.officer.name}（执法证号：{a.officer.certificate_number}）" for a in assignments)


def _earlier(documents, name: str):
    """The latest value of field ``name`` (or an alias) in the case's
    earlier documents, newest first."""
    for document in sorted(documents, key=lambda d: (d.issued_at, d.pk), reverse=True):
        for key in (name, *ALIASES.get(name, ())):
            value = (document.data or {}).get(key)
            if value not in (None, "", []):
                return value
    return None


def _case_value(case, documents, name: str, spec):
    if name in OFFICER_FIELDS:
        return officers_text(case) or None
    if name == "recipient":
        return case.party_name
    if name in ("penalty", "proposed_penalty", "decision_content"):
        return proposed_penalty_text(case) or None
    if name == "fine" and case.proposed_fine_fen:
        return _yuan(case.proposed_fine_fen)
    if name == "confiscation" and case.proposed_confiscation_fen:
        return _yuan(case.proposed_confiscation_fen)
    if name == "requested_on" and case.hearing_requested_on:
        return case.hearing_requested_on.isoformat()
    if name == "served_on" and case.served_on:
        return case.served_on.isoformat()
    numbered = [d for d in documents if d.number]
    if name == "served_document" and numbered:
        latest = max(numbered, key=lambda d: (d.issued_at, d.pk))
        return f"{latest.title}（{latest.number}）"
    if name == "decision_number":
        decisions = [d for d in numbered if d.kind == "penalty_decision"]
        if decisions:
            return max(decisions, key=lambda d: (d.issued_at, d.pk)).number
    return None


def prefill(*, case, kind: DocumentKind, documents, item_id: int | None = None) -> tuple[dict, list[ItemChoice], ItemChoice | None]:
    """The starting values of ``kind``'s form in ``case`` (field name →
    value in its stored form: text, ISO date, yuan string, list of lines,
    bool), the enforcement items offered and the one used for the basis."""
    documents = list(documents)
    items = enforcement_items(case) if "basis" in kind.field_map else []
    chosen = next((i for i in items if i.pk == item_id), None)
    if chosen is None and item_id is None and len(items) == 1:
        chosen = items[0]
    values: dict = {}
    for spec in kind.fields:
        name = spec.name
        value = None
        if name == "basis" and chosen is not None and item_id is not None:
            value = chosen.basis  # picked on the form: it wins over what was written before
        if value is None and name in CARRIED:
            value = _earlier(documents, name)
        if value is None and name == "basis" and chosen is not None:
            value = chosen.basis
        if value is None:
            value = _case_value(case, documents, name, spec)
        if spec.type == "list" and name == "evidence":
            written = list(value or [])
            value = written + [line for line in case_evidence(case) if line not in written]
        if spec.type == "list" and isinstance(value, str):
            value = [value]
        if spec.type != "list" and isinstance(value, list):
            value = "；".join(str(v) for v in value)
        if spec.type == "bool" and not isinstance(value, bool):
            value = None
        if value not in (None, "", []):
            values[name] = value
    return values, items, chosen
