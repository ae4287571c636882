"""Who may write and read the annual reports (行政执法数据年度报告)."""

from __future__ import annotations

from sanxiang.core.models import Region, Role
from sanxiang.core.predicates import ALLOWED, Verdict, is_sysadmin, refuse, supervises
from sanxiang.core.vocabulary import PUBLICITY_MANAGERS

from .models import AnnualReport, ReportStatus

AGENCY_WRITERS = PUBLICITY_MANAGERS  # the agency's publicity work: its head and publicity administrator


def can_edit_report(actor, agency) -> Verdict:
    """The agency's own head or publicity administrator."""
    if getattr(actor, "role", None) in AGENCY_WRITERS and getattr(actor, "agency_id", None) == agency.pk:
        return ALLOWED
    return refuse("年度报告由本机关负责人或公示管理员编写、发布。", "not_the_agency", field="agency")


def can_change(report: AnnualReport) -> Verdict:
    if report.status == ReportStatus.PUBLISHED:
        return refuse("年度报告已发布，不能再修改。", "published", field="status")
    return ALLOWED


def can_view_status(actor, region: Region) -> Verdict:
    """A legal office's supervisor over the region (or a system administrator)."""
    if is_sysadmin(actor) or supervises(actor, region):
        return ALLOWED
    return refuse("该地区不在您的监督范围内。", "region_out_of_scope", field="region")


def can_publish_summary(actor, region: Region) -> Verdict:
    """The region's own legal office publishes its 通报."""
    if getattr(actor, "role", None) == Role.LEGAL_SUPERVISOR and getattr(actor, "region_id", None) == region.pk:
        return ALLOWED
    return refuse("通报由本地区司法行政部门的执法监督人员发布。", "not_the_office", field="region")
