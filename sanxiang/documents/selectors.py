"""Reads of documents, always scoped by the acting user through the case's
agency (core.selectors.agencies_for). Lookups raise Http404 whether the row
is missing or out of scope, so a probe never learns which."""

from __future__ import annotations

from django.db.models import QuerySet

from sanxiang.cases.models import Case
from sanxiang.core.selectors import agencies_for, get_in_scope

from . import prefill
from .kinds import DocumentKind
from .models import Document


def documents_for(*, user) -> QuerySet[Document]:
    return Document.objects.select_related("case", "agency", "issued_by").filter(
        case__agency__in=agencies_for(user=user))


def get_document_for(*, user, pk) -> Document:
    return get_in_scope(documents_for(user=user), "document", pk=pk)


def get_case_for(*, user, pk) -> Case:
    return get_in_scope(Case.objects.select_related("agency").filter(agency__in=agencies_for(user=user)), "case", pk=pk)


def step_documents_for(*, user, step) -> QuerySet[Document]:
    """The documents issued in a case step (记录-2/记录-3), within scope."""
    return documents_for(user=user).filter(step=step).order_by("issued_at", "id")


def case_documents_for(*, user, case_id) -> tuple[Case, QuerySet[Document]]:
    case = get_case_for(user=user, pk=case_id)
    return case, documents_for(user=user).filter(case=case).order_by("issued_at", "id")


def prefill_for(*, user, case: Case, kind: DocumentKind, item_id: int | None = None):
    """The starting values of ``kind``'s form in ``case`` from the case, its
    earlier documents (those ``user`` may read), its evidence and the
    enforcement item picked (``prefill.prefill``; issue 11 item 6)."""
    documents = documents_for(user=user).filter(case=case)
    return prefill.prefill(case=case, kind=kind, documents=documents, item_id=item_id)
