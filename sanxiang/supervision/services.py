"""Writes of 投诉举报: filing (public, rate-limited per sender address),
assignment, investigation notes, the reply and non-acceptance. Each checks
who acts (predicates), writes and appends its audit entry in one
transaction. The audit entries never carry the complainant's personal data."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from sanxiang.core import clock
from sanxiang.core.audit import append_audit
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.models import Agency, AgencyKind, Officer
from sanxiang.core.predicates import is_console
from sanxiang.core.refusals import Refused, reject
from sanxiang.core.selectors import legal_office_of

from . import predicates
from .models import CLOSED_STATUSES, Complaint, ComplaintNote, ComplaintStatus

REPLY_RULE = "supervision.complaint_reply_limit"
RATE_LOCK_NAMESPACE = 0x53584350  # "SXCP": the advisory locks of the complaint rate limit
# Crockford's base32 (no I, L, O, U): 10 characters are 50 random bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 10
TRACKING_RE = re.compile(r"^TS\d{8}[0-9A-HJKMNP-TV-Z]{10}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}[0-9]$")
LIMITS = {"subject": 100, "content": 5000, "complainant_name": 64, "case_reference": 100, "note": 5000, "reply": 5000, "reason": 5000}


class RateLimited(Exception):
    """Too many complaints from one address within the window (HTTP 429)."""

    code = "throttled"

    def __init__(self, limit: int, minutes: int):
        self.message = f"同一网络地址在{minutes}分钟内最多可提交{limit}件投诉举报，请稍后再试。"
        super().__init__(self.message)


def sender_key(ip: str | None) -> str:
    """The rate limit's key of an address: a keyed hash, never the address itself."""
    return hmac.new(settings.SECRET_KEY.encode(), f"complaint-sender:{ip or '-'}".encode(), hashlib.sha256).hexdigest()


def new_tracking_number(today) -> str:
    return "TS" + today.strftime("%Y%m%d") + "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))


def normalise_tracking_number(text) -> str:
    return re.sub(r"[\s\-]", "", str(text or "")).upper()[:40]


def _text(data: dict, field: str, *, required: bool, minimum: int = 0) -> str:
    value = data.get(field)
    if value is None:
        value = ""
    if not isinstance(value, str):
        reject(field, "应为文本。", "invalid")
    value = value.strip()
    if required and not value:
        reject(field, "必须填写。", "required")
    if value and len(value) < minimum:
        reject(field, f"至少填写{minimum}个字。", "too_short")
    if len(value) > LIMITS[field]:
        reject(field, f"不得超过{LIMITS[field]}个字。", "too_long")
    return value


def route(agency: Agency) -> Agency | None:
    """The supervising legal office of the agency complained about: the
    one it names, else the legal office of its region
    (core.selectors.legal_office_of), else of the nearest region above that has one; for a
    complaint about a legal office itself, the legal office above it."""
    office = legal_office_of(agency)
    region = agency.region
    if office is not None and office.pk == agency.pk:
        office, region = None, region.parent
    while office is None and region is not None:
        office = Agency.objects.filter(region=region, kind=AgencyKind.LEGAL_OFFICE, is_active=True).exclude(pk=agency.pk).order_by("pk").first()
        region = region.parent
    return office


def _check_rate(key: str) -> None:
    limit, minutes = int(settings.COMPLAINT_RATE_LIMIT), int(settings.COMPLAINT_RATE_WINDOW_MINUTES)
    if limit <= 0:
        return
    if connection.vendor == "postgresql":
        # One address's filings one at a time (until this transaction ends), so
        # that simultaneous requests cannot all pass the count below; SQLite
        # serialises writers anyway. Two-key form: this app's namespace, the key's hash.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RATE_LOCK_NAMESPACE, int(key[:7], 16)])
    since = clock.now() - timedelta(minutes=minutes)
    if Complaint.objects.filter(sender_key=key, received_at__gte=since).count() >= limit:
        raise RateLimited(limit, minutes)


def _agency(raw) -> Agency:
    if raw in (None, ""):
        reject("agency", "请选择被投诉的执法部门。", "required")
    agency_id = int(raw) if isinstance(raw, int) or (isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 10) else None
    agency = Agency.objects.filter(pk=agency_id, is_active=True).select_related("region").first() if agency_id else None
    if agency is None:
        reject("agency", "所选执法部门不存在。", "not_found")
    return agency


def _phone(raw) -> str:
    if raw in (None, ""):
        return ""
    if not isinstance(raw, str):
        reject("complainant_phone", "应为文本。", "invalid")
    phone = raw.strip()
    if phone and not PHONE_RE.match(phone):
        reject("complainant_phone", "联系电话格式不正确（5至20位数字，可含“-”）。", "invalid")
    return phone


def _officer(raw, agency: Agency) -> Officer | None:
    if raw in (None, ""):
        return None
    if not isinstance(raw, str):
        reject("officer_certificate", "应为文本。", "invalid")
    certificate = raw.strip()
    if not certificate:
        return None
    officer = Officer.objects.filter(certificate_number=certificate[:40], agency=agency).first()
    if officer is None:
        reject("officer_certificate", f"“{agency.name}”没有执法证号为{certificate[:40]}的执法人员。", "not_found")
    return officer


def file_complaint(*, data: dict, ip: str | None) -> Complaint:
    """A complaint from the public (no login): validated field by field,
    routed, its reply deadline computed from the dated rule. Returns the
    complaint; its tracking number is shown to the complainant once."""
    if not isinstance(data, dict):
        reject("body", "请求体应为对象。", "invalid")
    errors: dict[str, list] = {}

    def checked(check):
        """Run one field's check, keeping its refusal: the form names every field at fault at once."""
        try:
            return check()
        except ValidationError as exc:
            for field, items in exc.error_dict.items():
                errors.setdefault(field, []).extend(items)
            return None

    agency = checked(lambda: _agency(data.get("agency")))
    subject = checked(lambda: _text(data, "subject", required=True))
    content = checked(lambda: _text(data, "content", required=True, minimum=10))
    name = checked(lambda: _text(data, "complainant_name", required=False))
    phone = checked(lambda: _phone(data.get("complainant_phone")))
    case_reference = checked(lambda: _text(data, "case_reference", required=False))
    officer = checked(lambda: _officer(data.get("officer_certificate"), agency)) if agency else None
    if errors:
        raise ValidationError(errors)
    office = route(agency)
    if office is None:
        reject("agency", f"未找到“{agency.name}”的监督机关（司法行政机关），请直接向当地司法行政机关反映。", "no_office")
    key = sender_key(ip)
    with transaction.atomic():
        _check_rate(key)
        now = clock.now()
        received_on = clock.local_date(now)
        due = deadline_for(rule=REPLY_RULE, start=received_on, agency=agency)
        number = new_tracking_number(received_on)
        while Complaint.objects.filter(tracking_number=number).exists():
            number = new_tracking_number(received_on)
        complaint = Complaint.objects.create(
            tracking_number=number, agency=agency, office=office, officer=officer, case_reference=case_reference,
            subject=subject, content=content, complainant_name=name, complainant_phone=phone, sender_key=key,
            received_at=now, received_on=received_on, reply_due=due.date, reply_rule=REPLY_RULE,
            reply_reference=due.rule.reference[:255], reply_due_provisional=due.provisional)
        append_audit(actor="public", action="complaint.file", obj=complaint,
                     payload={"agency": agency.pk, "office": office.pk, "officer": officer.pk if officer else None,
                              "reply_due": due.date.isoformat(), "anonymous": complaint.anonymous})
    return complaint


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update().select_related("office").get(pk=complaint.pk)


def _actor_name(actor) -> str:
    return actor if is_console(actor) else actor.username


def assign(*, actor, complaint: Complaint, handler) -> Complaint:
    verdict = predicates.can_handle_complaint(actor, complaint)
    if not verdict:
        raise Refused(verdict)
    if handler is None:
        reject("handler", "请选择承办人。", "required")
    verdict = predicates.can_be_handler(handler, complaint)
    if not verdict:
        raise Refused(verdict)
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status in CLOSED_STATUSES:
            reject("status", "该投诉举报已办结，不能再分办。", "closed")
        complaint.handler = handler
        complaint.assigned_at = clock.now()
        if complaint.status == ComplaintStatus.RECEIVED:
            complaint.status = ComplaintStatus.ASSIGNED
        complaint.save(update_fields=["handler", "assigned_at", "status"])
        append_audit(actor=actor, action="complaint.assign", obj=complaint, payload={"handler": handler.username})
    return complaint


def add_note(*, actor, complaint: Complaint, text) -> ComplaintNote:
    verdict = predicates.can_handle_complaint(actor, complaint)
    if not verdict:
        raise Refused(verdict)
    text = _text({"note": text}, "note", required=True)
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status in CLOSED_STATUSES:
            reject("status", "该投诉举报已办结，不能再添加调查记录。", "closed")
        if complaint.handler_id is None:
            reject("handler", "请先分办给承办人，再开展调查。", "not_assigned")
        note = ComplaintNote.objects.create(complaint=complaint, author=actor, text=text, created_at=clock.now())
        if complaint.status == ComplaintStatus.ASSIGNED:
            complaint.status = ComplaintStatus.INVESTIGATING
            complaint.save(update_fields=["status"])
        append_audit(actor=actor, action="complaint.note", obj=complaint, payload={"note": note.pk})
    return note


def _close(*, actor, complaint: Complaint, text, status: str, field: str, action: str) -> Complaint:
    verdict = predicates.can_handle_complaint(actor, complaint)
    if not verdict:
        raise Refused(verdict)
    text = _text({field: text}, field, required=True)
    with transaction.atomic():
        complaint = _locked(complaint)
        if complaint.status in CLOSED_STATUSES:
            reject("status", "该投诉举报已办结。", "closed")
        if status == ComplaintStatus.REPLIED and complaint.handler_id is None:
            reject("handler", "请先分办给承办人，再作答复。", "not_assigned")
        now = clock.now()
        complaint.status = status
        complaint.reply = text
        complaint.closed_at = now
        complaint.closed_on = clock.local_date(now)
        complaint.save(update_fields=["status", "reply", "closed_at", "closed_on"])
        append_audit(actor=actor, action=action, obj=complaint,
                     payload={"closed_on": complaint.closed_on.isoformat(),
                              "on_time": complaint.closed_on <= complaint.reply_due})
    return complaint


def reply(*, actor, complaint: Complaint, text) -> Complaint:
    """The reply the complainant reads with the tracking number."""
    return _close(actor=actor, complaint=complaint, text=text, status=ComplaintStatus.REPLIED, field="reply",
                  action="complaint.reply")


def not_accept(*, actor, complaint: Complaint, reason) -> Complaint:
    """Not accepted, with the reason the complainant reads."""
    return _close(actor=actor, complaint=complaint, text=reason, status=ComplaintStatus.NOT_ACCEPTED, field="reason",
                  action="complaint.not_accept")
