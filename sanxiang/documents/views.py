"""Document pages (back office, login, scoped by the case's agency): a case's
documents, and downloads of the DOCX and PDF as issued — each download is
appended to the audit chain. Views validate and call selectors/services."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import render

from sanxiang.core.views import staff_required

from . import selectors, services
from .kinds import all_kinds

CONTENT_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def file_response(document, fmt: str) -> FileResponse:
    field = document.pdf if fmt == "pdf" else document.docx
    filename = f"{document.title}-{document.number or document.pk}.{fmt}"
    response = FileResponse(field.open("rb"), as_attachment=True, filename=filename, content_type=CONTENT_TYPES[fmt])
    response["X-Content-SHA256"] = document.pdf_sha256 if fmt == "pdf" else document.docx_sha256
    return response


@staff_required
def case_documents(request, case_id: int):
    case, documents = selectors.case_documents_for(user=request.user, case_id=case_id)
    return render(request, "documents/case_documents.html",
                  {"case": case, "documents": documents, "kinds": all_kinds()})


@staff_required
def download(request, pk: int, fmt: str):
    if fmt not in CONTENT_TYPES:
        raise Http404("unknown format")
    document = selectors.get_document_for(user=request.user, pk=pk)
    services.record_download(actor=request.user, document=document, fmt=fmt)
    return file_response(document, fmt)
