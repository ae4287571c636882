"""A decided case reaches publicity by itself (公示-14 执法决定信息及时推送公示,
公示-19; issue 11 item 1).

Once a platform case has its decision (the decision step completed:
``Case.decided_on``), the publicity app's case-changed hook
(``cases.registry``, registered in ``apps.py``) builds the decision record
from the case's own data — party, credit code or ID number, decision date,
proposed penalty categories and amounts — and from what the documents app
says about its numbered 决定书 (``cases.registry.decision_facts``: 文号,
legal representative, facts, violated provision, basis, content, amounts),
and stores it through the SAME door as the push API and the 双公示 import:
``intake.validate_record`` then ``services.receive_records`` (the 文号
namespace check included), source ``case``. The record is linked to the
case (``Decision.case``) and keyed ``case-<id>``; a later change of the case
or of its 决定书 is a correction of that record (a new version, republished
with the reason if public), the same content again changes nothing. Once
the record was changed by another door (a 复议 or 诉讼 outcome recorded on
the publicity side, a correction imported by 文号) or withdrawn, the case no
longer overwrites it: that later word stands.

Its publication due date and pre-publication check then follow as for a
pushed record (or the agency's automatic publication).

A decided case whose record cannot be built (no numbered 决定书, a field
the intake refuses, a 文号 held by another decision) does not block the
case: the case page's publicity panel (``case_panel``) lists what is
missing, and the next change of the case tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.urls import reverse

from sanxiang.cases import registry as case_registry
from sanxiang.cases.registry import CasePanel
from sanxiang.core.vocabulary import PUBLICITY_READERS, ActKind, PartyType, PenaltyCategory

from . import intake, services
from .models import Decision, DecisionStatus, PublicDecision, WithdrawalNotice
from .selectors import decisions_for

log = logging.getLogger(__name__)

SOURCE = "case"
# Records the case no longer corrects.
ENDED = (DecisionStatus.WITHDRAWN, DecisionStatus.EXPIRED, DecisionStatus.STOPPED)
FINE = PenaltyCategory.FINE.value
CONFISCATION = PenaltyCategory.CONFISCATION.value


def external_id_for(case) -> str:
    return f"case-{case.pk}"


@dataclass
class CaseRecord:
    """The record a decided case gives (``raw`` for the intake), its
    validated form, or the problems that keep it from publicity."""

    raw: dict | None = None
    record: dict | None = None
    problems: list[str] = field(default_factory=list)


def raw_record(case, *, facts: dict | None = None) -> dict:
    """The raw record (the push API's keys) built from the case and the
    facts of its numbered 决定书."""
    facts = case_registry.decision_facts(case) if facts is None else facts
    existing = Decision.objects.filter(case=case).values_list("external_id", flat=True).first()
    natural = case.party_type == PartyType.NATURAL_PERSON
    raw = {
        "external_id": existing or external_id_for(case),
        "kind": case.act_kind,
        "doc_number": facts.get("doc_number") or "",
        "party_name": case.party_name,
        "party_type": case.party_type,
        "party_credit_code": "" if natural else case.party_credit_code,
        "party_id_number": case.party_id_number,
        "legal_representative": facts.get("legal_representative") or "",
        "decision_date": case.decided_on.isoformat() if case.decided_on else None,
        "basis": facts.get("basis") or "",
        "facts": facts.get("facts") or "",
        "content": facts.get("content") or "",
        "data_source": case.agency.name,
        "data_source_code": case.agency.credit_code,
    }
    if case.act_kind == ActKind.PENALTY:
        fine = facts.get("fine_fen") if facts.get("fine_fen") is not None else case.proposed_fine_fen
        confiscation = (facts.get("confiscation_fen") if facts.get("confiscation_fen") is not None
                        else case.proposed_confiscation_fen)
        categories = list(case.proposed_penalty_categories or [])
        if fine and FINE not in categories:
            categories.append(FINE)
        if confiscation and CONFISCATION not in categories:
            categories.append(CONFISCATION)
        raw.update({
            "violation_type": facts.get("violation_type") or "",
            "penalty_categories": categories,
            "fine_fen": fine if fine or FINE in categories else None,
            "confiscation_fen": confiscation if confiscation or CONFISCATION in categories else None,
        })
    return raw


def build(case) -> CaseRecord:
    """The case's decision record, validated (a read: nothing stored)."""
    if case.decided_on is None:
        return CaseRecord(problems=["本案尚未作出决定。"])
    facts = case_registry.decision_facts(case)
    raw = raw_record(case, facts=facts)
    if not raw["doc_number"]:
        return CaseRecord(raw=raw, problems=["本案尚未出具有文号的决定书（如行政处罚决定书），决定信息无法推送公示；出具后自动推送。"])
    record, errors = intake.validate_record(raw, index=0)
    # Shown on the case page: the field's Chinese name without the API's
    # field code in brackets (intake.label), which means nothing to an officer.
    return CaseRecord(raw=raw, record=record, problems=[e.message.replace(f"（{e.field}）", "") for e in errors])


def sync_case(*, actor, case) -> services.ReceiveResult | None:
    """Create or correct the case's decision record (the case-changed hook
    calls this inside the case write's transaction). None when the case is
    not decided, its record cannot be built yet (see ``build``), or nothing
    changed since the last sync."""
    if case.decided_on is None:
        return None
    built = build(case)
    if built.record is None:
        log.info("publicity: case %s decided but not sent to publicity: %s", case.pk, built.problems)
        return None
    current = Decision.objects.filter(case=case).only("data", "status").first()
    if current is not None:
        if current.status in ENDED:
            return None  # withdrawn, expired or ended early: the case no longer speaks for it
        if current.versions.order_by("-number").values_list("source", flat=True).first() != SOURCE:
            return None  # corrected by hand since (复议, 诉讼, an import): that word stands
        if services.record_digest(current.data) == services.record_digest(built.record):
            return None  # the same content again: no version, no audit entry
    [result] = services.receive_records(actor=actor, agency=case.agency, records=[built.record], source=SOURCE,
                                        reason=f"案件（编号 {case.pk}）的决定信息更正", case=case)
    if result.errors:
        log.info("publicity: case %s refused by intake: %s", case.pk, result.errors)
    return result


def on_case_changed(*, actor, case) -> None:
    """cases.registry case-changed hook: a decided case's record follows it."""
    if case.decided_on is not None:
        sync_case(actor=actor, case=case)


def case_panel(*, user, case) -> CasePanel | None:
    """The case page's publicity section (issue 11 item 1): the decision
    record's status, its publication due date and the public link; or, for
    a decided case without a record, why not. A read."""
    record = decisions_for(user=user).filter(case=case).first()
    if record is None and case.decided_on is None:
        return None
    context: dict = {"record": record, "problems": [], "private_url": "", "public_url": "", "withdrawal_url": ""}
    if record is None:
        built = build(case)
        problems = list(built.problems)
        if built.record is not None and not problems:
            checked = services.check_numbers_only(agency=case.agency, record=built.record, case=case)
            problems.extend(checked)
        context["problems"] = problems
    else:
        if getattr(user, "role", None) in PUBLICITY_READERS:
            context["private_url"] = reverse("publicity:private", kwargs={"pk": record.pk})
        public = PublicDecision.objects.filter(decision=record).values_list("pk", "visible").first()
        if public and public[1] and record.status == DecisionStatus.PUBLISHED:
            context["public_url"] = reverse("publicity:detail", kwargs={"pk": public[0]})
        elif public and WithdrawalNotice.objects.filter(decision=record).exists():
            context["withdrawal_url"] = reverse("publicity:detail", kwargs={"pk": public[0]})
        context["withdrawal"] = WithdrawalNotice.objects.filter(decision=record).first()
    return CasePanel(template="publicity/case_panel.html", context=context, order=200)
