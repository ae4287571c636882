"""Who may do what in 双随机一公开 (each answers a Verdict with a Chinese
reason and a stable code; services ask first, pages hide buttons)."""

from __future__ import annotations

from sanxiang.core.models import Agency
from sanxiang.core.predicates import ALLOWED, Verdict, is_console, refuse
from sanxiang.core.vocabulary import INSPECTION_ROLES, PUBLICITY_MANAGERS, Role

# The agency's people who organise its random inspections: its publicity
# administrator (who also keeps its 随机抽查事项清单) and its head.
ORGANISERS = PUBLICITY_MANAGERS
# Who gives a participant's commitment and secret: the organisers of a
# participating agency, or a legal-office supervisor of the legal office.
PARTICIPANT_ROLES = INSPECTION_ROLES
DIRECTORY_EDITORS = ORGANISERS | {Role.API_CLIENT}


def _person(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def can_organise_inspections(user, agency: Agency) -> Verdict:
    """Directories, plans, batches and draws of the agency."""
    if is_console(user):
        return ALLOWED
    if _person(user) and user.role in ORGANISERS and user.agency_id == agency.pk:
        return ALLOWED
    return refuse("只有本部门的公示管理员或部门负责人可以组织双随机抽查。", "not_inspection_organiser", "actor")


def can_maintain_directory(user) -> Verdict:
    """The directory of inspection objects is shared by the agencies of the
    platform: an organiser of any agency, or a console process, maintains it;
    so does an agency's API client (its token's scope inspections:directory
    is checked by the API, api.py)."""
    if is_console(user) or (_person(user) and user.role in DIRECTORY_EDITORS and user.agency_id):
        return ALLOWED
    return refuse("只有执法部门的公示管理员或部门负责人可以维护检查对象名录库。", "not_directory_editor", "actor")


def can_act_for_participant(user, agency: Agency) -> Verdict:
    """The commitment and the secret of a participant of a draw come from a
    person of that agency (its organisers; a supervisor of a legal office)."""
    if _person(user) and user.role in PARTICIPANT_ROLES and user.agency_id == agency.pk:
        return ALLOWED
    return refuse(f"只有“{agency.name}”的负责人、公示管理员或法制监督人员可以提交该单位的承诺值和密钥。",
                  "not_participant", "actor")
