"""Who may do what with a catalogue: the ``can_*`` predicates the services
ask first and pages use to show or hide buttons, each answering a Verdict
(true, or false with a Chinese reason and a stable code). One place per rule.
"""

from __future__ import annotations

from sanxiang.core.models import Agency, Role
from sanxiang.core.vocabulary import PUBLICITY_MANAGERS, REVIEW_OFFICE
from sanxiang.core.predicates import ALLOWED, Verdict, refuse

from .models import CatalogueKind

# The agency's people who compile and submit its public lists.
EDITOR_ROLES = PUBLICITY_MANAGERS
# The review catalogue (审核-6) is compiled by the agency's legal-review office and head.
REVIEW_CATALOGUE_EDITOR_ROLES = REVIEW_OFFICE


def editor_roles(kind: str) -> set[str]:
    return REVIEW_CATALOGUE_EDITOR_ROLES if kind == CatalogueKind.REVIEW_CATALOGUE else EDITOR_ROLES


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def can_edit_catalogues(user, agency: Agency, kind: str = CatalogueKind.ENFORCEMENT_ITEMS) -> Verdict:
    """The agency's publicity administrator or head edits and submits its
    public lists; its legal-review office or head its review catalogue."""
    if _active(user) and user.role in editor_roles(kind) and user.agency_id == agency.pk:
        return ALLOWED
    if kind == CatalogueKind.REVIEW_CATALOGUE:
        return refuse("只有本部门的法制审核机构人员或负责人可以编制法制审核目录清单。", "not_catalogue_editor", "actor")
    return refuse("只有本部门的公示管理员或部门负责人可以编辑和报送清单。", "not_catalogue_editor", "actor")


def can_decide_filing(user, agency: Agency) -> Verdict:
    """The agency's legal office accepts or returns its filings (报本级政府法制办
    备案): a legal-office supervisor whose region covers the agency and, where
    the agency names its supervising legal office, who belongs to that office.
    A supervisor of another city, or of the province over a county's office,
    cannot decide. TOTP-verified where required (checked by the pages/API)."""
    no = refuse("只有该部门所属的司法局（法制机构）可以审查备案。", "not_filing_office", "actor")
    if not _active(user) or user.role != Role.LEGAL_SUPERVISOR or not user.region_id:
        return no
    if not agency.region.path.startswith(user.region.path):
        return no
    if agency.legal_office_id is not None and user.agency_id != agency.legal_office_id:
        return no
    return ALLOWED
