"""Who may handle complaints (投诉举报): the legal supervisors of the legal
office the complaint was routed to — and nobody else, not even a supervisor
of a higher office (the complainant's personal data stays with the office
that handles it)."""

from __future__ import annotations

from sanxiang.core.predicates import ALLOWED, Verdict, is_console, refuse
from sanxiang.core.vocabulary import REVIEW_OFFICE, Role


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


# Who reports an instrument's rectification for the agency: its head and its
# legal staff (the legal reviewers: the agency's 法制机构).
AGENCY_REPORTERS = REVIEW_OFFICE


def _supervises(user, agency) -> bool:
    """A legal supervisor of a legal office whose region holds the agency."""
    return (_person(user) and user.role == Role.LEGAL_SUPERVISOR and bool(user.agency_id) and bool(user.region_id)
            and agency.region.path.startswith(user.region.path) and agency.pk != user.agency_id)


def can_issue_instrument(user, agency) -> Verdict:
    if _supervises(user, agency) and user.agency.kind == "legal_office":
        return ALLOWED
    return refuse(f"只有对“{agency.name}”有监督权的司法行政机关的法制监督人员可以制发监督文书。", "not_supervisor", "agency")


def can_examine_instrument(user, instrument) -> Verdict:
    """Accept or return a rectification report: the issuing office's supervisors."""
    if is_console(user) or is_office_supervisor(user, instrument.office):
        return ALLOWED
    return refuse(f"只有“{instrument.office.name}”的法制监督人员可以审查整改报告。", "not_instrument_office", "actor")


def can_report_rectification(user, instrument) -> Verdict:
    if _person(user) and user.role in AGENCY_REPORTERS and user.agency_id == instrument.agency_id:
        return ALLOWED
    return refuse(f"只有“{instrument.agency.name}”的负责人或法制机构人员可以报送整改情况。", "not_agency_reporter", "actor")
