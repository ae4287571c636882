"""Decisions travelling between platforms (docking; 公示-17, 公示-18,
公示-19; docs/docking.md): what a platform sends upward when a decision is
published, corrected or withdrawn, and how the platform above stores it.

- What travels is the PUBLIC copy (``travelling_form``): the redacted
  fields as the portal shows them (``PublicDecision.data``, made by
  redaction.public_copy), never the private record; the natural person's
  ID number, phones and the like are not in it at all.
- The platform above stores it through the same intake as every other
  record (``intake.validate_record`` in public-copy mode: no ID number is
  asked of a natural person, as the public copy has none;
  ``services.receive_records`` with source "docking"), publishes it at
  once (it is public at its source already; its text is redacted again
  here, which changes nothing in redacted text) and withdraws it with the
  source's ground and reason. Its portal and search treat it like a local
  record, naming the platform it came from (``PublicDecision.received_from``:
  来源：由下级平台“…”报送); its versions say it arrived through docking and
  from whom.

The docking app (above publicity) calls ``receive_public_copy`` and
registers a listener in ``registry.register_public_changed``; publicity
never imports docking (docs/decisions/0011)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from sanxiang.core import clock
from sanxiang.core.refusals import message_naming_fields

from . import intake, services
from .models import Decision, DecisionStatus, PublicDecision, WithdrawalGround

SCHEMA = "decision/1"
SOURCE = "docking"


def travelling_form(decision: Decision) -> dict | None:
    """The public copy of a published or withdrawn decision as it travels
    (docs/schemas/docking/decision.v1.schema.json); None when the decision
    has no public copy (never published)."""
    return travelling_forms([decision])[0]


def travelling_forms(decisions: list[Decision]) -> list[dict | None]:
    """``travelling_form`` of many decisions (a batch published at once), in
    order: their public copies read in one query."""
    publics = {p.decision_id: p for p in PublicDecision.objects.filter(decision__in=[d.pk for d in decisions])}
    forms = []
    for decision in decisions:
        public = publics.get(decision.pk)
        if public is None:
            forms.append(None)
            continue
        form = {
            "schema": SCHEMA, "agency": decision.agency.credit_code, "external_id": decision.external_id,
            "kind": decision.kind, "status": "withdrawn" if decision.status == DecisionStatus.WITHDRAWN else "published",
            "source_version": public.version, "record": dict(public.data),
            "published_at": public.published_at.isoformat(),
            "publicity_end": public.publicity_end.isoformat() if public.publicity_end else None,
        }
        notice = getattr(decision, "withdrawal", None) if form["status"] == "withdrawn" else None
        if notice is not None:
            form["withdrawal"] = {"ground": notice.ground, "reason": notice.reason,
                                  "changed_on": (decision.withdrawal_changed_on or clock.local_date(notice.withdrawn_at)).isoformat()}
        forms.append(form)
    return forms


@dataclass(frozen=True)
class Received:
    outcome: str  # "applied" or "refused"
    code: str = ""
    message: str = ""
    decision_id: int | None = None


def _refused(code: str, message: str) -> Received:
    return Received("refused", code, message)


def receive_public_copy(*, actor: str, agency, form: dict, source_name: str) -> Received:
    """Store, publish, correct or withdraw the decision a lower platform
    sent (``form``: travelling_form there). Called inside the receiving
    transaction; every refusal names the field."""
    [received] = receive_public_copies(actor=actor, agency=agency, forms=[form], source_name=source_name)
    return received


def receive_public_copies(*, actor: str, agency, forms: list[dict], source_name: str) -> list[Received]:
    """``receive_public_copy`` for many decisions of one agency (a batch of
    docking messages), one Received per form in order: the publications and
    corrections stored and published together (services.receive_records with
    ``publish``: a few statements for the lot), withdrawals one by one."""
    received: list[Received | None] = [None] * len(forms)
    records, where = [], []
    for n, form in enumerate(forms):
        record = form.get("record")
        external_id = form.get("external_id")
        if not isinstance(record, dict) or not isinstance(external_id, str) or not external_id:
            received[n] = _refused("invalid", "record / external_id：缺少决定的公开内容或外部编号。")
            continue
        if form.get("status") == "withdrawn":
            received[n] = _withdraw(actor=actor, agency=agency, external_id=external_id, form=form)
            continue
        raw = {**record, "external_id": external_id, "kind": form.get("kind") or record.get("kind")}
        validated, errors = intake.validate_record(raw, index=n, public_copy=True)
        if errors:
            received[n] = _refused("invalid", "；".join(f"{e.field}：{e.message}" for e in errors[:10]))
            continue
        records.append(validated)
        where.append(n)
    if records:
        results = services.receive_records(actor=actor, agency=agency, records=records, source=SOURCE,
                                           reason=f"由下级平台“{source_name}”报送", publish=True)
        for n, result in zip(where, results, strict=True):
            if result.outcome == services.REJECTED or result.decision_id is None:
                message = "；".join(e.get("message", "") for e in result.errors) or "该记录未能保存。"
                received[n] = _refused(result.errors[0].get("code", "rejected") if result.errors else "rejected",
                                       message)
            else:
                received[n] = Received("applied", decision_id=result.decision_id)
        # The portal names the platform the record came from (PublicDecision.
        # received_from: on the row the pages and search read, no join).
        stored = [received[n].decision_id for n in where if received[n].outcome == "applied"]
        PublicDecision.objects.filter(decision_id__in=stored).exclude(received_from=source_name[:255]) \
            .update(received_from=source_name[:255])
    return received


def _withdraw(*, actor: str, agency, external_id: str, form: dict) -> Received:
    decision = Decision.objects.filter(agency=agency, external_id=external_id).first()
    if decision is None:
        return _refused("unknown_decision", f"external_id：本平台没有该部门外部编号为“{external_id[:64]}”的决定，无法撤回。")
    if decision.status == DecisionStatus.WITHDRAWN:
        return Received("applied", decision_id=decision.pk)
    withdrawal = form.get("withdrawal") if isinstance(form.get("withdrawal"), dict) else {}
    ground = withdrawal.get("ground")
    if ground not in WithdrawalGround.values:
        return _refused("invalid", f"withdrawal.ground：撤回事由无效，应为：{'、'.join(WithdrawalGround.values)}。")
    try:
        changed_on = date.fromisoformat(str(withdrawal.get("changed_on") or ""))
    except ValueError:
        changed_on = None
    try:
        with transaction.atomic():
            services.withdraw_decision(actor=actor, decision=decision, ground=ground,
                                       reason=str(withdrawal.get("reason") or ""), changed_on=changed_on)
    except (ValidationError, PermissionDenied) as exc:
        return _refused("not_withdrawn", message_naming_fields(exc))
    return Received("applied", decision_id=decision.pk)
