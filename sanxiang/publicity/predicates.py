"""Who may do what with a decision's publicity (issue 9, section 6): each
``can_*`` answers a ``Verdict`` (cases.predicates) — true, or false with a
Chinese reason citing its basis and a stable code. ``services.py`` refuses
every write whose predicate is false; pages show the same predicates.

Early end of publicity (信用修复, credit repair):
- the applicant is the decision's party: the party applies (the deciding
  agency's publicity administrator or head records it) or the agency
  applies on the party's behalf; nobody else records applications;
- one pending or approved application per decision;
- approval by the role named in the dated rule
  ``publicity.early_end_approver_roles`` (by default the legal office,
  ``legal_supervisor``: the agency's own legal office where it names one,
  else one whose region covers the agency), and never by whoever recorded
  the application.
"""

from __future__ import annotations

from datetime import date

from sanxiang.cases.predicates import ALLOWED, Verdict, refuse
from sanxiang.catalog.predicates import can_decide_filing
from sanxiang.core import clock
from sanxiang.core.models import Role
from sanxiang.core.predicates import is_console
from sanxiang.core.vocabulary import PUBLICITY_MANAGERS
from sanxiang.rules.loader import get_rule

from .models import Decision, DecisionStatus, EarlyEndApplication, EarlyEndStatus

APPROVER_RULE = "publicity.early_end_approver_roles"
# The deciding agency's accounts that record an application (the party's,
# or the agency's on its behalf): those who publish and withdraw its records.
APPLICATION_ROLES = PUBLICITY_MANAGERS
# Penalties after which credit repair may not end publicity early
# (《市场监督管理行政处罚信息公示规定》 arts. 14-15 practice; domain.md).
NO_EARLY_END = {"责令停产停业", "吊销许可证件", "限制从业"}
# Codes of refusals about who acts (403), as opposed to the record's state (422).
WHO_CODES = {"early_end_not_deciding_agency", "early_end_own_application", "early_end_approver_role",
             "early_end_not_competent_office"}


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", True))


def can_manage_publicity(actor, agency, *, what: str = "管理本部门的公示") -> Verdict:
    """Publish, correct, withdraw and switch automatic publication of the
    agency's decisions: its publicity administrator or head
    (core.vocabulary.PUBLICITY_MANAGERS), a system administrator, or a
    process of the operator's console (a string actor: the loader, the
    scheduler's automatic publication)."""
    if is_console(actor):
        return ALLOWED
    if _active(actor) and (getattr(actor, "role", None) == Role.SYSADMIN or getattr(actor, "is_superuser", False)):
        return ALLOWED
    if _active(actor) and getattr(actor, "role", None) in PUBLICITY_MANAGERS \
            and getattr(actor, "agency_id", None) == agency.pk:
        return ALLOWED
    return refuse(f"只有本部门公示管理员、负责人或系统管理员可以{what}。", "forbidden", "actor")


def approver_rule(decision: Decision, *, on: date | None = None):
    return get_rule(APPROVER_RULE, on=on or clock.today(), agency=decision.agency)


def can_apply_early_end(user, decision: Decision) -> Verdict:
    """May ``user`` record an application to end ``decision``'s publicity
    early, now? Who first (the deciding agency's publicity administrator or
    head), then the record (published, a category that allows it, no other
    pending or approved application)."""
    if not _active(user) or getattr(user, "role", None) not in APPLICATION_ROLES \
            or getattr(user, "agency_id", None) != decision.agency_id:
        return refuse("信用修复申请由当事人提出、作出决定的执法部门登记（或由该部门代当事人申请）；"
                      "只有该部门的公示管理员或负责人可以登记。", "early_end_not_deciding_agency", "decision")
    categories = set(decision.data.get("penalty_categories") or []) & NO_EARLY_END
    if categories:
        return refuse(f"受到{'、'.join(sorted(categories))}处罚的信息不适用信用修复提前停止公示。",
                      "early_end_not_applicable", "decision")
    if decision.status != DecisionStatus.PUBLISHED:
        return refuse("只有正在公示的决定可以申请提前停止公示。", "early_end_not_published", "decision")
    existing = EarlyEndApplication.objects.filter(
        decision=decision, status__in=[EarlyEndStatus.APPLIED, EarlyEndStatus.APPROVED]).first()
    if existing is not None:
        state = "待审批" if existing.status == EarlyEndStatus.APPLIED else "已批准"
        return refuse(f"该决定已有一份{state}的信用修复申请（{existing.applied_at:%Y-%m-%d}），同一决定不重复受理。",
                      "early_end_duplicate", "decision")
    return ALLOWED


def can_decide_early_end(user, application: EarlyEndApplication, *, on: date | None = None) -> Verdict:
    """May ``user`` approve or refuse ``application``?"""
    if not _active(user):
        return refuse("请先登录。", "early_end_approver_role", "application")
    if application.applied_by_id is not None and application.applied_by_id == user.pk:
        return refuse("登记信用修复申请的人员不能审批该申请。", "early_end_own_application", "application")
    agency = application.decision.agency
    rule = approver_rule(application.decision, on=on)
    role = getattr(user, "role", None)
    if role not in rule.value:
        return refuse(f"信用修复申请由{_roles_text(rule.value)}审批（{rule.reference}）。", "early_end_approver_role",
                      "application")
    if role == Role.LEGAL_SUPERVISOR:
        competent = can_decide_filing(user, agency)
    elif role in PUBLICITY_MANAGERS:
        competent = getattr(user, "agency_id", None) == agency.pk
    else:
        competent = False
    if not competent:
        return refuse(f"只有{agency.name}所属的{_roles_text(rule.value)}可以审批该申请（{rule.reference}）。",
                      "early_end_not_competent_office", "application")
    return ALLOWED


ROLE_TEXT = {Role.LEGAL_SUPERVISOR: "司法行政机关（法制机构）", Role.AGENCY_HEAD: "执法部门负责人",
             Role.PUBLICITY_ADMIN: "执法部门公示管理员"}


def _roles_text(roles) -> str:
    return "或".join(ROLE_TEXT.get(r, r) for r in roles)
