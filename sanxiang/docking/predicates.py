"""Who may change the trust list and the sending side (``can_*`` returning
a Verdict, as everywhere): system administrators, and the operator's
console (`sanxiang docking …`). A docked instance itself changes nothing
but its own records, through signed messages (services.receive_message),
and only within what its trust-list entry covers (``may_speak_for``)."""

from __future__ import annotations

from sanxiang.core.models import Agency, Region
from sanxiang.core.predicates import ALLOWED, Verdict, is_console, is_sysadmin, refuse, supervises_platform

from .models import Instance


def can_manage_docking(actor) -> Verdict:
    if is_console(actor) or is_sysadmin(actor):
        return ALLOWED
    return refuse("对接平台的登记、密钥和上级平台地址只能由系统管理员设置。", "forbidden", "actor")


def can_view_docking(actor) -> Verdict:
    return can_manage_docking(actor)


def can_view_supervision(actor) -> Verdict:
    """The supervision page of every docked platform's and case system's
    reconciliation, lag and backlog: system administrators, and the legal
    office that supervises the whole platform (the province's 司法厅 —
    core.predicates.supervises_platform)."""
    if is_console(actor) or is_sysadmin(actor) or supervises_platform(actor):
        return ALLOWED
    return refuse("对接监督只对系统管理员和本平台最高一级的司法行政部门开放。", "forbidden", "actor")


def may_speak_for(instance: Instance, *, agency_code: str = "", region_code: str = "") -> bool:
    """Whether the instance's trust-list entry covers the agency (named, or
    within one of its regions) or the region (within one of its regions)."""
    region_paths = list(instance.regions.values_list("path", flat=True))
    if agency_code:
        agency = Agency.objects.filter(credit_code=agency_code).select_related("region").first()
        if agency is None:
            return False
        if instance.agencies.filter(pk=agency.pk).exists():
            return True
        return any(agency.region.path.startswith(p) for p in region_paths)
    if region_code:
        region = Region.objects.filter(code=region_code).first()
        return region is not None and any(region.path.startswith(p) for p in region_paths)
    return False
