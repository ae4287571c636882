"""Who may add evidence to a case and who may hand it outside (issue 9,
section 6). Each ``can_*`` answers a ``Verdict`` (cases.predicates): true,
or false with a Chinese reason citing its basis and a stable code. The
services refuse every write whose predicate is false (``Refused``: 403 with
that code in the API, the message on pages); pages show the same predicates,
so what is offered is what is allowed. Jurisdiction comes first and
separately: a case or item outside the user's scope is 404 in the selectors.

Adding evidence: the case's officers (承办人员, ``cases.CaseOfficer``), the
agency's head, and the agency's own authorised system (an API client whose
token carries ``evidence:upload``, e.g. a recorder docking station uploading
for the officer who carried the device). Legal offices, publicity
administrators, legal reviewers and officers not on the case may not.

Sharing (a download link for someone outside the platform): asked by whoever
may add evidence to the item's case; the link works only once the agency
head approved it, unless the asker's role is named in the dated rule
``evidence.share_without_approval_roles`` (by default the head alone).
"""

from __future__ import annotations

from datetime import date

from sanxiang.cases.predicates import ALLOWED, Verdict, refuse
from sanxiang.core import clock
from sanxiang.core.models import Role
from sanxiang.core.vocabulary import AGENCY_WIDE_HANDLERS, ARCHIVE_BUILDERS, EVIDENCE_MANAGERS
from sanxiang.rules.loader import get_rule

# Who carries out and records the investigation: penalty law art. 42
# (officers with enforcement credentials) and art. 55 (they collect evidence).
ADD_BASIS = "《中华人民共和国行政处罚法》第四十二条、第五十五条"
SHARE_RULE = "evidence.share_without_approval_roles"


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and getattr(user, "is_active", True))


def can_manage_evidence(user) -> Verdict:
    """Holds, deletion and restoration: the agency's head, a legal-office
    supervisor or a system administrator (core.vocabulary.EVIDENCE_MANAGERS)."""
    if getattr(user, "is_superuser", False) or getattr(user, "role", None) in EVIDENCE_MANAGERS:
        return ALLOWED
    return refuse("只有部门负责人、司法行政机关（法制机构）或系统管理员可以保全、删除或恢复证据。", "forbidden", "item")


def can_build_archive(user, case) -> Verdict:
    """Rebuilding a closed or terminated case's file: its own agency's
    officers and head (the build on closure runs by itself; this is the retry)."""
    if case.status not in ("closed", "terminated"):
        return refuse("只有已结案或已终止的案件才能生成电子案卷。", "case_not_closed", "case")
    if getattr(user, "agency_id", None) == case.agency_id and getattr(user, "role", None) in ARCHIVE_BUILDERS:
        return ALLOWED
    return refuse("只有本部门的执法人员或负责人可以重新生成本案的电子案卷。", "forbidden", "case")


def is_case_officer(user, case) -> bool:
    """The user's officer record is assigned to the case (承办人员)."""
    return bool(getattr(user, "pk", None)) and case.assignments.filter(officer__user_id=user.pk).exists()


def can_add_evidence(user, case) -> Verdict:
    """May ``user`` add evidence (an upload, by page, API or tus) to ``case``?"""
    if not _active(user):
        return refuse("请先登录。", "not_authenticated", "case")
    role = getattr(user, "role", None)
    if getattr(user, "agency_id", None) != case.agency_id:
        return refuse(f"只有本案承办人员或本部门负责人可以为本案添加证据，其他机关或部门的人员不能（{ADD_BASIS}）。",
                      "not_case_agency", "case")
    if role in AGENCY_WIDE_HANDLERS:
        return ALLOWED
    if role == Role.OFFICER:
        if is_case_officer(user, case):
            return ALLOWED
        return refuse(f"您不是本案承办人员，不能为本案添加证据；请由本部门负责人将您加入本案（{ADD_BASIS}）。",
                      "not_case_officer", "case")
    return refuse(f"您的角色不能为案件添加证据：只有本案承办人员或本部门负责人可以（{ADD_BASIS}）。",
                  "role_cannot_add_evidence", "case")


def share_rule(case, *, on: date | None = None):
    """The dated rule naming the roles that share without approval."""
    return get_rule(SHARE_RULE, on=on or clock.today(), agency=case.agency)


def can_share_evidence(user, item, *, on: date | None = None) -> Verdict:
    """May ``user`` ask for a share link to ``item``? (Whether the link
    needs the head's approval is ``share_needs_approval``.)"""
    verdict = can_add_evidence(user, item.case)
    if not verdict:
        rule = share_rule(item.case, on=on)
        return refuse(f"只有本案承办人员或本部门负责人可以对外提供（共享）本案证据（{rule.reference}）。",
                      "cannot_share_evidence", "item")
    return ALLOWED


def share_needs_approval(user, item, *, on: date | None = None) -> bool:
    return getattr(user, "role", None) not in share_rule(item.case, on=on).value


def can_approve_share(user, share, *, on: date | None = None) -> Verdict:
    """The head of the item's agency approves a share someone else asked for."""
    rule = share_rule(share.item.case, on=on)
    if not _active(user) or getattr(user, "role", None) != Role.AGENCY_HEAD \
            or getattr(user, "agency_id", None) != share.item.case.agency_id:
        return refuse(f"对外提供证据须经本部门负责人批准（{rule.reference}）。", "share_approval_head_only", "share")
    if share.shared_by_id == user.pk:
        return refuse("不能批准自己提出的共享申请。", "share_own_request", "share")
    return ALLOWED


def can_revoke_share(user, share) -> Verdict:
    """Whoever asked for the share, and the agency's head, may revoke it."""
    if _active(user) and (share.shared_by_id == user.pk or (
            getattr(user, "role", None) == Role.AGENCY_HEAD and getattr(user, "agency_id", None) == share.item.case.agency_id)):
        return ALLOWED
    return refuse("只有提出共享的人员或本部门负责人可以撤销共享链接。", "share_revoke_forbidden", "share")
