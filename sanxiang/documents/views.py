"""Document pages (back office, login, scoped by the case's agency): a case's
documents, and downloads of the DOCX and PDF as issued — each download is
appended to the audit chain. Views validate and call selectors/services."""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import render

from sanxiang.core.views import staff_required

from . import predicates, selectors, services
from .kinds import direct_kinds

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
    documents = documents.select_related("step")
    return render(request, "documents/case_documents.html",
                  {"case": case, "documents": documents, "kinds": direct_kinds(),
                   "can_issue": predicates.can_issue(request.user, case).ok})


@staff_required
def download(request, pk: int, fmt: str):
    if fmt not in CONTENT_TYPES:
        raise Http404("unknown format")
    document = selectors.get_document_for(user=request.user, pk=pk)
    services.record_download(actor=request.user, document=document, fmt=fmt)
    return file_response(document, fmt)


@staff_required
def issue(request, case_id: int, kind: str):
    """Fill in and issue one numbered document in a case (记录-2). The form
    is generated from the kind's field list; the service validates, numbers,
    renders and audits. Only those who may issue in the case see the form
    (others of the jurisdiction read the documents: 403 here)."""
    from django.contrib import messages
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.shortcuts import redirect

    from .kinds import KindNotFound, get_kind

    case, _ = selectors.case_documents_for(user=request.user, case_id=case_id)
    try:
        spec = get_kind(kind)
    except KindNotFound:
        raise Http404("unknown document kind")
    if not predicates.can_issue(request.user, case, spec.code):
        raise PermissionDenied
    if spec.issued_through:  # made by its own workflow (the legal-review pages), never from this form
        messages.error(request, f"{spec.title}由法制审核流程制作，请在本案的法制审核页面办理。")
        return redirect("review:case", pk=case.pk)
    errors, values = {}, {}
    if request.method == "POST":
        for field in spec.fields:
            raw = request.POST.get(field.name, "")
            if field.type == "list":
                raw = [line for line in raw.splitlines() if line.strip()]
            if raw not in ("", []):
                values[field.name] = raw
        try:
            document = services.issue_document(actor=request.user, case=case, kind=kind, data=values)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
        except PermissionDenied as exc:
            errors = {"__all__": [str(exc)]}
        else:
            messages.success(request, f"{document.title} {document.number or ''}")
            return redirect("documents:case", case_id=case.pk)
    fields = [{"spec": f, "value": request.POST.get(f.name, "") if request.method == "POST" else "",
               "errors": errors.get(f.name, [])} for f in spec.fields]
    other = [e for k, v in errors.items() if k not in spec.field_map for e in v]
    return render(request, "documents/issue.html", {"case": case, "kind": spec, "fields": fields, "errors": other},
                  status=400 if errors else 200)
