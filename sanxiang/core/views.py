"""Pages of the core domain: public home, 亮证 verification with QR codes,
the public officer list (公示-8/9), login with TOTP, and the back-office
workbench. Views validate input and call selectors/services; nothing more."""

from __future__ import annotations

import functools
from io import BytesIO

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout as auth_logout, update_session_auth_hash
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from . import auth, calculator, predicates, queue, selectors, services, todo
from .forms import LoginForm, PasswordChangeForm, TotpConfirmForm
from .models import Agency, Region, RegionLevel, User
from .parsing import optional_id, parse_id
from .refusals import run_shown

PAGE_SIZE = 30


def staff_required(view):
    """Back-office pages: logged in, and TOTP-verified where the role needs it."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if not auth.is_fully_authenticated(request.user):
            return redirect(f"{reverse('core:login')}?next={request.get_full_path()}")
        return view(request, *args, **kwargs)

    return wrapper


# --- public pages ------------------------------------------------------------


def verify_lookup(request):
    number = request.GET.get("number", "").strip()
    if number:
        return redirect("core:verify", number=number.upper())
    return render(request, "core/verify.html", {"number": "", "officer": None, "searched": False})


def verify(request, number: str):
    officer = selectors.verify_certificate(number=number)
    state = selectors.certificate_state(officer) if officer else None
    return render(
        request, "core/verify.html",
        {"number": number, "officer": officer, "state": state, "searched": True,
         "state_label": selectors.CERTIFICATE_STATE_LABELS.get(state, ""),
         "reported_by": selectors.officer_reported_by(officer) if officer else ""},
        status=200 if officer else 404,
    )


def _verify_url(request, number: str) -> str:
    path = reverse("core:verify", kwargs={"number": number})
    base = settings.PUBLIC_BASE_URL
    return base.rstrip("/") + path if base else request.build_absolute_uri(path)


def verify_qr(request, number: str, fmt: str):
    if selectors.verify_certificate(number=number) is None:
        raise Http404("certificate not found")
    qr = segno.make(_verify_url(request, number), error="m")
    buf = BytesIO()
    if fmt == "svg":
        # A standalone SVG document (with its namespace) so <img> and
        # printers accept it; svg_inline is only for embedding in HTML.
        qr.save(buf, kind="svg", scale=6, border=4, dark="#1b1b1b", xmldecl=False)
        return HttpResponse(buf.getvalue(), content_type="image/svg+xml")
    qr.save(buf, kind="png", scale=8, border=4)
    return HttpResponse(buf.getvalue(), content_type="image/png")


def officer_list(request):
    region_code = request.GET.get("region", "").strip()
    agency_id = request.GET.get("agency", "").strip()
    q = request.GET.get("q", "").strip()
    officers = selectors.public_officer_list(
        region_code=region_code, agency_id=optional_id(agency_id, field="agency"), q=q
    )
    page = Paginator(officers, PAGE_SIZE).get_page(request.GET.get("page"))
    for officer in page:  # 公示-8: a suspended or expired certificate is listed as such
        officer.state = selectors.certificate_state(officer)
        officer.state_label = selectors.CERTIFICATE_STATE_LABELS[officer.state]
    return render(request, "core/officer_list.html", {
        "page": page, "total": page.paginator.count, "q": q, "region_code": region_code, "agency_id": agency_id,
        "regions": Region.objects.exclude(level=RegionLevel.TOWNSHIP).order_by("code"),
        "agencies": selectors.public_agencies(region_code=region_code).exclude(kind="legal_office"),
    })


# --- login with TOTP ------------------------------------------------------------


def _next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("core:workbench")


def lockout(request, credentials=None, *args, **kwargs):
    """Shown by django-axes when an account is locked after repeated failures."""
    minutes = round(float(settings.AXES_COOLOFF_TIME) * 60)
    return render(request, "core/locked.html", {"minutes": minutes}, status=403)


@require_http_methods(["GET", "POST"])
def login_view(request):
    form = LoginForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        check = auth.check_login(request=request, username=form.cleaned_data["username"],
                                 password=form.cleaned_data["password"], otp_token=form.cleaned_data["otp_token"])
        if check.locked:
            return lockout(request)
        if check.enrol:
            request.session["totp_enrol_user"] = check.user.pk
            request.session["totp_enrol_next"] = _next_url(request)
            return redirect("core:totp_setup")
        if check.user is not None:
            auth.log_in(request, check.user, device=check.device)
            return redirect(_next_url(request))
        form.add_error(None, auth.LOGIN_REFUSED)
    return render(request, "core/login.html", {"form": form, "next": request.GET.get("next", "")},
                  status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def totp_setup(request):
    user = User.objects.filter(pk=request.session.get("totp_enrol_user"), is_active=True).first()
    if user is None:
        return redirect("core:login")
    device = auth.pending_device(user)
    form = TotpConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if auth.confirm_device(user=user, device=device, token=form.cleaned_data["otp_token"]):
            next_url = request.session.pop("totp_enrol_next", reverse("core:workbench"))
            request.session.pop("totp_enrol_user", None)
            auth.log_in(request, user, device=device, backend="django.contrib.auth.backends.ModelBackend")
            return redirect(next_url)
        form.add_error("otp_token", _("The code does not match. Check the phone's clock and try again."))
    import base64

    return render(request, "core/totp_setup.html", {
        "form": form,
        "qr_svg": segno.make(device.config_url, error="m").svg_inline(scale=5),
        "secret": base64.b32encode(device.bin_key).decode(),
    })


@staff_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    """Everyone signed in changes their own password here (the old one first)."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_password(actor=request.user, user=request.user, old_password=form.cleaned_data["old_password"],
                                     new_password=form.cleaned_data["new_password"])
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            update_session_auth_hash(request, request.user)  # this session stays signed in, the others end
            messages.success(request, _("Your password has been changed."))
            return redirect("core:workbench")
    return render(request, "core/password_change.html", {"form": form}, status=400 if request.method == "POST" else 200)


def logout_view(request):
    if request.method == "POST":
        auth_logout(request)
    return redirect("home")


# --- back office ------------------------------------------------------------------


@staff_required
def workbench(request):
    user = request.user
    return render(request, "core/workbench.html", {
        # The to-do list comes first (issue 11 item 5): every open item that
        # needs this user, from every app's registered provider (core/todo.py).
        "todo": todo.todo_for_request(request),
        "agencies": selectors.agencies_for(user=user).exclude(kind="legal_office")[:50],
        "agency_count": selectors.agencies_for(user=user).count(),
        "officer_count": selectors.officers_for(user=user).count(),
        "regions": selectors.regions_for(user=user)[:20],
        "may_see_failed_tasks": predicates.can_manage_failed_tasks(user).ok,
    })


@staff_required
@require_http_methods(["GET", "POST"])
def failed_tasks(request):
    """失败任务: the job queue's tasks whose attempts are spent, with their
    error, and a 重试 button each (system administrators; others get 403)."""
    if request.method == "POST":
        failed = selectors.get_failed_task_for(user=request.user, pk=parse_id(request.POST.get("task"), field="task"))
        run_shown(request, lambda: services.retry_failed_task(actor=request.user, failed=failed),
                  _("The task is back on the queue: %(task)s") % {"task": queue.LABELS.get(failed.name, failed.name)})
        return redirect("core:failed_tasks")
    open_tasks = list(selectors.failed_tasks_for(user=request.user)[:200])
    retried = list(selectors.failed_tasks_for(user=request.user, resolved=True).order_by("-resolved_at")[:20])
    for row in open_tasks + retried:
        row.label = queue.LABELS.get(row.name, "")
    try:
        waiting = queue.pending_count()
    except Exception:  # the page still lists the failures when the queue is down
        waiting = None
    return render(request, "core/failed_tasks.html", {
        "tasks": open_tasks, "retried": retried, "waiting": waiting, "embedded": queue.is_embedded(),
    })


@staff_required
def staff_officer_list(request):
    q = request.GET.get("q", "").strip()
    officers = selectors.officers_for(user=request.user)
    if q:
        officers = officers.filter(name__contains=q) | officers.filter(certificate_number__startswith=q.upper())
    page = Paginator(officers.order_by("agency__name", "name"), PAGE_SIZE).get_page(request.GET.get("page"))
    for officer in page:  # the certificate's state today, not the bare status field (an expired one is not 有效)
        officer.state = selectors.certificate_state(officer)
        officer.state_label = selectors.CERTIFICATE_STATE_LABELS[officer.state]
    return render(request, "core/staff_officer_list.html", {"page": page, "q": q, "total": page.paginator.count})


@staff_required
def staff_officer_detail(request, pk: int):
    officer = selectors.get_officer_for(user=request.user, pk=pk)
    return render(request, "core/staff_officer_detail.html", {
        "officer": officer, "state": selectors.certificate_state(officer),
        "state_label": selectors.certificate_state_label(officer),
    })


@staff_required
@require_http_methods(["GET", "POST"])
def staff_agency_detail(request, pk: int):
    agency: Agency = selectors.get_agency_for(user=request.user, pk=pk)
    if request.method == "POST":  # 公示-9: the reporting channel shown on /verify
        if run_shown(request, lambda: services.set_reporting_channel(
                actor=request.user, agency=agency, report_phone=request.POST.get("report_phone", "")[:64],
                report_url=request.POST.get("report_url", "")[:400]), _("The reporting channel has been saved.")):
            return redirect("core:staff_agency_detail", pk=agency.pk)
        agency.refresh_from_db()
    officers = list(selectors.officers_for(user=request.user).filter(agency=agency).order_by("name"))
    for officer in officers:
        officer.state = selectors.certificate_state(officer)
        officer.state_label = selectors.CERTIFICATE_STATE_LABELS[officer.state]
    return render(request, "core/staff_agency_detail.html", {
        "agency": agency, "officers": officers,
        "may_set_channel": bool(predicates.can_set_reporting_channel(request.user, agency=agency)),
    })


def deadline_calculator(request):
    """期限计算: a legal deadline from the dated rules on the official
    calendar, marked provisional where a year's schedule is not yet loaded."""
    from sanxiang.rules.loader import RuleNotFound, all_rules

    from .calendar import parse_date
    from .deadlines import PERIOD_UNITS, deadline_for

    rules = [r for r in all_rules() if r.unit in PERIOD_UNITS]
    menu = calculator.menu()
    rule_name = request.GET.get("rule", "")
    start_text = request.GET.get("start", "")
    result = error = None
    if rule_name and start_text:
        try:
            result = deadline_for(rule=rule_name, start=parse_date(start_text))
        except (RuleNotFound, ValueError, TypeError) as exc:
            error = str(exc)
    return render(request, "core/deadlines.html", {
        "rules": rules, "menu": menu, "rule_name": rule_name, "start": start_text, "result": result, "error": error,
        "label": calculator.label_of(rule_name) if result else "",
    }, status=400 if error else 200)
