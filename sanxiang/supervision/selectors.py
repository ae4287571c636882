"""Reads of 投诉举报. The public reads (by tracking number) return only what
the complainant may see — never the name, phone, notes or handler; the
office's reads take the acting user and answer only that office's
complaints."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, Q
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from sanxiang.core.models import Agency, AgencyKind, Region, User
from sanxiang.core.refusals import reject
from sanxiang.core.selectors import agency_scope
from sanxiang.core.todo import TodoItem
from sanxiang.core.vocabulary import AGENCY_ROLES, Role
from sanxiang.publicity.redaction import redact_text

from . import predicates
from .alerts import alert_rule, alert_rules
from .models import (CLOSED_STATUSES, OPEN_STATUSES, OWED_STATUSES, Alert, AlertLevel, AlertStatus, Complaint,
                     ComplaintStatus, Instrument, InstrumentStatus)
from .services import normalise_tracking_number


def public_agencies():
    """The agencies one may complain about (the public agency list)."""
    return Agency.objects.filter(is_active=True).select_related("region").order_by("region__path", "name")


def by_tracking_number(number) -> Complaint | None:
    number = normalise_tracking_number(number)
    if not number:
        return None
    return Complaint.objects.filter(tracking_number=number).select_related("agency", "office").first()


def _redacted(complaint: Complaint, text: str) -> str:
    """A text as the public answers show it: through the redactor (the
    complainant's own name and any phone or ID number hidden, since anyone
    holding the number reads it)."""
    if not text:
        return ""
    names = [complaint.complainant_name] if complaint.complainant_name else []
    return redact_text(text, known_names=names).text


def public_reply(complaint: Complaint) -> str:
    return _redacted(complaint, complaint.reply)


def public_view(complaint: Complaint) -> dict:
    """What the tracking number shows (page and API): status and, once
    given, the reply or the reason for not accepting. No personal data."""
    closed = complaint.status in CLOSED_STATUSES
    return {
        "tracking_number": complaint.tracking_number,
        "status": complaint.status,
        "status_label": complaint.get_status_display(),
        "agency": complaint.agency.name,
        "office": complaint.office.name,
        "subject": _redacted(complaint, complaint.subject),
        "received_on": complaint.received_on.isoformat(),
        "reply_due": complaint.reply_due.isoformat(),
        "reply_due_provisional": complaint.reply_due_provisional,
        "reply_reference": complaint.reply_reference,
        "closed_on": complaint.closed_on.isoformat() if complaint.closed_on else None,
        "reply": public_reply(complaint) if closed else None,
    }


def _office_of(user) -> Agency | None:
    if getattr(user, "role", None) != Role.LEGAL_SUPERVISOR or not getattr(user, "agency_id", None):
        return None
    office = user.agency
    return office if office.kind == AgencyKind.LEGAL_OFFICE else None


def office_for(*, user) -> Agency:
    office = _office_of(user)
    if office is None:
        raise PermissionDenied(_("Only the supervisors of a legal office handle complaints."))
    return office


def office_complaints(*, user, status: str = "", today: date | None = None):
    """The complaints routed to the user's legal office (its own only)."""
    office = office_for(user=user)
    rows = Complaint.objects.filter(office=office).select_related("agency", "handler")
    if status == "open":
        rows = rows.filter(status__in=OPEN_STATUSES)
    elif status == "overdue" and today is not None:
        rows = rows.filter(status__in=OPEN_STATUSES, reply_due__lt=today)
    elif status in ComplaintStatus.values:
        rows = rows.filter(status=status)
    return rows


def complaint_for(*, user, pk: int) -> Complaint:
    """One complaint for its office's supervisors; 403 for anyone else."""
    complaint = Complaint.objects.select_related("agency", "office", "officer", "handler").filter(pk=pk).first()
    if complaint is None:
        raise Http404("no such complaint")
    verdict = predicates.can_handle_complaint(user, complaint)
    if not verdict:
        raise PermissionDenied(verdict.reason)
    return complaint


def handlers(complaint: Complaint):
    return User.objects.filter(agency=complaint.office, role=Role.LEGAL_SUPERVISOR, is_active=True).order_by("username")


def statistics(*, user, today: date) -> dict:
    """Received, replied, on time, overdue, and by agency, for the office."""
    rows = Complaint.objects.filter(office=office_for(user=user))
    totals = rows.aggregate(
        received=Count("pk"),
        replied=Count("pk", filter=Q(status=ComplaintStatus.REPLIED)),
        not_accepted=Count("pk", filter=Q(status=ComplaintStatus.NOT_ACCEPTED)),
        on_time=Count("pk", filter=Q(status__in=CLOSED_STATUSES, closed_on__lte=F("reply_due"))),
        late=Count("pk", filter=Q(status__in=CLOSED_STATUSES, closed_on__gt=F("reply_due"))),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, reply_due__lt=today)),
    )
    by_agency = list(rows.values("agency__name").annotate(
        received=Count("pk"),
        open=Count("pk", filter=Q(status__in=OPEN_STATUSES)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATUSES, reply_due__lt=today)),
    ).order_by("-received", "agency__name"))
    return {**totals, "by_agency": by_agency}


def todo(*, user, today):
    """A new complaint to assign (the office's supervisors), a reply due on a
    complaint assigned to me: dated by the reply deadline, so the to-do list
    turns it amber within 3 working days and red when overdue."""
    office = _office_of(user)
    if office is None:
        return []
    items = []
    waiting = Complaint.objects.filter(office=office, status=ComplaintStatus.RECEIVED).select_related("agency")
    items += [TodoItem(kind="complaint_assign", label=_("Complaint to assign"),
                       title=_("%(number)s: %(subject)s") % {"number": c.tracking_number, "subject": c.subject},
                       url=reverse("supervision:complaint", args=[c.pk]), due=c.reply_due, detail=c.agency.name)
              for c in waiting.order_by("reply_due", "pk")[:100]]
    mine = Complaint.objects.filter(office=office, handler=user,
                                    status__in=(ComplaintStatus.ASSIGNED, ComplaintStatus.INVESTIGATING)).select_related("agency")
    items += [TodoItem(kind="complaint_reply", label=_("Complaint reply due"),
                       title=_("%(number)s: %(subject)s") % {"number": c.tracking_number, "subject": c.subject},
                       url=reverse("supervision:complaint", args=[c.pk]), due=c.reply_due, detail=c.agency.name)
              for c in mine.order_by("reply_due", "pk")[:100]]
    return items


# --------------------------------------------------------------------------
# Alerts (预警, issue 15 item 2): reads of the materialised table only.

ALERT_TODO_LIMIT = 200


def _alert_scope(rows, user):
    """A legal supervisor: the alerts of their region's agencies; an
    agency's head: the agency's (core.selectors.agency_scope); the system
    administrator: all; any other agency role (officer, reviewer, publicity
    administrator, API client): only the alerts naming them — the items of
    the others' alerts are pages they may not open."""
    scope = agency_scope(user)
    if scope is not None:
        rows = rows.filter(agency__in=Agency.objects.filter(scope))
    if getattr(user, "role", None) in AGENCY_ROLES and user.role != Role.AGENCY_HEAD:
        rows = rows.filter(user=user)
    return rows


def alerts_for(*, user):
    """Open alerts the user may read (``_alert_scope``)."""
    rows = Alert.objects.filter(status=AlertStatus.OPEN).select_related("agency", "agency__region", "office", "user")
    return _alert_scope(rows, user)


def filtered_alerts(*, user, region: str = "", agency=None, level: str = "", rule: str = ""):
    """``alerts_for`` narrowed by region code (its subtree), agency id and
    level; a bad value is refused naming the field (never ignored)."""
    rows = alerts_for(user=user)
    if region:
        found = Region.objects.filter(code=str(region)[:12]).first()
        if found is None:
            reject("region", f"没有代码为{str(region)[:12]}的行政区划。", "not_found")
        rows = rows.filter(agency__region__path__startswith=found.path)
    if agency not in (None, ""):
        raw = str(agency)
        if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
            reject("agency", "执法部门应为编号（整数）。", "invalid")
        rows = rows.filter(agency_id=int(raw))
    if level:
        if level not in AlertLevel.values:
            reject("level", f"预警级别应为：{'、'.join(AlertLevel.values)}。", "invalid_choice")
        rows = rows.filter(level=level)
    if rule:
        if alert_rule(rule) is None:
            reject("rule", "没有这个预警规则。", "invalid_choice")
        rows = rows.filter(rule=rule)
    return rows.order_by("level", "due", "pk")  # "red" sorts before "yellow"


def alert_for(*, user, pk: int) -> Alert:
    """One alert (open, closed or resolved) the user may read; 404 otherwise."""
    rows = Alert.objects.select_related("agency", "agency__region", "office", "user", "closed_by").filter(pk=pk)
    alert = _alert_scope(rows, user).first()
    if alert is None:
        raise Http404("no such alert")
    return alert


def rule_label(code: str) -> str:
    rule = alert_rule(code)
    return str(rule.label) if rule else code


def alert_rule_choices() -> list[tuple[str, str]]:
    return [(r.code, str(r.label)) for r in alert_rules()]


def alert_counts(*, user) -> dict:
    return alerts_for(user=user).aggregate(total=Count("pk"), red=Count("pk", filter=Q(level=AlertLevel.RED)),
                                           yellow=Count("pk", filter=Q(level=AlertLevel.YELLOW)),
                                           escalated=Count("pk", filter=Q(escalated_at__isnull=False)))


def _alert_item(alert: Alert, *, kind: str, label) -> TodoItem:
    return TodoItem(kind=kind, label=label, title=f"{rule_label(alert.rule)} · {alert.title}",
                    url=reverse("supervision:alert", args=[alert.pk]), due=alert.due, detail=alert.agency.name)


def alert_todo(*, user, today):
    """The open alerts a user is responsible for (the named user; for an
    alert naming nobody, the agency's heads) and, for the supervisors of a
    legal office, the alerts escalated to their office (red for more than M
    working days). Two queries at most."""
    role = getattr(user, "role", None)
    items: list[TodoItem] = []
    mine = Q(user=user)
    if role == Role.AGENCY_HEAD and user.agency_id:
        mine |= Q(user__isnull=True, agency_id=user.agency_id)
    rows = (Alert.objects.filter(status=AlertStatus.OPEN).filter(mine).select_related("agency")
            .order_by("due", "pk")[:ALERT_TODO_LIMIT])
    items += [_alert_item(a, kind=f"alert_{a.level}", label=_("Alert")) for a in rows]
    office = _office_of(user)
    if office is not None:
        escalated = (Alert.objects.filter(status=AlertStatus.OPEN, office=office, escalated_at__isnull=False)
                     .select_related("agency").order_by("due", "pk")[:ALERT_TODO_LIMIT])
        items += [_alert_item(a, kind="alert_escalated", label=_("Escalated alert")) for a in escalated]
    return items


# --------------------------------------------------------------------------
# Supervision instruments (issue 15 item 4)


def instruments_for(*, user):
    """A legal supervisor: the instruments issued by their office; an
    agency's head or legal staff: those addressed to their agency; the
    system administrator: all. Anyone else: none."""
    rows = Instrument.objects.select_related("office", "agency", "issued_by")
    role = getattr(user, "role", None)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return rows.none()
    if role == Role.SYSADMIN or user.is_superuser:
        return rows
    if _office_of(user) is not None:
        return rows.filter(office_id=user.agency_id)
    if role in predicates.AGENCY_REPORTERS and user.agency_id:
        return rows.filter(agency_id=user.agency_id)
    return rows.none()


def instrument_for(*, user, pk: int) -> Instrument:
    instrument = instruments_for(user=user).filter(pk=pk).first()
    if instrument is None:
        raise Http404("no such instrument")
    return instrument


def supervisable_agencies(*, user):
    """The agencies a legal supervisor may address an instrument to."""
    if _office_of(user) is None or not user.region_id:
        return Agency.objects.none()
    return (Agency.objects.filter(is_active=True, region__path__startswith=user.region.path)
            .exclude(pk=user.agency_id).select_related("region").order_by("region__path", "name"))


def instrument_todo(*, user, today):
    """The agency (head, legal staff): instruments whose rectification it
    owes, by their deadline; the issuing office's supervisors: reports to
    examine. Two queries at most."""
    role = getattr(user, "role", None)
    items: list[TodoItem] = []
    if role in predicates.AGENCY_REPORTERS and user.agency_id:
        owed = (Instrument.objects.filter(agency_id=user.agency_id, status__in=OWED_STATUSES)
                .order_by("rectification_due", "pk")[:ALERT_TODO_LIMIT])
        items += [TodoItem(kind="instrument_report", label=_("Rectification to report"),
                           title=f"{i.title} {i.number}", url=reverse("supervision:instrument", args=[i.pk]),
                           due=i.rectification_due, detail=i.get_status_display()) for i in owed]
    office = _office_of(user)
    if office is not None:
        waiting = (Instrument.objects.filter(office=office, status=InstrumentStatus.REPORTED).select_related("agency")
                   .order_by("rectification_due", "pk")[:ALERT_TODO_LIMIT])
        items += [TodoItem(kind="instrument_examine", label=_("Rectification report to examine"),
                           title=f"{i.title} {i.number}", url=reverse("supervision:instrument", args=[i.pk]),
                           detail=i.agency.name) for i in waiting]
    return items
