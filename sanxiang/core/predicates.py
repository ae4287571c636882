"""Who may change the core tables: ``can_*`` predicates returning a Verdict.

Every core service (``services.py``) asks one of these first, so the back
office, the CLI and any future page or endpoint are held to the same rule:

- regions (GB/T 2260 codes, national data) and accounts (roles, scopes,
  activation): system administrators;
- agencies and officers' certificates (执法证): system administrators, and
  the legal office's supervisors (司法局) for agencies and officers within
  the region they supervise — legal offices issue and manage certificates.

An actor given as a string names a process run by the operator on the
server itself (``sanxiang createuser``, the demo loader, fixtures): it has
no web session and is trusted as the console is. ``None`` and anonymous
users are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from .models import Agency, Region, Role


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""
    code: str = ""
    field: str = "code"

    def __bool__(self) -> bool:
        return self.ok


ALLOWED = Verdict(True)


def refuse(reason: str, code: str, field: str = "code") -> Verdict:
    return Verdict(False, reason, code, field)


def is_console(actor) -> bool:
    """A process run on the server (CLI, loader), named by a non-empty string."""
    return isinstance(actor, str) and bool(actor.strip())


def _person(actor) -> bool:
    return (not isinstance(actor, str) and getattr(actor, "is_authenticated", False)
            and getattr(actor, "is_active", False))


def is_sysadmin(actor) -> bool:
    return _person(actor) and (actor.role == Role.SYSADMIN or actor.is_superuser)


def supervises(actor, region: Region | None) -> bool:
    """A legal-office supervisor whose supervised region contains `region`."""
    return (_person(actor) and actor.role == Role.LEGAL_SUPERVISOR and actor.region_id is not None
            and region is not None and region.path.startswith(actor.region.path))


def supervises_platform(actor) -> bool:
    """A legal-office supervisor of this platform's top region (the
    province's 司法厅 on the province's platform): supervises the whole
    platform, the docked lower platforms and case systems included."""
    return (_person(actor) and actor.role == Role.LEGAL_SUPERVISOR and actor.region_id is not None
            and actor.region.parent_id is None)


def can_manage_regions(actor) -> Verdict:
    if is_console(actor) or is_sysadmin(actor):
        return ALLOWED
    return refuse("行政区划只能由系统管理员维护。", "forbidden", "actor")


def can_manage_users(actor) -> Verdict:
    if is_console(actor) or is_sysadmin(actor):
        return ALLOWED
    return refuse("账号、角色和权限范围只能由系统管理员设置。", "forbidden", "actor")


def can_manage_failed_tasks(actor) -> Verdict:
    """The job queue's failed tasks (their errors name records and paths):
    system administrators see them and re-enqueue them."""
    if is_console(actor) or is_sysadmin(actor):
        return ALLOWED
    return refuse("失败的后台任务只能由系统管理员查看和重试。", "forbidden", "actor")


def can_manage_agency(actor, *, region: Region | None) -> Verdict:
    """Create or change an agency located in `region`."""
    if is_console(actor) or is_sysadmin(actor) or supervises(actor, region):
        return ALLOWED
    return refuse("执法部门信息只能由系统管理员或所辖区域的司法行政部门维护。", "forbidden", "actor")


def can_set_reporting_channel(actor, *, agency: Agency) -> Verdict:
    """Set the reporting channel (举报/投诉) shown with the agency's officers
    on /verify: its own head, or whoever may manage the agency."""
    if _person(actor) and actor.role == Role.AGENCY_HEAD and actor.agency_id == agency.pk:
        return ALLOWED
    if can_manage_agency(actor, region=agency.region):
        return ALLOWED
    return refuse("举报投诉渠道只能由本部门负责人、系统管理员或所辖区域的司法行政部门设置。", "forbidden", "actor")


def can_manage_officers(actor, *, agency: Agency | None) -> Verdict:
    """Create an officer of `agency` or change one's record or certificate status."""
    if is_console(actor) or is_sysadmin(actor) or (agency is not None and supervises(actor, agency.region)):
        return ALLOWED
    return refuse("执法人员和执法证只能由系统管理员或所辖区域的司法行政部门管理。", "forbidden", "actor")
