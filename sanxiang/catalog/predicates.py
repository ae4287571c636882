"""Who may do what with a catalogue: the `can_*` predicates services check
and pages use to show or hide buttons. One place per rule."""

from __future__ import annotations

from sanxiang.core.auth import is_fully_authenticated
from sanxiang.core.models import Agency, Role
from sanxiang.core.vocabulary import PUBLICITY_MANAGERS, REVIEW_OFFICE

# The agency's people who compile and submit its catalogues.
EDITOR_ROLES = PUBLICITY_MANAGERS


def _active(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def can_edit_catalogues(user, agency: Agency) -> bool:
    """The agency's publicity administrator or head edits and submits."""
    return _active(user) and user.role in EDITOR_ROLES and user.agency_id == agency.pk


def can_decide_filing(user, agency: Agency) -> bool:
    """The agency's legal office accepts or returns its filings (报本级政府法制办
    备案): a legal-office supervisor whose region covers the agency and, where
    the agency names its supervising legal office, who belongs to that office.
    A supervisor of another city, or of the province over a county's office,
    cannot decide. TOTP-verified where required (checked by the pages/API)."""
    if not _active(user) or user.role != Role.LEGAL_SUPERVISOR or not user.region_id:
        return False
    if not agency.region.path.startswith(user.region.path):
        return False
    if agency.legal_office_id is not None and user.agency_id != agency.legal_office_id:
        return False
    return True


def is_staff_session(user) -> bool:
    return is_fully_authenticated(user)
