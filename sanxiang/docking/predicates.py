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
    return speaks_for(instance)(agency_code=agency_code, region_code=region_code)


def speaks_for(instance: Instance):
    """``may_speak_for`` for many objects of one instance (a batch): the
    instance's regions and agencies are read once, each agency or region
    asked about once."""
    region_paths = list(instance.regions.values_list("path", flat=True))
    named: set[int] | None = None
    answers: dict[tuple[str, str], bool] = {}

    def covers_path(path: str) -> bool:
        return any(path.startswith(p) for p in region_paths)

    def check(*, agency_code: str = "", region_code: str = "") -> bool:
        nonlocal named
        asked = (agency_code, "" if agency_code else region_code)
        if asked in answers:
            return answers[asked]
        if agency_code:
            agency = Agency.objects.filter(credit_code=agency_code).select_related("region").first()
            if agency is None:
                answer = False
            else:
                if named is None:
                    named = set(instance.agencies.values_list("pk", flat=True))
                answer = agency.pk in named or covers_path(agency.region.path)
        elif region_code:
            region = Region.objects.filter(code=region_code).first()
            answer = region is not None and covers_path(region.path)
        else:
            answer = False
        answers[asked] = answer
        return answer

    return check
