"""Who may read the supervision cockpit (驾驶舱, issue 15 item 1)."""

from __future__ import annotations

from sanxiang.core.models import Region, Role
from sanxiang.core.predicates import ALLOWED, Verdict, is_sysadmin, refuse, supervises


def can_view_cockpit(actor) -> Verdict:
    """Legal-office supervisors (司法局/司法厅, their supervised region and the
    regions below it) and system administrators."""
    if is_sysadmin(actor):
        return ALLOWED
    if getattr(actor, "role", None) == Role.LEGAL_SUPERVISOR and getattr(actor, "region_id", None):
        return ALLOWED
    return refuse("驾驶舱仅供司法行政部门的执法监督人员查看。", "not_a_supervisor")


def can_view_region(actor, region: Region) -> Verdict:
    """A region of the actor's jurisdiction: the supervised region or one below."""
    if is_sysadmin(actor) or supervises(actor, region):
        return ALLOWED
    return refuse("该地区不在您的监督范围内。", "region_out_of_scope", field="region")
