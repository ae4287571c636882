"""Document pages (back office, login, scoped by the case's agency): a case's
documents, and downloads of the DOCX and PDF as issued — each download is
appended to the audit chain. Views validate and call selectors/services."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from sanxiang.core.parsing import BadInput, optional_id
from sanxiang.core.views import staff_required

from . import predicates, selectors, services
from .kinds import DocumentKind, KindNotFound, direct_kinds, get_kind
from .values import clean_data, clean_value, print_value

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


ACTION_PREVIEW, ACTION_EDIT, ACTION_ISSUE = "preview", "edit", "issue"


def _posted_values(request, spec) -> dict:
    """The form's values as the service takes them (a list one item a line,
    a switch on or off)."""
    values = {}
    for field in spec.fields:
        raw = request.POST.get(field.name, "")
        if field.type == "bool":
            values[field.name] = raw in ("1", "on", "true")
            continue
        if field.type == "list":
            raw = [line.strip() for line in raw.splitlines() if line.strip()]
        if raw not in ("", []):
            values[field.name] = raw
    return values


def _form_fields(spec, values: dict, errors: dict) -> list[dict]:
    """Each field with the value the form shows (a list as lines) and its
    widget: a date or time picker where the stored value is one (a time in
    words from an older record stays a text box), a switch for yes/no."""
    fields = []
    for f in spec.fields:
        value = values.get(f.name, "")
        widget = f.type
        if f.type == "list":
            value = "\n".join(value) if isinstance(value, list) else value
        elif f.type == "datetime" and value and not _is_iso_datetime(value):
            widget = "text"
        fields.append({"spec": f, "value": value, "widget": widget, "errors": errors.get(f.name, [])})
    return fields


def _is_iso_datetime(value) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return "T" in str(value)


def _errors_of(exc) -> dict:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


@staff_required
def issue(request, case_id: int, kind: str):
    """Fill in, preview and issue one document in a case (记录-2; issue 11
    item 6). GET: the form, prefilled from the case (``selectors.prefill_for``;
    ``?item=`` picks the enforcement item whose basis fills 处罚依据). POST
    ``preview``: the values are checked in full and a confirmation page shows
    them with the draft PDF (草稿, no number; nothing stored or numbered);
    ``edit`` goes back to the form; ``issue`` with ``confirm=1`` — the
    irreversible "生成文号并出具" — calls the service, which validates,
    numbers, renders and audits. Only those who may issue in the case see
    the form (others of the jurisdiction read the documents: 403 here)."""
    case, _ = selectors.case_documents_for(user=request.user, case_id=case_id)
    spec = _kind_for_issue(request, case, kind)
    if not isinstance(spec, DocumentKind):
        return spec
    errors: dict = {}
    items, chosen = [], None
    template, status = "documents/issue.html", 200
    if request.method == "POST":
        values = _posted_values(request, spec)
        action = request.POST.get("action", ACTION_PREVIEW)
        if action == ACTION_ISSUE and request.POST.get("confirm") == "1":
            try:
                document = services.issue_document(actor=request.user, case=case, kind=kind, data=values)
            except ValidationError as exc:
                errors = _errors_of(exc)
            except PermissionDenied as exc:
                errors = {"__all__": [str(exc)]}
            else:
                messages.success(request, f"{document.title} {document.number or ''}".strip())
                return redirect("documents:case", case_id=case.pk)
        elif action != ACTION_EDIT:
            try:
                clean_data(spec, values)
            except ValidationError as exc:
                errors = _errors_of(exc)
            else:
                template = "documents/issue_confirm.html"
        status = 400 if errors else 200
    else:
        try:
            item_id = optional_id(request.GET.get("item", "").strip(), field="item")
        except BadInput:
            item_id = None  # a mangled link: offer the choice again
        values, items, chosen = selectors.prefill_for(user=request.user, case=case, kind=spec, item_id=item_id)
    fields = _form_fields(spec, values, errors)
    other = [e for k, v in errors.items() if k not in spec.field_map for e in v]
    return render(request, template, {
        "case": case, "kind": spec, "fields": fields, "errors": other, "items": items, "chosen_item": chosen,
        "prefilled": request.method != "POST",
        "summary": [{"spec": f, "text": print_value(f, clean_value_or_raw(f, values.get(f.name)))}
                    for f in spec.fields] if template.endswith("confirm.html") else [],
    }, status=status)


def clean_value_or_raw(spec, value):
    if value in (None, "", []):
        return False if spec.type == "bool" else value
    try:
        return clean_value(spec, value)
    except ValidationError:
        return value


def _kind_for_issue(request, case, kind: str):
    """The kind, if the user may issue it here; else the response to give
    (404 unknown, 403 not theirs, a redirect for a workflow's own kinds)."""
    try:
        spec = get_kind(kind)
    except KindNotFound:
        raise Http404("unknown document kind")
    if not predicates.can_issue(request.user, case, spec.code):
        raise PermissionDenied
    if spec.issued_through:  # made by its own workflow (the legal-review pages), never from this form
        messages.error(request, f"{spec.title}由法制审核流程制作，请在本案的法制审核页面办理。")
        return redirect("review:case", pk=case.pk)
    return spec


@staff_required
@require_POST
def preview(request, case_id: int, kind: str):
    """The draft PDF of the values posted (草稿, no number): nothing is
    stored, numbered or recorded as issued (``services.render_preview``)."""
    case, _ = selectors.case_documents_for(user=request.user, case_id=case_id)
    spec = _kind_for_issue(request, case, kind)
    if not isinstance(spec, DocumentKind):
        return spec
    try:
        pdf = services.render_preview(case=case, kind=kind, data=_posted_values(request, spec), fmt="pdf")
    except ValidationError as exc:
        return render(request, "documents/issue.html", {
            "case": case, "kind": spec, "fields": _form_fields(spec, _posted_values(request, spec), _errors_of(exc)),
            "errors": [e for k, v in _errors_of(exc).items() if k not in spec.field_map for e in v]}, status=400)
    response = HttpResponse(pdf, content_type=CONTENT_TYPES["pdf"])
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(spec.title)}-draft.pdf"
    response["Cache-Control"] = "no-store"
    return response
