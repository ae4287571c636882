"""Who may issue documents (文书): ``can_*`` predicates answering a Verdict
(true, or false with a Chinese reason and a stable code). The services ask
them first; the pages show the same answers."""

from __future__ import annotations

from sanxiang.cases.predicates import ALLOWED, Verdict, can_approve, refuse
from sanxiang.core.vocabulary import CASE_HANDLERS, Role

# Besides the case's handlers, the agency's legal-review office issues its own
# opinion (法制审核意见书, 审核-8), through the legal-review workflow.
OTHER_ISSUERS = {"legal_review_opinion": frozenset({Role.LEGAL_REVIEWER})}


def can_issue(actor, case, kind: str | None = None) -> Verdict:
    """May ``actor`` issue documents (of ``kind``) in ``case``: a person or
    API client of the case's own agency who handles cases there
    (core.vocabulary.CASE_HANDLERS), or for the kinds in ``OTHER_ISSUERS`` the
    roles named there. A legal office (even the one supervising the agency)
    and a system administrator may read the documents, never issue them."""
    roles = CASE_HANDLERS | OTHER_ISSUERS.get(kind or "", frozenset())
    if (getattr(actor, "is_authenticated", False) and getattr(actor, "is_active", True)
            and getattr(actor, "role", None) in roles and actor.agency_id is not None
            and actor.agency_id == case.agency_id):
        return ALLOWED
    return refuse("只有本部门的执法人员、负责人或本部门授权的系统可以制作本案文书。", "forbidden", "actor")


def can_set_number_pattern(actor, agency) -> Verdict:
    """The agency's head, or a system administrator (who also sets the
    agency's document abbreviation, ``Agency.short_name``)."""
    if can_approve(actor, agency.pk) or (getattr(actor, "is_authenticated", False)
                                         and getattr(actor, "role", None) == Role.SYSADMIN):
        return ALLOWED
    return refuse("文号格式由本部门负责人或系统管理员设置。", "forbidden", "actor")
