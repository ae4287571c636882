"""Who may do what in 案卷评查.

- A legal office's supervisors run its campaigns (scheme, period, agencies,
  sample, evaluators, the draw) and accept or return rectifications; they
  may also evaluate a case of an agency in the region they supervise.
- An evaluator evaluates the cases a campaign assigned to them.
- 回避 (``conflict``): nobody evaluates a case of their own agency, or one
  they handled (assigned to it, recorded on one of its steps, or opened it).
- The agency's head or legal reviewer responds to a rectification.
"""

from __future__ import annotations

from sanxiang.cases.models import Case, CaseOfficer, CaseStep
from sanxiang.core.models import AgencyKind
from sanxiang.core.predicates import ALLOWED, Verdict, is_console, refuse, supervises
from sanxiang.core.vocabulary import REVIEW_OFFICE, Role

RESPONDERS = REVIEW_OFFICE  # the agency's head and its legal-review office answer for 整改


def _person(user) -> bool:
    return bool(user is not None and not isinstance(user, str) and getattr(user, "is_authenticated", False)
                and user.is_active)


def is_office_supervisor(user, office) -> bool:
    return (_person(user) and user.role == Role.LEGAL_SUPERVISOR and office is not None
            and user.agency_id == office.pk and office.kind == AgencyKind.LEGAL_OFFICE)


def conflict(user, case: Case) -> str:
    """Why ``user`` must not evaluate ``case`` (回避), or ""."""
    if not _person(user):
        return ""
    if user.agency_id and user.agency_id == case.agency_id:
        return "评查人员不得评查本单位的案卷（回避）。"
    if case.created_by_id == user.pk:
        return "评查人员不得评查本人办理的案卷（回避）。"
    officer = getattr(user, "officer", None) if hasattr(user, "officer") else None
    if officer is not None and (CaseOfficer.objects.filter(case=case, officer=officer).exists()
                                or CaseStep.objects.filter(case=case, officers=officer).exists()):
        return "评查人员不得评查本人承办或者参与办理的案卷（回避）。"
    return ""


def can_manage_campaign(user, office) -> Verdict:
    if is_console(user) or is_office_supervisor(user, office):
        return ALLOWED
    return refuse("只有司法行政机关的法制监督人员可以组织案卷评查。", "not_office_supervisor", "actor")


def can_evaluate(user, case: Case, *, assigned: bool) -> Verdict:
    """``assigned``: a campaign assigned this case to the user."""
    if is_console(user):
        return ALLOWED
    why = conflict(user, case)
    if why:
        return refuse(why, "conflict_of_interest", "evaluator")
    if assigned:
        return ALLOWED
    if _person(user) and supervises(user, case.agency.region):
        return ALLOWED
    return refuse("您不是本案卷的评查人员。", "not_evaluator", "actor")


def can_respond(user, rectification) -> Verdict:
    if is_console(user) or (_person(user) and user.role in RESPONDERS and user.agency_id == rectification.agency_id):
        return ALLOWED
    return refuse(f"只有“{rectification.agency.name}”的负责人或法制审核人员可以报送整改情况。", "not_agency", "actor")


def can_review_rectification(user, rectification) -> Verdict:
    if is_console(user) or is_office_supervisor(user, rectification.office):
        return ALLOWED
    return refuse(f"只有“{rectification.office.name}”的法制监督人员可以审核整改情况。", "not_office_supervisor", "actor")
