"""Writes of 投诉举报: filing (public, rate-limited per sender address),
assignment, investigation notes, the reply and non-acceptance. Each checks
who acts (predicates), writes and appends its audit entry in one
transaction. The audit entries never carry the complainant's personal data."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from datetime import date, timedelta
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMessage, get_connection
from django.db import connection, transaction
from django.db.models import F

from sanxiang.core import clock, fonts
from sanxiang.core.audit import append_audit
from sanxiang.core.calendar import add_working_days, calendar_session
from sanxiang.core.deadlines import deadline_for
from sanxiang.core.models import Agency, AgencyKind, Officer, User
from sanxiang.core.vocabulary import Role
from sanxiang.core.predicates import is_console
from sanxiang.core.refusals import Refused, reject
from sanxiang.core.selectors import legal_office_of

from sanxiang.documents import numbering
from sanxiang.documents.kinds import get_kind
from sanxiang.documents.render import build_context, render
from sanxiang.documents.values import clean_data
from sanxiang.rules.loader import get_rule

from . import predicates, thresholds
from .alerts import alert_rules, yellow_days
from .models import (CLOSED_STATUSES, LEVEL_RANK, OWED_STATUSES, Alert, AlertLevel, AlertNote, AlertStatus, Complaint,
                     ComplaintNote, ComplaintStatus, Instrument, InstrumentKind, InstrumentStatus, RectificationReport)

REPLY_RULE = "supervision.complaint_reply_limit"
RATE_LOCK_NAMESPACE = 0x53584350  # "SXCP": the advisory locks of the complaint rate limit
# Crockford's base32 (no I, L, O, U): 10 characters are 50 random bits.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 10
TRACKING_RE = re.compile(r"^TS\d{8}[0-9A-HJKMNP-TV-Z]{10}$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9\- ]{4,18}[0-9]$")
LIMITS = {"subject": 100, "content": 5000, "complainant_name": 64, "case_reference": 100, "note": 5000, "reply": 5000, "reason": 5000,
          "report": 5000, "answer": 5000}


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


# --------------------------------------------------------------------------
# Alerts (预警, issue 15 item 2): the refresh job's writes, then the
# supervisors' annotations and closing.

ALERT_JOB_ACTOR = "system:supervision-alerts"
log = logging.getLogger(__name__)


class AlertRulesFailed(RuntimeError):
    """Some rules could not be refreshed (the others were)."""

    def __init__(self, codes: list[str]):
        super().__init__(f"alert rules failed: {', '.join(codes)}")
        self.codes = codes
ESCALATION_RULE = "supervision.alert_escalation_working_days"


def _office_map() -> dict[int, int | None]:
    """agency id → its supervising legal office's id (legal_office_of for
    every agency, in two queries)."""
    regional: dict[int, int] = {}
    for pk, region_id in (Agency.objects.filter(kind=AgencyKind.LEGAL_OFFICE, is_active=True)
                          .order_by("-pk").values_list("pk", "region_id")):
        regional[region_id] = pk  # the lowest pk of the region wins, as legal_office_of
    return {pk: office or regional.get(region_id)
            for pk, office, region_id in Agency.objects.values_list("pk", "legal_office_id", "region_id")}


def _level(due, today) -> str:
    return AlertLevel.RED if due < today else AlertLevel.YELLOW


def _agency_scopes() -> dict[int, tuple[str, str]]:
    """agency id → (credit code, region code): the scopes of its dated thresholds (one query)."""
    return {pk: (credit_code, region_code)
            for pk, credit_code, region_code in Agency.objects.values_list("pk", "credit_code", "region__code")}


def _refresh_rule(rule, *, today, now, offices, scopes) -> dict[str, int]:
    """One rule: its candidates against its unresolved rows (two reads and
    bulk writes: no query per object). The source is bounded by the widest
    N in force; an item due beyond its own agency's horizon (N of the
    agency, else of its region, else national) is not an alert yet."""
    last_yellow: dict[tuple, date] = {}
    by_days: dict[int, date] = {}
    candidates = {}
    for candidate in rule.source(today=today):
        credit_code, region_code = scopes.get(candidate.agency_id, ("", None))
        if (credit_code, region_code) not in last_yellow:
            days = yellow_days(rule.code, today=today, agency=credit_code or None, region_code=region_code)
            if days not in by_days:  # one calendar walk per distinct N, not per agency
                by_days[days] = thresholds.horizon(days, today=today)
            last_yellow[(credit_code, region_code)] = by_days[days]
        if candidate.due > last_yellow[(credit_code, region_code)]:
            continue
        candidates.setdefault(candidate.key[:128], candidate)
    existing = {a.key: a for a in Alert.objects.filter(rule=rule.code).exclude(status=AlertStatus.RESOLVED)}
    created, updated, counts = [], [], {"raised": 0, "updated": 0, "reopened": 0, "resolved": 0}
    fields = ["level", "status", "title", "due", "agency", "office", "user", "object_url", "red_since", "escalated_at"]
    for key, c in candidates.items():
        level = _level(c.due, today)
        red_since = c.due + timedelta(days=1) if level == AlertLevel.RED else None
        values = {"title": c.title[:255], "due": c.due, "agency_id": c.agency_id, "office_id": offices.get(c.agency_id),
                  "user_id": c.user_id, "object_url": c.object_url[:255]}
        alert = existing.pop(key, None)
        if alert is None:
            created.append(Alert(rule=rule.code, key=key, level=level, status=AlertStatus.OPEN, raised_at=now,
                                 red_since=red_since, **values))
            continue
        before = (alert.level, alert.status, *(getattr(alert, f) for f in values))
        for field, value in values.items():
            setattr(alert, field, value)
        if level != alert.level:
            alert.level, alert.red_since = level, red_since
            if level == AlertLevel.YELLOW:
                alert.escalated_at = None  # a limit moved back (an extension): escalation starts again when red
        # A closed alert stays closed unless its level worsens (yellow → red).
        if alert.status == AlertStatus.CLOSED and LEVEL_RANK[level] > LEVEL_RANK.get(alert.closed_level, 0):
            alert.status = AlertStatus.OPEN
            counts["reopened"] += 1
        if (alert.level, alert.status, *(getattr(alert, f) for f in values)) != before:
            updated.append(alert)
    Alert.objects.bulk_create(created, batch_size=500)
    Alert.objects.bulk_update(updated, fields, batch_size=500)
    gone = [a.pk for a in existing.values()]
    for start in range(0, len(gone), 500):
        Alert.objects.filter(pk__in=gone[start:start + 500]).update(status=AlertStatus.RESOLVED, resolved_at=now)
    counts.update(raised=len(created), updated=len(updated) - counts["reopened"], resolved=len(gone))
    return counts


def escalation_due_before(today) -> date:
    """The latest due date whose alert has been red for more than M working
    days today (M: the dated rule ``supervision.alert_escalation_working_days``):
    red since the day after its due date, so escalated once
    ``add_working_days(due, M) < today``."""
    days = int(get_rule(ESCALATION_RULE, on=today).value)
    oracle = calendar_session()
    due = today - timedelta(days=1)
    while add_working_days(start=due, days=days, oracle=oracle).date >= today:
        due -= timedelta(days=1)
    return due


def mail_configured() -> bool:
    """E-mail goes out only when a backend is configured (SANXIANG_EMAIL_HOST
    or SANXIANG_EMAIL_BACKEND): the default is Django's dummy backend."""
    return settings.EMAIL_BACKEND != "django.core.mail.backends.dummy.EmailBackend"


def _recipients(alerts) -> dict[int, list[str]]:
    """alert pk → e-mail addresses: the responsible user, else the heads of
    the responsible agency (two queries)."""
    users = dict(User.objects.filter(pk__in={a.user_id for a in alerts if a.user_id}, is_active=True)
                 .exclude(email="").values_list("pk", "email"))
    heads: dict[int, list[str]] = {}
    for agency_id, email in (User.objects.filter(agency_id__in={a.agency_id for a in alerts if not a.user_id},
                                                 role=Role.AGENCY_HEAD, is_active=True)
                             .exclude(email="").values_list("agency_id", "email")):
        heads.setdefault(agency_id, []).append(email)
    return {a.pk: ([users[a.user_id]] if a.user_id in users else []) if a.user_id else heads.get(a.agency_id, [])
            for a in alerts}


def _send_alert_mail(*, limit: int = 2000) -> int:
    """One e-mail per alert per level (``notified_level``): open alerts not
    yet notified at their current level, to the responsible person."""
    if not mail_configured():
        return 0
    pending = list(Alert.objects.filter(status=AlertStatus.OPEN).exclude(notified_level=F("level"))
                   .select_related("agency").order_by("pk")[:limit])
    if not pending:
        return 0
    recipients = _recipients(pending)
    site = settings.PUBLIC_BASE_URL.rstrip("/")
    messages, sent = [], []
    for alert in pending:
        if recipients[alert.pk]:
            level = "红色预警（已逾期）" if alert.level == AlertLevel.RED else "黄色预警（即将到期）"
            body = (f"{alert.title}\n期限：{alert.due.isoformat()}\n责任单位：{alert.agency.name}\n"
                    f"办理地址：{site}{alert.object_url}\n\n本邮件由行政执法监督平台自动发送，请勿回复。")
            messages.append(EmailMessage(subject=f"【{level}】{alert.title}"[:200], body=body,
                                         to=recipients[alert.pk]))
        sent.append(alert)
    if messages:
        get_connection().send_messages(messages)
    for alert in sent:
        alert.notified_level = alert.level
    Alert.objects.bulk_update(sent, ["notified_level"], batch_size=500)
    return len(messages)


def refresh_alerts(*, today: date | None = None) -> dict[str, int]:
    """The job ``supervision.alerts``: every registered rule's candidates
    into the Alert table (yellow within N working days, red overdue; closed
    ones stay closed unless the level worsens; items gone resolve), then
    escalation of alerts red for more than M working days to the
    supervising office, then e-mail. One audit entry per run that changed
    anything. Idempotent: a second run the same day changes nothing."""
    today = today or clock.today()
    now = clock.now()
    offices, scopes = _office_map(), _agency_scopes()
    totals = {"raised": 0, "updated": 0, "reopened": 0, "resolved": 0, "escalated": 0, "mailed": 0}
    failed: list[str] = []
    with transaction.atomic():
        for rule in alert_rules():
            try:
                with transaction.atomic():  # one rule's failure (its source, its threshold) spares the others
                    counts = _refresh_rule(rule, today=today, now=now, offices=offices, scopes=scopes)
            except Exception:
                log.exception("alert rule %s failed", rule.code)
                failed.append(rule.code)
                continue
            for name, count in counts.items():
                totals[name] += count
        totals["escalated"] = (Alert.objects.filter(status=AlertStatus.OPEN, level=AlertLevel.RED, escalated_at__isnull=True,
                                                    due__lte=escalation_due_before(today))
                               .update(escalated_at=now))
        if any(totals.values()):
            append_audit(actor=ALERT_JOB_ACTOR, action="supervision.alerts_refresh", object_type="supervision.alert",
                         payload={"today": today.isoformat(), **totals})
    totals["mailed"] = _send_alert_mail()
    if failed:  # recorded on the job's row and retried by the queue (core/jobs.py)
        raise AlertRulesFailed(failed)
    return totals


def _locked_alert(alert: Alert) -> Alert:
    return Alert.objects.select_for_update(of=("self",)).select_related("office").get(pk=alert.pk)


def annotate_alert(*, actor, alert: Alert, text) -> AlertNote:
    """A supervisor's annotation (批注) on an alert."""
    verdict = predicates.can_handle_alert(actor, alert)
    if not verdict:
        raise Refused(verdict)
    text = _text({"note": text}, "note", required=True)
    with transaction.atomic():
        alert = _locked_alert(alert)
        note = AlertNote.objects.create(alert=alert, author=actor, text=text, created_at=clock.now())
        append_audit(actor=actor, action="supervision.alert_annotate", obj=alert, payload={"note": note.pk})
    return note


def close_alert(*, actor, alert: Alert, reason) -> Alert:
    """Close an open alert with a reason. It stays closed at its level: the
    refresh job reopens it only if the level worsens (a yellow one closed
    turns red), and resolves it when the item is done."""
    verdict = predicates.can_handle_alert(actor, alert)
    if not verdict:
        raise Refused(verdict)
    reason = _text({"reason": reason}, "reason", required=True)
    with transaction.atomic():
        alert = _locked_alert(alert)
        if alert.status != AlertStatus.OPEN:
            reject("status", f"该预警当前状态为“{alert.get_status_display()}”，不能关闭。", "not_open")
        alert.status = AlertStatus.CLOSED
        alert.closed_at, alert.closed_by, alert.close_reason, alert.closed_level = clock.now(), actor, reason, alert.level
        alert.save(update_fields=["status", "closed_at", "closed_by", "close_reason", "closed_level"])
        append_audit(actor=actor, action="supervision.alert_close", obj=alert,
                     payload={"rule": alert.rule, "level": alert.level, "reason": reason})
    return alert


# --------------------------------------------------------------------------
# Supervision instruments (issue 15 item 4): issue through the documents
# app's kinds, numbering and rendering; the rectification loop.


def _rectification_due(raw, *, today) -> date:
    if isinstance(raw, date):
        due = raw
    else:
        try:
            due = date.fromisoformat(str(raw or "").strip())
        except ValueError:
            reject("rectification_due", "整改期限应为日期（YYYY-MM-DD）。", "invalid_date")
    if due <= today:
        reject("rectification_due", "整改期限应晚于今天。", "not_future")
    return due


def issue_instrument(*, actor, kind: str, agency: Agency | None, data: dict) -> Instrument:
    """A 监督意见书 or 监督决定书 from the actor's legal office to an agency it
    supervises: the fields checked by the document kind (a refusal names
    the field), numbered in the office's sequence of that kind
    (documents.numbering.take_number, gapless: a failure rolls the number
    back), rendered to DOCX and PDF by the documents app, stored with their
    SHA-256, audited; its rectification deadline is then watched (alert
    rule ``supervision.instrument_rectification``)."""
    if kind not in InstrumentKind.values:
        reject("kind", "文书种类应为行政执法监督意见书或监督决定书。", "invalid_choice")
    if agency is None:
        reject("agency", "请选择被监督的执法部门。", "required")
    verdict = predicates.can_issue_instrument(actor, agency)
    if not verdict:
        raise Refused(verdict)
    office = actor.agency
    spec = get_kind(kind)
    today = clock.today()
    values = clean_data(spec, {**(data or {}), "rectification_due": str((data or {}).get("rectification_due") or "")})
    due = _rectification_due(values["rectification_due"], today=today)
    if not office.short_name.strip():
        reject("short_name", f"{office.name}尚未设置文书简称（如“石司”），不能生成文号。", "no_abbreviation")
    fonts.ensure_ready()  # a one-time font build never runs under the number lock
    stored: list[str] = []
    try:
        with transaction.atomic():
            issued_at = clock.now()
            year = clock.local_date(issued_at).year
            pattern = numbering.pattern_for(agency=office, kind=spec)

            def number_of(n: int) -> str:
                return numbering.format_number(pattern, abbr=office.short_name.strip(), kind_char=spec.kind_char,
                                               year=year, seq=n)

            seq = numbering.take_number(agency=office, kind_code=spec.code, year=year, number_of=number_of)
            number = number_of(seq)
            if Instrument.objects.filter(number=number).exists():
                reject("short_name", f"文号“{number}”已被使用，请检查本机关的文书简称。", "number_taken")
            # The document's addressee is the supervised agency ({party_name}); the issuer the office.
            addressee = SimpleNamespace(agency=office, title="", party_name=agency.name, party_type="",
                                        party_credit_code=agency.credit_code, opened_on=None)
            ctx = build_context(case=addressee, kind=spec, values=values, number=number, issued_at=issued_at)
            files = render(spec, ctx, issued_at=issued_at)
            instrument = Instrument(kind=kind, office=office, agency=agency, number=number, year=year, seq=seq,
                                    data=values, rectification_due=due, issued_at=issued_at, issued_by=actor,
                                    docx_sha256=hashlib.sha256(files.docx).hexdigest(),
                                    pdf_sha256=hashlib.sha256(files.pdf).hexdigest())
            stem = f"{spec.code}-{seq}-{instrument.pdf_sha256[:16]}"
            instrument.docx.save(f"{stem}.docx", ContentFile(files.docx), save=False)
            stored.append(instrument.docx.name)
            instrument.pdf.save(f"{stem}.pdf", ContentFile(files.pdf), save=False)
            stored.append(instrument.pdf.name)
            instrument.save(force_insert=True)
            append_audit(actor=actor, action="supervision.instrument_issue", obj=instrument, payload={
                "kind": kind, "number": number, "agency": agency.pk, "rectification_due": due.isoformat(),
                "docx_sha256": instrument.docx_sha256, "pdf_sha256": instrument.pdf_sha256})
    except BaseException:
        for name in stored:
            try:
                default_storage.delete(name)
            except OSError:  # pragma: no cover - best effort
                pass
        raise
    return instrument


def _locked_instrument(instrument: Instrument) -> Instrument:
    return Instrument.objects.select_for_update(of=("self",)).select_related("office", "agency").get(pk=instrument.pk)


def report_rectification(*, actor, instrument: Instrument, text) -> RectificationReport:
    """The agency reports how it rectified (again after a return)."""
    verdict = predicates.can_report_rectification(actor, instrument)
    if not verdict:
        raise Refused(verdict)
    text = _text({"report": text}, "report", required=True, minimum=10)
    with transaction.atomic():
        instrument = _locked_instrument(instrument)
        if instrument.status not in OWED_STATUSES:
            reject("status", f"该监督文书当前状态为“{instrument.get_status_display()}”，不能报送整改情况。", "not_owed")
        now = clock.now()
        report = RectificationReport.objects.create(instrument=instrument, text=text, reported_at=now, reported_by=actor)
        instrument.status = InstrumentStatus.REPORTED
        instrument.save(update_fields=["status"])
        append_audit(actor=actor, action="supervision.instrument_report", obj=instrument,
                     payload={"report": report.pk, "on_time": clock.local_date(now) <= instrument.rectification_due})
    return report


def examine_rectification(*, actor, instrument: Instrument, accept: bool, answer) -> RectificationReport:
    """The office accepts the pending report (the loop closes) or returns it
    with its reasons (the agency reports again; the deadline still runs)."""
    verdict = predicates.can_examine_instrument(actor, instrument)
    if not verdict:
        raise Refused(verdict)
    answer = _text({"answer": answer}, "answer", required=not accept)
    with transaction.atomic():
        instrument = _locked_instrument(instrument)
        if instrument.status != InstrumentStatus.REPORTED:
            reject("status", "该监督文书没有待审查的整改报告。", "nothing_reported")
        report = instrument.reports.select_for_update().filter(outcome="").order_by("-reported_at", "-pk").first()
        now = clock.now()
        report.outcome = "accepted" if accept else "returned"
        report.answer, report.answered_at, report.answered_by = answer, now, actor
        report.save(update_fields=["outcome", "answer", "answered_at", "answered_by"])
        instrument.status = InstrumentStatus.ACCEPTED if accept else InstrumentStatus.RETURNED
        instrument.accepted_at = now if accept else None
        instrument.save(update_fields=["status", "accepted_at"])
        append_audit(actor=actor, action="supervision.instrument_accept" if accept else "supervision.instrument_return",
                     obj=instrument, payload={"report": report.pk, "answer": answer})
    return report
