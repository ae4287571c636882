"""Writes of the publicity domain (公示-2, 公示-14, 公示-16, 公示-19).

receive_records   intake of validated records, keyed by (agency, external id):
                  a second push with other content is a new version (a
                  correction), never a duplicate; the same content again is
                  "unchanged" (no version); a record the database refuses
                  fails alone, never its batch
publish_decision  the pre-publication check: redact, publish, index, audit
withdraw_decision decision changed/revoked/illegal/void: off the portal and out
                  of search, a withdrawal notice published with the reason
expire_publicity  the scheduled job: records leave the portal at 公示截止期
apply_early_end / decide_early_end  credit repair: the party's application (once per
                  decision), approved by the office the dated rules name, never
                  by whoever recorded it (predicates.py)

Every function appends to the audit chain in its own transaction. Search is
updated visibly here (no signals): index on publish/correct, unindex on
withdraw/expire/stop.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from sanxiang.core import doc_numbers
from sanxiang.core.audit import PendingEntry, append_audit, append_audit_many, canonical_json, pending_entry
from sanxiang.core.calendar import calendar_session
from sanxiang.core.deadlines import add_rule_period, period_text
from sanxiang.core.refusals import Refused, reject
from sanxiang.core.vocabulary import is_natural_person
from sanxiang.core.models import Agency
from sanxiang.rules.loader import get_rule

from . import predicates, registry, search
from .redaction import PublicText
from .models import (
    PENALTY_SEVERITY, ActKind, Decision, DecisionStatus, DecisionVersion, EarlyEndApplication, EarlyEndChannel,
    EarlyEndStatus,
    PublicDecision, PublicitySettings, PublicVersion, WithdrawalGround, WithdrawalNotice,
)
from sanxiang.core import clock

# Categories after which credit repair may not end publicity early.
NO_EARLY_END = predicates.NO_EARLY_END
# Penalties light enough for the short publicity period, besides small fines.
LIGHT_CATEGORIES = {"警告", "通报批评"}

PUBLICATION_RULES = {
    ActKind.LICENSE: "publicity.licence_publication_limit",
    ActKind.PENALTY: "publicity.penalty_publication_limit",
}
OTHER_PUBLICATION_RULE = "publicity.other_decision_publication_limit"


log = logging.getLogger(__name__)

CREATED, CORRECTED, UNCHANGED, REJECTED = "created", "corrected", "unchanged", "rejected"


@dataclass
class ReceiveResult:
    external_id: str
    decision_id: int | None
    version: int | None
    status: str
    created: bool
    publication_due: date | None = None
    publication_due_provisional: bool = False
    published: bool = False
    warnings: list[str] = field(default_factory=list)
    # created | corrected | unchanged (same content as the current version:
    # no new version) | rejected (the database refused the record; errors)
    outcome: str = ""
    errors: list[dict] = field(default_factory=list)
    digest: str = ""


def record_digest(data: dict) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def main_category(categories: list[str]) -> str:
    """The heaviest penalty category (statistics count a case once, under it)."""
    known = [c for c in categories if c in PENALTY_SEVERITY]
    return max(known, key=PENALTY_SEVERITY.__getitem__) if known else ""


def _agency_settings(agency: Agency) -> PublicitySettings:
    settings_row = getattr(agency, "_publicity_settings_cache", None)
    if settings_row is None:
        settings_row, _ = PublicitySettings.objects.get_or_create(agency=agency)
        agency._publicity_settings_cache = settings_row
    return settings_row


def plan_publication(decision: Decision, *, agency: Agency, session: dict | None = None) -> None:
    """Set, in memory, whether and by when the decision must be published:
    7 working days for licences and penalties, 20 for others (国办发〔2018〕
    118号), per-agency overrides from the dated rules, on the official
    calendar; or why it must never be published (penalty law art. 50)."""
    from .redaction import should_never_publish

    reason = should_never_publish(decision.data)
    if reason:
        decision.not_public_reason = reason
        if decision.status == DecisionStatus.PENDING:
            decision.status = DecisionStatus.NOT_PUBLIC
        decision.publication_due = None
        decision.publication_due_provisional = False
        decision.publication_rule = ""
        return
    decision.not_public_reason = ""
    if decision.status == DecisionStatus.NOT_PUBLIC:
        decision.status = DecisionStatus.PENDING
    rule_name = PUBLICATION_RULES.get(decision.kind, OTHER_PUBLICATION_RULE)
    # A batch shares one calendar view and computes each (rule, date) once.
    session = session if session is not None else {}
    key = (rule_name, decision.decision_date, agency.pk)
    if key not in session:
        rule = get_rule(rule_name, on=decision.decision_date, agency=agency)
        oracle = session.setdefault("oracle", calendar_session())
        due = add_rule_period(start=decision.decision_date, rule=rule, oracle=oracle)
        session[key] = (due.date, due.provisional, f"{period_text(rule.value, rule.unit)} · {rule.reference}"[:255])
    decision.publication_due, decision.publication_due_provisional, decision.publication_rule = session[key]


def recompute_provisional_deadlines(*, actor, year: int) -> int:
    """Recompute every provisional publication due date on the calendar as it
    now stands (called by the calendar load, core.calendar registry). Each
    decision whose due date or flag changes is saved and audited. Returns how
    many were looked at."""
    rows = list(Decision.objects.select_for_update().filter(publication_due_provisional=True)
                .select_related("agency", "agency__region"))
    session: dict = {}
    for decision in rows:
        before = (decision.publication_due, decision.publication_due_provisional, decision.publication_rule)
        status = decision.status
        plan_publication(decision, agency=decision.agency, session=session)
        decision.status = status  # only the due date is recomputed here
        after = (decision.publication_due, decision.publication_due_provisional, decision.publication_rule)
        if after == before:
            continue
        decision.save(update_fields=["publication_due", "publication_due_provisional", "publication_rule"])
        append_audit(actor=actor, action="publicity.deadline_recompute", obj=decision, payload={
            "calendar_year": year,
            "before": {"publication_due": before[0] and before[0].isoformat(), "provisional": before[1]},
            "after": {"publication_due": after[0] and after[0].isoformat(), "provisional": after[1]}})
    return len(rows) + _recompute_provisional_withdrawals(actor=actor, year=year)


def _recompute_provisional_withdrawals(*, actor, year: int) -> int:
    """The withdrawal limits (3 working days from the change) that were
    provisional, with the notice's due date and whether it was met."""
    rows = list(Decision.objects.select_for_update().filter(withdrawal_due_provisional=True,
                                                            withdrawal_changed_on__isnull=False)
                .select_related("agency", "agency__region"))
    for decision in rows:
        rule_name = ("publicity.penalty_withdrawal_limit" if decision.kind == ActKind.PENALTY
                     else "publicity.other_decision_withdrawal_limit")
        rule = get_rule(rule_name, on=decision.withdrawal_changed_on, agency=decision.agency)
        period = add_rule_period(start=decision.withdrawal_changed_on, rule=rule)
        before = {"withdrawal_due": decision.withdrawal_due.isoformat() if decision.withdrawal_due else None,
                  "provisional": True}
        decision.withdrawal_due, decision.withdrawal_due_provisional = period.date, period.provisional
        decision.save(update_fields=["withdrawal_due", "withdrawal_due_provisional"])
        notice = WithdrawalNotice.objects.filter(decision=decision).first()
        if notice is not None:
            notice.due = period.date
            notice.on_time = clock.local_date(notice.withdrawn_at) <= period.date
            notice.save(update_fields=["due", "on_time"])
        append_audit(actor=actor, action="publicity.withdrawal_deadline_recompute", obj=decision, payload={
            "calendar_year": year, "before": before,
            "after": {"withdrawal_due": period.date.isoformat(), "provisional": period.provisional}})
    return len(rows)


def publicity_period_end(*, data: dict, kind: str, start: date, agency: Agency) -> date:
    """公示截止期: 3 months for 通报批评 (or lighter) and small fines, 3 years
    otherwise (market-regulation practice, configurable as dated rules)."""
    categories = data.get("penalty_categories") or []
    fine = data.get("fine_fen")
    short = False
    if kind == ActKind.PENALTY and categories:
        threshold = get_rule("publicity.small_fine_threshold", on=start, agency=agency)
        small_fine = fine is not None and Decimal(fine) <= Decimal(threshold.value) * 100
        rest = set(categories) - LIGHT_CATEGORIES - ({"罚款"} if small_fine else set())
        short = not rest and not data.get("confiscation_fen")
    rule = get_rule("publicity.short_publicity_period" if short else "publicity.long_publicity_period", on=start, agency=agency)
    return add_rule_period(start=start, rule=rule).date


def _apply_fields(decision: Decision, data: dict) -> None:
    decision.data = data
    decision.kind = data["kind"]
    decision.doc_number = data["doc_number"]
    decision.party_name = data["party_name"]
    decision.party_type = data["party_type"]
    decision.decision_date = date.fromisoformat(data["decision_date"]) if isinstance(data["decision_date"], str) else data["decision_date"]


# What may go wrong when the database stores one record that intake did not
# foresee (a value it cannot encode, a constraint): that record fails, alone.
STORAGE_ERRORS = (DatabaseError, UnicodeError, ValueError, TypeError, OverflowError)


def _number_refusal(*, rec: dict, number: str, holder: doc_numbers.NumberHolder) -> ReceiveResult:
    message = (f"文号“{number}”已由{holder.label}使用；本条记录（外部编号“{rec['external_id']}”，当事人“{rec['party_name']}”）"
               "是另一个决定，不能使用同一文号。同一决定的更正请以原记录的外部编号推送；文号有误的请核对后重新推送。")
    return ReceiveResult(external_id=rec["external_id"], decision_id=None, version=None, status="", created=False,
                         outcome=REJECTED, errors=[{"field": "doc_number", "code": "number_taken", "message": message}])


def _check_numbers(*, agency: Agency, records: list[dict], case_id: int | None) -> list:
    """One 文号 namespace per agency (issue 11; push API, 双公示 import and
    case-derived records alike): for each record, in order, the record to
    store or a ``rejected`` result (code ``number_taken``).

    A number held by another decision of the agency (another external id
    and another party, or a platform case's 决定书 for another party) is
    refused, naming both. A number held by a record about the same party
    (a 双公示 file that keys by 文号 re-sending a pushed or case-derived
    decision) is that record: the incoming one becomes its correction,
    under its external id (the import page's promise)."""
    numbers = {rec["doc_number"] for rec in records if rec.get("doc_number")}
    holders = doc_numbers.holders_of(agency=agency, numbers=numbers)
    if not holders and len(numbers) == len(records):
        return list(records)
    held_ids = set(Decision.objects.filter(agency=agency, external_id__in=[r["external_id"] for r in records])
                   .values_list("external_id", flat=True))
    in_batch: dict[str, doc_numbers.NumberHolder] = {}
    checked: list = []
    for rec in records:
        number = rec.get("doc_number") or ""
        codes = (rec.get("party_credit_code") or "", rec.get("party_id_number") or "")
        known = [h for h in holders.get(number, []) if not (h.source == "publicity" and h.external_id == rec["external_id"])]
        if number in in_batch and in_batch[number].external_id != rec["external_id"]:
            known.append(in_batch[number])
        known.sort(key=lambda h: h.source != "publicity")  # name the decision record first
        refusal, target = None, rec["external_id"]
        for h in known:
            if h.case_id is not None and h.case_id == case_id:
                continue  # the case's own 决定书 (or the record already derived from it)
            if doc_numbers.same_party(h, party_name=rec["party_name"], party_codes=codes):
                if h.source == "publicity" and h.external_id and rec["external_id"] not in held_ids:
                    target = h.external_id  # the same decision under another key: a correction of it
                continue
            refusal = _number_refusal(rec=rec, number=number, holder=h)
            break
        if refusal is not None:
            checked.append(refusal)
            continue
        if target != rec["external_id"]:
            notes = getattr(rec, "normalised", None)
            rec = type(rec)(rec)
            if notes is not None:
                rec.normalised = notes
            rec["external_id"] = target
        if number and number not in in_batch:
            in_batch[number] = doc_numbers.NumberHolder(
                number=number, source="publicity", external_id=rec["external_id"], party_name=rec["party_name"],
                party_codes=tuple(c for c in codes if c),
                label=f"同批的记录（外部编号“{rec['external_id']}”，当事人“{rec['party_name']}”）")
        checked.append(rec)
    return checked


def check_numbers_only(*, agency: Agency, record: dict, case=None) -> list[str]:
    """Why ``record``'s 文号 would be refused (a read: the case page shows it)."""
    [checked] = _check_numbers(agency=agency, records=[record], case_id=case.pk if case is not None else None)
    return [e["message"] for e in checked.errors] if isinstance(checked, ReceiveResult) else []


def number_holders(*, agency, numbers):
    """The agency's decision records holding some of ``numbers``
    (core.doc_numbers: the documents app's numbering skips them)."""
    rows = Decision.objects.filter(agency=agency, doc_number__in=list(numbers)).values_list(
        "pk", "doc_number", "external_id", "party_name", "case_id", "data")
    for pk, number, external_id, party_name, case_id, data in rows:
        yield doc_numbers.NumberHolder(
            number=number, source="publicity", case_id=case_id, record_id=pk, external_id=external_id,
            party_name=party_name,
            party_codes=tuple(c for c in ((data or {}).get("party_credit_code"), (data or {}).get("party_id_number")) if c),
            label=f"公示记录（外部编号“{external_id}”，当事人“{party_name}”）")


@transaction.atomic
def receive_records(*, actor, agency: Agency, records: list[dict], source: str, reason: str = "",
                    case=None, publish: bool = False) -> list[ReceiveResult]:
    """Check every record's 文号 against the agency's namespace
    (``_check_numbers``), then store the others (``_store_records``).
    ``case``: the platform case a record is derived from (case_sync.py);
    the stored record is linked to it. ``publish``: what is pending is
    published at once by ``actor``, as if the agency published
    automatically (a public copy a lower platform sent: public at its
    source already; docked.receive_public_copies)."""
    checked = _check_numbers(agency=agency, records=records, case_id=case.pk if case is not None else None)
    kept = [rec for rec in checked if not isinstance(rec, ReceiveResult)]
    stored = iter(_store_records(actor=actor, agency=agency, records=kept, source=source, reason=reason,
                                 refused=[r for r in checked if isinstance(r, ReceiveResult)],
                                 case=case, publish=publish))
    results = [rec if isinstance(rec, ReceiveResult) else next(stored) for rec in checked]
    if case is not None:
        ids = [r.decision_id for r in results if r.decision_id]
        Decision.objects.filter(pk__in=ids, case__isnull=True).update(case=case)
    return results


def _store_records(*, actor, agency: Agency, records: list[dict], source: str, reason: str = "",
                   refused: list[ReceiveResult], case=None, publish: bool = False) -> list[ReceiveResult]:
    """Store validated records (see intake.validate_record) for one agency;
    one result per record, in input order.

    New (agency, external id) → a new decision, version 1 (``created``).
    Known with other content → a new version (``corrected``), republished at
    once if it was public. Known with the same content as its current version
    → ``unchanged``: no version, no republication (retries and re-imports are
    harmless). The batch is stored in one go; if the database refuses it,
    each record is stored in its own savepoint and only the refused ones are
    ``rejected`` (never half-written, never taking the others down). One
    audit entry records the batch: each record's outcome, version and
    SHA-256, and the fields intake normalised.

    The audit entries (each publication's, then the batch's) are prepared
    while storing and appended last, in one go: the chain's lock is taken
    just before the commit, not for the whole batch (docs/audit.md)."""
    entries: list[PendingEntry] = []
    try:
        with transaction.atomic():
            results = _receive_all(actor=actor, agency=agency, records=records, source=source, reason=reason,
                                   entries=entries, publish=publish)
    except STORAGE_ERRORS:
        log.warning("publicity: a batch of %d records was refused; storing record by record", len(records), exc_info=True)
        results, entries = [], []
        for rec in records:
            try:
                with transaction.atomic():
                    mine: list[PendingEntry] = []
                    results.extend(_receive_all(actor=actor, agency=agency, records=[rec], source=source, reason=reason,
                                                entries=mine, publish=publish))
                entries.extend(mine)
            except STORAGE_ERRORS as exc:
                log.warning("publicity: record %r refused by the database: %r", rec.get("external_id"), exc)
                results.append(ReceiveResult(
                    external_id=rec.get("external_id", ""), decision_id=None, version=None, status="", created=False,
                    outcome=REJECTED, errors=[{"field": "record", "code": "not_storable",
                                               "message": "该记录无法保存（含有数据库不能存储的内容），请检查后重新推送；同批其他记录不受影响。"}]))
    normalised = {rec["external_id"]: rec.normalised for rec in records if getattr(rec, "normalised", None)}
    payload = {
        "agency": agency.credit_code, "source": source, "count": len(records) + len(refused),
        "records": [[r.external_id, r.version, r.digest, r.outcome] for r in results],
    }
    if refused:
        payload["number_taken"] = [[r.external_id, r.errors[0]["message"]] for r in refused]
    if case is not None:
        payload["case"] = case.pk
    if normalised:
        payload["normalised"] = normalised
    entries.append(pending_entry(actor=actor, action="publicity.receive", object_type="core.agency",
                                 object_id=str(agency.pk), payload=payload))
    append_audit_many(entries)
    return results


def _receive_all(*, actor, agency, records, source, reason, entries: list[PendingEntry],
                 publish: bool = False) -> list[ReceiveResult]:
    # A key repeated inside one batch is applied in order: pass after pass.
    ordered: list[ReceiveResult | None] = [None] * len(records)
    pending = list(enumerate(records))
    while pending:
        seen, this_pass, later = set(), [], []
        for item in pending:
            (later if item[1]["external_id"] in seen else this_pass).append(item)
            seen.add(item[1]["external_id"])
        results = _receive_pass(actor=actor, agency=agency, records=[rec for _, rec in this_pass], source=source,
                                reason=reason, entries=entries, publish=publish)
        for (i, _), r in zip(this_pass, results):
            ordered[i] = r
        pending = later
    return ordered


DECISION_INSERT_FIELDS = ("agency", "external_id", "kind", "status", "version", "data", "doc_number", "party_name",
                          "party_type", "decision_date", "not_public_reason", "publication_due",
                          "publication_due_provisional", "publication_rule", "received_at",
                          "withdrawal_due_provisional")
DECISION_INSERT_ATTRS = tuple(f + "_id" if f == "agency" else f for f in DECISION_INSERT_FIELDS)
VERSION_INSERT_FIELDS = ("decision", "number", "data", "reason", "source", "actor", "created_at")
PUBLIC_INSERT_FIELDS = ("decision", "agency", "region_path", "kind", "version", "doc_number", "party_name", "title",
                        "data", "main_category", "fine_fen", "decision_date", "published_at", "publicity_end", "visible")
PUBLIC_INSERT_ATTRS = tuple(f + "_id" if f in ("decision", "agency") else f for f in PUBLIC_INSERT_FIELDS)
PUBLIC_VERSION_INSERT_FIELDS = ("public", "number", "data", "reason", "published_at")


def _insert_rows(model, field_names, rows) -> None:
    """INSERT many rows with one prepared statement (executemany).

    The push API's throughput target (公示-19: thousands of records a second)
    is out of reach through bulk_create, whose per-value SQL compilation
    costs five times the insert itself (measured: 2.2 s of 2.8 s for 10,000
    rows on SQLite). Values are adapted exactly as Django would store them."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in field_names]
    ops = connection.ops
    adapters = []
    for f in fields:
        internal = f.get_internal_type()
        if internal == "JSONField":
            adapters.append(lambda v, f=f: ops.adapt_json_value(v, f.encoder))
        elif internal == "DateField":
            adapters.append(ops.adapt_datefield_value)
        elif internal == "DateTimeField":
            adapters.append(ops.adapt_datetimefield_value)
        else:
            adapters.append(None)
    qn = ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        qn(model._meta.db_table), ", ".join(qn(f.column) for f in fields), ", ".join(["%s"] * len(fields)))
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[a(v) if a else v for a, v in zip(adapters, row)] for row in rows])


def _receive_pass(*, actor, agency, records, source, reason, entries: list[PendingEntry],
                  publish: bool = False) -> list[ReceiveResult]:
    actor_name = getattr(actor, "username", None) or str(actor)
    existing = {d.external_id: d for d in Decision.objects.filter(agency=agency, external_id__in=[r["external_id"] for r in records])}
    new, changed, session = [], [], {}
    unchanged: dict[int, Decision] = {}
    digests = [record_digest(rec) for rec in records]
    for n, rec in enumerate(records):
        decision = existing.get(rec["external_id"])
        if decision is not None and record_digest(decision.data) == digests[n]:
            unchanged[n] = decision  # the same content again: nothing to store
            continue
        if decision is None:
            decision = Decision(agency=agency, external_id=rec["external_id"], version=1)
            new.append(decision)
        else:
            decision.version += 1
            changed.append(decision)
        _apply_fields(decision, rec)
        if decision.status in (DecisionStatus.PENDING, DecisionStatus.NOT_PUBLIC):
            plan_publication(decision, agency=agency, session=session)
        existing[rec["external_id"]] = decision
    now = timezone.now()
    for d in new:
        d.received_at = now
    _insert_rows(Decision, DECISION_INSERT_FIELDS, [[getattr(d, f) for f in DECISION_INSERT_ATTRS] for d in new])
    if new:
        ids = dict(Decision.objects.filter(agency=agency, external_id__in=[d.external_id for d in new])
                   .values_list("external_id", "pk"))
        for d in new:
            d.pk = ids[d.external_id]
            d._state.adding = False
    if changed:
        Decision.objects.bulk_update(changed, ["data", "kind", "doc_number", "party_name", "party_type", "decision_date",
                                               "version", "status", "not_public_reason", "publication_due",
                                               "publication_due_provisional", "publication_rule"], batch_size=500)
    decisions = [existing[r["external_id"]] for r in records]
    _insert_rows(DecisionVersion, VERSION_INSERT_FIELDS, [
        [d.pk, d.version, d.data, (d.data.get("correction_reason") or reason) if d.version > 1 else "", source, actor_name, now]
        for n, d in enumerate(decisions) if n not in unchanged
    ])
    new_ids = {id(d) for d in new}
    auto = publish or _agency_settings(agency).auto_publish
    auto_actor = actor_name if publish else "system:auto-check"
    to_publish, published = [], set()
    for n, d in enumerate(decisions):
        if n in unchanged:
            continue
        if d.status == DecisionStatus.PUBLISHED:
            to_publish.append((d, actor_name, d.data.get("correction_reason") or reason or "执法决定信息更正"))
            published.add(n)
        elif auto and d.status == DecisionStatus.PENDING:
            to_publish.append((d, auto_actor, ""))
            published.add(n)
    entries.extend(_publish_many(to_publish)[1])
    results = []
    for n, d in enumerate(decisions):
        if n in unchanged:
            results.append(ReceiveResult(
                external_id=d.external_id, decision_id=d.pk, version=d.version, status=d.status, created=False,
                publication_due=d.publication_due, publication_due_provisional=d.publication_due_provisional,
                warnings=[d.not_public_reason] if d.not_public_reason else [], outcome=UNCHANGED, digest=digests[n],
            ))
            continue
        results.append(ReceiveResult(
            external_id=d.external_id, decision_id=d.pk, version=d.version, status=d.status, created=id(d) in new_ids,
            publication_due=d.publication_due, publication_due_provisional=d.publication_due_provisional,
            published=n in published, warnings=[d.not_public_reason] if d.not_public_reason else [],
            outcome=CREATED if id(d) in new_ids else CORRECTED, digest=digests[n],
        ))
    return results


def public_note(decision: Decision, text: str) -> str:
    """Free text that will be public (a correction or withdrawal reason),
    redacted with the record's own personal values known."""
    return _public_copy(decision, notes={"note": text or ""}).notes["note"]


def _public_copy(decision: Decision, *, data: dict | None = None, notes: dict | None = None,
                 findings_out: dict | None = None):
    """The public copy of the decision (its current data unless ``data``)
    and of the notes published with it: the only way public text is made
    (redaction.public_copy; the public models refuse anything else).
    ``findings_out`` receives what was hidden in each field (the
    pre-publication check shows it)."""
    from .redaction import public_copy

    return public_copy(decision.data if data is None else data, kind=decision.kind, notes=notes,
                       party_is_natural_person=is_natural_person(decision.party_type),
                       name_rule=_agency_settings(decision.agency).name_rule, findings_out=findings_out)


def public_title(data: dict, kind: str) -> str:
    from .redaction import TITLE_LABELS

    return f"{data.get('party_name', '')}{TITLE_LABELS.get(kind, '行政执法决定')}"[:255]


def _publish(*, decision: Decision, actor: str, reason: str) -> PublicDecision:
    """Create or update the public copy from the decision's current version."""
    [public], entries = _publish_many([(decision, actor, reason)])
    append_audit_many(entries)
    return public


def _publish_many(items: list[tuple[Decision, str, str]]) -> tuple[list[PublicDecision], list[PendingEntry]]:
    """Create or update the public copies of ``items`` ((decision, actor,
    reason), distinct decisions) from each decision's current version, in
    a few statements for the lot: the public rows, their history, the
    decisions' status and the search index. Returns the public copies and
    the audit entries to append (one per decision: publicity.publish the
    first time, publicity.correct after), which the caller appends in the
    same transaction."""
    from .redaction import check_public_row, loaded_fingerprints

    if not items:
        return [], []
    now = timezone.now()
    today = clock.local_date(now)
    existing = {p.decision_id: p for p in PublicDecision.objects.filter(decision__in=[d.pk for d, _, _ in items])}
    publics, created, versions, entries = [], [], [], []
    status_groups: dict[tuple, list[int]] = defaultdict(list)
    for decision, actor, reason in items:
        agency = decision.agency
        copy = _public_copy(decision, notes={"reason": reason or ""})
        public_data = copy.data
        public = existing.get(decision.pk)
        first_publication = decision.published_at is None
        if first_publication:
            decision.published_at = now
            decision.publicity_end = publicity_period_end(data=decision.data, kind=decision.kind, start=today,
                                                          agency=agency)
        decision.status = DecisionStatus.PUBLISHED
        status_groups[(decision.published_at, decision.publicity_end)].append(decision.pk)
        values = dict(
            agency=agency, region_path=agency.region.path, kind=decision.kind, version=decision.version,
            doc_number=copy.doc_number, party_name=copy.party_name, title=copy.title, data=public_data,
            main_category=main_category(public_data.get("penalty_categories") or []),
            fine_fen=public_data.get("fine_fen"), decision_date=decision.decision_date,
            published_at=public.published_at if public else now, publicity_end=decision.publicity_end, visible=True,
        )
        if public is not None:
            for k, v in values.items():
                setattr(public, k, v)
            public.save()
        else:
            public = PublicDecision(decision=decision, **values)
            check_public_row(public, PublicDecision._meta.label)  # what PublicDecision.save checks
            created.append(public)
        publics.append(public)
        versions.append(PublicVersion(public=public, number=decision.version, data=public_data,
                                      reason=PublicText("") if first_publication else copy.notes["reason"],
                                      published_at=now))
        entries.append(pending_entry(
            actor=actor, action="publicity.publish" if first_publication else "publicity.correct", obj=decision,
            payload={"version": decision.version, "public_digest": record_digest(public_data), "reason": reason}))
    for (published_at, publicity_end), pks in status_groups.items():
        Decision.objects.filter(pk__in=pks).update(status=DecisionStatus.PUBLISHED, published_at=published_at,
                                                   publicity_end=publicity_end)
    # executemany, as for the decisions (_insert_rows): bulk_create on
    # PostgreSQL sends each column as one array, and quoting the JSON texts
    # into array literals in Python cost more than the inserts themselves
    # (0.39 of 1.4 s for a batch of 500 published records)
    _insert_rows(PublicDecision, PUBLIC_INSERT_FIELDS, [[getattr(p, a) for a in PUBLIC_INSERT_ATTRS] for p in created])
    if created:
        ids = dict(PublicDecision.objects.filter(decision__in=[p.decision_id for p in created])
                   .values_list("decision_id", "pk"))
        for public in created:
            public.pk = ids[public.decision_id]
            public._state.adding = False
            public._public_loaded = loaded_fingerprints(public, PublicDecision._meta.label)
    for version in versions:
        check_public_row(version, PublicVersion._meta.label)  # what PublicVersion.save checks
    _insert_rows(PublicVersion, PUBLIC_VERSION_INSERT_FIELDS,
                 [[v.public.pk, v.number, v.data, v.reason, v.published_at] for v in versions])
    search.index_publics(publics)
    # docking sends the public copies upward (publicity/registry.py)
    registry.public_changed([decision for decision, _actor, _reason in items], "published")
    return publics, entries


@transaction.atomic
def publish_decision(*, actor, decision: Decision, confirmed: bool = True,
                     checked_version: int | None = None) -> PublicDecision:
    """The pre-publication check by the agency's publicity administrator.

    The check page passes ``confirmed`` (its box "我已核对公开文本") and the
    ``checked_version`` it showed: without the confirmation, or when the
    record was corrected after it was shown, nothing is published."""
    decision = Decision.objects.select_for_update().select_related("agency", "agency__region").get(pk=decision.pk)
    _enforce(predicates.can_manage_publicity(actor, decision.agency, what="发布"))
    if decision.status == DecisionStatus.NOT_PUBLIC:
        reject("status", f"该决定依法不予公开：{decision.not_public_reason}", "not_public")
    if decision.status != DecisionStatus.PENDING:
        reject("status", f"该决定当前状态为“{decision.get_status_display()}”，不能发布。", "not_pending")
    if not confirmed:
        reject("confirmed", "发布前须核对公开文本并勾选“我已核对公开文本”。", "not_confirmed")
    if checked_version is not None and checked_version != decision.version:
        reject("checked_version", f"核对后该决定已更新为第{decision.version}版（核对的是第{checked_version}版），"
               "请重新核对公开文本后再发布。", "changed_since_check")
    return _publish(decision=decision, actor=getattr(actor, "username", str(actor)), reason="")


def auto_publish_enabled(agency: Agency) -> bool:
    """Whether the agency publishes received decisions without the
    pre-publication check (a read: no settings row is created)."""
    return bool(PublicitySettings.objects.filter(agency=agency).values_list("auto_publish", flat=True).first())


@transaction.atomic
def set_auto_publish(*, actor, agency: Agency, enabled: bool) -> PublicitySettings:
    """Switch automatic publication (publication without the administrator's
    pre-publication check) for an agency: its publicity administrator or
    head, or a system administrator, or the operator's console (a string
    actor; issue 9: every service checks who acts)."""
    _enforce(predicates.can_manage_publicity(actor, agency, what="设置自动公示"))
    row, _ = PublicitySettings.objects.select_for_update().get_or_create(agency=agency)
    row.auto_publish = enabled
    row.save(update_fields=["auto_publish"])
    append_audit(actor=actor, action="publicity.auto_publish", obj=agency, payload={"enabled": enabled})
    return row


def _hide(decision: Decision) -> None:
    PublicDecision.objects.filter(decision=decision).update(visible=False)
    public_id = PublicDecision.objects.filter(decision=decision).values_list("pk", flat=True).first()
    if public_id:
        search.unindex_public(public_id)


@transaction.atomic
def withdraw_decision(*, actor, decision: Decision, ground: str, reason: str, changed_on: date | None = None) -> WithdrawalNotice:
    """公示-2: a published decision that was changed, revoked, confirmed
    illegal or void leaves the portal and search, and a notice with the
    reason is published; due within the dated limit (3 working days for
    penalties, penalty law art. 48 with art. 85) from the day it changed."""
    decision = Decision.objects.select_for_update().select_related("agency", "agency__region").get(pk=decision.pk)
    _enforce(predicates.can_manage_publicity(actor, decision.agency, what="撤回"))
    if ground not in WithdrawalGround.values:
        reject("ground", f"撤回事由无效，应为：{'、'.join(WithdrawalGround.values)}。", "invalid_choice")
    if not (reason or "").strip():
        reject("reason", "撤回须公开说明理由。", "required")
    if decision.status != DecisionStatus.PUBLISHED:
        reject("status", f"只能撤回已公示的决定（当前：{decision.get_status_display()}）。", "not_published")
    now = timezone.now()
    today = clock.local_date(now)
    changed_on = changed_on or today
    if changed_on > today:
        reject("changed_on", "决定变更日期不能晚于今天。", "future")
    rule_name = "publicity.penalty_withdrawal_limit" if decision.kind == ActKind.PENALTY else "publicity.other_decision_withdrawal_limit"
    rule = get_rule(rule_name, on=changed_on, agency=decision.agency)
    period = add_rule_period(start=changed_on, rule=rule)
    due = period.date
    _hide(decision)
    decision.status = DecisionStatus.WITHDRAWN
    decision.withdrawn_at = now
    decision.withdrawal_due, decision.withdrawal_due_provisional = due, period.provisional
    decision.withdrawal_changed_on = changed_on
    decision.save(update_fields=["status", "withdrawn_at", "withdrawal_due", "withdrawal_due_provisional",
                                 "withdrawal_changed_on"])
    copy = _public_copy(decision, notes={"reason": reason.strip()})
    notice = WithdrawalNotice.objects.create(
        decision=decision, agency=decision.agency, doc_number=copy.doc_number, ground=ground,
        reason=copy.notes["reason"], withdrawn_at=now, due=due, on_time=today <= due,
    )
    append_audit(actor=actor, action="publicity.withdraw", obj=decision,
                 payload={"ground": ground, "reason": reason.strip(), "changed_on": changed_on, "due": due,
                          "rule": rule.reference})
    registry.public_changed([decision], "withdrawn")
    return notice


CHANGE_VIA_TEXT = {"reconsideration": "行政复议", "litigation": "行政诉讼", "agency": "本机关撤销或者纠正"}


@transaction.atomic
def record_decision_change(*, actor, decision: Decision, via: str, outcome: str, reason: str,
                           changed_on: date | None = None, content: str = "") -> Decision:
    """A decision changed after it was made (复议, 诉讼, 撤销; penalty law
    art. 48, 公示-2; issue 11 item 1): the record follows, with the reason.

    ``outcome`` is a ``WithdrawalGround``. A decision *changed* with its new
    ``content`` given is corrected: a new version through the intake
    (``receive_records``), republished with the reason if it was public. Any
    other outcome (revoked, confirmed illegal or void; or changed without
    the new content) withdraws it: a published record leaves the portal with
    a public notice of the reason (``withdraw_decision``); one not yet
    published is never published (status withdrawn, no notice: nothing was
    public)."""
    from . import intake

    decision = Decision.objects.select_for_update().select_related("agency", "agency__region").get(pk=decision.pk)
    _enforce(predicates.can_manage_publicity(actor, decision.agency, what="登记决定变更"))
    if via not in CHANGE_VIA_TEXT:
        reject("via", f"变更途径无效，应为：{'、'.join(CHANGE_VIA_TEXT)}（行政复议、行政诉讼、本机关撤销或者纠正）。", "invalid_choice")
    if outcome not in WithdrawalGround.values:
        reject("outcome", f"变更结果无效，应为：{'、'.join(WithdrawalGround.values)}。", "invalid_choice")
    reason = (reason or "").strip()
    if not reason:
        reject("reason", "请写明决定变更的理由（如复议决定书、判决书的文号和结论）。", "required")
    if decision.status in (DecisionStatus.WITHDRAWN, DecisionStatus.EXPIRED, DecisionStatus.STOPPED):
        reject("status", f"该决定当前状态为“{decision.get_status_display()}”，不能再登记变更。", "not_changeable")
    text = f"{CHANGE_VIA_TEXT[via]}：{reason}"[:255]
    content = (content or "").strip()
    if outcome == WithdrawalGround.CHANGED and content:
        record, errors = intake.validate_record({**decision.data, "content": content, "correction_reason": text}, index=0)
        if errors:
            reject(errors[0].field, errors[0].message, errors[0].code)
        [result] = receive_records(actor=actor, agency=decision.agency, records=[record], source="web", reason=text)
        if result.errors:
            reject(result.errors[0]["field"], result.errors[0]["message"], result.errors[0]["code"])
    elif decision.status == DecisionStatus.PUBLISHED:
        withdraw_decision(actor=actor, decision=decision, ground=outcome, reason=text, changed_on=changed_on)
    else:
        decision.status = DecisionStatus.WITHDRAWN
        decision.withdrawn_at = timezone.now()
        decision.withdrawal_changed_on = changed_on or clock.today()
        decision.save(update_fields=["status", "withdrawn_at", "withdrawal_changed_on"])
    append_audit(actor=actor, action="publicity.decision_change", obj=decision, payload={
        "via": via, "outcome": outcome, "reason": reason, "changed_on": changed_on, "corrected": bool(content)})
    decision.refresh_from_db()
    return decision


@transaction.atomic
def expire_publicity(*, actor="system:scheduler", today: date | None = None) -> int:
    """The scheduled job: every record whose 公示截止期 has come leaves the
    portal and search that day."""
    today = today or clock.today()
    due = list(Decision.objects.select_for_update().filter(status=DecisionStatus.PUBLISHED, publicity_end__lte=today))
    for decision in due:
        _hide(decision)
    Decision.objects.filter(pk__in=[d.pk for d in due]).update(status=DecisionStatus.EXPIRED)
    if due:
        append_audit(actor=actor, action="publicity.expire", object_type="publicity.decision",
                     payload={"date": today, "decisions": [d.pk for d in due]})
    return len(due)


def _enforce(verdict) -> None:
    """A refusal about who acts is a 403 (Refused); one about the record's
    state a 422 with the verdict's code."""
    if verdict:
        return
    if verdict.code in predicates.WHO_CODES or verdict.code == "forbidden":
        raise Refused(verdict)
    reject(verdict.field, verdict.reason, verdict.code)


@transaction.atomic
def apply_early_end(*, actor, decision: Decision, reason: str, applicant: str | None = None,
                    channel: str = EarlyEndChannel.PARTY) -> EarlyEndApplication:
    """Credit repair application (信用修复) to end publicity early: the
    party's (recorded by the deciding agency) or the agency's on the party's
    behalf (`channel`). The applicant is the decision's party; once per
    decision while an application is pending or approved."""
    decision = Decision.objects.select_for_update().select_related("agency").get(pk=decision.pk)
    _enforce(predicates.can_apply_early_end(actor, decision))
    if channel not in EarlyEndChannel.values:
        raise ValidationError({"channel": ValidationError("申请方式无效（party 当事人申请、agency 本部门代为申请）。", code="invalid")})
    if applicant is not None and applicant.strip() and applicant.strip() != decision.party_name:
        raise ValidationError({"applicant": ValidationError(
            f"信用修复的申请人只能是该决定的当事人（{decision.party_name}）。", code="applicant_not_party")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ValidationError("请写明申请理由（如已履行处罚、已整改）。", code="required")})
    try:
        with transaction.atomic():
            application = EarlyEndApplication.objects.create(
                decision=decision, applicant=decision.party_name, channel=channel, applied_by=actor, reason=reason)
    except IntegrityError:  # a concurrent application won the race (one open application per decision)
        raise ValidationError({"decision": ValidationError("该决定已有一份待审批或已批准的信用修复申请，同一决定不重复受理。",
                                                           code="early_end_duplicate")}) from None
    append_audit(actor=actor, action="publicity.early_end_apply", obj=decision,
                 payload={"application": application.pk, "channel": channel, "applicant": application.applicant})
    return application


@transaction.atomic
def decide_early_end(*, actor, application: EarlyEndApplication, approve: bool, note: str = "") -> EarlyEndApplication:
    """The office named in ``publicity.early_end_approver_roles`` (the
    agency's legal office by default) approves or refuses; never whoever
    recorded the application."""
    application = EarlyEndApplication.objects.select_for_update().select_related(
        "decision__agency__region").get(pk=application.pk)
    _enforce(predicates.can_decide_early_end(actor, application))
    if application.status != EarlyEndStatus.APPLIED:
        raise ValidationError({"status": ValidationError("该申请已处理。", code="early_end_already_decided")})
    application.status = EarlyEndStatus.APPROVED if approve else EarlyEndStatus.REFUSED
    application.decided_by, application.decided_at, application.decision_note = actor.username, timezone.now(), note
    application.save()
    if approve:
        decision = application.decision
        _hide(decision)
        decision.status = DecisionStatus.STOPPED
        decision.save(update_fields=["status"])
    append_audit(actor=actor, action="publicity.early_end_decide", obj=application.decision,
                 payload={"application": application.pk, "approved": approve, "note": note})
    return application
