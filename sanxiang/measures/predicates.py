"""Who may do what with the task table's tasks (each answers a Verdict with
a Chinese reason and a stable code; services ask first, pages hide buttons).

- Roll-out: a legal-office supervisor of the top region of the platform
  (the province's 司法厅, the table's 省法制办), or a console process.
- A unit works on its own tasks (progress reports, evidence, marking done,
  submitting a filing): its head, publicity administrator or legal
  reviewers, or, for a legal office's own tasks, its supervisors.
- The legal office accepts or returns a task, and files or returns a
  filing: a legal-office supervisor whose region holds the unit. A legal
  office never accepts its own task, except the top one (no office above).
"""

from __future__ import annotations

from sanxiang.core.predicates import ALLOWED, Verdict, is_console, refuse, supervises, supervises_platform
from sanxiang.core.vocabulary import TASK_TABLE_ROLES, Role

UNIT_ROLES = TASK_TABLE_ROLES


def _person(user) -> bool:
    return bool(user is not None and not isinstance(user, str) and getattr(user, "is_authenticated", False)
                and user.is_active)


def can_roll_out(user) -> Verdict:
    if is_console(user) or supervises_platform(user):
        return ALLOWED
    return refuse("只有省级司法行政机关（省法制办）的监督人员可以下发任务分解表。", "not_province_legal_office", "actor")


def can_work_on_task(user, task) -> Verdict:
    if is_console(user):
        return ALLOWED
    if _person(user) and user.role in UNIT_ROLES and user.agency_id == task.agency_id:
        return ALLOWED
    return refuse(f"只有责任单位“{task.agency.name}”的负责人、公示管理员、法制审核人员可以办理这项任务。",
                  "not_task_unit", "actor")


def can_decide_task(user, task) -> Verdict:
    if is_console(user):
        return ALLOWED
    if supervises(user, task.agency.region) and (user.agency_id != task.agency_id or supervises_platform(user)):
        return ALLOWED
    return refuse("只有监督该单位的司法行政机关（法制办）可以验收或退回任务。", "not_task_supervisor", "actor")


def can_see_matrix(user) -> Verdict:
    if _person(user) and user.role == Role.LEGAL_SUPERVISOR and user.region_id:
        return ALLOWED
    if _person(user) and (user.role == Role.SYSADMIN or user.is_superuser):
        return ALLOWED
    return refuse("任务矩阵只向司法行政机关的监督人员开放。", "not_matrix_reader", "actor")
