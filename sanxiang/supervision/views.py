"""Pages of 投诉举报: the public form and lookup on the portal (no login),
and the legal office's list and detail in the back office."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sanxiang.core import clock
from sanxiang.core.lockout import client_ip
from sanxiang.core.models import User
from sanxiang.core import selectors as core_selectors
from sanxiang.core.refusals import message_of, run_shown
from sanxiang.core.views import staff_required

from . import predicates, selectors, services
from .models import OWED_STATUSES, AlertLevel, ComplaintStatus, InstrumentKind, InstrumentStatus

FORM_FIELDS = ("agency", "officer_certificate", "case_reference", "subject", "content", "complainant_name",
               "complainant_phone")
PAGE_SIZE = 30


def _form_context(values: dict, errors: dict | None = None, message: str = "") -> dict:
    return {"agencies": selectors.public_agencies(), "values": values, "errors": errors or {}, "message": message}


@require_http_methods(["GET", "HEAD", "POST"])
def complaint_form(request):
    """The public form: GET (prefilled from ?agency=&officer=&case=, the
    links of an officer's 亮证 page and a decision's page), POST files it and
    shows the tracking number once."""
    if request.method != "POST":
        values = {"agency": request.GET.get("agency", "")[:12], "officer_certificate": request.GET.get("officer", "")[:40],
                  "case_reference": request.GET.get("case", "")[:100]}
        return render(request, "supervision/complaint_form.html", _form_context(values))
    values = {f: request.POST.get(f, "") for f in FORM_FIELDS}
    try:
        complaint = services.file_complaint(data=values, ip=client_ip(request))
    except ValidationError as exc:
        errors = {field: " ".join(msgs) for field, msgs in exc.message_dict.items()}
        return render(request, "supervision/complaint_form.html",
                      _form_context(values, errors, _("Please correct the fields marked below.")), status=400)
    except services.RateLimited as exc:
        return render(request, "supervision/complaint_form.html", _form_context(values, {}, exc.message), status=429)
    return render(request, "supervision/complaint_filed.html", {"complaint": complaint,
                                                                "view": selectors.public_view(complaint)}, status=201)


@require_http_methods(["GET", "HEAD", "POST"])
def complaint_lookup(request):
    """Status and reply by tracking number (POSTed, so the number stays out
    of addresses and logs)."""
    context = {"number": "", "view": None, "not_found": False}
    if request.method == "POST":
        number = services.normalise_tracking_number(request.POST.get("tracking_number"))
        complaint = selectors.by_tracking_number(number)
        context.update(number=number, view=selectors.public_view(complaint) if complaint else None,
                       not_found=complaint is None)
        return render(request, "supervision/complaint_lookup.html", context, status=200 if complaint else 404)
    return render(request, "supervision/complaint_lookup.html", context)


STATUS_FILTERS = [("", _("All")), ("open", _("Open")), ("overdue", _("Overdue"))] + list(ComplaintStatus.choices)


@staff_required
def office_list(request):
    today = clock.today()
    status = request.GET.get("status", "")[:16]
    rows = selectors.office_complaints(user=request.user, status=status, today=today)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/office_list.html", {
        "office": selectors.office_for(user=request.user), "page": page, "status": status, "today": today,
        "filters": [(v, str(label)) for v, label in STATUS_FILTERS], "stats": selectors.statistics(user=request.user, today=today),
    })


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def office_detail(request, pk: int):
    complaint = selectors.complaint_for(user=request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "assign":
            raw = request.POST.get("handler", "")
            handler = User.objects.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() and len(raw) < 10 else None
            run_shown(request, lambda: services.assign(actor=request.user, complaint=complaint, handler=handler),
                      _("The complaint is assigned."))
        elif action == "note":
            run_shown(request, lambda: services.add_note(actor=request.user, complaint=complaint,
                                                         text=request.POST.get("text", "")), _("The note is recorded."))
        elif action == "reply":
            run_shown(request, lambda: services.reply(actor=request.user, complaint=complaint,
                                                      text=request.POST.get("text", "")), _("The reply is given."))
        elif action == "not_accept":
            run_shown(request, lambda: services.not_accept(actor=request.user, complaint=complaint,
                                                           reason=request.POST.get("text", "")),
                      _("The complaint is not accepted; the reason is shown to the complainant."))
        return redirect("supervision:complaint", pk=complaint.pk)
    return render(request, "supervision/office_detail.html", {
        "c": complaint, "notes": complaint.notes.select_related("author"), "handlers": selectors.handlers(complaint),
        "today": clock.today(), "view": selectors.public_view(complaint),
    })


# --- alerts (预警, issue 15 item 2) ---------------------------------------------------------


@staff_required
def alert_list(request):
    """Open alerts in the user's jurisdiction, filtered by region, agency and
    level (a bad filter: 400 with the field named, nothing listed)."""
    filters = {"region": request.GET.get("region", "")[:12], "agency": request.GET.get("agency", "")[:12],
               "level": request.GET.get("level", "")[:8], "rule": request.GET.get("rule", "")[:64]}
    error, status = "", 200
    try:
        rows = selectors.filtered_alerts(user=request.user, **filters)
    except ValidationError as exc:
        error, status = message_of(exc), 400
        rows = selectors.alerts_for(user=request.user).none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/alert_list.html", {
        "page": page, "filters": filters, "error": error, "counts": selectors.alert_counts(user=request.user),
        "regions": core_selectors.regions_for(user=request.user).order_by("path"),
        "agencies": core_selectors.agencies_for(user=request.user).filter(is_active=True).order_by("region__path", "name"),
        "levels": AlertLevel.choices, "rules": selectors.alert_rule_choices(), "labels": dict(selectors.alert_rule_choices()),
    }, status=status)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def alert_detail(request, pk: int):
    alert = selectors.alert_for(user=request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "note":
            run_shown(request, lambda: services.annotate_alert(actor=request.user, alert=alert,
                                                               text=request.POST.get("text", "")),
                      _("The annotation is recorded."))
        elif action == "close":
            run_shown(request, lambda: services.close_alert(actor=request.user, alert=alert,
                                                            reason=request.POST.get("reason", "")),
                      _("The alert is closed."))
        return redirect("supervision:alert", pk=alert.pk)
    return render(request, "supervision/alert_detail.html", {
        "a": alert, "notes": alert.notes.select_related("author"), "rule_label": selectors.rule_label(alert.rule),
        "can_handle": bool(predicates.can_handle_alert(request.user, alert)),
    })


# --- supervision instruments (issue 15 item 4) ----------------------------------------------

INSTRUMENT_FIELDS = ("issues", "basis", "requirement", "rectification_due")
CONTENT_TYPES = {"pdf": "application/pdf",
                 "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document"}


@staff_required
def instrument_list(request):
    """The office's instruments (with the issue link) or the agency's."""
    rows = selectors.instruments_for(user=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "supervision/instrument_list.html", {
        "page": page, "can_issue": selectors.supervisable_agencies(user=request.user).exists(),
    })


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def instrument_new(request):
    agencies = selectors.supervisable_agencies(user=request.user)
    if not agencies.exists():
        raise PermissionDenied(_("Only the supervisors of a legal office issue supervision instruments."))
    values = {"kind": request.POST.get("kind", request.GET.get("kind", InstrumentKind.OPINION))[:32],
              "agency": request.POST.get("agency", request.GET.get("agency", ""))[:12],
              **{f: request.POST.get(f, "") for f in INSTRUMENT_FIELDS}}
    errors, status = {}, 200
    if request.method == "POST":
        raw = values["agency"]
        agency = agencies.filter(pk=int(raw)).first() if raw.isascii() and raw.isdigit() else None
        try:
            instrument = services.issue_instrument(actor=request.user, kind=values["kind"], agency=agency,
                                                   data={f: values[f] for f in INSTRUMENT_FIELDS})
        except ValidationError as exc:
            errors, status = {field: " ".join(msgs) for field, msgs in exc.message_dict.items()}, 400
        except PermissionDenied as exc:
            errors, status = {"agency": message_of(exc)}, 403
        else:
            messages.success(request, _("The instrument is issued with its number."))
            return redirect("supervision:instrument", pk=instrument.pk)
    return render(request, "supervision/instrument_form.html", {
        "agencies": agencies, "kinds": InstrumentKind.choices, "values": values, "errors": errors,
        "min_due": clock.today().isoformat(),
    }, status=status)


@staff_required
@require_http_methods(["GET", "HEAD", "POST"])
def instrument_detail(request, pk: int):
    instrument = selectors.instrument_for(user=request.user, pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "report":
            run_shown(request, lambda: services.report_rectification(actor=request.user, instrument=instrument,
                                                                     text=request.POST.get("text", "")),
                      _("The rectification report is sent to the legal office."))
        elif action in ("accept", "return"):
            run_shown(request, lambda: services.examine_rectification(
                actor=request.user, instrument=instrument, accept=action == "accept",
                answer=request.POST.get("answer", "")),
                _("The rectification is accepted.") if action == "accept" else _("The report is returned to the agency."))
        return redirect("supervision:instrument", pk=instrument.pk)
    return render(request, "supervision/instrument_detail.html", {
        "i": instrument, "reports": instrument.reports.select_related("reported_by", "answered_by"),
        "can_report": bool(predicates.can_report_rectification(request.user, instrument))
        and instrument.status in OWED_STATUSES,
        "can_examine": bool(predicates.can_examine_instrument(request.user, instrument))
        and instrument.status == InstrumentStatus.REPORTED,
        "today": clock.today(),
    })


@staff_required
def instrument_file(request, pk: int, fmt: str):
    if fmt not in CONTENT_TYPES:
        raise Http404("unknown format")
    instrument = selectors.instrument_for(user=request.user, pk=pk)
    field = instrument.pdf if fmt == "pdf" else instrument.docx
    response = FileResponse(field.open("rb"), as_attachment=True, filename=f"{instrument.title}-{instrument.number}.{fmt}",
                            content_type=CONTENT_TYPES[fmt])
    response["X-Content-SHA256"] = instrument.pdf_sha256 if fmt == "pdf" else instrument.docx_sha256
    return response
