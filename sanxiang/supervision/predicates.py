"""Who may handle complaints (投诉举报): the legal supervisors of the legal
office the complaint was routed to — and nobody else, not even a supervisor
of a higher office (the complainant's personal data stays with the office
that handles it)."""

from __future__ import annotations

from sanxiang.core.predicates import ALLOWED, Verdict, is_console, refuse
from sanxiang.core.vocabulary import Role


def _person(user) -> bool:
    return bool(user is not None and not isinstance(user, str) and getattr(user, "is_authenticated", False)
                and user.is_active)


def is_office_supervisor(user, office) -> bool:
    """A legal supervisor belonging to this legal office."""
    return _person(user) and user.role == Role.LEGAL_SUPERVISOR and user.agency_id == office.pk


def can_handle_complaint(user, complaint) -> Verdict:
    if is_console(user) or is_office_supervisor(user, complaint.office):
        return ALLOWED
    return refuse(f"只有“{complaint.office.name}”的法制监督人员可以办理该投诉举报。", "not_complaint_office", "actor")


def can_be_handler(user, complaint) -> Verdict:
    """Whom a complaint may be assigned to: an active supervisor of its office."""
    if is_office_supervisor(user, complaint.office):
        return ALLOWED
    return refuse(f"承办人必须是“{complaint.office.name}”的法制监督人员。", "not_office_supervisor", "handler")


def can_handle_alert(user, alert) -> Verdict:
    """Annotate and close an alert (预警): a legal supervisor of the office
    supervising the alert's agency (the office recorded on the alert)."""
    if is_console(user):
        return ALLOWED
    if alert.office_id and _person(user) and user.role == Role.LEGAL_SUPERVISOR and user.agency_id == alert.office_id:
        return ALLOWED
    office = alert.office.name if alert.office_id else "监督机关"
    return refuse(f"只有“{office}”的法制监督人员可以批注或关闭该预警。", "not_alert_office", "actor")
